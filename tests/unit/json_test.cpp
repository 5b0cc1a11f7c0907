// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// supervisor::json: a real pool's snapshot (on a FakeWorld, with most fields away from their
// defaults) and every kind of event, to JSON and back, compared field by field; the typed errors
// of bad input, with the key's path; forward compatibility (unknown keys ignored); RFC 3339;
// and that docs/json-schema.md names every key the writer emits.
#include <supervisor/json.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <typeinfo>
#include <variant>
#include <vector>

#include "catch_compat.hpp"
#include "json/codec.hpp"   // enum_count: the enumerations the schema names
#include "json/schema.hpp"  // Fields<T>: the keys of each record

namespace sv = supervisor;
namespace sj = supervisor::json;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// ---- Field-by-field comparison -----------------------------------------------------------------

void check_same(const sv::ResourceUsage& a, const sv::ResourceUsage& b) {
  CHECK(a.user_cpu == b.user_cpu);
  CHECK(a.system_cpu == b.system_cpu);
  CHECK(a.max_rss_kib == b.max_rss_kib);
  CHECK(a.minor_faults == b.minor_faults);
  CHECK(a.major_faults == b.major_faults);
  CHECK(a.voluntary_switches == b.voluntary_switches);
  CHECK(a.involuntary_switches == b.involuntary_switches);
}

void check_same(const sv::ExitStatus& a, const sv::ExitStatus& b) {
  CHECK(a.reason == b.reason);
  CHECK(a.exit_code == b.exit_code);
  CHECK(a.signal == b.signal);
  CHECK(a.core_dumped == b.core_dumped);
  CHECK(a.stop_requested == b.stop_requested);
  CHECK(a.killed_descendants == b.killed_descendants);
  CHECK(a.escaped_descendants == b.escaped_descendants);
  CHECK(a.unreaped == b.unreaped);
  CHECK(a.uptime == b.uptime);
  CHECK(a.oom_kills == b.oom_kills);
  CHECK(a.fork_refusals == b.fork_refusals);
  CHECK(a.wall_time_exceeded == b.wall_time_exceeded);
  check_same(a.usage, b.usage);
  CHECK(a.stderr_tail == b.stderr_tail);
  CHECK(a.native_code == b.native_code);
}

void check_same(const sv::OutputCounts& a, const sv::OutputCounts& b) {
  CHECK(a.out.bytes_read == b.out.bytes_read);
  CHECK(a.out.bytes_dropped == b.out.bytes_dropped);
  CHECK(a.out.lines == b.out.lines);
  CHECK(a.err.bytes_read == b.err.bytes_read);
  CHECK(a.err.bytes_dropped == b.err.bytes_dropped);
  CHECK(a.err.lines == b.err.lines);
}

void check_same(const sv::Histogram& a, const sv::Histogram& b) {
  CHECK(a.bounds == b.bounds);
  CHECK(a.counts == b.counts);
  CHECK(a.sum == b.sum);
  CHECK(a.count == b.count);
}

void check_same(const std::vector<sv::LimitStatus>& a, const std::vector<sv::LimitStatus>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].kind == b[i].kind);
    CHECK(a[i].backend == b[i].backend);
    CHECK(a[i].note == b[i].note);
  }
}

void check_same(const sv::WorkerSnapshot& a, const sv::WorkerSnapshot& b) {
  INFO("worker " << a.index);
  CHECK(a.index == b.index);
  CHECK(a.state == b.state);
  CHECK(a.incarnation == b.incarnation);
  CHECK(a.pid == b.pid);
  CHECK(a.restarts == b.restarts);
  CHECK(a.leases == b.leases);
  CHECK(a.exits_by_reason == b.exits_by_reason);
  REQUIRE(a.last_exit.has_value() == b.last_exit.has_value());
  if (a.last_exit) check_same(*a.last_exit, *b.last_exit);
  CHECK(a.status == b.status);
  CHECK(a.time_up == b.time_up);
  CHECK(a.time_in_state == b.time_in_state);
  CHECK(a.health == b.health);
  CHECK(a.health_detail == b.health_detail);
  CHECK(a.health_score == b.health_score);
  CHECK(a.serving == b.serving);
  CHECK(a.revision == b.revision);
  REQUIRE(a.usage.has_value() == b.usage.has_value());
  if (a.usage) {
    CHECK(a.usage->memory_bytes == b.usage->memory_bytes);
    CHECK(a.usage->memory_scope == b.usage->memory_scope);
    CHECK(a.usage->cpu_time == b.usage->cpu_time);
    CHECK(a.usage->cpu_scope == b.usage->cpu_scope);
    CHECK(a.usage->cpu_cores == b.usage->cpu_cores);
    CHECK(a.usage->sampled_at == b.usage->sampled_at);
  }
  check_same(a.output, b.output);
  CHECK(a.uptime == b.uptime);
  CHECK(a.started_at == b.started_at);
}

void check_same(const sv::PoolSnapshot& a, const sv::PoolSnapshot& b) {
  CHECK(a.running == b.running);
  CHECK(a.draining == b.draining);
  CHECK(a.size == b.size);
  REQUIRE(a.workers.size() == b.workers.size());
  for (std::size_t i = 0; i < a.workers.size(); ++i) check_same(a.workers[i], b.workers[i]);
  CHECK(a.ready == b.ready);
  CHECK(a.leased == b.leased);
  CHECK(a.waiting == b.waiting);
  CHECK(a.restarts == b.restarts);
  CHECK(a.spawn_failures == b.spawn_failures);
  CHECK(a.lease_timeouts == b.lease_timeouts);
  CHECK(a.strategy_errors == b.strategy_errors);
  CHECK(a.invalid_transitions == b.invalid_transitions);
  CHECK(a.leases == b.leases);
  CHECK(a.exits_by_reason == b.exits_by_reason);
  CHECK(a.time_in_state == b.time_in_state);
  CHECK(a.limit_violations == b.limit_violations);
  check_same(a.group_limits, b.group_limits);
  CHECK(a.soft_recycles == b.soft_recycles);
  check_same(a.lease_wait, b.lease_wait);
  check_same(a.lease_duration, b.lease_duration);
  check_same(a.start_to_ready, b.start_to_ready);
  check_same(a.worker_uptime, b.worker_uptime);
  check_same(a.probe_latency, b.probe_latency);
  CHECK(a.probes == b.probes);
  CHECK(a.probe_failures == b.probe_failures);
  CHECK(a.health_stops == b.health_stops);
  CHECK(a.health_stops_deferred == b.health_stops_deferred);
  CHECK(a.restart_breaker == b.restart_breaker);
  CHECK(a.lease_breaker == b.lease_breaker);
  CHECK(a.lease_expirations == b.lease_expirations);
  CHECK(a.broken_leases == b.broken_leases);
  CHECK(a.health == b.health);
  CHECK(a.rollout.active == b.rollout.active);
  CHECK(a.rollout.rolling_back == b.rollout.rolling_back);
  CHECK(a.rollout.current_revision == b.rollout.current_revision);
  CHECK(a.rollout.target_revision == b.rollout.target_revision);
  CHECK(a.rollout.updated == b.rollout.updated);
  CHECK(a.rollout.ready_updated == b.rollout.ready_updated);
  CHECK(a.rollout.old == b.rollout.old);
  REQUIRE(a.usage.has_value() == b.usage.has_value());
  if (a.usage) {
    CHECK(a.usage->memory_bytes == b.usage->memory_bytes);
    CHECK(a.usage->cpu_time == b.usage->cpu_time);
    CHECK(a.usage->workers == b.usage->workers);
  }
  check_same(a.output, b.output);
}

// The events: one overload per alternative of PoolEventData.
void check_data(const sv::WorkerTransition& a, const sv::WorkerTransition& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.incarnation == b.incarnation);
  CHECK(a.from == b.from);
  CHECK(a.to == b.to);
  CHECK(a.at == b.at);
  CHECK(a.cause == b.cause);
}
void check_data(const sv::WorkerSpawned& a, const sv::WorkerSpawned& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.incarnation == b.incarnation);
  CHECK(a.pid == b.pid);
}
void check_data(const sv::WorkerExited& a, const sv::WorkerExited& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.incarnation == b.incarnation);
  check_same(a.status, b.status);
}
void check_data(const sv::RestartScheduled& a, const sv::RestartScheduled& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.delay == b.delay);
  CHECK(a.why == b.why);
}
void check_data(const sv::WorkerGaveUp& a, const sv::WorkerGaveUp& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.why == b.why);
}
void check_data(const sv::SpawnFailed& a, const sv::SpawnFailed& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.error == b.error);
  CHECK(a.message == b.message);
}
void check_data(const sv::BreakerChanged& a, const sv::BreakerChanged& b) {
  CHECK(a.breaker == b.breaker);
  CHECK(a.transition.from == b.transition.from);
  CHECK(a.transition.to == b.transition.to);
  CHECK(a.transition.at == b.transition.at);
  CHECK(a.transition.reason == b.transition.reason);
}
void check_data(const sv::LeaseTimedOut& a, const sv::LeaseTimedOut& b) {
  CHECK(a.waited == b.waited);
}
void check_data(const sv::WorkerStatusChanged& a, const sv::WorkerStatusChanged& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.status == b.status);
}
void check_data(const sv::WorkerRecycled& a, const sv::WorkerRecycled& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.why == b.why);
}
void check_data(const sv::HealthChanged& a, const sv::HealthChanged& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.incarnation == b.incarnation);
  CHECK(a.check == b.check);
  CHECK(a.role == b.role);
  CHECK(a.status == b.status);
  CHECK(a.passing == b.passing);
  CHECK(a.detail == b.detail);
}
void check_data(const sv::ReplacementStarted& a, const sv::ReplacementStarted& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.replacement == b.replacement);
}
void check_data(const sv::ReplacementFinished& a, const sv::ReplacementFinished& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.replacement == b.replacement);
}
void check_data(const sv::ReplacementAborted& a, const sv::ReplacementAborted& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.replacement == b.replacement);
  CHECK(a.why == b.why);
}
void check_data(const sv::RolloutFinished& a, const sv::RolloutFinished& b) {
  CHECK(a.result.total == b.result.total);
  CHECK(a.result.replaced == b.result.replaced);
  CHECK(a.result.completed == b.result.completed);
  CHECK(a.result.why == b.result.why);
}
void check_data(const sv::LimitViolation& a, const sv::LimitViolation& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.incarnation == b.incarnation);
  CHECK(a.kind == b.kind);
  CHECK(a.count == b.count);
  CHECK(a.group == b.group);
  CHECK(a.detail == b.detail);
}
void check_data(const sv::LimitsNotEnforced& a, const sv::LimitsNotEnforced& b) {
  CHECK(a.worker == b.worker);
  check_same(a.limits, b.limits);
  CHECK(a.group == b.group);
}
void check_data(const sv::LeaseExpired& a, const sv::LeaseExpired& b) {
  CHECK(a.worker == b.worker);
  CHECK(a.incarnation == b.incarnation);
  CHECK(a.held == b.held);
}
void check_data(const sv::PoolHealthChanged& a, const sv::PoolHealthChanged& b) {
  CHECK(a.from == b.from);
  CHECK(a.to == b.to);
  CHECK(a.ready == b.ready);
  CHECK(a.size == b.size);
}
void check_data(const sv::RolloutStarted& a, const sv::RolloutStarted& b) {
  CHECK(a.from_revision == b.from_revision);
  CHECK(a.to_revision == b.to_revision);
  CHECK(a.rollback == b.rollback);
  CHECK(a.max_surge == b.max_surge);
  CHECK(a.max_unavailable == b.max_unavailable);
}
void check_data(const sv::RolloutProgress& a, const sv::RolloutProgress& b) {
  CHECK(a.revision == b.revision);
  CHECK(a.worker == b.worker);
  CHECK(a.updated == b.updated);
  CHECK(a.ready_updated == b.ready_updated);
  CHECK(a.old == b.old);
}
void check_data(const sv::RolloutRolledBack& a, const sv::RolloutRolledBack& b) {
  CHECK(a.from_revision == b.from_revision);
  CHECK(a.to_revision == b.to_revision);
  CHECK(a.why == b.why);
}

void check_same(const sv::PoolEvent& a, const sv::PoolEvent& b) {
  CHECK(a.sequence == b.sequence);
  CHECK(a.at == b.at);
  CHECK(a.wall == b.wall);
  REQUIRE(a.data.index() == b.data.index());
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        check_data(x, std::get<T>(b.data));
      },
      a.data);
}

// ---- A pool with most of its snapshot away from the defaults ------------------------------------

sv::ExitStatus crash_status() {
  sv::ExitStatus s;
  s.reason = sv::ExitReason::core_dump;
  s.signal = 11;
  s.core_dumped = true;
  s.killed_descendants = 2;
  s.escaped_descendants = 1;
  s.oom_kills = 3;
  s.fork_refusals = 4;
  s.usage.user_cpu = 1234567891ns;
  s.usage.system_cpu = 250ms;
  s.usage.max_rss_kib = 65536;
  s.usage.minor_faults = 10;
  s.usage.major_faults = 2;
  s.usage.voluntary_switches = 300;
  s.usage.involuntary_switches = 40;
  s.stderr_tail = {"panic: nil map", "goroutine 1 [running]:", "caf\xc3\xa9 \"quoted\"\t\\"};
  s.native_code = 0xC0000005u;
  return s;
}

// A real pool on the fake world: restarts, exits of several reasons (one with a full
// ExitStatus), leases and a lease timeout (histograms), sd_notify STATUS=, output, usage
// sampled twice (cpu_cores set), a breaker of each kind. What the fake world cannot produce
// (kernel limits, a rollout under way) is set on the snapshot by hand.
struct BusyPool {
  sv::testing::FakeWorld world{sv::TimePoint(std::chrono::hours(30))};
  std::unique_ptr<sv::Pool> pool;

  BusyPool() {
    sv::PoolOptions o;
    o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
    o.spec.out = sv::StdioSpec::pipe();
    o.spec.err = sv::StdioSpec::pipe();
    o.size = 3;
    o.readiness = sv::Readiness::notify(10s);
    o.usage_sample_period = 1s;
    o.degraded_below = 3;
    o.restart_breaker = sv::SlidingWindowBreaker::create(sv::BreakerOptions{});
    o.lease_breaker = sv::SlidingWindowBreaker::create(sv::BreakerOptions{});
    pool = std::make_unique<sv::Pool>(world, o);
    pool->start();
    for (int pid : world.live_pids()) world.notify(pid, "READY=1\nSTATUS=serving");
    auto pid_of = [&](std::size_t i) { return pool->snapshot().workers[i].pid; };
    world.output(pid_of(0), sv::StdStream::out, "hello\nworld\npartial");
    world.output(pid_of(1), sv::StdStream::err, "oops\n");
    world.advance(1500ms);
    {
      sv::Lease a = pool->acquire(0s);
      world.advance(250ms);
      a.release(sv::LeaseOutcome::success);
    }
    {
      sv::Lease b = pool->acquire(0s);
      sv::Lease c = pool->acquire(0s);
      sv::Lease d = pool->acquire(0s);
      std::error_code ec;
      (void)pool->acquire(0s, ec);  // none left: a lease timeout
      world.advance(3ms);
      b.release(sv::LeaseOutcome::slow);
      c.release(sv::LeaseOutcome::failure);
    }
    world.exit(pid_of(1), crash_status());
    world.advance(2s);  // restarted after its backoff
    world.notify(pid_of(1), "READY=1\nSTATUS=second life");
    world.exit_code(pid_of(2), 3);
    world.advance(2s);
    world.notify(pid_of(2), "READY=1");
    for (int pid : world.live_pids()) world.set_usage(pid, 48u << 20, 0.75);
    world.advance(1s);
    for (int pid : world.live_pids()) world.set_usage(pid, 50u << 20, 1.5);
    world.advance(1s);
  }
  ~BusyPool() { pool->stop(); }
  BusyPool(const BusyPool&) = delete;
  BusyPool& operator=(const BusyPool&) = delete;

  [[nodiscard]] sv::PoolSnapshot snapshot() const {
    sv::PoolSnapshot s = pool->snapshot();
    s.limit_violations = {{"memory_max", 2}, {"group.max_processes", 5}};
    s.group_limits = {{sv::LimitKind::memory_max, sv::LimitBackend::cgroup_v2,
                       "/sys/fs/cgroup/pool/memory.max"},
                      {sv::LimitKind::cpu_cores, sv::LimitBackend::none, "no cpu controller"}};
    s.soft_recycles = 7;
    s.draining = true;
    s.rollout.active = true;
    s.rollout.target_revision = 2;
    s.rollout.updated = 1;
    s.rollout.ready_updated = 1;
    s.rollout.old = 2;
    s.workers[0].health = sv::HealthStatus::degraded;
    s.workers[0].health_detail = "slow: 900ms";
    s.workers[0].health_score = 42;
    s.workers[0].serving = false;
    s.workers[0].revision = 2;
    return s;
  }
};

// One event of each alternative, every field away from its default.
std::vector<sv::PoolEvent> one_of_each() {
  sv::ExitStatus exit = crash_status();
  exit.uptime = 90s;
  const std::vector<sv::PoolEventData> data{
      sv::WorkerTransition{1, 2, sv::WorkerState::ready, sv::WorkerState::leased,
                           sv::TimePoint(5500ms), "leased"},
      sv::WorkerSpawned{3, 4, 4242},
      sv::WorkerExited{5, 6, exit},
      sv::RestartScheduled{7, 1600ms, "backoff: 4th quick death"},
      sv::WorkerGaveUp{8, "start limit: 5 starts in 10s"},
      sv::SpawnFailed{9, std::make_error_code(std::errc::no_such_file_or_directory),
                      "spawn \"/opt/w\": No such file or directory"},
      sv::BreakerChanged{"lease", {sv::BreakerState::half_open, sv::BreakerState::open,
                                   sv::TimePoint(77s), "trial failed"}},
      sv::LeaseTimedOut{2500ms},
      sv::WorkerStatusChanged{10, "warming up 50%"},
      sv::WorkerRecycled{11, "max_leases 1000 reached"},
      sv::HealthChanged{12, 13, "http", sv::ProbeRole::readiness, sv::HealthStatus::unhealthy,
                        true, "503 after 20ms"},
      sv::ReplacementStarted{14, 15},
      sv::ReplacementFinished{16, 17},
      sv::ReplacementAborted{18, 19, "replacement not ready in 30s"},
      sv::RolloutFinished{{10, 7, true, "stopped: replacement 3 died"}},
      sv::LimitViolation{20, 21, sv::LimitKind::max_processes, 9, true, "9 forks refused"},
      sv::LimitsNotEnforced{22,
                            {{sv::LimitKind::swap_max, sv::LimitBackend::none, "no swap"},
                             {sv::LimitKind::cpu_time, sv::LimitBackend::rlimit, "RLIMIT_CPU"}},
                            true},
      sv::LeaseExpired{23, 24, 31s},
      sv::PoolHealthChanged{sv::PoolHealth::healthy, sv::PoolHealth::degraded, 2, 3},
      sv::RolloutStarted{3, 4, true, 2, 1},
      sv::RolloutProgress{4, 25, 3, 2, 1},
      sv::RolloutRolledBack{4, 3, "progress deadline 600s passed for worker 2"},
  };
  REQUIRE(data.size() == std::variant_size_v<sv::PoolEventData>);
  std::vector<sv::PoolEvent> out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    REQUIRE(data[i].index() == i);  // the list covers every alternative, in order
    out.push_back({100 + i, sv::TimePoint(std::chrono::seconds(1000 + i)),
                   sv::WallTime(std::chrono::seconds(1'796'000'000 + i) + 123ms), data[i]});
  }
  return out;
}

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every key of `value`'s objects (the keys of name-keyed maps excepted: their keys are values).
void collect_keys(const json& value, std::set<std::string>& keys) {
  static const std::set<std::string> maps{"exits_by_reason", "limit_violations",
                                          "time_in_state_seconds"};
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      keys.insert(key);
      if (maps.count(key) == 0) collect_keys(item, keys);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) collect_keys(item, keys);
  }
}

// The message of the error `f` throws (and that it is errc::invalid_argument).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_argument);
    return e.what();
  }
  FAIL("no error");
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("json: a busy pool's snapshot goes to JSON and back equal, field by field",
          "[unit][json]") {
  BusyPool busy;
  const sv::PoolSnapshot s = busy.snapshot();
  // The pool did get away from the defaults where it matters to this test.
  REQUIRE(s.restarts >= 2);
  REQUIRE(s.lease_timeouts == 1);
  REQUIRE(s.lease_duration.count == 4);  // d: released by its destructor
  REQUIRE(s.usage.has_value());
  REQUIRE(s.workers[1].last_exit.has_value());
  REQUIRE(s.workers[1].last_exit->reason == sv::ExitReason::core_dump);
  REQUIRE(s.workers[0].usage.has_value());
  REQUIRE(s.workers[0].usage->cpu_cores.has_value());
  REQUIRE(s.workers[0].output.out.lines == 2);
  REQUIRE(s.restart_breaker.has_value());
  REQUIRE(s.exits_by_reason.size() >= 2);
  REQUIRE(s.workers[1].started_at.has_value());
  REQUIRE(s.workers[1].uptime > sv::Duration::zero());

  const json doc = sj::to_json(s);
  CHECK(doc.at("schema_version") == 1);
  CHECK(doc.at("workers").at(1).at("last_exit").at("reason") == "core-dump");
  CHECK(doc.at("workers").at(0).at("state") == "ready");
  CHECK(doc.at("health") == "healthy");
  CHECK(doc.at("restart_breaker") == "closed");
  CHECK(doc.at("workers").at(1).at("exits_by_reason").at("core-dump") == 1);
  CHECK(doc.at("lease_duration").at("sum_seconds").get<double>() == Approx(0.259));
  check_same(sj::snapshot_from_json(doc), s);

  // Through text: compact and indented.
  const std::string compact = sj::to_json_string(s);
  CHECK(compact.find('\n') == std::string::npos);
  check_same(sj::parse_snapshot(compact), s);
  const std::string pretty = sj::to_json_string(s, 2);
  CHECK(contains(pretty, "\n  \"broken_leases\": 0"));
  check_same(sj::parse_snapshot(pretty), s);

  std::error_code ec = make_error_code(sv::errc::internal);
  check_same(sj::parse_snapshot(compact, ec), s);
  CHECK_FALSE(ec);
}

TEST_CASE("json: every event type goes to JSON and back, and a real pool's history too",
          "[unit][json]") {
  const std::vector<std::string> types{
      "worker_transition",   "worker_spawned",       "worker_exited",       "restart_scheduled",
      "worker_gave_up",      "spawn_failed",         "breaker_changed",     "lease_timed_out",
      "worker_status_changed", "worker_recycled",    "health_changed",      "replacement_started",
      "replacement_finished", "replacement_aborted", "rollout_finished",    "limit_violation",
      "limits_not_enforced", "lease_expired",        "pool_health_changed", "rollout_started",
      "rollout_progress",    "rollout_rolled_back"};
  const auto events = one_of_each();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json doc = sj::to_json(events[i]);
    INFO(doc.dump());
    CHECK(doc.at("schema_version") == 1);
    CHECK(doc.at("type") == types[i]);
    check_same(sj::event_from_json(doc), events[i]);
    check_same(sj::parse_event(sj::to_json_string(events[i])), events[i]);
  }
  const json spawn = sj::to_json(events[5]).at("data").at("error");
  CHECK(spawn.at("category") == "generic");
  CHECK(spawn.at("value") == static_cast<int>(std::errc::no_such_file_or_directory));
  CHECK(sj::to_json(events[0]).at("wall_time") == "2026-11-30T00:53:20.123Z");

  // A history: a JSON array under "events", oldest first.
  const json history = sj::to_json(events);
  REQUIRE(history.at("events").is_array());
  CHECK(history.at("events").size() == events.size());
  CHECK_FALSE(history.at("events").at(0).contains("schema_version"));
  const auto back = sj::parse_history(sj::to_json_string(events, 1));
  REQUIRE(back.size() == events.size());
  for (std::size_t i = 0; i < events.size(); ++i) check_same(back[i], events[i]);

  BusyPool busy;
  const auto real = busy.pool->history();
  REQUIRE(real.size() > 20);
  const auto real_back = sj::history_from_json(sj::to_json(real));
  REQUIRE(real_back.size() == real.size());
  for (std::size_t i = 0; i < real.size(); ++i) check_same(real_back[i], real[i]);
}

TEST_CASE("json: the status document of several named pools", "[unit][json]") {
  BusyPool busy;
  sv::testing::FakeWorld world;
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  o.size = 2;
  sv::Pool quiet(world, o);
  quiet.start();

  sj::StatusDocument status =
      sj::make_status({{"busy", busy.snapshot()}, {"quiet", quiet.snapshot()}});
  const auto now = std::chrono::system_clock::now();
  CHECK(status.generated_at <= now);
  CHECK(status.generated_at > now - 1h);

  json doc = sj::to_json(status);
  CHECK(doc.at("schema_version") == 1);
  REQUIRE(doc.at("pools").size() == 2);
  CHECK(doc.at("pools").at(0).at("name") == "busy");
  CHECK(doc.at("pools").at(1).at("snapshot").at("workers").size() == 2);
  CHECK_FALSE(doc.at("pools").at(0).at("snapshot").contains("schema_version"));
  // A host adds keys of its own; the reader ignores them.
  doc["readiness"] = {{"ready", true}, {"pools", json::array()}};

  const sj::StatusDocument back = sj::status_from_json(doc);
  CHECK(back.generated_at == status.generated_at);
  REQUIRE(back.pools.size() == 2);
  CHECK(back.pools[0].name == "busy");
  CHECK(back.pools[1].name == "quiet");
  check_same(back.pools[0].snapshot, status.pools[0].snapshot);
  check_same(back.pools[1].snapshot, status.pools[1].snapshot);
  const sj::StatusDocument from_text = sj::parse_status(sj::to_json_string(status));
  check_same(from_text.pools[1].snapshot, status.pools[1].snapshot);
  quiet.stop();
}

TEST_CASE("json: bad input is a typed error naming the key's path", "[unit][json]") {
  BusyPool busy;
  const json good = sj::to_json(busy.snapshot());

  SECTION("another schema version") {
    json doc = good;
    doc["schema_version"] = 2;
    const auto what = error_of([&] { (void)sj::snapshot_from_json(doc); });
    CHECK(contains(what, "snapshot.schema_version: 2 is not supported"));
    doc.erase("schema_version");
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.schema_version: missing"));
    doc["schema_version"] = "1";
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.schema_version: expected an integer, not string"));
    json event = sj::to_json(one_of_each()[0]);
    event["schema_version"] = 0;
    CHECK(contains(error_of([&] { (void)sj::event_from_json(event); }),
                   "event.schema_version: 0 is not supported"));
  }
  SECTION("a wrong type") {
    json doc = good;
    doc["workers"][1]["state"] = 5;
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.workers[1].state: expected a string, not number"));
    doc = good;
    doc["lease_wait"]["counts"][2] = -1;
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.lease_wait.counts[2]: expected an unsigned integer, not -1"));
    doc = good;
    doc["workers"][0]["pid"] = 1.5;
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.workers[0].pid: expected an integer, not number"));
    doc = good;
    doc["workers"][0]["pid"] = 1ll << 40;
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.workers[0].pid: 1099511627776 is out of range"));
    doc = good;
    doc["workers"] = json::object();
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.workers: expected an array, not object"));
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(json::array()); }),
                   "snapshot: expected an object, not array"));
  }
  SECTION("an unknown name") {
    json doc = good;
    doc["workers"][2]["state"] = "runing";
    const auto what = error_of([&] { (void)sj::snapshot_from_json(doc); });
    CHECK(contains(what, "snapshot.workers[2].state: unknown value \"runing\""));
    CHECK(contains(what, "starting, ready, leased"));
    doc = good;
    doc["workers"][0]["time_in_state_seconds"]["sleeping"] = 1.0;
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.workers[0].time_in_state_seconds.sleeping: unknown value"));
    json event = sj::to_json(one_of_each()[0]);
    event["type"] = "worker_teleported";
    CHECK(contains(error_of([&] { (void)sj::event_from_json(event); }),
                   "event.type: unknown value \"worker_teleported\""));
  }
  SECTION("a missing key") {
    json doc = good;
    doc.erase("restarts");
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.restarts: missing"));
    doc = good;
    doc["workers"][1]["last_exit"].erase("usage");
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.workers[1].last_exit.usage: missing"));
    json history = sj::to_json(one_of_each());
    history["events"][4].erase("data");
    CHECK(contains(error_of([&] { (void)sj::history_from_json(history); }),
                   "history.events[4].data: missing"));
  }
  SECTION("inconsistent histograms and times") {
    json doc = good;
    doc["probe_latency"]["counts"].erase(0);
    CHECK(contains(error_of([&] { (void)sj::snapshot_from_json(doc); }),
                   "snapshot.probe_latency.counts:"));
    json event = sj::to_json(one_of_each()[0]);
    event["wall_time"] = "2026-02-30T00:00:00Z";
    CHECK(contains(error_of([&] { (void)sj::event_from_json(event); }),
                   "event.wall_time: \"2026-02-30T00:00:00Z\" is not an RFC 3339 date-time"));
  }
  SECTION("text that is no JSON") {
    CHECK(contains(error_of([&] { (void)sj::parse_snapshot("{\"schema_version\": 1,"); }),
                   "snapshot: not JSON"));
    CHECK(contains(error_of([&] { (void)sj::parse_status(""); }), "status: not JSON"));
  }
  SECTION("the noexcept overloads report the code and return a default value") {
    json doc = good;
    doc["schema_version"] = 3;
    std::error_code ec;
    const sv::PoolSnapshot s = sj::snapshot_from_json(doc, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK(s.workers.empty());
    ec.clear();
    (void)sj::parse_event("[1, 2", ec);
    CHECK(ec == sv::errc::invalid_argument);
    ec.clear();
    (void)sj::parse_history("{\"schema_version\": 1}", ec);
    CHECK(ec == sv::errc::invalid_argument);
    ec.clear();
    (void)sj::parse_status("{\"schema_version\": 1, \"pools\": []}", ec);
    CHECK(ec == sv::errc::invalid_argument);  // no generated_at
    ec.clear();
    (void)sj::parse_rfc3339("yesterday", ec);
    CHECK(ec == sv::errc::invalid_argument);
  }
}

TEST_CASE("json: keys the reader does not know are ignored (forward compatible)",
          "[unit][json]") {
  BusyPool busy;
  const sv::PoolSnapshot s = busy.snapshot();
  json doc = sj::to_json(s);
  doc["added_in_a_later_version"] = {{"anything", 1}};
  doc["workers"][0]["gpu"] = {{"memory_bytes", 1}};
  doc["lease_wait"]["p99_seconds"] = 0.5;
  check_same(sj::snapshot_from_json(doc), s);
  // Optional values may be absent as well as null.
  doc["workers"][0].erase("usage");
  CHECK_FALSE(sj::snapshot_from_json(doc).workers[0].usage.has_value());
}

TEST_CASE("json: the odd values: extremes, foreign error categories, bad UTF-8", "[unit][json]") {
  sv::PoolEvent event;
  event.data = sv::RestartScheduled{0, sv::Duration::max(), "never"};
  CHECK(std::get<sv::RestartScheduled>(sj::event_from_json(sj::to_json(event)).data).delay ==
        sv::Duration::max());
  event.data = sv::LeaseTimedOut{-5ns};
  CHECK(std::get<sv::LeaseTimedOut>(sj::event_from_json(sj::to_json(event)).data).waited == -5ns);
  // A monotonic instant 40 days after the clock's epoch: still exact to the nanosecond.
  event.at = sv::TimePoint(std::chrono::hours(24 * 40) + 123456789ns);
  CHECK(sj::event_from_json(sj::to_json(event)).at == event.at);

  event.data = sv::SpawnFailed{1, sv::make_error_code(sv::errc::hook_failed), "pre_start threw"};
  CHECK(std::get<sv::SpawnFailed>(sj::parse_event(sj::to_json_string(event)).data).error ==
        sv::errc::hook_failed);
  json doc = sj::to_json(event);
  doc["data"]["error"]["category"] = "my-app";
  const auto foreign = std::get<sv::SpawnFailed>(sj::event_from_json(doc).data).error;
  CHECK(&foreign.category() == &sj::foreign_category());
  CHECK(foreign.value() == static_cast<int>(sv::errc::hook_failed));

  // A worker's STATUS= is whatever it sent: bad UTF-8 becomes U+FFFD, and the text dumps.
  event.data = sv::WorkerStatusChanged{2, "ok \xff\xfe end \xc3"};
  const std::string text = sj::to_json_string(event);
  CHECK(contains(text, "ok \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD"));
  CHECK(std::get<sv::WorkerStatusChanged>(sj::parse_event(text).data).status ==
        "ok \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD");
  event.data = sv::WorkerStatusChanged{2, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"};
  CHECK(std::get<sv::WorkerStatusChanged>(sj::parse_event(sj::to_json_string(event)).data)
            .status == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST_CASE("json: RFC 3339 wall-clock times", "[unit][json]") {
  using sv::WallTime;
  CHECK(sj::to_rfc3339(WallTime{}) == "1970-01-01T00:00:00Z");
  CHECK(sj::to_rfc3339(WallTime(1'796'000'000s)) == "2026-11-30T00:53:20Z");
  CHECK(sj::to_rfc3339(WallTime(1'796'000'000s + 250ms)) == "2026-11-30T00:53:20.250Z");
  CHECK(sj::to_rfc3339(WallTime(1'796'000'000s + 1us)) == "2026-11-30T00:53:20.000001Z");
  CHECK(sj::to_rfc3339(WallTime(1'796'000'000s + 7ns)) == "2026-11-30T00:53:20.000000007Z");
  CHECK(sj::to_rfc3339(WallTime(-1ns)) == "1969-12-31T23:59:59.999999999Z");

  CHECK(sj::parse_rfc3339("1970-01-01T00:00:00Z") == WallTime{});
  CHECK(sj::parse_rfc3339("2026-11-30T02:53:20.25+02:00") == WallTime(1'796'000'000s + 250ms));
  CHECK(sj::parse_rfc3339("2026-11-29t19:53:20.0000000071-05:00") ==
        WallTime(1'796'000'000s + 7ns));
  CHECK(sj::parse_rfc3339("1969-12-31T23:59:59.999999999Z") == WallTime(-1ns));
  for (const auto* bad : {"2026-11-29", "2026-11-30T00:53:20", "2026-13-01T00:00:00Z",
                          "2026-11-29T24:00:00Z", "2026-11-30T00:53:20.Z",
                          "2026-11-30T00:53:20+0200", "2026-11-30T00:53:20Z trailing",
                          "3000-01-01T00:00:00Z", "2026-11-29 23:33:20Z"}) {
    INFO(bad);
    std::error_code ec;
    (void)sj::parse_rfc3339(bad, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK_THROWS_AS(sj::parse_rfc3339(bad), sv::Error);
  }
  for (std::int64_t ns : {0ll, 1ll, 999'999'999ll, 1'796'000'000'123'456'789ll,
                          -86'400'000'000'001ll}) {
    const WallTime t{sv::Duration(ns)};
    CHECK(sj::parse_rfc3339(sj::to_rfc3339(t)) == t);
  }
}

TEST_CASE("json: docs/json-schema.md names every key and event type the writer emits",
          "[unit][json]") {
  const std::string doc = read_file(SUPERVISOR_JSON_SCHEMA_DOC);
  REQUIRE(doc.size() > 1000);
  std::set<std::string> keys;
  BusyPool busy;
  sj::StatusDocument status = sj::make_status({{"busy", busy.snapshot()}});
  collect_keys(sj::to_json(status), keys);
  const auto events = one_of_each();
  collect_keys(sj::to_json(events), keys);
  for (const auto& event : events) collect_keys(sj::to_json(event), keys);
  REQUIRE(keys.size() > 100);
  for (const auto& key : keys) {
    INFO("key `" << key << "` is not in docs/json-schema.md");
    // As `key`, or as the last part of a nested one: `result.total`, `pools[].name`.
    CHECK((contains(doc, "`" + key + "`") || contains(doc, "." + key + "`")));
  }
  for (const auto& event : events) {
    const std::string type = sj::to_json(event).at("type");
    INFO("event type `" << type << "` is not in docs/json-schema.md");
    CHECK(contains(doc, "`" + type + "`"));
  }
  CHECK(contains(doc, "schema_version"));
}

namespace {
// Every name of enumeration E is distinct, reads back as itself, and is in the schema's table.
template <class E>
void check_names(const std::string& doc) {
  namespace jd = supervisor::json::detail;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < jd::enum_count<E>; ++i) {
    const std::string name(jd::name_of(static_cast<E>(i)));
    INFO("enumeration value `" << name << "`");
    CHECK(seen.insert(name).second);
    CHECK(jd::enum_from_name<E>(jd::Where{nullptr, "test"}, name) == static_cast<E>(i));
    CHECK(contains(doc, "`" + name + "`"));
  }
}
}  // namespace

TEST_CASE("json: every enumeration's names are distinct, read back, and in the schema",
          "[unit][json]") {
  const std::string doc = read_file(SUPERVISOR_JSON_SCHEMA_DOC);
  check_names<sv::WorkerState>(doc);
  check_names<sv::ExitReason>(doc);
  check_names<sv::BreakerState>(doc);
  check_names<sv::HealthStatus>(doc);
  check_names<sv::ProbeRole>(doc);
  check_names<sv::LimitKind>(doc);
  check_names<sv::LimitBackend>(doc);
  check_names<sv::PoolHealth>(doc);
  check_names<sv::UsageScope>(doc);
}

// Converts to anything: `T{Any{}, ...}` compiles for as many initializers as aggregate T has
// fields (each one initializes one field; nothing is elided into an array or a struct member).
// Declared only (used in unevaluated checks), so not in the anonymous namespace, where clang
// would warn that it is never defined.
namespace json_test {
struct Any {
  template <class T>
  operator T() const;  // NOLINT(google-explicit-constructor)
};
}  // namespace json_test

namespace {

using json_test::Any;

template <class T, class... Fields>
constexpr std::size_t field_count() {
  if constexpr (requires { T{Fields{}..., Any{}}; }) {
    return field_count<T, Fields..., Any>();
  } else {
    return sizeof...(Fields);
  }
}

// Counts the keys a record's Fields<T>::visit asks for.
struct KeyCount {
  std::size_t n = 0;
  template <class V>
  void operator()(std::string_view /*key*/, const V& /*value*/) {
    ++n;
  }
};

// How many keys the schema writes for a T.
template <class T>
std::size_t keys_written() {
  KeyCount count;
  const T value{};
  supervisor::json::detail::Fields<T>::visit(count, value);
  return count.n;
}

template <class... T>
void check_every_field_has_a_key() {
  (
      [] {
        INFO(typeid(T).name() << ": a field without a key in src/json/schema.hpp (add it there, "
                                 "to docs/json-schema.md and to check_same in this test)");
        CHECK(keys_written<T>() == field_count<T>());
      }(),
      ...);
}

}  // namespace

TEST_CASE("json: the schema has a key for every field of every record and event",
          "[unit][json]") {
  static_assert(field_count<sv::WorkerSnapshot>() >= 20);  // the counter counts
  check_every_field_has_a_key<
      sv::ResourceUsage, sv::ExitStatus, sv::OutputStats, sv::OutputCounts, sv::WorkerUsage,
      sv::PoolUsage, sv::Histogram, sv::LimitStatus, sv::RolloutStatus, sv::WorkerSnapshot,
      sv::PoolSnapshot, sv::WorkerTransition, sv::WorkerSpawned, sv::WorkerExited,
      sv::RestartScheduled, sv::WorkerGaveUp, sv::SpawnFailed, sv::BreakerTransition,
      sv::BreakerChanged, sv::LeaseTimedOut, sv::WorkerStatusChanged, sv::WorkerRecycled,
      sv::HealthChanged, sv::ReplacementStarted, sv::ReplacementFinished, sv::ReplacementAborted,
      sv::RolloutResult, sv::RolloutFinished, sv::LimitViolation, sv::LimitsNotEnforced,
      sv::LeaseExpired, sv::PoolHealthChanged, sv::RolloutStarted, sv::RolloutProgress,
      sv::RolloutRolledBack>();
  // The event itself: sequence, at, wall and data, written as four keys beside "type".
  CHECK(field_count<sv::PoolEvent>() == 4);
  sv::PoolEvent event;
  CHECK(sj::to_json(event).size() == 4 + 2);  // and "type", "schema_version"
}
