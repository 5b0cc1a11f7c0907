// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// ResourceLimiter and the built-in SamplingLimiter, on the fake world: soft limits over a window
// replace a worker gracefully, and never in the middle of a lease.
#include <supervisor/limits.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "catch_compat.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::testing::events_of;

namespace {

constexpr std::uint64_t k_mib = 1024 * 1024;

sv::PoolOptions with_limiter(sv::SamplingLimiterOptions lo) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = 1;
  o.limiters = {std::make_shared<sv::SamplingLimiter>(lo)};
  return o;
}

sv::SamplingLimiterOptions memory_soft_limit() {
  sv::SamplingLimiterOptions lo;
  lo.memory_bytes = 100 * k_mib;
  lo.window = 10s;
  lo.period = 1s;
  return lo;
}

sv::LimitSample sample_at(sv::TimePoint at, std::uint64_t memory, double cpu) {
  sv::LimitSample s;
  s.incarnation = 1;
  s.at = at;
  s.memory_bytes = memory;
  s.cpu_seconds = cpu;
  return s;
}

}  // namespace

TEST_CASE("SamplingLimiter: over the memory limit for the whole window, and only then",
          "[unit][limits]") {
  sv::SamplingLimiter limiter(memory_soft_limit());
  const sv::TimePoint t0{};
  CHECK(limiter.on_sample(sample_at(t0, 200 * k_mib, 0)).action == sv::LimitAction::none);
  CHECK(limiter.on_sample(sample_at(t0 + 9s, 200 * k_mib, 0)).action == sv::LimitAction::none);
  // One sample below resets the window.
  CHECK(limiter.on_sample(sample_at(t0 + 10s, 50 * k_mib, 0)).action == sv::LimitAction::none);
  CHECK(limiter.on_sample(sample_at(t0 + 11s, 200 * k_mib, 0)).action == sv::LimitAction::none);
  CHECK(limiter.on_sample(sample_at(t0 + 20s, 200 * k_mib, 0)).action == sv::LimitAction::none);
  const auto d = limiter.on_sample(sample_at(t0 + 21s, 200 * k_mib, 0));
  CHECK(d.action == sv::LimitAction::recycle);
  CHECK(d.why.find("above the soft limit 104857600") != std::string::npos);
  // A new incarnation starts from nothing.
  auto fresh = sample_at(t0 + 22s, 200 * k_mib, 0);
  fresh.incarnation = 2;
  CHECK(limiter.on_sample(fresh).action == sv::LimitAction::none);
}

TEST_CASE("SamplingLimiter: CPU cores are measured between samples", "[unit][limits]") {
  sv::SamplingLimiterOptions lo;
  lo.cpu_cores = 1.5;
  lo.window = 4s;
  lo.period = 1s;
  sv::SamplingLimiter limiter(lo);
  const sv::TimePoint t0{};
  double cpu = 0;
  sv::LimitDecision d;
  int samples = 0;
  for (; samples < 20 && d.action == sv::LimitAction::none; ++samples) {
    d = limiter.on_sample(sample_at(t0 + samples * 1s, 0, cpu));
    cpu += 2.0;  // two cores busy
  }
  CHECK(d.action == sv::LimitAction::recycle);
  CHECK(samples == 6);  // the first sample has nothing to compare; then over from 1 s to 5 s
  CHECK(d.why.find("2.00 cores above the soft limit 1.50") != std::string::npos);
}

TEST_CASE("SamplingLimiter: options are validated", "[unit][limits]") {
  sv::SamplingLimiterOptions none;
  CHECK_THROWS_AS(sv::SamplingLimiter(none), sv::Error);
  auto zero_window = memory_soft_limit();
  zero_window.window = 0s;
  CHECK_THROWS_AS(sv::SamplingLimiter(zero_window), sv::Error);
  auto bad_cpu = memory_soft_limit();
  bad_cpu.cpu_cores = 0.0;
  CHECK_THROWS_AS(sv::SamplingLimiter(bad_cpu), sv::Error);
}

TEST_CASE("pool: a worker above its soft memory limit is replaced, its lease untouched",
          "[unit][limits][pool]") {
  sv::testing::FakeWorld world;
  auto o = with_limiter(memory_soft_limit());
  o.lease_fast_path = false;
  sv::Pool pool(world, o);
  pool.start();
  const int old_pid = pool.snapshot().workers[0].pid;
  sv::Lease lease = pool.acquire(0s);
  world.set_usage(old_pid, 300 * k_mib, 1.0);
  world.advance(10s);
  CHECK(events_of<sv::WorkerRecycled>(pool).empty());  // 9 s over so far: not yet
  world.advance(1s);
  const auto recycled = events_of<sv::WorkerRecycled>(pool);
  REQUIRE(recycled.size() == 1);
  CHECK(recycled[0].why.find("soft limit: memory") != std::string::npos);
  CHECK(events_of<sv::ReplacementStarted>(pool).size() == 1);
  CHECK(world.spawn_count() == 2);  // the replacement first
  // The old worker finishes its lease before it is stopped.
  world.advance(30s);
  CHECK_FALSE(world.stop_requested(old_pid));
  CHECK(lease.pid() == old_pid);
  lease.release(sv::LeaseOutcome::success);
  world.run_pending();
  CHECK(world.stop_requested(old_pid));
  world.advance(1s);
  CHECK(world.live_pids().size() == 1);
  CHECK(world.live_pids().front() != old_pid);
  CHECK(pool.snapshot().soft_recycles == 1);
  CHECK(pool.snapshot().ready == 1);
  pool.stop();
}

TEST_CASE("pool: a limiter that throws is counted, and the worker left alone",
          "[unit][limits][pool]") {
  struct Throwing final : sv::ResourceLimiter {
    [[nodiscard]] sv::Duration period() const override { return 1s; }
    sv::LimitDecision on_sample(const sv::LimitSample&) override { throw std::runtime_error("x"); }
  };
  sv::testing::FakeWorld world;
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  o.limiters = {std::make_shared<Throwing>()};
  sv::Pool pool(world, o);
  pool.start();
  world.advance(3s);
  CHECK(pool.snapshot().strategy_errors >= 3);
  CHECK(events_of<sv::WorkerRecycled>(pool).empty());
  CHECK(world.spawn_count() == 1);
  pool.stop();
}

TEST_CASE("group_resources: validated, reported when not enforced, changed only when set",
          "[unit][limits]") {
  sv::testing::FakeWorld world;
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  o.size = 2;

  SECTION("a per-process limit is refused, naming the field") {
    o.group_resources.cpu_time = 10s;
    try {
      sv::Pool pool(world, o);
      FAIL("accepted");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      CHECK(std::string(e.what()).find("PoolOptions.group_resources.cpu_time") !=
            std::string::npos);
    }
  }
  SECTION("best effort: one LimitsNotEnforced for the group, and a snapshot of each limit") {
    o.group_resources.memory_max = 512 * k_mib;
    o.group_resources.cpu_cores = 1.5;
    sv::Pool pool(world, o);
    pool.start();
    const auto said = events_of<sv::LimitsNotEnforced>(pool);
    REQUIRE(said.size() == 1);
    CHECK(said.front().group);
    CHECK(said.front().limits.size() == 2);
    CHECK(pool.snapshot().group_limits.size() == 2);
    sv::ResourceLimits less;
    less.memory_max = 256 * k_mib;
    pool.set_group_resources(less);
    CHECK(pool.snapshot().group_limits.size() == 1);
    less.max_open_files = 10;
    std::error_code ec;
    pool.set_group_resources(less, ec);
    CHECK(ec == sv::errc::invalid_argument);
    pool.stop();
  }
  SECTION("required: start fails and nothing runs") {
    o.group_resources.memory_max = 512 * k_mib;
    o.group_resources.enforcement = sv::LimitEnforcement::required;
    sv::Pool pool(world, o);
    std::error_code ec;
    pool.start(ec);
    CHECK(ec == sv::errc::controller_unavailable);
    CHECK(world.spawn_count() == 0);
  }
  SECTION("a negative limit_watch_period is refused, naming the field") {
    o.limit_watch_period = -1s;
    try {
      sv::Pool pool(world, o);
      FAIL("accepted");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      CHECK(std::string(e.what()).find("PoolOptions.limit_watch_period") != std::string::npos);
    }
  }
  SECTION("without group_resources there is no group to change") {
    sv::Pool pool(world, o);
    std::error_code ec;
    pool.set_group_resources(sv::ResourceLimits{}, ec);
    CHECK(ec == sv::errc::not_running);
    pool.start();
    pool.set_group_resources(sv::ResourceLimits{}, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK(pool.group_sample().memory_bytes == std::nullopt);
    pool.stop();
  }
}

TEST_CASE("wall_time on the fake world: the worker is stopped on time and restarted by policy",
          "[unit][limits]") {
  sv::testing::FakeWorld world;
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  o.spec.resources.wall_time = 10s;
  sv::Pool pool(world, o);
  pool.start();
  world.advance(9s);
  CHECK(events_of<sv::LimitViolation>(pool).empty());
  world.advance(1s);
  const auto v = events_of<sv::LimitViolation>(pool);
  REQUIRE(v.size() == 1);
  CHECK(v.front().kind == sv::LimitKind::wall_time);
  const auto exited = events_of<sv::WorkerExited>(pool);
  REQUIRE(exited.size() == 1);
  CHECK(exited.front().status.reason == sv::ExitReason::resource_limit);
  CHECK(exited.front().status.wall_time_exceeded);
  CHECK(exited.front().status.uptime == 10s);
  world.advance(1s);  // the default policy restarts after its first delay
  CHECK(world.spawn_count() == 2);
  pool.stop();
}
