// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "limit_watch.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "../core/duration.hpp"

namespace supervisor::detail {

// One limit hit: its counter (a pool-wide limit's keyed `group.<limit>`) and its event.
SUPERVISOR_INLINE void LimitWatch::count_violation(LimitViolation v) {
  violations_[fmt::format("{}{}", v.group ? "group." : "", to_string(v.kind))] += v.count;
  core_.emit(std::move(v));
}

SUPERVISOR_INLINE void LimitWatch::on_exit(std::size_t worker, std::uint64_t incarnation,
                                           const ExitStatus& st) {
  const ResourceLimits& r = options_.spec.resources;
  const ResourceLimits& g = options_.group_resources;
  auto violation = [&](LimitKind kind, std::uint64_t count, bool group, std::string detail) {
    count_violation(LimitViolation{worker, incarnation, kind, count, group, std::move(detail)});
  };
  if (st.oom_kills > 0) {
    // The pool's limit when the worker has none of its own, or when the group's own limit
    // was reached since the last look (its memory.events.local, or v1 memory.failcnt).
    bool group = g.memory_max && !r.memory_max;
    if (own_group_ && g.memory_max && r.memory_max) {
      const GroupSample gs = own_group_->sample();
      const std::uint64_t hits = gs.memory_oom_events.value_or(gs.memory_limit_hits.value_or(0));
      group = hits > group_memory_hits_;
      group_memory_hits_ = hits;
    }
    const auto& limit = (group ? g : r).memory_max;
    violation(LimitKind::memory_max, st.oom_kills, group,
              limit ? fmt::format("{} process{} OOM-killed at {}memory_max {} bytes", st.oom_kills,
                                  st.oom_kills == 1 ? "" : "es", group ? "the pool's " : "", *limit)
                    : fmt::format("{} process{} OOM-killed at the memory_max of an enclosing "
                                  "group",
                                  st.oom_kills, st.oom_kills == 1 ? "" : "es"));
  }
  if (st.fork_refusals > 0) {
    const bool group = g.max_processes && !r.max_processes;
    violation(LimitKind::max_processes, st.fork_refusals, group,
              fmt::format("{} fork{} refused at {}max_processes {}", st.fork_refusals,
                          st.fork_refusals == 1 ? "" : "s", group ? "the pool's " : "",
                          (group ? g : r).max_processes.value_or(0)));
  }
  if (st.wall_time_exceeded) {
    violation(LimitKind::wall_time, 1, false,
              "stopped at wall_time " + format_duration(r.wall_time.value_or(Duration::zero())));
  } else if (st.reason == ExitReason::resource_limit && r.cpu_time) {
    violation(LimitKind::cpu_time, 1, false, "killed at cpu_time " + format_duration(*r.cpu_time));
  }
  for (const auto& l : options_.limiters)
    guarded(core_, "resource_limiter.on_gone", [&] { l->on_gone(worker, incarnation); });
}

SUPERVISOR_INLINE void LimitWatch::report_group_unenforced() {
  std::vector<LimitStatus> all = own_group_->limits();
  std::vector<LimitStatus> missing;
  for (auto& l : all) {
    if (l.backend == LimitBackend::none) missing.push_back(l);
  }
  group_limits_ = std::move(all);
  if (!missing.empty()) core_.emit(LimitsNotEnforced{0, std::move(missing), true});
}

// Said once, and again when the set changes.
SUPERVISOR_INLINE void LimitWatch::report_unenforced(std::size_t worker,
                                                     const WorkerProcess& process) {
  std::vector<LimitStatus> missing;
  for (auto& l : process.limits()) {
    if (l.backend == LimitBackend::none) missing.push_back(std::move(l));
  }
  std::string key;
  for (const auto& l : missing) key += std::string(to_string(l.kind)) + ' ';
  if (key == unenforced_key_) return;
  unenforced_key_ = key;
  if (!missing.empty()) core_.emit(LimitsNotEnforced{worker, std::move(missing)});
}

// Whether some worker or group limit throttles (and so is watched every limit_watch_period).
SUPERVISOR_INLINE bool LimitWatch::throttling_limits() const {
  const auto throttles = [](const ResourceLimits& r) { return r.cpu_cores || r.memory_high; };
  return throttles(options_.spec.resources) || (own_group_ && throttles(options_.group_resources));
}

SUPERVISOR_INLINE void LimitWatch::ensure_watch() {
  if (watch_timer_ != 0 || core_.stopping() || !core_.running() ||
      options_.limit_watch_period <= Duration::zero() || !throttling_limits())
    return;
  watch_timer_ =
      host_.add_timer(options_.limit_watch_period, [self = anchor_.shared_from_this(), this] {
        watch_timer_ = 0;
        if (core_.stopping()) return;
        watch_throttling();
        ensure_watch();
      });
}

SUPERVISOR_INLINE void LimitWatch::report_throttling(std::size_t worker, std::uint64_t incarnation,
                                                     bool group, const ResourceLimits& limits,
                                                     ThrottleSeen& seen,
                                                     std::optional<std::uint64_t> periods,
                                                     std::optional<std::uint64_t> high) {
  if (seen.incarnation != incarnation) seen = ThrottleSeen{incarnation, 0, 0};
  const char* whose = group ? "the pool's " : "";
  if (limits.cpu_cores && periods && *periods > seen.cpu_periods) {
    const std::uint64_t n = *periods - seen.cpu_periods;
    count_violation(LimitViolation{worker, incarnation, LimitKind::cpu_cores, n, group,
                                   fmt::format("throttled in {} CPU period{} at {}cpu_cores {}", n,
                                               n == 1 ? "" : "s", whose, *limits.cpu_cores)});
  }
  if (limits.memory_high && high && *high > seen.memory_high) {
    const std::uint64_t n = *high - seen.memory_high;
    count_violation(LimitViolation{worker, incarnation, LimitKind::memory_high, n, group,
                                   fmt::format("throttled {} time{} at {}memory_high {} bytes", n,
                                               n == 1 ? "" : "s", whose, *limits.memory_high)});
  }
  if (periods) seen.cpu_periods = std::max(seen.cpu_periods, *periods);
  if (high) seen.memory_high = std::max(seen.memory_high, *high);
}

// New throttling since the last look, as violations: each worker's own limits, and the group's.
SUPERVISOR_INLINE void LimitWatch::watch_throttling() {
  const ResourceLimits& r = options_.spec.resources;
  const ResourceLimits& g = options_.group_resources;
  throttle_seen_.resize(core_.slot_count());
  if (r.cpu_cores || r.memory_high) {
    for (std::size_t i = 0; i < core_.slot_count(); ++i) {
      WorkerProcess* process = core_.process(i);
      if (!process || core_.state(i) == WorkerState::retired) continue;
      const ResourceSample s = process->sample();
      if (!s.alive) continue;
      report_throttling(i, core_.incarnation(i), false, r, throttle_seen_[i],
                        s.cpu_throttled_periods, s.memory_high_events);
    }
  }
  if (own_group_ && (g.cpu_cores || g.memory_high)) {
    const GroupSample s = own_group_->sample();
    report_throttling(0, 0, true, g, group_throttle_seen_, s.cpu_throttled_periods,
                      s.memory_high_events);
  }
}

SUPERVISOR_INLINE void LimitWatch::start_limiters() {
  for (std::size_t k = 0; k < options_.limiters.size(); ++k) schedule_limiter(k);
}

// Every period, each running worker is sampled; a `recycle` answer replaces it gracefully (the
// replacement first; the old one finishes any lease, then stops).
SUPERVISOR_INLINE void LimitWatch::schedule_limiter(std::size_t k) {
  const Duration period =
      std::max<Duration>(options_.limiters[k]->period(), std::chrono::milliseconds(10));
  limiter_timers_.resize(options_.limiters.size(), 0);
  limiter_timers_[k] = host_.add_timer(period, [self = anchor_.shared_from_this(), this, k] {
    limiter_timers_[k] = 0;
    if (core_.stopping()) return;
    run_limiter(k);
    schedule_limiter(k);
  });
}

SUPERVISOR_INLINE void LimitWatch::run_limiter(std::size_t k) {
  ResourceLimiter& limiter = *options_.limiters[k];
  for (std::size_t i = 0; i < core_.slot_count(); ++i) {
    WorkerProcess* process = core_.process(i);
    if (!process || !core_.replaceable(i) || core_.state(i) == WorkerState::starting) continue;
    const ResourceSample r = process->sample();
    if (!r.alive) continue;
    LimitSample s;
    s.worker = i;
    s.incarnation = core_.incarnation(i);
    s.pid = process->pid();
    s.at = host_.now();
    s.memory_bytes = r.tree_memory_bytes.value_or(r.rss_bytes);
    s.cpu_seconds = r.tree_cpu_seconds.value_or(r.cpu_seconds);
    s.leased = core_.leased(i);
    LimitDecision d;
    guarded(core_, "resource_limiter.on_sample", [&] { d = limiter.on_sample(s); });
    if (d.action != LimitAction::recycle || core_.stopping()) continue;
    ++soft_recycles_;
    core_.emit(WorkerRecycled{i, "soft limit: " + d.why});
    core_.replace(i, options_.limit_recycle_ready_timeout);
  }
}

SUPERVISOR_INLINE void LimitWatch::stop() {
  for (auto& t : limiter_timers_) {
    if (t) host_.cancel_timer(t);
    t = 0;
  }
  if (watch_timer_) host_.cancel_timer(watch_timer_);
  watch_timer_ = 0;
}

SUPERVISOR_INLINE void LimitWatch::fill(PoolSnapshot& s) const {
  s.limit_violations = violations_;
  s.group_limits = group_limits_;
  s.soft_recycles = soft_recycles_;
}

}  // namespace supervisor::detail
