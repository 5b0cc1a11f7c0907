// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Usage sampling (PoolOptions::usage_sample_period) on a FakeWorld: the figures a test sets
// appear in snapshots one period later, never before; a restarted worker starts afresh; the
// pool's CPU total never decreases; off by default; the timer ends at stop().
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <string>
#include <system_error>

#include "catch_compat.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t k_mib = 1024 * 1024;

sv::PoolOptions options(std::size_t size, sv::Duration period) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = size;
  o.usage_sample_period = period;
  return o;
}

double seconds(sv::Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TEST_CASE("usage: off by default, nothing sampled and nothing in the snapshot or metrics",
          "[unit][pool][usage]") {
  CHECK(sv::PoolOptions{}.usage_sample_period == sv::Duration::zero());
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2, sv::Duration::zero()));
  pool.start();
  for (int pid : world.live_pids()) world.set_usage(pid, 64 * k_mib, 3.0);
  world.advance(1h);
  const sv::PoolSnapshot s = pool.snapshot();
  CHECK_FALSE(s.usage.has_value());
  for (const auto& w : s.workers) CHECK_FALSE(w.usage.has_value());
  const std::string text = sv::to_prometheus(s, "p");
  CHECK(text.find("supervisor_pool_resident_memory_bytes") == std::string::npos);
  CHECK(text.find("supervisor_pool_cpu_seconds_total") == std::string::npos);
  pool.stop();
}

TEST_CASE("usage: the figures appear one period later, and cpu use is measured between samples",
          "[unit][pool][usage]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2, 1s));
  pool.start();
  const auto pids = world.live_pids();
  REQUIRE(pids.size() == 2);
  world.set_usage(pids[0], 64 * k_mib, 0.5);
  world.set_usage(pids[1], 16 * k_mib, 0.0);
  // Not before a period has passed.
  world.advance(999ms);
  {
    const sv::PoolSnapshot s = pool.snapshot();
    for (const auto& w : s.workers) CHECK_FALSE(w.usage.has_value());
    REQUIRE(s.usage.has_value());  // sampling is on: the totals exist, still empty
    CHECK(s.usage->memory_bytes == 0);
    CHECK(s.usage->workers == 0);
  }
  world.advance(1ms);
  const sv::TimePoint first = world.clock().now();
  {
    const sv::PoolSnapshot s = pool.snapshot();
    REQUIRE(s.workers[0].usage.has_value());
    const sv::WorkerUsage& u = *s.workers[0].usage;
    CHECK(u.memory_bytes == 64 * k_mib);
    CHECK(u.memory_scope == sv::UsageScope::tree);
    CHECK(u.cpu_scope == sv::UsageScope::tree);
    CHECK(seconds(u.cpu_time) == Approx(0.5));
    CHECK_FALSE(u.cpu_cores.has_value());  // the incarnation's first sample: no period yet
    CHECK(u.sampled_at == first);
    REQUIRE(s.usage.has_value());
    CHECK(s.usage->memory_bytes == 80 * k_mib);
    CHECK(s.usage->workers == 2);
    CHECK(seconds(s.usage->cpu_time) == Approx(0.5));
  }
  // Worker 0 busy on 1.5 cores over the next second, worker 1 idle.
  world.set_usage(pids[0], 70 * k_mib, 2.0);
  world.advance(500ms);
  CHECK(pool.snapshot().workers[0].usage->sampled_at == first);  // between samples: the last one
  world.advance(500ms);
  const sv::PoolSnapshot s = pool.snapshot();
  REQUIRE(s.workers[0].usage.has_value());
  REQUIRE(s.workers[0].usage->cpu_cores.has_value());
  CHECK(*s.workers[0].usage->cpu_cores == Approx(1.5));
  CHECK(s.workers[0].usage->memory_bytes == 70 * k_mib);
  CHECK(s.workers[0].usage->sampled_at == first + 1s);
  REQUIRE(s.workers[1].usage->cpu_cores.has_value());
  CHECK(*s.workers[1].usage->cpu_cores == Approx(0.0));
  CHECK(s.usage->memory_bytes == 86 * k_mib);
  CHECK(seconds(s.usage->cpu_time) == Approx(2.0));
  const std::string text = sv::to_prometheus(s, "p");
  INFO(text);
  CHECK(text.find("# TYPE supervisor_pool_resident_memory_bytes gauge\n"
                  "supervisor_pool_resident_memory_bytes{pool=\"p\"} " +
                  std::to_string(86 * k_mib) + "\n") != std::string::npos);
  CHECK(text.find("# TYPE supervisor_pool_cpu_seconds_total counter\n"
                  "supervisor_pool_cpu_seconds_total{pool=\"p\"} 2\n") != std::string::npos);
  pool.stop();
}

TEST_CASE("usage: a restarted worker starts afresh, and the pool's cpu total keeps its past",
          "[unit][pool][usage]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1, 1s));
  pool.start();
  const int first = world.live_pids().at(0);
  world.set_usage(first, 100 * k_mib, 4.0);
  world.advance(1s);
  REQUIRE(pool.snapshot().workers[0].usage.has_value());
  CHECK(seconds(pool.snapshot().usage->cpu_time) == Approx(4.0));
  // Its CPU after the last sample is not seen: the exit's rusage (zero in the fake) is less.
  world.set_usage(first, 100 * k_mib, 5.0);
  world.kill(first);
  world.run_pending();
  {
    const sv::PoolSnapshot s = pool.snapshot();
    CHECK_FALSE(s.workers[0].usage.has_value());  // its process ended
    CHECK(s.usage->memory_bytes == 0);
    CHECK(s.usage->workers == 0);
    CHECK(seconds(s.usage->cpu_time) == Approx(4.0));  // kept
  }
  world.advance(200ms);  // the policy's first backoff is 100 ms
  REQUIRE(world.live_pids().size() == 1);
  const int second = world.live_pids().at(0);
  REQUIRE(second != first);
  CHECK_FALSE(pool.snapshot().workers[0].usage.has_value());  // not sampled yet
  world.set_usage(second, 10 * k_mib, 0.25);
  world.advance(1s);
  const sv::PoolSnapshot s = pool.snapshot();
  REQUIRE(s.workers[0].usage.has_value());
  const sv::WorkerUsage& u = *s.workers[0].usage;
  CHECK(s.workers[0].incarnation == 2);
  CHECK(u.memory_bytes == 10 * k_mib);
  CHECK(seconds(u.cpu_time) == Approx(0.25));  // this incarnation's own
  CHECK_FALSE(u.cpu_cores.has_value());        // its first sample: not measured off the old one
  CHECK(seconds(s.usage->cpu_time) == Approx(4.25));
  CHECK(s.usage->memory_bytes == 10 * k_mib);
  pool.stop();
  // Stopped: the ended incarnation's figure stays in the total.
  CHECK(seconds(pool.snapshot().usage->cpu_time) == Approx(4.25));
}

TEST_CASE("usage: an incarnation's end counts its main process's own cpu when that is more",
          "[unit][pool][usage]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1, 1s));
  pool.start();
  const int pid = world.live_pids().at(0);
  world.set_usage(pid, k_mib, 1.0);
  world.advance(1s);
  sv::ExitStatus st;
  st.reason = sv::ExitReason::exit_code;
  st.exit_code = 3;
  st.usage.user_cpu = 2s;
  st.usage.system_cpu = 500ms;
  world.exit(pid, st);
  world.run_pending();
  CHECK(seconds(pool.snapshot().usage->cpu_time) == Approx(2.5));
  pool.stop();
}

TEST_CASE("usage: the timer stops at stop(), and no sample is taken after", "[unit][pool][usage]") {
  sv::testing::FakeWorld world;
  auto o = options(1, 1s);
  o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 5s, true}};
  sv::Pool pool(world, o);
  pool.start();
  const int pid = world.live_pids().at(0);
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);
  world.set_usage(pid, k_mib, 1.0);
  world.advance(1s);
  const sv::TimePoint last = pool.snapshot().workers[0].usage->sampled_at;
  // The stop begins; the worker ignores SIGTERM and lives on for its plan's 5 s.
  bool stopped = false;
  pool.stop_async([&] { stopped = true; });
  world.run_pending();
  world.set_usage(pid, 2 * k_mib, 2.0);
  world.advance(3s);
  {
    const sv::PoolSnapshot s = pool.snapshot();
    REQUIRE(s.workers[0].state == sv::WorkerState::stopping);
    REQUIRE(s.workers[0].usage.has_value());
    CHECK(s.workers[0].usage->sampled_at == last);  // no sample since the stop began
    CHECK(s.workers[0].usage->memory_bytes == k_mib);
  }
  world.advance(10s);
  CHECK(stopped);
  CHECK(world.live_pids().empty());
  const sv::PoolSnapshot s = pool.snapshot();
  CHECK_FALSE(s.workers[0].usage.has_value());  // retired: no process, no sample
  CHECK(s.usage->workers == 0);
  CHECK(seconds(s.usage->cpu_time) == Approx(1.0));  // its last sample, kept
}

TEST_CASE("usage: a worker still stopping under a slow StopPlan is sampled until it ends",
          "[unit][pool][usage]") {
  sv::testing::FakeWorld world;
  auto o = options(1, 1s);
  o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 5s, true}};
  sv::Pool pool(world, o);
  pool.start();
  const int pid = world.live_pids().at(0);
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);
  world.set_usage(pid, k_mib, 1.0);
  pool.restart_worker(0);  // stops it through its plan: 5 s before the kill
  world.run_pending();
  REQUIRE(pool.snapshot().workers[0].state == sv::WorkerState::stopping);
  world.advance(1s);
  const auto w = pool.snapshot().workers[0];
  REQUIRE(w.state == sv::WorkerState::stopping);
  REQUIRE(w.usage.has_value());
  CHECK(w.usage->memory_bytes == k_mib);
  world.advance(10s);
  pool.stop();
}

TEST_CASE("usage: the sampling period is validated, naming the field", "[unit][pool][usage]") {
  for (sv::Duration bad : {sv::Duration(-1), sv::Duration(1), sv::Duration(9ms)}) {
    auto o = options(1, bad);
    std::error_code ec;
    sv::validate(o, ec);
    CHECK(ec == sv::errc::invalid_argument);
    try {
      sv::validate(o);
      FAIL("validate accepted usage_sample_period " << bad.count() << "ns");
    } catch (const std::system_error& e) {
      CHECK(std::string(e.what()).find("PoolOptions.usage_sample_period") != std::string::npos);
    }
    sv::testing::FakeWorld world;
    CHECK_THROWS_AS(sv::Pool(world, o), std::system_error);
  }
  for (sv::Duration good : {sv::Duration::zero(), sv::Duration(10ms), sv::Duration(1h)}) {
    std::error_code ec;
    sv::validate(options(1, good), ec);
    CHECK_FALSE(ec);
  }
}
