// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Monitor: the host's pools and loops by name; metrics, readiness and liveness of them all.
#include <supervisor/monitor.hpp>

#include <fmt/format.h>

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

#include "../core/duration.hpp"
#include "../process/access.hpp"

namespace supervisor {

struct Monitor::State {
  struct PoolEntry {
    std::string name;
    Pool* pool;
    MonitoredPoolOptions options;
  };
  struct LoopEntry {
    std::string name;
    Loop* loop;
  };
  MonitorOptions options;
  // Shared while a question is under way (it uses the pools), exclusive to add or remove.
  mutable std::shared_mutex mu;
  std::vector<PoolEntry> pools;
  std::vector<LoopEntry> loops;
};

SUPERVISOR_LOCAL_BEGIN

// A name for a label value: short, printable ASCII, nothing that needs escaping anywhere (a
// label, a JSON string, an HTTP body line).
SUPERVISOR_INLINE void check_monitor_name(std::string_view what, std::string_view name,
                                          detail::ErrorSink& err) {
  const auto bad = [&](std::string_view why) {
    err.fail(errc::invalid_argument,
             [&] { return fmt::format("Monitor: {} name \"{}\": {}", what, name, why); });
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 128) return bad("longer than 128 bytes");
  for (char c : name) {
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
      return bad("only printable ASCII without '\"' and '\\' may be used");
  }
}

// How a pool stands against what the monitor asks of it.
SUPERVISOR_INLINE PoolReadiness judge(const std::string& name, const PoolSnapshot& s,
                                      const MonitoredPoolOptions& o) {
  PoolReadiness r;
  r.pool = name;
  r.required = o.required;
  r.size = s.size;
  r.up = s.ready + s.leased;
  r.needed = o.min_ready == 0 ? s.size : o.min_ready;
  if (!s.running) {
    r.why = "not running";
  } else if (s.draining) {
    r.why = "draining";
  } else if (r.up < r.needed) {
    std::array<std::size_t, worker_state_count> by_state{};
    std::size_t not_serving = 0;
    for (const WorkerSnapshot& w : s.workers) {
      if (w.state == WorkerState::ready && !w.serving) {
        ++not_serving;
      } else if (w.state != WorkerState::ready && w.state != WorkerState::leased &&
                 w.state != WorkerState::retired) {
        ++by_state[static_cast<std::size_t>(w.state)];
      }
    }
    r.why = fmt::format("{} of {} workers up (needs {})", r.up, s.size, r.needed);
    const char* sep = ": ";
    for (std::size_t k = 0; k < worker_state_count; ++k) {
      if (by_state[k] == 0) continue;
      r.why += fmt::format("{}{} {}", sep, by_state[k], to_string(static_cast<WorkerState>(k)));
      sep = ", ";
    }
    if (not_serving > 0) r.why += fmt::format("{}{} failing readiness checks", sep, not_serving);
    if (s.restart_breaker == BreakerState::open || s.restart_breaker == BreakerState::forced_open)
      r.why += "; restart breaker open";
  }
  r.ready = r.why.empty();
  return r;
}

SUPERVISOR_INLINE double seconds_in(Duration d) {
  return std::chrono::duration<double>(d).count();
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string ReadinessReport::summary() const {
  if (ready) {
    std::size_t short_optional = 0;
    for (const PoolReadiness& p : pools) short_optional += p.ready ? 0 : 1;
    std::string out = fmt::format("ready: {} pool{}", pools.size(), pools.size() == 1 ? "" : "s");
    if (short_optional > 0) out += fmt::format(" ({} optional pool(s) short)", short_optional);
    return out;
  }
  std::string out = "not ready: ";
  const char* sep = "";
  for (const PoolReadiness& p : pools) {
    if (p.ready || !p.required) continue;
    out += fmt::format("{}pool \"{}\": {}", sep, p.pool, p.why);
    sep = "; ";
  }
  return out;
}

SUPERVISOR_INLINE std::string LivenessReport::summary() const {
  std::size_t turning = 0;
  for (const LoopLiveness& l : loops) turning += l.heartbeat.turning ? 1 : 0;
  if (alive) return fmt::format("alive: {} loop{} turning", turning, turning == 1 ? "" : "s");
  std::string out = "not alive: ";
  const char* sep = "";
  for (const LoopLiveness& l : loops) {
    if (l.heartbeat.turning) continue;
    out += fmt::format("{}loop \"{}\" did not turn within {}", sep, l.loop,
                       detail::format_duration(l.heartbeat.lag));
    sep = "; ";
  }
  return out;
}

SUPERVISOR_INLINE Monitor::Monitor() : Monitor(MonitorOptions{}) {}

SUPERVISOR_INLINE Monitor::Monitor(MonitorOptions options) : state_(std::make_shared<State>()) {
  if (options.heartbeat_timeout < std::chrono::milliseconds(1)) {
    throw_error(errc::invalid_argument,
                fmt::format("MonitorOptions::heartbeat_timeout {}: at least 1ms",
                            detail::format_duration(options.heartbeat_timeout)));
  }
  state_->options = options;
}

SUPERVISOR_INLINE Monitor::~Monitor() = default;

SUPERVISOR_INLINE const MonitorOptions& Monitor::options() const noexcept {
  return state_->options;
}

SUPERVISOR_LOCAL_BEGIN

template <class State>
SUPERVISOR_INLINE void add_pool_to(State& st, std::string& name, Pool& pool,
                                   const MonitoredPoolOptions& options, detail::ErrorSink& err) {
  check_monitor_name("pool", name, err);
  if (err) return;
  std::unique_lock lock(st.mu);
  for (const auto& e : st.pools) {
    if (e.name == name) {
      err.fail(errc::invalid_argument,
               [&] { return fmt::format("Monitor: a pool named \"{}\" was added already", name); });
      return;
    }
    if (e.pool == &pool) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("Monitor: pool \"{}\" is the pool added already as \"{}\"", name,
                           e.name);
      });
      return;
    }
  }
  st.pools.push_back({std::move(name), &pool, options});
}

template <class State>
SUPERVISOR_INLINE void add_loop_to(State& st, std::string& name, Loop& loop,
                                   detail::ErrorSink& err) {
  check_monitor_name("loop", name, err);
  if (err) return;
  std::unique_lock lock(st.mu);
  for (const auto& e : st.loops) {
    if (e.name == name || e.loop == &loop) {
      err.fail(errc::invalid_argument, [&] {
        return e.name == name
                   ? fmt::format("Monitor: a loop named \"{}\" was added already", name)
                   : fmt::format("Monitor: loop \"{}\" is the loop added already as \"{}\"", name,
                                 e.name);
      });
      return;
    }
  }
  st.loops.push_back({std::move(name), &loop});
}

SUPERVISOR_LOCAL_END

SUPERVISOR_LOCAL_BEGIN

// Removes the entry named `name` (pools or loops); whether there was one.
template <class Entries>
bool erase_named(Entries& v, std::string_view name) {
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->name == name) {
      v.erase(it);
      return true;
    }
  }
  return false;
}

// Every pool's readiness from one snapshot each (kept in `pools` when not null).
template <class State>
ReadinessReport pools_and_readiness(const State& st, std::vector<NamedPoolSnapshot>* pools) {
  ReadinessReport out;
  std::shared_lock lock(st.mu);
  out.pools.reserve(st.pools.size());
  if (pools) pools->reserve(st.pools.size());
  for (const auto& e : st.pools) {
    PoolSnapshot s = e.pool->snapshot();
    PoolReadiness r = judge(e.name, s, e.options);
    if (!r.ready && r.required) out.ready = false;
    out.pools.push_back(std::move(r));
    if (pools) pools->push_back({e.name, std::move(s)});
  }
  return out;
}

// Every loop's heartbeat, asked of all at once (the caller holds the state's lock).
template <class State>
std::vector<LoopHeartbeat> heartbeats(const State& st) {
  std::vector<const Loop*> loops;
  loops.reserve(st.loops.size());
  for (const auto& e : st.loops) loops.push_back(e.loop);
  return detail::heartbeats(loops, st.options.heartbeat_timeout);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void Monitor::add_pool(std::string name, Pool& pool,
                                         MonitoredPoolOptions options) {
  detail::or_throw([&](detail::ErrorSink& err) { add_pool_to(*state_, name, pool, options, err); });
}

SUPERVISOR_INLINE void Monitor::add_pool(std::string name, Pool& pool,
                                         MonitoredPoolOptions options,
                                         std::error_code& ec) noexcept {
  detail::into_code(ec,
                    [&](detail::ErrorSink& err) { add_pool_to(*state_, name, pool, options, err); });
}

SUPERVISOR_INLINE bool Monitor::remove_pool(std::string_view name) noexcept {
  std::unique_lock lock(state_->mu);
  return erase_named(state_->pools, name);
}

SUPERVISOR_INLINE void Monitor::add_loop(std::string name, Loop& loop) {
  detail::or_throw([&](detail::ErrorSink& err) { add_loop_to(*state_, name, loop, err); });
}

SUPERVISOR_INLINE void Monitor::add_loop(std::string name, Loop& loop,
                                         std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { add_loop_to(*state_, name, loop, err); });
}

SUPERVISOR_INLINE bool Monitor::remove_loop(std::string_view name) noexcept {
  std::unique_lock lock(state_->mu);
  return erase_named(state_->loops, name);
}

SUPERVISOR_INLINE std::vector<std::string> Monitor::pool_names() const {
  std::shared_lock lock(state_->mu);
  std::vector<std::string> out;
  out.reserve(state_->pools.size());
  for (const auto& e : state_->pools) out.push_back(e.name);
  return out;
}

SUPERVISOR_INLINE std::vector<NamedPoolSnapshot> Monitor::snapshots() const {
  std::shared_lock lock(state_->mu);
  std::vector<NamedPoolSnapshot> out;
  out.reserve(state_->pools.size());
  for (const auto& e : state_->pools) out.push_back({e.name, e.pool->snapshot()});
  return out;
}

SUPERVISOR_INLINE ReadinessReport Monitor::readiness() const {
  // The pools only: no loop is asked for a heartbeat (a stuck loop must not slow a readiness
  // probe down; its pools' snapshots say what they can).
  return pools_and_readiness(*state_, nullptr);
}

SUPERVISOR_INLINE LivenessReport Monitor::liveness() const {
  std::shared_lock lock(state_->mu);
  const std::vector<LoopHeartbeat> beats = heartbeats(*state_);
  LivenessReport out;
  out.loops.reserve(beats.size());
  for (std::size_t i = 0; i < beats.size(); ++i) {
    if (!beats[i].turning) out.alive = false;
    out.loops.push_back({state_->loops[i].name, beats[i]});
  }
  return out;
}

SUPERVISOR_INLINE Monitor::Status Monitor::status() const {
  Status out;
  out.readiness = pools_and_readiness(*state_, &out.pools);
  out.liveness = liveness();
  return out;
}

SUPERVISOR_INLINE MetricSet Monitor::metrics() const {
  MetricSet set;
  std::shared_lock lock(state_->mu);
  MetricFamily ready{"supervisor_pool_ready",
                     "1 while the pool has its required workers up (the monitor's readiness).",
                     MetricType::gauge, "", {}};
  MetricFamily required{"supervisor_pool_required_workers",
                        "Workers the monitor requires up for the pool to be ready.",
                        MetricType::gauge, "", {}};
  for (const auto& e : state_->pools) {
    const PoolSnapshot s = e.pool->snapshot();
    add_pool_metrics(set, s, e.name);
    const PoolReadiness r = judge(e.name, s, e.options);
    ready.samples.push_back({{{"pool", e.name}}, r.ready ? 1.0 : 0.0, std::nullopt});
    required.samples.push_back({{{"pool", e.name}}, static_cast<double>(r.needed), std::nullopt});
  }
  if (!state_->pools.empty()) {
    set.add(std::move(ready));
    set.add(std::move(required));
  }
  if (!state_->loops.empty()) {
    MetricFamily up{"supervisor_loop_up", "1 while the loop's thread turns (its heartbeat ran).",
                    MetricType::gauge, "", {}};
    MetricFamily lag{"supervisor_loop_lag_seconds",
                     "How long the loop's heartbeat waited for its thread.", MetricType::gauge,
                     "seconds", {}};
    MetricFamily processes{"supervisor_loop_processes",
                           "Processes the loop owns (started, not yet reaped).",
                           MetricType::gauge, "", {}};
    MetricFamily errors{"supervisor_loop_callback_errors_total",
                        "Exceptions host callbacks threw on the loop.", MetricType::counter, "",
                        {}};
    MetricFamily stolen{"supervisor_loop_stolen_reaps_total",
                        "Children reaped by someone else (SIGCHLD ignored, or waitpid(-1)).",
                        MetricType::counter, "", {}};
    const std::vector<LoopHeartbeat> beats = heartbeats(*state_);
    for (std::size_t i = 0; i < beats.size(); ++i) {
      const auto& e = state_->loops[i];
      const LoopHeartbeat& beat = beats[i];
      const std::vector<MetricLabel> labels{{"loop", e.name}};
      up.samples.push_back({labels, beat.turning ? 1.0 : 0.0, std::nullopt});
      lag.samples.push_back({labels, seconds_in(beat.lag), std::nullopt});
      processes.samples.push_back({labels, static_cast<double>(beat.processes), std::nullopt});
      errors.samples.push_back(
          {labels, static_cast<double>(e.loop->callback_errors()), std::nullopt});
      stolen.samples.push_back({labels, static_cast<double>(e.loop->stolen_reaps()), std::nullopt});
    }
    set.add(std::move(up));
    set.add(std::move(lag));
    set.add(std::move(processes));
    set.add(std::move(errors));
    set.add(std::move(stolen));
  }
  return set;
}

SUPERVISOR_INLINE std::string Monitor::prometheus() const { return metrics().to_prometheus(); }

}  // namespace supervisor
