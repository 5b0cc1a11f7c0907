// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Usage sampling (PoolOptions::usage_sample_period): one timer on the pool's loop reads each
// running worker's memory and CPU time every period, keeps its last sample for the snapshot,
// and the pool's totals. Off (a zero period), the pool never makes one: no timer, no reads,
// nothing on the restart path.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <supervisor/exit_status.hpp>
#include <supervisor/pool.hpp>

#include "part.hpp"
#include "pool_host.hpp"

namespace supervisor::detail {

class UsageSampler {
 public:
  // What the sampler asks of the pool's core, besides PartCore's (same contract).
  class Core : public PartCore {
   public:
    // Its last process (null before the first spawn succeeded), to sample.
    [[nodiscard]] virtual WorkerProcess* process(std::size_t worker) const = 0;

   protected:
    ~Core() = default;
  };

  UsageSampler(Core& core, const CoreAnchor& anchor, PoolHost& host, Duration period)
      : core_(core), anchor_(anchor), host_(host), period_(period) {}

  // The pool started: the first samples come one period later.
  void start();
  // The pool stops: no more sampling.
  void stop();
  // An incarnation ended: its CPU goes into the pool's total, and its sample is dropped.
  void on_exit(std::size_t worker, std::uint64_t incarnation, const ExitStatus& st);
  // The worker's row: its current process's last sample, while that process runs.
  void describe(std::size_t worker, std::uint64_t incarnation, bool alive, WorkerSnapshot& w) const;
  void fill(PoolSnapshot& s) const;

 private:
  struct Last {
    std::uint64_t incarnation = 0;  // 0: none (incarnations start at 1)
    WorkerUsage usage;
  };
  void schedule();
  void sample_all();

  Core& core_;                // fixed at construction
  const CoreAnchor& anchor_;  // fixed at construction
  PoolHost& host_;            // fixed at construction: the core's
  const Duration period_;     // fixed at construction
  std::uint64_t timer_ = 0;   // (loop)
  std::vector<Last> last_;    // (loop) by worker index
  Duration ended_cpu_{};      // (loop) CPU time of the incarnations that ended
};

}  // namespace supervisor::detail
