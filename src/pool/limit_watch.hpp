// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the pool learns about its limits: violations the kernel acted on (at a worker's exit, and
// throttling seen every PoolOptions::limit_watch_period), the limits this host cannot enforce
// (LimitsNotEnforced), and the ResourceLimiters' sampling, whose `recycle` answers become
// graceful replacements.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <supervisor/exit_status.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/worker_state.hpp>

#include "part.hpp"
#include "pool_host.hpp"

namespace supervisor::detail {

class LimitWatch {
 public:
  // What the limit watch asks of the pool's core, besides PartCore's (same contract).
  class Core : public PartCore {
   public:
    // Its last process (null before the first spawn succeeded), to sample.
    [[nodiscard]] virtual WorkerProcess* process(std::size_t worker) const = 0;
    // Held by a lease right now: through the loop, or from the desk.
    [[nodiscard]] virtual bool leased(std::size_t worker) = 0;
    // Starts a graceful replacement (a limiter asked for it).
    virtual void replace(std::size_t worker, Duration ready_timeout) = 0;

   protected:
    ~Core() = default;
  };

  LimitWatch(Core& core, const CoreAnchor& anchor, PoolHost& host, const PoolOptions& options)
      : core_(core), anchor_(anchor), host_(host), options_(options) {}

  // The pool's own group (PoolOptions::group_resources), made at start; the core owns it.
  void own_group(WorkerGroup* group) { own_group_ = group; }
  // The pool-wide limits this host cannot enforce: said at start and on changes.
  void report_group_unenforced();
  // A worker started: the limits this host cannot enforce for it, when that set changed.
  void report_unenforced(std::size_t worker, const WorkerProcess& process);
  // An incarnation ended: what the kernel did under its limits, and the limiters forget it.
  void on_exit(std::size_t worker, std::uint64_t incarnation, const ExitStatus& st);
  // Starts the throttling watch when a limit that throttles is set (at start, or by a change).
  void ensure_watch();
  void start_limiters();
  // The pool stops: no more sampling.
  void stop();
  void fill(PoolSnapshot& s) const;

 private:
  // Throttling counters last seen, and the incarnation they belong to.
  struct ThrottleSeen {
    std::uint64_t incarnation = 0;
    std::uint64_t cpu_periods = 0;
    std::uint64_t memory_high = 0;
  };

  void count_violation(LimitViolation v);
  [[nodiscard]] bool throttling_limits() const;
  void watch_throttling();
  void report_throttling(std::size_t worker, std::uint64_t incarnation, bool group,
                         const ResourceLimits& limits, ThrottleSeen& seen,
                         std::optional<std::uint64_t> periods, std::optional<std::uint64_t> high);
  void schedule_limiter(std::size_t k);
  void run_limiter(std::size_t k);

  Core& core_;                                       // fixed at construction
  const CoreAnchor& anchor_;                         // fixed at construction
  PoolHost& host_;                                   // fixed at construction: the core's
  const PoolOptions& options_;                       // fixed at construction: the core's (loop)
  WorkerGroup* own_group_ = nullptr;                 // (loop) null without group_resources
  std::vector<std::uint64_t> limiter_timers_;        // (loop) one per PoolOptions::limiters entry
  std::uint64_t watch_timer_ = 0;                    // (loop) PoolOptions::limit_watch_period
  std::vector<ThrottleSeen> throttle_seen_;          // (loop) by worker index
  ThrottleSeen group_throttle_seen_;                 // (loop)
  std::uint64_t group_memory_hits_ = 0;              // (loop) the group's own limit hits, last seen
  std::uint64_t soft_recycles_ = 0;                  // (loop)
  std::map<std::string, std::uint64_t> violations_;  // (loop) by limit, `group.` for the pool's
  std::vector<LimitStatus> group_limits_;            // (loop) as last set
  std::string unenforced_key_;  // (loop) the limits last reported as not enforced
};

}  // namespace supervisor::detail
