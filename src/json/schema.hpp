// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Schema version 1: the keys of every record, in the order docs/json-schema.md lists them. A
// key is its C++ field's name, with `_seconds` added for a duration and `_monotonic_seconds`
// for an instant of the pool's clock. Adding a key here is an additive change (document it in
// docs/json-schema.md: a test checks that every key written appears there); renaming one or
// changing its meaning is not, and needs schema version 2.

#include <array>
#include <cstddef>
#include <string_view>
#include <variant>

#include "codec.hpp"

namespace supervisor::json::detail {

// `F(type)` gives a `Fields<type>` whose `visit(io, s)` runs the body with `io` and `s`.
#define SUPERVISOR_JSON_FIELDS(type)      \
  template <>                             \
  struct Fields<type> {                   \
    template <class IO, class S>          \
    static void visit(IO& io, S& s);      \
  };                                      \
  template <class IO, class S>            \
  void Fields<type>::visit(IO& io, S& s)

// ---- Pieces of snapshots ------------------------------------------------------------------------

SUPERVISOR_JSON_FIELDS(ResourceUsage) {
  io("user_cpu_seconds", s.user_cpu);
  io("system_cpu_seconds", s.system_cpu);
  io("max_rss_kib", s.max_rss_kib);
  io("minor_faults", s.minor_faults);
  io("major_faults", s.major_faults);
  io("voluntary_switches", s.voluntary_switches);
  io("involuntary_switches", s.involuntary_switches);
}

SUPERVISOR_JSON_FIELDS(ExitStatus) {
  io("reason", s.reason);
  io("exit_code", s.exit_code);
  io("signal", s.signal);
  io("core_dumped", s.core_dumped);
  io("stop_requested", s.stop_requested);
  io("killed_descendants", s.killed_descendants);
  io("escaped_descendants", s.escaped_descendants);
  io("unreaped", s.unreaped);
  io("uptime_seconds", s.uptime);
  io("oom_kills", s.oom_kills);
  io("fork_refusals", s.fork_refusals);
  io("wall_time_exceeded", s.wall_time_exceeded);
  io("usage", s.usage);
  io("stderr_tail", s.stderr_tail);
  io("native_code", s.native_code);
}

SUPERVISOR_JSON_FIELDS(OutputStats) {
  io("bytes_read", s.bytes_read);
  io("bytes_dropped", s.bytes_dropped);
  io("lines", s.lines);
}

SUPERVISOR_JSON_FIELDS(OutputCounts) {
  io("out", s.out);
  io("err", s.err);
}

SUPERVISOR_JSON_FIELDS(WorkerUsage) {
  io("memory_bytes", s.memory_bytes);
  io("memory_scope", s.memory_scope);
  io("cpu_time_seconds", s.cpu_time);
  io("cpu_scope", s.cpu_scope);
  io("cpu_cores", s.cpu_cores);
  io("sampled_at_monotonic_seconds", s.sampled_at);
}

SUPERVISOR_JSON_FIELDS(PoolUsage) {
  io("memory_bytes", s.memory_bytes);
  io("cpu_time_seconds", s.cpu_time);
  io("workers", s.workers);
}

SUPERVISOR_JSON_FIELDS(Histogram) {
  io("bounds_seconds", s.bounds);
  io("counts", s.counts);
  io("sum_seconds", s.sum);
  io("count", s.count);
}

SUPERVISOR_JSON_FIELDS(LimitStatus) {
  io("kind", s.kind);
  io("backend", s.backend);
  io("note", s.note);
}

SUPERVISOR_JSON_FIELDS(RolloutStatus) {
  io("active", s.active);
  io("rolling_back", s.rolling_back);
  io("current_revision", s.current_revision);
  io("target_revision", s.target_revision);
  io("updated", s.updated);
  io("ready_updated", s.ready_updated);
  io("old", s.old);
}

SUPERVISOR_JSON_FIELDS(WorkerSnapshot) {
  io("index", s.index);
  io("state", s.state);
  io("incarnation", s.incarnation);
  io("pid", s.pid);
  io("restarts", s.restarts);
  io("leases", s.leases);
  io("exits_by_reason", s.exits_by_reason);
  io("last_exit", s.last_exit);
  io("status", s.status);
  io("time_up_seconds", s.time_up);
  io("time_in_state_seconds", s.time_in_state);
  io("health", s.health);
  io("health_detail", s.health_detail);
  io("health_score", s.health_score);
  io("serving", s.serving);
  io("revision", s.revision);
  io("usage", s.usage);
  io("output", s.output);
  io("uptime_seconds", s.uptime);
  io("started_at", s.started_at);
}

SUPERVISOR_JSON_FIELDS(PoolSnapshot) {
  io("running", s.running);
  io("draining", s.draining);
  io("size", s.size);
  io("health", s.health);
  io("ready", s.ready);
  io("leased", s.leased);
  io("waiting", s.waiting);
  io("restarts", s.restarts);
  io("spawn_failures", s.spawn_failures);
  io("lease_timeouts", s.lease_timeouts);
  io("strategy_errors", s.strategy_errors);
  io("invalid_transitions", s.invalid_transitions);
  io("leases", s.leases);
  io("lease_expirations", s.lease_expirations);
  io("broken_leases", s.broken_leases);
  io("exits_by_reason", s.exits_by_reason);
  io("time_in_state_seconds", s.time_in_state);
  io("limit_violations", s.limit_violations);
  io("group_limits", s.group_limits);
  io("soft_recycles", s.soft_recycles);
  io("lease_wait", s.lease_wait);
  io("lease_duration", s.lease_duration);
  io("start_to_ready", s.start_to_ready);
  io("worker_uptime", s.worker_uptime);
  io("probe_latency", s.probe_latency);
  io("probes", s.probes);
  io("probe_failures", s.probe_failures);
  io("health_stops", s.health_stops);
  io("health_stops_deferred", s.health_stops_deferred);
  io("restart_breaker", s.restart_breaker);
  io("lease_breaker", s.lease_breaker);
  io("rollout", s.rollout);
  io("usage", s.usage);
  io("output", s.output);
  io("workers", s.workers);
}

// ---- Events: the fields of each alternative of PoolEventData (its "data") ---------------------

SUPERVISOR_JSON_FIELDS(WorkerTransition) {
  io("worker", s.worker);
  io("incarnation", s.incarnation);
  io("from", s.from);
  io("to", s.to);
  io("at_monotonic_seconds", s.at);
  io("cause", s.cause);
}

SUPERVISOR_JSON_FIELDS(WorkerSpawned) {
  io("worker", s.worker);
  io("incarnation", s.incarnation);
  io("pid", s.pid);
}

SUPERVISOR_JSON_FIELDS(WorkerExited) {
  io("worker", s.worker);
  io("incarnation", s.incarnation);
  io("status", s.status);
}

SUPERVISOR_JSON_FIELDS(RestartScheduled) {
  io("worker", s.worker);
  io("delay_seconds", s.delay);
  io("why", s.why);
}

SUPERVISOR_JSON_FIELDS(WorkerGaveUp) {
  io("worker", s.worker);
  io("why", s.why);
}

SUPERVISOR_JSON_FIELDS(SpawnFailed) {
  io("worker", s.worker);
  io("error", s.error);
  io("message", s.message);
}

SUPERVISOR_JSON_FIELDS(BreakerTransition) {
  io("from", s.from);
  io("to", s.to);
  io("at_monotonic_seconds", s.at);
  io("reason", s.reason);
}

SUPERVISOR_JSON_FIELDS(BreakerChanged) {
  io("breaker", s.breaker);
  io("transition", s.transition);
}

SUPERVISOR_JSON_FIELDS(LeaseTimedOut) { io("waited_seconds", s.waited); }

SUPERVISOR_JSON_FIELDS(WorkerStatusChanged) {
  io("worker", s.worker);
  io("status", s.status);
}

SUPERVISOR_JSON_FIELDS(WorkerRecycled) {
  io("worker", s.worker);
  io("why", s.why);
}

SUPERVISOR_JSON_FIELDS(HealthChanged) {
  io("worker", s.worker);
  io("incarnation", s.incarnation);
  io("check", s.check);
  io("role", s.role);
  io("status", s.status);
  io("passing", s.passing);
  io("detail", s.detail);
}

SUPERVISOR_JSON_FIELDS(ReplacementStarted) {
  io("worker", s.worker);
  io("replacement", s.replacement);
}

SUPERVISOR_JSON_FIELDS(ReplacementFinished) {
  io("worker", s.worker);
  io("replacement", s.replacement);
}

SUPERVISOR_JSON_FIELDS(ReplacementAborted) {
  io("worker", s.worker);
  io("replacement", s.replacement);
  io("why", s.why);
}

SUPERVISOR_JSON_FIELDS(RolloutResult) {
  io("total", s.total);
  io("replaced", s.replaced);
  io("completed", s.completed);
  io("why", s.why);
}

SUPERVISOR_JSON_FIELDS(RolloutFinished) { io("result", s.result); }

SUPERVISOR_JSON_FIELDS(LimitViolation) {
  io("worker", s.worker);
  io("incarnation", s.incarnation);
  io("kind", s.kind);
  io("count", s.count);
  io("group", s.group);
  io("detail", s.detail);
}

SUPERVISOR_JSON_FIELDS(LimitsNotEnforced) {
  io("worker", s.worker);
  io("limits", s.limits);
  io("group", s.group);
}

SUPERVISOR_JSON_FIELDS(LeaseExpired) {
  io("worker", s.worker);
  io("incarnation", s.incarnation);
  io("held_seconds", s.held);
}

SUPERVISOR_JSON_FIELDS(PoolHealthChanged) {
  io("from", s.from);
  io("to", s.to);
  io("ready", s.ready);
  io("size", s.size);
}

SUPERVISOR_JSON_FIELDS(RolloutStarted) {
  io("from_revision", s.from_revision);
  io("to_revision", s.to_revision);
  io("rollback", s.rollback);
  io("max_surge", s.max_surge);
  io("max_unavailable", s.max_unavailable);
}

SUPERVISOR_JSON_FIELDS(RolloutProgress) {
  io("revision", s.revision);
  io("worker", s.worker);
  io("updated", s.updated);
  io("ready_updated", s.ready_updated);
  io("old", s.old);
}

SUPERVISOR_JSON_FIELDS(RolloutRolledBack) {
  io("from_revision", s.from_revision);
  io("to_revision", s.to_revision);
  io("why", s.why);
}

#undef SUPERVISOR_JSON_FIELDS

// The `"type"` of each alternative of PoolEventData, in the variant's order.
inline constexpr std::array<std::string_view, 22> event_types{
    "worker_transition", "worker_spawned",      "worker_exited",     "restart_scheduled",
    "worker_gave_up",    "spawn_failed",        "breaker_changed",   "lease_timed_out",
    "worker_status_changed", "worker_recycled", "health_changed",    "replacement_started",
    "replacement_finished",  "replacement_aborted", "rollout_finished", "limit_violation",
    "limits_not_enforced",   "lease_expired",   "pool_health_changed", "rollout_started",
    "rollout_progress",      "rollout_rolled_back"};
static_assert(event_types.size() == std::variant_size_v<PoolEventData>,
              "a new PoolEventData alternative needs its type name here, its Fields above, and "
              "its section in docs/json-schema.md");

}  // namespace supervisor::json::detail
