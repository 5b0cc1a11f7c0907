// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "health_runner.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE bool process_alive(WorkerState st) {
  return st == WorkerState::starting || st == WorkerState::ready || st == WorkerState::leased ||
         st == WorkerState::draining;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void HealthRunner::renew_score(std::size_t worker) {
  slots_[worker].score = 100;
  slots_[worker].score_armed = true;
}

SUPERVISOR_INLINE bool HealthRunner::has_role(std::size_t worker, ProbeRole role) const {
  return std::any_of(checks(worker).begin(), checks(worker).end(),
                     [&](const HealthCheck& c) { return c.role == role; });
}

SUPERVISOR_INLINE bool HealthRunner::idle(std::size_t worker) const {
  const SlotHealth& h = slots_[worker];
  return std::none_of(h.checks.begin(), h.checks.end(), [](const CheckRun& c) {
    return c.in_flight || c.timer != 0 || c.timeout_timer != 0;
  });
}

SUPERVISOR_INLINE bool HealthRunner::serving(std::size_t worker) const {
  const SlotHealth& h = slots_[worker];
  if (!h.startup_passed) return false;
  for (std::size_t k = 0; k < h.checks.size(); ++k) {
    if (checks(worker)[k].role == ProbeRole::readiness && !h.checks[k].passing) return false;
  }
  return true;
}

SUPERVISOR_INLINE bool HealthRunner::clear_to_serve(std::size_t worker) {
  // Started as the readiness mode wants; the readiness checks have the last word.
  SlotHealth& h = slots_[worker];
  h.ready_pending = !serving(worker);
  return !h.ready_pending;
}

SUPERVISOR_INLINE bool HealthRunner::take_stop_verdict(std::size_t worker) {
  SlotHealth& h = slots_[worker];
  const bool stopped = h.health_stopping;
  h.health_stopping = false;
  return stopped;
}

SUPERVISOR_INLINE void HealthRunner::start(std::size_t worker, std::uint64_t incarnation, int pid,
                                           std::shared_ptr<const ProcessSpec> spec,
                                           std::string cgroup,
                                           std::shared_ptr<const std::vector<HealthCheck>> set) {
  SlotHealth& h = slots_[worker];
  h.set = std::move(set);
  if (checks(worker).empty()) {
    // An earlier incarnation may have run another revision's checks (Pool::update).
    h.checks.clear();
    h.startup_passed = true;
    return;
  }
  h.incarnation = incarnation;
  h.pid = pid;
  h.spec = std::move(spec);
  h.cgroup = std::move(cgroup);
  h.checks.assign(checks(worker).size(), CheckRun{});
  h.startup_passed = !has_role(worker, ProbeRole::startup);
  h.health_stopping = false;
  h.ready_pending = false;
  for (std::size_t k = 0; k < checks(worker).size(); ++k) {
    // Kubernetes: liveness passes until it fails; readiness fails until it passes.
    h.checks[k].passing = checks(worker)[k].role == ProbeRole::liveness;
    if (checks(worker)[k].role == ProbeRole::startup || h.startup_passed)
      schedule_probe(worker, k, checks(worker)[k].timing.initial_delay);
  }
}

SUPERVISOR_INLINE void HealthRunner::stop(std::size_t worker) {
  SlotHealth& h = slots_[worker];
  for (std::size_t k = 0; k < h.checks.size(); ++k) {
    CheckRun& c = h.checks[k];
    if (c.timer) host_.cancel_timer(c.timer);
    if (c.timeout_timer) host_.cancel_timer(c.timeout_timer);
    c.timer = c.timeout_timer = 0;
    if (c.in_flight) cancel_probe(worker, k);
    c.in_flight = false;
    ++c.seq;  // a late answer is ignored
  }
}

SUPERVISOR_INLINE ProbeTarget HealthRunner::target_of(std::size_t worker) const {
  ProbeTarget t;
  t.worker = worker;
  t.incarnation = slots_[worker].incarnation;
  t.pid = slots_[worker].pid;
  t.spec = slots_[worker].spec;
  t.cgroup = slots_[worker].cgroup;
  t.loop = host_.loop_core();
  return t;
}

SUPERVISOR_INLINE void HealthRunner::cancel_probe(std::size_t worker, std::size_t k) {
  const auto& strategy = checks(worker)[k].strategy;
  if (strategy) guarded(core_, "health_check.cancel", [&] { strategy->cancel(target_of(worker)); });
}

// Its checks run for the incarnation they started with (start), the core's current one.
SUPERVISOR_INLINE void HealthRunner::schedule_probe(std::size_t worker, std::size_t k,
                                                    Duration delay) {
  const std::uint64_t incarnation = slots_[worker].incarnation;
  slots_[worker].checks[k].timer =
      host_.add_timer(delay, [self = anchor_.shared_from_this(), this, worker, incarnation, k] {
        SlotHealth& h = slots_[worker];
        if (core_.incarnation(worker) != incarnation || k >= h.checks.size()) return;
        h.checks[k].timer = 0;
        run_probe(worker, k);
      });
}

SUPERVISOR_INLINE void HealthRunner::run_probe(std::size_t worker, std::size_t k) {
  SlotHealth& h = slots_[worker];
  if (!process_alive(core_.state(worker)) || h.health_stopping) return;
  CheckRun& c = h.checks[k];
  const HealthCheck& check = checks(worker)[k];
  c.in_flight = true;
  c.started = host_.now();
  const std::uint64_t seq = ++c.seq;
  ++probes_;
  const std::uint64_t incarnation = h.incarnation;
  c.timeout_timer = host_.add_timer(
      check.timing.timeout, [self = anchor_.shared_from_this(), this, worker, incarnation, k, seq] {
        SlotHealth& s = slots_[worker];
        if (core_.incarnation(worker) != incarnation || k >= s.checks.size()) return;
        s.checks[k].timeout_timer = 0;
        if (!s.checks[k].in_flight || s.checks[k].seq != seq) return;
        cancel_probe(worker, k);
        on_probe_result(worker, incarnation, k, seq, ProbeResult::unhealthy("timed out"));
      });
  // The strategy may answer from any thread, even after the pool is gone: the answer is posted
  // to the loop, and only while the core lives.
  auto done = [weak = anchor_.weak_from_this(), this, worker, incarnation, k, seq](ProbeResult r) {
    if (auto me = weak.lock()) {
      host_.post([me, this, worker, incarnation, k, seq, r = std::move(r)]() mutable {
        on_probe_result(worker, incarnation, k, seq, std::move(r));
      });
    }
  };
  if (!check.strategy) {
    done(ProbeResult::unknown("no strategy"));
    return;
  }
  try {
    check.strategy->probe(target_of(worker), done);
  } catch (...) {
    core_.report_error("health_check.probe");
    done(ProbeResult::unhealthy("the check threw"));
  }
}

SUPERVISOR_INLINE void HealthRunner::on_probe_result(std::size_t worker, std::uint64_t incarnation,
                                                     std::size_t k, std::uint64_t seq,
                                                     ProbeResult r) {
  SlotHealth& h = slots_[worker];
  if (core_.incarnation(worker) != incarnation || k >= h.checks.size()) return;
  CheckRun& c = h.checks[k];
  if (!c.in_flight || c.seq != seq) return;  // timed out already, or the worker is gone
  c.in_flight = false;
  if (c.timeout_timer) host_.cancel_timer(c.timeout_timer);
  c.timeout_timer = 0;
  probe_latency_.observe(std::chrono::duration<double>(host_.now() - c.started).count());
  const HealthCheck& check = checks(worker)[k];
  const bool ok = r.status == HealthStatus::healthy || r.status == HealthStatus::degraded;
  if (ok) {
    ++c.successes;
    c.failures = 0;
  } else {
    ++probe_failures_;
    ++c.failures;
    c.successes = 0;
  }
  const bool was_passing = c.passing;
  const bool was_serving = serving(worker);
  if (ok && c.successes >= check.timing.success_threshold) c.passing = true;
  if (!ok && c.failures >= check.timing.failure_threshold) c.passing = false;
  const HealthStatus before = c.last;
  c.last = r.status;
  c.detail = r.detail;
  const HealthScoreOptions& hs = options_.health_score;
  adjust_score(worker, r.status == HealthStatus::healthy    ? hs.healthy_probe
                       : r.status == HealthStatus::degraded ? hs.degraded_probe
                                                            : hs.failed_probe);
  if (core_.incarnation(worker) != incarnation) return;
  if (before != r.status || was_passing != c.passing) {
    core_.emit(HealthChanged{worker, incarnation, check.strategy ? check.strategy->name() : "null",
                             check.role, r.status, c.passing, r.detail});
    if (core_.incarnation(worker) != incarnation) return;  // a subscriber changed the pool
  }
  const std::string name = check.strategy ? check.strategy->name() : "null";
  if (check.role != ProbeRole::readiness && !ok && c.failures >= check.timing.failure_threshold) {
    health_stop(worker, fmt::format("{} check \"{}\" failed {} times in a row: {}",
                                    to_string(check.role), name, c.failures, r.detail));
    return;
  }
  if (check.role == ProbeRole::startup && c.passing) {
    // Passed: the startup check is done, and the others begin.
    h.startup_passed = true;
    for (std::size_t j = 0; j < checks(worker).size(); ++j) {
      if (checks(worker)[j].role != ProbeRole::startup)
        schedule_probe(worker, j, checks(worker)[j].timing.initial_delay);
    }
  } else {
    schedule_probe(worker, k, check.timing.period);
  }
  if (was_serving && !serving(worker)) core_.withdraw(worker);
  if (!was_serving && serving(worker)) {
    if (h.ready_pending && core_.state(worker) == WorkerState::starting) {
      core_.become_ready(worker,
                         fmt::format("ready: {} check \"{}\" passed", to_string(check.role), name));
    } else {
      core_.offer(worker);
    }
  }
}

// A startup or liveness check failed too often: stop the worker with its StopPlan (as
// Kubernetes restarts a container); the restart policy sees an `unhealthy` exit.
SUPERVISOR_INLINE void HealthRunner::health_stop(std::size_t worker, std::string why) {
  SlotHealth& h = slots_[worker];
  if (core_.stopping() || h.health_stopping) return;
  core_.withdraw(worker);
  if (options_.max_out_for_health > 0) {
    const auto out = static_cast<std::size_t>(std::count_if(
        slots_.begin(), slots_.end(), [](const SlotHealth& x) { return x.out_for_health; }));
    if (out >= options_.max_out_for_health) {
      ++health_stops_deferred_;  // the check fails again next period and asks again
      return;
    }
  }
  if (!process_alive(core_.state(worker))) return;
  h.health_stopping = true;
  h.out_for_health = true;
  ++health_stops_;
  core_.stop_unhealthy(worker, "unhealthy: " + why);
}

SUPERVISOR_INLINE void HealthRunner::score_lease(std::size_t worker, LeaseOutcome outcome) {
  const HealthScoreOptions& hs = options_.health_score;
  adjust_score(worker, outcome == LeaseOutcome::success ? hs.lease_success
                       : outcome == LeaseOutcome::slow  ? hs.lease_slow
                                                        : hs.lease_failure);  // failure, broken
}

// Low enough, and armed, the score asks for a replacement; it re-arms above recover_above.
SUPERVISOR_INLINE void HealthRunner::adjust_score(std::size_t worker, int delta) {
  const HealthScoreOptions& hs = options_.health_score;
  if (!hs.enabled) return;
  SlotHealth& h = slots_[worker];
  h.score = std::clamp(h.score + delta, 0, 100);
  if (h.score > hs.recover_above) h.score_armed = true;
  if (!h.score_armed || h.score > hs.replace_below || !core_.replaceable(worker) ||
      core_.stopping())
    return;
  h.score_armed = false;
  core_.emit(
      WorkerRecycled{worker, fmt::format("health score {} <= {}", h.score, hs.replace_below)});
  core_.replace(worker, hs.ready_timeout);
}

SUPERVISOR_INLINE void HealthRunner::describe(std::size_t worker, WorkerSnapshot& w) const {
  const SlotHealth& h = slots_[worker];
  w.health_score = h.score;
  w.serving = serving(worker);
  bool answered = false;
  for (const auto& c : h.checks) {
    if (c.last == HealthStatus::unknown && c.detail.empty()) continue;  // not answered yet
    if (!answered || c.last > w.health) {
      w.health = c.last;
      w.health_detail = c.detail;
    }
    answered = true;
  }
}

SUPERVISOR_INLINE void HealthRunner::fill(PoolSnapshot& s) const {
  s.probe_latency = probe_latency_;
  s.probes = probes_;
  s.probe_failures = probe_failures_;
  s.health_stops = health_stops_;
  s.health_stops_deferred = health_stops_deferred_;
}

}  // namespace supervisor::detail
