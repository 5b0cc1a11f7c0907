// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A pool snapshot as metric families, and as Prometheus text (exposition format 0.0.4).
#include <supervisor/pool.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE double seconds_of(Duration d) { return std::chrono::duration<double>(d).count(); }

// Builds one pool's families; every series carries pool="<name>" first.
class PoolFamilies {
 public:
  PoolFamilies(MetricSet& set, std::string_view pool) : set_(set), pool_(pool) {}

  // A family with one series per call of `put`.
  MetricFamily family(std::string_view name, std::string_view help, MetricType type,
                      std::string_view unit = {}) const {
    MetricFamily f;
    f.name = fmt::format("supervisor_pool_{}", name);
    f.help = std::string(help);
    f.type = type;
    f.unit = std::string(unit);
    return f;
  }
  void put(MetricFamily& f, double value, std::vector<MetricLabel> more = {}) const {
    put_labelled(f, value, nullptr, std::move(more));
  }
  void put_worker(MetricFamily& f, std::size_t worker, double value,
                  std::vector<MetricLabel> more = {}) const {
    const std::string index = std::to_string(worker);
    put_labelled(f, value, &index, std::move(more));
  }
  void counter(std::string_view name, std::string_view help, std::uint64_t value) {
    MetricFamily f = family(name, help, MetricType::counter);
    put(f, static_cast<double>(value));
    add(std::move(f));
  }
  void histogram(std::string_view name, std::string_view help, const Histogram& h) {
    MetricFamily f = family(name, help, MetricType::histogram, "seconds");
    MetricSample s;
    s.labels.push_back({"pool", pool_});
    s.histogram = h;
    f.samples.push_back(std::move(s));
    add(std::move(f));
  }
  void add(MetricFamily f) { set_.add(std::move(f)); }

 private:
  // pool="<name>" first, then worker="<index>" (when given), then `more`.
  void put_labelled(MetricFamily& f, double value, const std::string* worker,
                    std::vector<MetricLabel> more) const {
    MetricSample s;
    s.labels.reserve(2 + more.size());
    s.labels.push_back({"pool", pool_});
    if (worker != nullptr) s.labels.push_back({"worker", *worker});
    for (MetricLabel& l : more) s.labels.push_back(std::move(l));
    s.value = value;
    f.samples.push_back(std::move(s));
  }

  MetricSet& set_;
  std::string pool_;
};

// The output counters: the pool's, by stream, and each worker's (its slot's current worker).
SUPERVISOR_INLINE void output_families(PoolFamilies& b, const PoolSnapshot& s) {
  struct Series {
    std::string_view name;
    std::string_view help;
    std::uint64_t OutputStats::*field;
    bool per_worker;
  };
  const Series series[] = {
      {"output_bytes_total", "Bytes read from the workers' piped output.",
       &OutputStats::bytes_read, true},
      {"output_dropped_bytes_total",
       "Output bytes the ring buffer dropped before anyone took them.",
       &OutputStats::bytes_dropped, true},
      {"output_lines_total", "Output lines read.", &OutputStats::lines, false},
  };
  for (const Series& m : series) {
    MetricFamily f = b.family(m.name, m.help, MetricType::counter);
    b.put(f, static_cast<double>(s.output.out.*m.field), {{"stream", "out"}});
    b.put(f, static_cast<double>(s.output.err.*m.field), {{"stream", "err"}});
    b.add(std::move(f));
  }
  for (const Series& m : series) {
    if (!m.per_worker) continue;
    MetricFamily f = b.family(fmt::format("worker_{}", m.name),
                              fmt::format("{} By worker (the worker in the slot now).", m.help),
                              MetricType::counter);
    for (const WorkerSnapshot& w : s.workers) {
      b.put_worker(f, w.index, static_cast<double>(w.output.out.*m.field), {{"stream", "out"}});
      b.put_worker(f, w.index, static_cast<double>(w.output.err.*m.field), {{"stream", "err"}});
    }
    b.add(std::move(f));
  }
}

// Per worker (label worker="<slot index>", never a PID: bounded by the pool's peak size).
SUPERVISOR_INLINE void worker_families(PoolFamilies& b, const PoolSnapshot& s) {
  MetricFamily state = b.family("worker_state", "Each worker's state (1 for the current one).",
                                MetricType::gauge);
  MetricFamily restarts =
      b.family("worker_restarts_total", "Spawns of each worker after its first.",
               MetricType::counter);
  MetricFamily up = b.family("worker_up_seconds_total",
                             "Time each worker spent ready or leased, over its incarnations.",
                             MetricType::counter, "seconds");
  MetricFamily started = b.family(
      "worker_start_time_seconds",
      "When each worker's current process was spawned, in seconds since the Unix epoch (workers "
      "with a running process only).",
      MetricType::gauge, "seconds");
  MetricFamily revision = b.family("worker_revision",
                                   "The revision of the spec each worker's process runs.",
                                   MetricType::gauge);
  const bool sampled = s.usage.has_value();
  MetricFamily memory = b.family(
      "worker_resident_memory_bytes",
      "Memory of each worker's current process (or tree) at its last sample.", MetricType::gauge,
      "bytes");
  MetricFamily cpu = b.family("worker_cpu_seconds_total",
                              "CPU time (user + system) of each worker's current process (or "
                              "tree); starts again with each incarnation.",
                              MetricType::counter, "seconds");
  for (const WorkerSnapshot& w : s.workers) {
    for (std::size_t k = 0; k < worker_state_count; ++k) {
      const auto st = static_cast<WorkerState>(k);
      b.put_worker(state, w.index, w.state == st ? 1 : 0,
                   {{"state", std::string(to_string(st))}});
    }
    b.put_worker(restarts, w.index, static_cast<double>(w.restarts));
    b.put_worker(up, w.index, seconds_of(w.time_up));
    if (w.started_at)
      b.put_worker(started, w.index, seconds_of(w.started_at->time_since_epoch()));
    b.put_worker(revision, w.index, static_cast<double>(w.revision));
    if (sampled && w.usage) {
      b.put_worker(memory, w.index, static_cast<double>(w.usage->memory_bytes));
      b.put_worker(cpu, w.index, seconds_of(w.usage->cpu_time));
    }
  }
  b.add(std::move(state));
  b.add(std::move(restarts));
  b.add(std::move(up));
  b.add(std::move(started));
  b.add(std::move(revision));
  if (sampled) {
    b.add(std::move(memory));
    b.add(std::move(cpu));
  }
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void add_pool_metrics(MetricSet& set, const PoolSnapshot& s,
                                        std::string_view pool_name) {
  PoolFamilies b(set, pool_name);
  {
    MetricFamily f = b.family("workers", "Workers by state.", MetricType::gauge);
    std::array<std::size_t, worker_state_count> by_state{};
    for (const WorkerSnapshot& w : s.workers) ++by_state[static_cast<std::size_t>(w.state)];
    for (std::size_t k = 0; k < worker_state_count; ++k) {
      b.put(f, static_cast<double>(by_state[k]),
            {{"state", std::string(to_string(static_cast<WorkerState>(k)))}});
    }
    b.add(std::move(f));
  }
  {
    MetricFamily f = b.family("size", "The pool's target number of workers.", MetricType::gauge);
    b.put(f, static_cast<double>(s.size));
    b.add(std::move(f));
    MetricFamily r = b.family("ready_workers", "Workers ready for a lease (not leased, serving).",
                              MetricType::gauge);
    b.put(r, static_cast<double>(s.ready));
    b.add(std::move(r));
  }
  b.counter("restarts_total", "Worker restarts.", s.restarts);
  b.counter("spawn_failures_total", "Spawns that failed.", s.spawn_failures);
  b.counter("leases_total", "Leases handed out.", s.leases);
  b.counter("lease_timeouts_total", "Acquires that timed out.", s.lease_timeouts);
  b.counter("strategy_errors_total", "Exceptions from strategies and subscribers.",
            s.strategy_errors);
  b.counter("invalid_transitions_total",
            "Worker state transitions refused by the state machine (a library bug).",
            s.invalid_transitions);
  b.counter("probes_total", "Health probes run.", s.probes);
  b.counter("probe_failures_total", "Health probes that failed.", s.probe_failures);
  b.counter("health_stops_total", "Workers stopped by a failing check.", s.health_stops);
  b.counter("lease_expirations_total", "Leases held past their deadline.", s.lease_expirations);
  b.counter("broken_leases_total", "Leases released broken.", s.broken_leases);
  {
    MetricFamily f = b.family("exits_total", "Worker exits by reason.", MetricType::counter);
    for (const auto& [reason, n] : s.exits_by_reason)
      b.put(f, static_cast<double>(n), {{"reason", reason}});
    b.add(std::move(f));
  }
  if (!s.limit_violations.empty()) {
    MetricFamily f = b.family("limit_violations_total",
                              "Limit hits the kernel acted on, by limit.", MetricType::counter);
    for (const auto& [limit, n] : s.limit_violations)
      b.put(f, static_cast<double>(n), {{"limit", limit}});
    b.add(std::move(f));
  }
  output_families(b, s);
  {
    MetricFamily f =
        b.family("waiting", "Acquire calls waiting for a worker.", MetricType::gauge);
    b.put(f, static_cast<double>(s.waiting));
    b.add(std::move(f));
  }
  {
    MetricFamily f =
        b.family("health", "The pool's health (1 for the current one).", MetricType::gauge);
    for (PoolHealth h :
         {PoolHealth::starting, PoolHealth::healthy, PoolHealth::degraded, PoolHealth::down}) {
      b.put(f, s.health == h ? 1 : 0, {{"health", std::string(to_string(h))}});
    }
    b.add(std::move(f));
  }
  if (s.usage) {  // PoolOptions::usage_sample_period
    MetricFamily m = b.family("resident_memory_bytes",
                              "Memory of the running workers at their last sample.",
                              MetricType::gauge, "bytes");
    b.put(m, static_cast<double>(s.usage->memory_bytes));
    b.add(std::move(m));
    MetricFamily c = b.family("cpu_seconds_total",
                              "CPU time (user + system) of every worker incarnation.",
                              MetricType::counter, "seconds");
    b.put(c, seconds_of(s.usage->cpu_time));
    b.add(std::move(c));
  }
  if (s.restart_breaker || s.lease_breaker) {
    MetricFamily f = b.family("breaker_state", "Circuit breaker state (1 for the current one).",
                              MetricType::gauge);
    const auto breaker = [&](std::string_view which, const std::optional<BreakerState>& st) {
      if (!st) return;
      for (BreakerState st2 : {BreakerState::closed, BreakerState::open, BreakerState::half_open,
                               BreakerState::disabled, BreakerState::forced_open}) {
        b.put(f, *st == st2 ? 1 : 0,
              {{"breaker", std::string(which)}, {"state", std::string(to_string(st2))}});
      }
    };
    breaker("restart", s.restart_breaker);
    breaker("lease", s.lease_breaker);
    b.add(std::move(f));
  }
  b.histogram("lease_wait_seconds", "Time from acquire to lease.", s.lease_wait);
  b.histogram("lease_duration_seconds", "Time a lease was held.", s.lease_duration);
  b.histogram("start_to_ready_seconds", "Time from spawn to ready.", s.start_to_ready);
  b.histogram("worker_uptime_seconds", "Lifetime of ended workers.", s.worker_uptime);
  b.histogram("probe_latency_seconds", "Time from probe to answer.", s.probe_latency);
  {
    MetricFamily f = b.family("state_seconds_total", "Time workers spent in each state.",
                              MetricType::counter, "seconds");
    for (std::size_t k = 0; k < worker_state_count; ++k) {
      b.put(f, seconds_of(s.time_in_state[k]),
            {{"state", std::string(to_string(static_cast<WorkerState>(k)))}});
    }
    b.add(std::move(f));
  }
  worker_families(b, s);
}

SUPERVISOR_INLINE std::string to_prometheus(const PoolSnapshot& s, std::string_view pool_name) {
  MetricSet set;
  add_pool_metrics(set, s, pool_name);
  return set.to_prometheus();
}

}  // namespace supervisor
