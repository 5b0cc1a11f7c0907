// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A pool snapshot as Prometheus text (exposition format 0.0.4).
#include <supervisor/pool.hpp>

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::string prom_number(double v) {
  if (std::isinf(v)) return "+Inf";
  return fmt::format("{}", v);
}

SUPERVISOR_INLINE void prom_histogram(std::string& out, std::string_view name,
                                      std::string_view help, const Histogram& h,
                                      std::string_view pool) {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    const double le = i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity();
    out += fmt::format("{}_bucket{{pool=\"{}\",le=\"{}\"}} {}\n", name, pool, prom_number(le),
                       cumulative);
  }
  out += fmt::format("{}_sum{{pool=\"{}\"}} {}\n{}_count{{pool=\"{}\"}} {}\n", name, pool,
                     prom_number(h.sum), name, pool, h.count);
}

// Label values escape backslash, quote and newline (the exposition format's rule).
SUPERVISOR_INLINE std::string prom_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The output counters: the pool's, by stream, and each worker's (its slot's current worker).
SUPERVISOR_INLINE void prom_output(std::string& out, const PoolSnapshot& s,
                                   const std::string& pool) {
  struct Series {
    std::string_view name;
    std::string_view help;
    std::uint64_t OutputStats::*field;
  };
  const Series series[] = {
      {"output_bytes_total", "Bytes read from the workers' piped output.",
       &OutputStats::bytes_read},
      {"output_dropped_bytes_total",
       "Output bytes the ring buffer dropped before anyone took them.",
       &OutputStats::bytes_dropped},
      {"output_lines_total", "Output lines read.", &OutputStats::lines},
  };
  using Streams = std::pair<const OutputStats*, const OutputStats*>;  // out, err
  const auto put = [&](std::string_view name, const std::string& labels, Streams st,
                       std::uint64_t OutputStats::*field) {
    out += fmt::format("{}{{{},stream=\"out\"}} {}\n{}{{{},stream=\"err\"}} {}\n", name, labels,
                       st.first->*field, name, labels, st.second->*field);
  };
  const std::string pool_labels = fmt::format("pool=\"{}\"", pool);
  for (const Series& m : series) {
    const std::string name = fmt::format("supervisor_pool_{}", m.name);
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n", name, m.help, name);
    put(name, pool_labels, {&s.output.out, &s.output.err}, m.field);
  }
  for (const Series& m : series) {
    if (m.field == &OutputStats::lines) continue;  // bytes are enough per worker
    const std::string name = fmt::format("supervisor_pool_worker_{}", m.name);
    out += fmt::format("# HELP {} {} By worker (the worker in the slot now).\n# TYPE {} counter\n",
                       name, m.help, name);
    for (const auto& w : s.workers) {
      put(name, fmt::format("pool=\"{}\",worker=\"{}\"", pool, w.index),
          {&w.output.out, &w.output.err}, m.field);
    }
  }
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string to_prometheus(const PoolSnapshot& s, std::string_view pool_name) {
  const std::string pool = prom_label(pool_name);
  std::string out;
  out += "# HELP supervisor_pool_workers Workers by state.\n# TYPE supervisor_pool_workers gauge\n";
  std::map<std::string_view, std::size_t> by_state;
  for (std::size_t i = 0; i < worker_state_count; ++i)
    by_state[to_string(static_cast<WorkerState>(i))] = 0;
  for (const auto& w : s.workers) ++by_state[to_string(w.state)];
  for (const auto& [state, n] : by_state)
    out += fmt::format("supervisor_pool_workers{{pool=\"{}\",state=\"{}\"}} {}\n", pool, state, n);
  struct Counter {
    std::string_view name;
    std::string_view help;
    std::uint64_t value;
  };
  const Counter counters[] = {
      {"supervisor_pool_restarts_total", "Worker restarts.", s.restarts},
      {"supervisor_pool_spawn_failures_total", "Spawns that failed.", s.spawn_failures},
      {"supervisor_pool_leases_total", "Leases handed out.", s.leases},
      {"supervisor_pool_lease_timeouts_total", "Acquires that timed out.", s.lease_timeouts},
      {"supervisor_pool_strategy_errors_total", "Exceptions from strategies and subscribers.",
       s.strategy_errors},
      {"supervisor_pool_invalid_transitions_total",
       "Worker state transitions refused by the state machine (a library bug).",
       s.invalid_transitions},
      {"supervisor_pool_probes_total", "Health probes run.", s.probes},
      {"supervisor_pool_probe_failures_total", "Health probes that failed.", s.probe_failures},
      {"supervisor_pool_health_stops_total", "Workers stopped by a failing check.", s.health_stops},
      {"supervisor_pool_lease_expirations_total", "Leases held past their deadline.",
       s.lease_expirations},
      {"supervisor_pool_broken_leases_total", "Leases released broken.", s.broken_leases},
  };
  for (const Counter& c : counters) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{}{{pool=\"{}\"}} {}\n", c.name, c.help,
                       c.name, c.name, pool, c.value);
  }
  out +=
      "# HELP supervisor_pool_exits_total Worker exits by reason.\n"
      "# TYPE supervisor_pool_exits_total counter\n";
  for (const auto& [reason, n] : s.exits_by_reason)
    out += fmt::format("supervisor_pool_exits_total{{pool=\"{}\",reason=\"{}\"}} {}\n", pool,
                       prom_label(reason), n);
  if (!s.limit_violations.empty()) {
    out +=
        "# HELP supervisor_pool_limit_violations_total Limit hits the kernel acted on, by limit.\n"
        "# TYPE supervisor_pool_limit_violations_total counter\n";
    for (const auto& [limit, n] : s.limit_violations)
      out += fmt::format("supervisor_pool_limit_violations_total{{pool=\"{}\",limit=\"{}\"}} {}\n",
                         pool, limit, n);
  }
  prom_output(out, s, pool);
  out +=
      "# HELP supervisor_pool_waiting Acquire calls waiting for a worker.\n"
      "# TYPE supervisor_pool_waiting gauge\n";
  out += fmt::format("supervisor_pool_waiting{{pool=\"{}\"}} {}\n", pool, s.waiting);
  out +=
      "# HELP supervisor_pool_health The pool's health (1 for the current one).\n"
      "# TYPE supervisor_pool_health gauge\n";
  for (PoolHealth h :
       {PoolHealth::starting, PoolHealth::healthy, PoolHealth::degraded, PoolHealth::down}) {
    out += fmt::format("supervisor_pool_health{{pool=\"{}\",health=\"{}\"}} {}\n", pool,
                       to_string(h), s.health == h ? 1 : 0);
  }
  if (s.usage) {  // PoolOptions::usage_sample_period
    out += fmt::format(
        "# HELP supervisor_pool_resident_memory_bytes Memory of the running workers at their last "
        "sample.\n# TYPE supervisor_pool_resident_memory_bytes gauge\n"
        "supervisor_pool_resident_memory_bytes{{pool=\"{}\"}} {}\n"
        "# HELP supervisor_pool_cpu_seconds_total CPU time (user + system) of every worker "
        "incarnation.\n# TYPE supervisor_pool_cpu_seconds_total counter\n"
        "supervisor_pool_cpu_seconds_total{{pool=\"{}\"}} {}\n",
        pool, s.usage->memory_bytes, pool,
        prom_number(std::chrono::duration<double>(s.usage->cpu_time).count()));
  }
  auto breaker = [&](std::string_view which, const std::optional<BreakerState>& st) {
    if (!st) return;
    for (BreakerState b : {BreakerState::closed, BreakerState::open, BreakerState::half_open,
                           BreakerState::disabled, BreakerState::forced_open}) {
      out += fmt::format(
          "supervisor_pool_breaker_state{{pool=\"{}\",breaker=\"{}\",state=\"{}\"}} {}\n", pool,
          which, to_string(b), *st == b ? 1 : 0);
    }
  };
  if (s.restart_breaker || s.lease_breaker) {
    out +=
        "# HELP supervisor_pool_breaker_state Circuit breaker state (1 for the current one).\n"
        "# TYPE supervisor_pool_breaker_state gauge\n";
    breaker("restart", s.restart_breaker);
    breaker("lease", s.lease_breaker);
  }
  prom_histogram(out, "supervisor_pool_lease_wait_seconds", "Time from acquire to lease.",
                 s.lease_wait, pool);
  prom_histogram(out, "supervisor_pool_lease_duration_seconds", "Time a lease was held.",
                 s.lease_duration, pool);
  prom_histogram(out, "supervisor_pool_start_to_ready_seconds", "Time from spawn to ready.",
                 s.start_to_ready, pool);
  prom_histogram(out, "supervisor_pool_worker_uptime_seconds", "Lifetime of ended workers.",
                 s.worker_uptime, pool);
  prom_histogram(out, "supervisor_pool_probe_latency_seconds", "Time from probe to answer.",
                 s.probe_latency, pool);
  out +=
      "# HELP supervisor_pool_state_seconds_total Time workers spent in each state.\n"
      "# TYPE supervisor_pool_state_seconds_total counter\n";
  for (std::size_t k = 0; k < worker_state_count; ++k) {
    const double seconds = std::chrono::duration<double>(s.time_in_state[k]).count();
    out += fmt::format("supervisor_pool_state_seconds_total{{pool=\"{}\",state=\"{}\"}} {}\n", pool,
                       to_string(static_cast<WorkerState>(k)), prom_number(seconds));
  }
  return out;
}

}  // namespace supervisor
