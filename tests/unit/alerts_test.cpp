// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Alerts on the fake world: rules over pools' events, throttling, resolved notices, sinks, and
// the lifetimes of managers and pools. The manager delivers on the test's thread
// (`delivery_thread` off) and reads the world's ManualClock, so every notice below is exact.
#include <supervisor/alerts.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include "catch_compat.hpp"
#include "fake_pool.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

// A manager on the world's clock, without a thread, and the notices its callback sink got.
struct Harness {
  explicit Harness(sv::testing::FakeWorld& world, sv::Duration throttle = 10min)
      : manager(world.clock(), options(throttle)) {
    manager.add_sink(sv::callback_sink([this](const sv::Alert& a) { got.push_back(a); }));
  }
  static sv::AlertManagerOptions options(sv::Duration throttle) {
    sv::AlertManagerOptions o;
    o.delivery_thread = false;
    o.throttle = throttle;
    return o;
  }
  // The notices delivered since the last call.
  std::vector<sv::Alert> take() {
    manager.deliver_pending();
    auto out = std::move(got);
    got.clear();
    return out;
  }
  sv::AlertManager manager;
  std::vector<sv::Alert> got;
};

// A pool whose restart policy never gives up (no budget), restarting after 100 ms.
sv::PoolOptions endless(std::size_t size) {
  auto o = sv::testing::fake_pool(size);
  sv::StandardRestartOptions r;
  r.backoff = sv::BackoffOptions::fixed(100ms);
  r.budget.window = sv::Duration::zero();
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  return o;
}

int pid(const sv::Pool& pool, std::size_t i) { return pool.snapshot().workers[i].pid; }

// Crashes worker `i` and lets it restart.
void crash(sv::testing::FakeWorld& world, sv::Pool& pool, std::size_t i) {
  world.kill(pid(pool, i));
  world.advance(100ms);
}

// Whether `text` contains `part` (the message says which).
#define CHECK_THAT_HAS(text, part)                \
  do {                                            \
    const std::string text_ = (text);             \
    INFO(text_);                                  \
    CHECK(text_.find(part) != std::string::npos); \
  } while (false)

sv::PoolEvent event(sv::PoolEventData data) {
  sv::PoolEvent e;
  e.data = std::move(data);
  return e;
}

sv::PoolEvent breaker(const std::string& which, sv::BreakerState to) {
  sv::BreakerChanged b;
  b.breaker = which;
  b.transition.to = to;
  b.transition.reason = "failure rate 60.0% reached the 50.0% threshold";
  return event(b);
}

sv::PoolEvent limit_hit(std::size_t worker) {
  sv::LimitViolation v;
  v.worker = worker;
  v.kind = sv::LimitKind::memory_max;
  v.count = 1;
  v.detail = "1 process OOM-killed at memory_max 67108864 bytes";
  return event(v);
}

}  // namespace

TEST_CASE("alerts: a throttled restart storm fires once, reports the suppressed count, resolves",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 1h);
  sv::RestartStormOptions storm;
  storm.threshold = 3;
  storm.window = 10s;
  h.manager.add_rule(sv::restart_storm_rule(storm));
  sv::Pool pool(world, endless(2));
  h.manager.watch("api", pool);
  pool.start();

  crash(world, pool, 0);
  crash(world, pool, 1);
  CHECK(h.take().empty());  // 2 restarts: below the threshold
  crash(world, pool, 0);    // the third: the storm
  auto got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::firing);
  CHECK(got[0].rule == "restart_storm");
  CHECK(got[0].pool == "api");
  CHECK(got[0].severity == sv::AlertSeverity::critical);
  CHECK(got[0].suppressed == 0);
  CHECK(got[0].occurrences == 1);
  CHECK(got[0].worker == std::optional<std::size_t>(0));
  CHECK(got[0].summary == "3 restarts within 10s (threshold 3)");
  CHECK(got[0].sequence == 1);
  // Four more restarts in the storm: swallowed by the throttle, counted.
  for (int i = 0; i < 4; ++i) crash(world, pool, static_cast<std::size_t>(i % 2));
  CHECK(h.take().empty());
  CHECK(h.manager.stats().suppressed == 4);
  REQUIRE(h.manager.firing().size() == 1);
  CHECK(h.manager.firing()[0].suppressed == 4);
  // The storm ends; the window slides past its restarts: resolved once, with the count.
  world.advance(9s);
  h.manager.evaluate();
  CHECK(h.take().empty());  // the last restarts are still within 10 s
  world.advance(2s);
  h.manager.evaluate();
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::resolved);
  CHECK(got[0].suppressed == 4);
  CHECK(got[0].occurrences == 5);
  CHECK(got[0].summary.find("below the threshold of 3") != std::string::npos);
  CHECK(got[0].first_at < got[0].last_at);
  h.manager.evaluate();
  CHECK(h.take().empty());  // exactly one resolved notice
  CHECK(h.manager.firing().empty());
  const auto stats = h.manager.stats();
  CHECK(stats.notices == 2);
  CHECK(stats.firing == 1);
  CHECK(stats.resolved == 1);
  REQUIRE(stats.sinks.size() == 1);
  CHECK(stats.sinks[0].delivered == 2);
  CHECK(stats.sinks[0].failed == 0);
}

TEST_CASE("alerts: the throttle interval holds back a new firing notice, then sends it",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 1min);
  h.manager.add_rule(sv::limit_violation_rule([] {
    sv::LimitViolationOptions o;
    o.quiet = 10s;
    return o;
  }()));
  h.manager.observe("p", limit_hit(1));
  REQUIRE(h.take().size() == 1);
  world.advance(10s);
  h.manager.evaluate();  // quiet for 10 s: resolved
  auto got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::resolved);
  // It happens again 20 s after the first notice: within the throttle interval, held back.
  for (std::size_t w = 1; w <= 3; ++w) {
    world.advance(w == 3 ? 25s : 10s);  // at 20 s, 30 s and 55 s
    h.manager.observe("p", limit_hit(w));
    h.manager.evaluate();
    CHECK(h.take().empty());
    REQUIRE(h.manager.firing().size() == 1);
  }
  // A minute after the first notice: the held-back notice goes out, the last occurrence's, with
  // the others counted.
  world.advance(5s);
  h.manager.evaluate();
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::firing);
  CHECK(got[0].worker == std::optional<std::size_t>(3));
  CHECK(got[0].suppressed == 2);
  CHECK(got[0].occurrences == 3);
}

TEST_CASE("alerts: an incident that clears before its throttled notice is never announced",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 1min);
  h.manager.add_rule(sv::breaker_open_rule());
  h.manager.observe("p", breaker("restart", sv::BreakerState::open));
  h.manager.observe("p", breaker("restart", sv::BreakerState::closed));
  auto got = h.take();
  REQUIRE(got.size() == 2);  // fired, resolved
  world.advance(10s);
  h.manager.observe("p", breaker("restart", sv::BreakerState::open));
  h.manager.observe("p", breaker("restart", sv::BreakerState::half_open));
  h.manager.observe("p", breaker("restart", sv::BreakerState::closed));
  world.advance(1min);
  h.manager.evaluate();
  CHECK(h.take().empty());  // no firing, and no resolved notice for what never fired
  // The next notice counts it.
  h.manager.observe("p", breaker("restart", sv::BreakerState::open));
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].suppressed == 1);
}

TEST_CASE("alerts: deduplication is per rule and pool", "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world);
  h.manager.add_rule(sv::breaker_open_rule());
  h.manager.add_rule(sv::limit_violation_rule());
  h.manager.observe("a", breaker("lease", sv::BreakerState::open));
  h.manager.observe("a", breaker("lease", sv::BreakerState::open));  // a duplicate
  h.manager.observe("b", breaker("lease", sv::BreakerState::open));
  h.manager.observe("a", limit_hit(0));
  auto got = h.take();
  REQUIRE(got.size() == 3);
  CHECK((got[0].rule == "breaker_open" && got[0].pool == "a"));
  CHECK(got[0].summary == "lease breaker open");
  CHECK(got[0].detail == "failure rate 60.0% reached the 50.0% threshold");
  CHECK((got[1].rule == "breaker_open" && got[1].pool == "b"));
  CHECK((got[2].rule == "limit_violation" && got[2].pool == "a"));
  CHECK(h.manager.stats().suppressed == 1);
  CHECK(h.manager.firing().size() == 3);
}

TEST_CASE("alerts: the breaker rule fires on open and resolves when every breaker closed",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 0s);  // no throttle
  sv::BreakerOpenOptions o;
  o.severity = sv::AlertSeverity::critical;
  h.manager.add_rule(sv::breaker_open_rule(o));
  h.manager.observe("p", breaker("restart", sv::BreakerState::open));
  h.manager.observe("p", breaker("lease", sv::BreakerState::forced_open));
  h.manager.observe("p", breaker("restart", sv::BreakerState::closed));
  auto got = h.take();
  REQUIRE(got.size() == 2);  // both opened; the lease one is still open
  CHECK(got[0].severity == sv::AlertSeverity::critical);
  CHECK(got[1].summary == "lease breaker forced_open");
  CHECK(got[1].suppressed == 0);
  h.manager.observe("p", breaker("lease", sv::BreakerState::disabled));
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::resolved);
  CHECK(got[0].summary == "lease breaker disabled");
  // Only the lease breaker: the restart one is ignored.
  o.breaker = "lease";
  o.name = "lease_open";
  h.manager.add_rule(sv::breaker_open_rule(o));
  h.manager.observe("q", breaker("restart", sv::BreakerState::open));
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].rule == "breaker_open");
}

TEST_CASE("alerts: the pool health rule on a pool: degraded, down (escalated), healthy",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 1h);
  h.manager.add_rule(sv::pool_health_rule());
  auto o = endless(3);
  o.degraded_below = 3;
  sv::Pool pool(world, o);
  h.manager.watch("web", pool);
  pool.start();
  CHECK(h.take().empty());  // healthy
  world.kill(pid(pool, 0));
  auto got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].severity == sv::AlertSeverity::warning);
  CHECK(got[0].summary == "pool degraded: 2 of 3 workers up");
  world.kill(pid(pool, 1));  // still degraded: no change, no event
  world.kill(pid(pool, 2));  // down: a worse severity goes through the throttle
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].severity == sv::AlertSeverity::critical);
  CHECK(got[0].summary == "pool down: 0 of 3 workers up");
  CHECK(got[0].suppressed == 0);
  world.advance(100ms);  // all restart
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::resolved);
  CHECK(got[0].summary == "pool healthy: 3 of 3 workers up");
  CHECK(got[0].suppressed == 1);  // back to degraded on the way up
}

TEST_CASE("alerts: the limit rule resolves after its quiet period", "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 1h);
  sv::LimitViolationOptions o;
  o.quiet = 30s;
  h.manager.add_rule(sv::limit_violation_rule(o));
  h.manager.observe("p", limit_hit(4));
  auto got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].summary == "limit memory_max hit (1 time)");
  CHECK(got[0].worker == std::optional<std::size_t>(4));
  world.advance(20s);
  h.manager.observe("p", limit_hit(4));  // the quiet period starts again
  world.advance(20s);
  h.manager.evaluate();
  CHECK(h.take().empty());
  world.advance(10s);
  h.manager.evaluate();
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::resolved);
  CHECK(got[0].summary == "no limit violation for 30s");
  CHECK(got[0].suppressed == 1);
}

TEST_CASE("alerts: the gave-up rule fires for failed workers and resolves once they run again",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 0s);
  h.manager.add_rule(sv::worker_gave_up_rule());
  auto o = sv::testing::fake_pool(2);
  sv::StandardRestartOptions r;
  r.mode = sv::RestartMode::never;
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  sv::Pool pool(world, o);
  h.manager.watch("jobs", pool);
  pool.start();
  world.kill(pid(pool, 0));
  world.kill(pid(pool, 1));
  world.run_pending();
  auto got = h.take();
  REQUIRE(got.size() == 2);
  CHECK(got[0].worker == std::optional<std::size_t>(0));
  CHECK(got[1].worker == std::optional<std::size_t>(1));
  CHECK(got[1].summary == "worker 1 failed for good (2 failed)");
  pool.revive(0);
  world.run_pending();
  CHECK(h.take().empty());  // worker 1 is still failed
  pool.revive(1);
  world.run_pending();
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::resolved);
  CHECK(got[0].summary == "worker 1 runs again; no worker failed");
}

TEST_CASE("alerts: removing a pool resolves its incidents and stops its events", "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world);
  sv::RestartStormOptions storm;
  storm.threshold = 1;
  h.manager.add_rule(sv::restart_storm_rule(storm));
  sv::Pool pool(world, endless(1));
  h.manager.watch("api", pool);
  CHECK(h.manager.pools() == std::vector<std::string>{"api"});
  pool.start();
  crash(world, pool, 0);
  REQUIRE(h.take().size() == 1);
  h.manager.remove("api");
  auto got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].state == sv::AlertState::resolved);
  CHECK(got[0].summary == "pool no longer watched");
  CHECK(h.manager.pools().empty());
  crash(world, pool, 0);
  CHECK(h.take().empty());
  CHECK(h.manager.firing().empty());
  // The name is free again, and the rule starts afresh for it.
  h.manager.watch("api", pool);
  crash(world, pool, 0);
  got = h.take();
  REQUIRE(got.size() == 1);
  CHECK(got[0].occurrences == 1);
  std::error_code ec;
  h.manager.remove("nope", ec);
  CHECK(ec == sv::errc::invalid_argument);
}

TEST_CASE("alerts: a pool destroyed before its manager, and a manager before its pool",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  sv::RestartStormOptions storm;
  storm.threshold = 1;
  SECTION("the pool first: the manager forgets it and never calls it again") {
    Harness h(world);
    h.manager.add_rule(sv::restart_storm_rule(storm));
    {
      sv::Pool pool(world, endless(1));
      h.manager.watch("api", pool);
      pool.start();
      crash(world, pool, 0);
      REQUIRE(h.take().size() == 1);
    }
    auto got = h.take();
    REQUIRE(got.size() == 1);
    CHECK(got[0].summary == "pool destroyed");
    CHECK(h.manager.pools().empty());
    std::error_code ec;
    h.manager.remove("api", ec);  // nothing left to unsubscribe from
    CHECK(ec == sv::errc::invalid_argument);
  }
  SECTION("the pool first, while a lease keeps its core alive") {
    Harness h(world);
    std::optional<sv::Pool> pool(std::in_place, world, endless(1));
    h.manager.watch("api", *pool);
    pool->start();
    sv::Lease lease = pool->acquire(0s);
    REQUIRE(lease.valid());
    pool.reset();
    CHECK(h.manager.pools().empty());
    lease.release();
  }
  SECTION("the manager first: the pool runs on without it") {
    sv::Pool pool(world, endless(1));
    pool.start();
    std::vector<sv::Alert> got;
    {
      sv::AlertManager manager(world.clock(), Harness::options(0s));
      manager.add_rule(sv::restart_storm_rule(storm));
      manager.add_sink(sv::callback_sink([&](const sv::Alert& a) { got.push_back(a); }));
      manager.watch("api", pool);
      crash(world, pool, 0);
      manager.deliver_pending();
      CHECK(got.size() == 1);
    }
    crash(world, pool, 0);
    crash(world, pool, 0);
    CHECK(got.size() == 1);
    CHECK(pool.snapshot().restarts == 3);
  }
}

TEST_CASE("alerts: bad parameters are typed errors naming the field", "[unit][alerts]") {
  const auto message = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      return e.what();
    }
    return "no error";
  };
  sv::RestartStormOptions storm;
  storm.threshold = 0;
  CHECK_THAT_HAS(message([&] { (void)sv::restart_storm_rule(storm); }),
                 "RestartStormOptions.threshold");
  storm.threshold = 2;
  storm.window = 0s;
  CHECK_THAT_HAS(message([&] { (void)sv::restart_storm_rule(storm); }),
                 "RestartStormOptions.window");
  storm.window = 1s;
  storm.name.clear();
  std::error_code ec;
  CHECK(sv::restart_storm_rule(storm, ec) == nullptr);
  CHECK(ec == sv::errc::invalid_argument);
  CHECK_THAT_HAS(message([&] { sv::validate(storm); }), "RestartStormOptions.name");
  sv::LimitViolationOptions limit;
  limit.quiet = -1s;
  CHECK_THAT_HAS(message([&] { (void)sv::limit_violation_rule(limit); }),
                 "LimitViolationOptions.quiet");
  sv::BreakerOpenOptions br;
  br.breaker = "restrat";
  CHECK_THAT_HAS(message([&] { sv::validate(br); }), "BreakerOpenOptions.breaker");
  sv::PoolHealthAlertOptions health;
  health.throttle = -1s;
  CHECK_THAT_HAS(message([&] { sv::validate(health); }), "PoolHealthAlertOptions.throttle");
  sv::AlertManagerOptions mo;
  mo.queue_capacity = 0;
  CHECK_THAT_HAS(message([&] { sv::AlertManager m(mo); }), "AlertManagerOptions.queue_capacity");

  sv::testing::FakeWorld world;
  Harness h(world);
  sv::Pool a(world, endless(1));
  sv::Pool b(world, endless(1));
  h.manager.watch("a", a);
  CHECK_THAT_HAS(message([&] { h.manager.watch("a", b); }), "\"a\" already watched");
  CHECK_THAT_HAS(message([&] { h.manager.watch("", b); }), "empty pool name");
  h.manager.add_rule(sv::worker_gave_up_rule());
  CHECK_THAT_HAS(message([&] { h.manager.add_rule(sv::worker_gave_up_rule()); }),
                 "rule name \"worker_gave_up\" already added");
  CHECK_THAT_HAS(message([&] { h.manager.add_rule(nullptr); }), "null");
  CHECK_THAT_HAS(message([&] { h.manager.add_sink(sv::callback_sink({})); }),
                 "sink name \"callback\" already added");

  sv::ExecSinkOptions exec;
  CHECK_THAT_HAS(message([&] { sv::validate(exec); }), "ExecSinkOptions.spec.argv");
  exec.spec.argv = {"/bin/true"};
  exec.timeout = 0s;
  CHECK_THAT_HAS(message([&] { sv::validate(exec); }), "ExecSinkOptions.timeout");
}

TEST_CASE("alerts: the JSON and the log line", "[unit][alerts]") {
  sv::Alert a;
  a.rule = "restart_storm";
  a.pool = "my \"api\"";
  a.severity = sv::AlertSeverity::critical;
  a.summary = "line1\nline2\ttab \\ back";
  a.detail = "ctl\x01 bad\xff utf8 \xc3\xa9";
  a.suppressed = 3;
  a.occurrences = 4;
  a.sequence = 7;
  a.first_wall = sv::WallTime(std::chrono::milliseconds(1796663467123));
  a.last_wall = a.first_wall + 2500ms;
  a.first_at = sv::TimePoint(10s);
  a.last_at = a.first_at + 2500ms;
  CHECK(sv::to_json(a) ==
        "{\"schema_version\":1,\"sequence\":7,\"state\":\"firing\",\"rule\":\"restart_storm\","
        "\"pool\":\"my \\\"api\\\"\",\"severity\":\"critical\","
        "\"summary\":\"line1\\nline2\\ttab \\\\ back\","
        "\"detail\":\"ctl\\u0001 bad\xef\xbf\xbd utf8 \xc3\xa9\",\"worker\":null,"
        "\"suppressed\":3,\"occurrences\":4,\"first_at\":\"2026-12-07T17:11:07.123Z\","
        "\"last_at\":\"2026-12-07T17:11:09.623Z\",\"duration_seconds\":2.500}");
  a.worker = 2;
  a.state = sv::AlertState::resolved;
  CHECK(sv::to_json(a).find("\"worker\":2,") != std::string::npos);
  CHECK(sv::to_json(a).find("\"state\":\"resolved\"") != std::string::npos);
  a.pool = "api";
  a.summary = "5 restarts within 60s";
  a.detail.clear();
  CHECK(sv::to_log_line(a) ==
        "alert resolved rule=restart_storm pool=api severity=critical suppressed=3 "
        "occurrences=4 worker=2 seq=7 summary=\"5 restarts within 60s\"");
  std::vector<std::string> lines;
  auto sink = sv::log_sink([&](std::string_view l) { lines.emplace_back(l); });
  sink->deliver(a);
  CHECK(lines == std::vector<std::string>{sv::to_log_line(a)});
  CHECK(sv::to_string(sv::AlertSeverity::warning) == "warning");
}

TEST_CASE(
    "alerts: a failing sink is counted, the others still get the notice, and a full queue "
    "drops the oldest",
    "[unit][alerts]") {
  sv::testing::FakeWorld world;
  auto o = Harness::options(0s);
  o.queue_capacity = 2;
  sv::AlertManager manager(world.clock(), o);
  manager.add_rule(sv::limit_violation_rule());
  manager.add_sink(
      sv::callback_sink([](const sv::Alert&) { throw std::runtime_error("down"); }, "broken"));
  std::vector<std::uint64_t> seen;
  manager.add_sink(sv::callback_sink([&](const sv::Alert& a) { seen.push_back(a.sequence); }));
  for (std::size_t i = 0; i < 3; ++i) manager.observe("p", limit_hit(i));
  CHECK(manager.stats().queued == 2);
  CHECK(manager.flush(1s));
  CHECK(seen == std::vector<std::uint64_t>{2, 3});
  const auto s = manager.stats();
  CHECK(s.dropped == 1);
  REQUIRE(s.sinks.size() == 2);
  CHECK(s.sinks[0].name == "broken");
  CHECK(s.sinks[0].failed == 2);
  CHECK(s.sinks[0].dropped == 1);
  CHECK(s.sinks[0].last_error == "down");
  CHECK(s.sinks[1].delivered == 2);
  CHECK(s.sinks[1].dropped == 1);
}

TEST_CASE("alerts: a rule of your own, and one that throws", "[unit][alerts]") {
  struct SpawnCounter final : sv::AlertRule {
    [[nodiscard]] std::string name() const override { return "spawns"; }
    [[nodiscard]] sv::AlertSeverity severity() const noexcept override {
      return sv::AlertSeverity::info;
    }
    void on_event(const sv::PoolEvent& e, sv::AlertContext& ctx) override {
      if (std::holds_alternative<sv::WorkerSpawned>(e.data)) ctx.fire({"spawned", {}, {}, {}});
      if (std::holds_alternative<sv::WorkerExited>(e.data)) throw std::runtime_error("boom");
    }
  };
  sv::testing::FakeWorld world;
  auto o = Harness::options(1h);
  std::vector<std::string> errors;
  o.error_handler = [&](std::exception_ptr, std::string_view where) { errors.emplace_back(where); };
  sv::AlertManager manager(world.clock(), o);
  manager.add_rule(std::make_shared<SpawnCounter>());
  sv::Pool pool(world, endless(2));
  manager.watch("p", pool);
  pool.start();
  crash(world, pool, 0);
  CHECK(manager.stats().notices == 1);
  CHECK(manager.stats().suppressed == 2);
  CHECK(manager.stats().rule_errors == 1);
  CHECK(errors == std::vector<std::string>{"alert rule spawns"});
  CHECK(pool.snapshot().strategy_errors == 0);  // the pool saw nothing of it
}

TEST_CASE("alerts: the delivery thread delivers off the pool's loop, and flush waits for it",
          "[unit][alerts]") {
  sv::testing::FakeWorld world;
  sv::AlertManagerOptions o;
  o.evaluate_period = 0s;
  sv::AlertManager manager(world.clock(), o);
  manager.add_rule(sv::worker_gave_up_rule());
  std::mutex mu;
  std::vector<sv::Alert> got;
  std::vector<std::thread::id> threads;
  manager.add_sink(sv::callback_sink([&](const sv::Alert& a) {
    const std::lock_guard lock(mu);
    got.push_back(a);
    threads.push_back(std::this_thread::get_id());
  }));
  auto po = sv::testing::fake_pool(1);
  sv::StandardRestartOptions r;
  r.mode = sv::RestartMode::never;
  po.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  sv::Pool pool(world, po);
  manager.watch("p", pool);
  pool.start();
  world.kill(pid(pool, 0));
  world.run_pending();
  REQUIRE(manager.flush(60s));
  pool.revive(0);
  world.run_pending();
  REQUIRE(manager.flush(60s));
  const std::lock_guard lock(mu);
  REQUIRE(got.size() == 2);
  CHECK(got[0].state == sv::AlertState::firing);
  CHECK(got[1].state == sv::AlertState::resolved);
  CHECK(threads[0] != std::this_thread::get_id());
  CHECK(manager.stats().queued == 0);
}

TEST_CASE(
    "alerts: a rule's own throttle wins over the manager's, and the log sink writes to a FILE",
    "[unit][alerts]") {
  sv::testing::FakeWorld world;
  Harness h(world, 1h);
  sv::LimitViolationOptions o;
  o.throttle = 10s;
  h.manager.add_rule(sv::limit_violation_rule(o));
  const auto path = std::filesystem::temp_directory_path() /
                    ("supervisor-alerts-log-" + std::to_string(std::random_device{}()) + ".txt");
  std::FILE* file = std::fopen(path.string().c_str(), "w+");
  REQUIRE(file != nullptr);
  h.manager.add_sink(sv::log_sink(file));
  h.manager.observe("p", limit_hit(0));
  world.advance(5s);
  h.manager.observe("p", limit_hit(1));  // within 10 s: counted
  world.advance(5s);
  h.manager.observe("p", limit_hit(2));  // 10 s after the first notice: a new one
  auto got = h.take();
  REQUIRE(got.size() == 2);
  CHECK(got[1].suppressed == 1);
  CHECK(got[1].occurrences == 3);
  std::rewind(file);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), file));
  std::fclose(file);
  std::filesystem::remove(path);
  CHECK(text == sv::to_log_line(got[0]) + "\n" + sv::to_log_line(got[1]) + "\n");
  CHECK(text.find("alert firing rule=limit_violation pool=p severity=warning suppressed=1 "
                  "occurrences=3 worker=2 seq=2 summary=\"limit memory_max hit (1 time)\" "
                  "detail=\"1 process OOM-killed at memory_max 67108864 bytes\"\n") !=
        std::string::npos);
}
