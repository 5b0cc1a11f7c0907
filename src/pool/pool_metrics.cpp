// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "pool_metrics.hpp"

#include <string>

namespace supervisor::detail {

SUPERVISOR_INLINE void PoolMetrics::describe_times(const WorkerStateMachine& sm, TimePoint now,
                                                   WorkerSnapshot& w) {
  w.time_up = sm.time_in(WorkerState::ready, now) + sm.time_in(WorkerState::leased, now);
  for (std::size_t k = 0; k < worker_state_count; ++k)
    w.time_in_state[k] = sm.time_in(static_cast<WorkerState>(k), now);
}

SUPERVISOR_INLINE void PoolMetrics::add_worker(PoolSnapshot& s, WorkerSnapshot w) {
  for (std::size_t r = 0; r < exit_reason_count; ++r) {
    if (w.exits_by_reason[r] > 0)
      s.exits_by_reason[std::string(to_string(static_cast<ExitReason>(r)))] += w.exits_by_reason[r];
  }
  for (std::size_t k = 0; k < worker_state_count; ++k) s.time_in_state[k] += w.time_in_state[k];
  if (w.state == WorkerState::ready && w.serving) ++s.ready;
  if (w.state == WorkerState::leased) ++s.leased;
  s.workers.push_back(std::move(w));
}

SUPERVISOR_INLINE void PoolMetrics::reclaim(
    const std::array<std::uint64_t, exit_reason_count>& exits, const WorkerStateMachine& sm,
    TimePoint now) {
  for (std::size_t r = 0; r < exit_reason_count; ++r) reclaimed_exits[r] += exits[r];
  for (std::size_t k = 0; k < worker_state_count; ++k)
    reclaimed_time_in_state[k] += sm.time_in(static_cast<WorkerState>(k), now);
}

SUPERVISOR_INLINE void PoolMetrics::fill(PoolSnapshot& s, const LeaseDesk::Figures& desk) const {
  for (std::size_t r = 0; r < exit_reason_count; ++r) {
    if (reclaimed_exits[r] > 0)
      s.exits_by_reason[std::string(to_string(static_cast<ExitReason>(r)))] += reclaimed_exits[r];
  }
  for (std::size_t k = 0; k < worker_state_count; ++k)
    s.time_in_state[k] += reclaimed_time_in_state[k];
  s.restarts = restarts;
  s.spawn_failures = spawn_failures;
  s.lease_timeouts = lease_timeouts;
  s.lease_expirations = lease_expirations;
  s.broken_leases = broken_leases;
  s.strategy_errors = strategy_errors;
  s.invalid_transitions = invalid_transitions;
  s.leases = leases + desk.leases;
  s.lease_wait = lease_wait;
  s.lease_wait.merge(desk.wait);
  s.lease_duration = lease_duration;
  s.lease_duration.merge(desk.duration);
  s.start_to_ready = start_to_ready;
  s.worker_uptime = worker_uptime;
}

}  // namespace supervisor::detail
