// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Health checks (PoolOptions::health_checks) and the health score (PoolOptions::health_score):
// a probe scheduler per worker and check (timers on the host's clock, one probe in flight, a
// timeout that cancels it, answers posted back and matched by incarnation and sequence number);
// the startup, liveness and readiness verdicts; the 0-100 score and its hysteresis.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <supervisor/health.hpp>
#include <supervisor/metrics.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/worker_state.hpp>

#include "part.hpp"
#include "pool_host.hpp"

namespace supervisor::detail {

class HealthRunner {
 public:
  // What the runner asks of the pool's core, besides PartCore's (same contract; e.g.
  // become_ready asks clear_to_serve again, and a subscriber stopping the pool stops checks).
  class Core : public PartCore {
   public:
    // Takes the worker back from the lease desk (a host thread's desk lease becomes a loop one).
    virtual void withdraw(std::size_t worker) = 0;
    // A failing check ends its process: `stopping` with `cause`, by its StopPlan.
    virtual void stop_unhealthy(std::size_t worker, std::string cause) = 0;
    // Its readiness checks pass now that its readiness mode was satisfied: it becomes ready.
    virtual void become_ready(std::size_t worker, std::string cause) = 0;
    // It serves again while it was up: the loop's waiters, then the desk, may have it.
    virtual void offer(std::size_t worker) = 0;
    // Starts a graceful replacement (the score sank).
    virtual void replace(std::size_t worker, Duration ready_timeout) = 0;

   protected:
    ~Core() = default;
  };

  HealthRunner(Core& core, const CoreAnchor& anchor, PoolHost& host, const PoolOptions& options)
      : core_(core), anchor_(anchor), host_(host), options_(options) {}

  // A worker starts in slot `worker` (a new one at the end, or a reclaimed one): fresh state.
  void add_slot(std::size_t worker) {
    if (worker >= slots_.size()) slots_.resize(worker + 1);
    slots_[worker] = SlotHealth{};
  }
  // Nothing of it runs: no probe scheduled or in flight (its slot may be reclaimed).
  [[nodiscard]] bool idle(std::size_t worker) const;
  // A new incarnation was spawned: its score starts at 100, armed.
  void renew_score(std::size_t worker);
  // Its checks begin (the startup check first, when there is one).
  // `spec` and `cgroup`: the incarnation's, for probes that run as the worker (ExecCheck).
  // `checks`: those of the incarnation's revision (Pool::update); null: PoolOptions'.
  void start(std::size_t worker, std::uint64_t incarnation, int pid,
             std::shared_ptr<const ProcessSpec> spec, std::string cgroup,
             std::shared_ptr<const std::vector<HealthCheck>> checks = nullptr);
  // The incarnation is over: timers cancelled, the probe in flight cancelled, late answers ignored.
  void stop(std::size_t worker);
  // Whether a failing check stopped this incarnation (its exit is then `unhealthy`); forgets it.
  bool take_stop_verdict(std::size_t worker);
  // Leases may go to it: startup passed and every readiness check passing.
  [[nodiscard]] bool serving(std::size_t worker) const;
  // Its readiness mode is satisfied: true when it may become ready now, false when its checks
  // hold it back (then the runner calls Core::become_ready once they pass).
  bool clear_to_serve(std::size_t worker);
  // Ready again, or retired: it no longer counts against max_out_for_health.
  void clear_out_for_health(std::size_t worker) { slots_[worker].out_for_health = false; }
  // A lease through the loop ended so: the score moves.
  void score_lease(std::size_t worker, LeaseOutcome outcome);

  void describe(std::size_t worker, WorkerSnapshot& w) const;
  void fill(PoolSnapshot& s) const;

 private:
  struct CheckRun {
    int successes = 0;  // in a row
    int failures = 0;   // in a row
    bool passing = false;
    bool in_flight = false;
    std::uint64_t seq = 0;
    std::uint64_t timer = 0;          // the next probe
    std::uint64_t timeout_timer = 0;  // the one in flight
    TimePoint started{};
    HealthStatus last = HealthStatus::unknown;
    std::string detail;  // of the last answer
  };
  // Per worker, for its current incarnation.
  struct SlotHealth {
    std::uint64_t incarnation = 0;  // the one its checks run for
    int pid = 0;
    std::shared_ptr<const ProcessSpec> spec;  // the incarnation's (null on a fake world)
    std::string cgroup;                       // its cgroup directory, or empty
    std::vector<CheckRun> checks;             // one per entry of `set`
    // The checks of its incarnation's revision (null: PoolOptions::health_checks).
    std::shared_ptr<const std::vector<HealthCheck>> set;
    bool startup_passed = true;    // no startup check, or it passed
    bool health_stopping = false;  // a failing check stopped it: its exit is `unhealthy`
    bool ready_pending = false;    // readiness mode satisfied; waiting for readiness checks
    bool out_for_health = false;   // stopped by a check, and not ready again yet
    int score = 100;               // HealthScoreOptions
    bool score_armed = true;       // may ask for a replacement when the score sinks
  };

  [[nodiscard]] const std::vector<HealthCheck>& checks(std::size_t worker) const {
    const auto& set = slots_[worker].set;
    return set ? *set : options_.health_checks;
  }
  [[nodiscard]] bool has_role(std::size_t worker, ProbeRole role) const;
  [[nodiscard]] ProbeTarget target_of(std::size_t worker) const;
  void cancel_probe(std::size_t worker, std::size_t k);
  void schedule_probe(std::size_t worker, std::size_t k, Duration delay);
  void run_probe(std::size_t worker, std::size_t k);
  void on_probe_result(std::size_t worker, std::uint64_t incarnation, std::size_t k,
                       std::uint64_t seq, ProbeResult r);
  void health_stop(std::size_t worker, std::string why);
  void adjust_score(std::size_t worker, int delta);

  Core& core_;                  // fixed at construction
  const CoreAnchor& anchor_;    // fixed at construction
  PoolHost& host_;              // fixed at construction: the core's
  const PoolOptions& options_;  // fixed at construction: the core's (loop)
  // A deque: growing never moves an entry, so a reference held up the stack stays valid.
  std::deque<SlotHealth> slots_;                            // (loop) by worker index
  Histogram probe_latency_ = Histogram::default_seconds();  // (loop)
  std::uint64_t probes_ = 0;                                // (loop)
  std::uint64_t probe_failures_ = 0;                        // (loop)
  std::uint64_t health_stops_ = 0;                          // (loop)
  std::uint64_t health_stops_deferred_ = 0;                 // (loop)
};

}  // namespace supervisor::detail
