// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The pool's own counters and histograms, and how a snapshot adds up its workers and the pool's
// figures. The parts keep the counters of their own concern and fill them in themselves (health
// runner, limit watch); the lease desk's are merged here with the loop's.

#include <array>
#include <cstdint>

#include <supervisor/metrics.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/worker_state.hpp>

#include "lease_desk.hpp"

namespace supervisor::detail {

// Loop thread only, like the core that counts into it.
struct PoolMetrics {
  std::uint64_t restarts = 0;
  std::uint64_t spawn_failures = 0;
  std::uint64_t lease_timeouts = 0;
  std::uint64_t strategy_errors = 0;
  std::uint64_t invalid_transitions = 0;
  std::uint64_t ignored_notifications = 0;  // sd_notify messages from a process not allowed to
  std::uint64_t leases = 0;                 // handed out by the loop (the desk counts its own)
  std::uint64_t lease_expirations = 0;
  std::uint64_t broken_leases = 0;
  Histogram lease_wait = Histogram::default_seconds();
  Histogram lease_duration = Histogram::default_seconds();
  Histogram start_to_ready = Histogram::default_seconds();
  Histogram worker_uptime = Histogram::default_seconds();
  // What the workers whose slots were reclaimed had counted: a snapshot's totals add it to the
  // rows of the workers it shows, so that they never go backwards.
  std::array<std::uint64_t, exit_reason_count> reclaimed_exits{};
  std::array<Duration, worker_state_count> reclaimed_time_in_state{};

  // A worker's times over all its incarnations: up (ready or leased), and in each state.
  static void describe_times(const WorkerStateMachine& sm, TimePoint now, WorkerSnapshot& w);
  // Adds a worker's row, counted into the pool's totals (ready, leased, exits by reason, time in
  // each state).
  static void add_worker(PoolSnapshot& s, WorkerSnapshot w);
  // A slot is reclaimed for a new worker: what its last worker counted joins the totals.
  void reclaim(const std::array<std::uint64_t, exit_reason_count>& exits,
               const WorkerStateMachine& sm, TimePoint now);
  // The pool-wide counters and histograms, the desk's added in, and the reclaimed workers'.
  void fill(PoolSnapshot& s, const LeaseDesk::Figures& desk) const;
};

}  // namespace supervisor::detail
