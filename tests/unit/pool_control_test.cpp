// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Lease control, revival, pool health and recycling's spread on a FakeWorld: every timing below
// is exact.
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::WorkerState;
using sv::testing::events_of;

namespace {

sv::PoolOptions options(std::size_t size) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = size;
  return o;
}

WorkerState state(const sv::Pool& pool, std::size_t i) { return pool.snapshot().workers[i].state; }
int pid(const sv::Pool& pool, std::size_t i) { return pool.snapshot().workers[i].pid; }
std::uint64_t incarnation(const sv::Pool& pool, std::size_t i) {
  return pool.snapshot().workers[i].incarnation;
}

// A lease taken through acquire_async (the fake world's loop is the test's thread).
sv::Lease take(sv::testing::FakeWorld& world, sv::Pool& pool, sv::AcquireOptions o) {
  sv::Lease out;
  std::error_code got;
  pool.acquire_async(o, [&](sv::Lease l, std::error_code ec) {
    out = std::move(l);
    got = ec;
  });
  world.run_pending();
  CHECK(!got);
  return out;
}

// Gives up on worker `i`: the default policy's budget allows 5 quick restarts.
void crash_until_failed(sv::testing::FakeWorld& world, sv::Pool& pool, std::size_t i) {
  for (int death = 0; death < 10 && state(pool, i) != WorkerState::failed; ++death) {
    world.exit_code(pid(pool, i), 1);
    if (state(pool, i) == WorkerState::backoff)
      world.advance(events_of<sv::RestartScheduled>(pool).back().delay);
  }
  REQUIRE(state(pool, i) == WorkerState::failed);
}

std::vector<sv::PoolHealth> health_path(const sv::Pool& pool) {
  std::vector<sv::PoolHealth> out;
  for (const auto& e : events_of<sv::PoolHealthChanged>(pool)) out.push_back(e.to);
  return out;
}

// A lease breaker that never trips here (10 calls before it judges): it counts.
std::shared_ptr<sv::SlidingWindowBreaker> counting_breaker() {
  sv::BreakerOptions b;
  b.window_size = 10;
  b.minimum_calls = 10;
  return std::shared_ptr<sv::SlidingWindowBreaker>(sv::SlidingWindowBreaker::create(b));
}

std::error_code code_of(const std::function<void(std::error_code&)>& call) {
  std::error_code ec;
  call(ec);
  return ec;
}

}  // namespace

TEST_CASE("fake world: a lease held past its deadline expires, its worker is restarted",
          "[unit][pool][lease][control]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  auto breaker = counting_breaker();
  o.lease_breaker = breaker;
  sv::Pool pool(world, o);
  pool.start();
  const int first = pid(pool, 0);
  // The fast path is on, but a lease with a deadline goes through the loop: a transition.
  sv::Lease lease = take(world, pool, {0s, 5s});
  REQUIRE(lease.valid());
  CHECK_FALSE(lease.expired());
  CHECK(events_of<sv::WorkerTransition>(pool).back().to == WorkerState::leased);
  world.advance(4999ms);
  CHECK(state(pool, 0) == WorkerState::leased);
  CHECK(events_of<sv::LeaseExpired>(pool).empty());
  world.advance(1ms);
  // Stopped with its StopPlan, and started again at once (no restart policy delay).
  const auto expired = events_of<sv::LeaseExpired>(pool);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].worker == 0);
  CHECK(expired[0].incarnation == 1);
  CHECK(expired[0].held == 5s);
  CHECK(world.stop_requested(first));
  CHECK(lease.expired());
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(incarnation(pool, 0) == 2);
  CHECK(pid(pool, 0) != first);
  CHECK(events_of<sv::RestartScheduled>(pool).empty());
  auto snap = pool.snapshot();
  CHECK(snap.lease_expirations == 1);
  CHECK(sv::to_prometheus(snap, "p").find(
            "supervisor_pool_lease_expirations_total{pool=\"p\"} 1\n") != std::string::npos);
  // One failed call for the breaker, at the expiry; the late release adds nothing.
  CHECK(breaker->metrics(world.clock().now()).failed_calls == 1);
  lease.release(sv::LeaseOutcome::success);
  world.run_pending();
  const auto m = breaker->metrics(world.clock().now());
  CHECK(m.failed_calls == 1);
  CHECK(m.buffered_calls == 1);
  CHECK(lease.expired());  // still says so after the release
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(incarnation(pool, 0) == 2);
}

TEST_CASE("fake world: a lease released before its deadline does not expire",
          "[unit][pool][lease][control]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  sv::Lease lease = take(world, pool, {0s, 5s});
  REQUIRE(lease.valid());
  world.advance(4s);
  lease.release();
  world.run_pending();
  world.advance(10s);
  CHECK(events_of<sv::LeaseExpired>(pool).empty());
  CHECK_FALSE(lease.expired());
  CHECK(pool.snapshot().lease_expirations == 0);
  CHECK(incarnation(pool, 0) == 1);
  CHECK(incarnation(pool, 1) == 1);
  // A waiting acquire's deadline counts from the hand-out, not from the call.
  sv::Lease a = take(world, pool, {0s, 0s});
  sv::Lease b = take(world, pool, {0s, 0s});
  sv::Lease waited;
  pool.acquire_async({10s, 3s}, [&](sv::Lease l, std::error_code ec) {
    CHECK(!ec);
    waited = std::move(l);
  });
  world.advance(2s);
  a.release();
  world.run_pending();
  REQUIRE(waited.valid());
  world.advance(2999ms);
  CHECK_FALSE(waited.expired());
  world.advance(1ms);
  CHECK(waited.expired());
  // A negative deadline is refused, naming the field; by acquire_async too.
  std::error_code ec;
  (void)pool.acquire(sv::AcquireOptions{0s, -1s}, ec);
  CHECK(ec == sv::errc::invalid_argument);
  pool.acquire_async({0s, -1s}, [&](sv::Lease l, std::error_code e) {
    CHECK_FALSE(l.valid());
    ec = e;
  });
  ec.clear();
  world.run_pending();
  CHECK(ec == sv::errc::invalid_argument);
  // The blocking form, at once on the loop thread (zero timeout), with a deadline.
  waited.release();
  world.run_pending();
  sv::Lease direct = pool.acquire(sv::AcquireOptions{0s, 1s});
  REQUIRE(direct.valid());
  world.advance(1s);
  CHECK(direct.expired());
  try {
    (void)pool.acquire(sv::AcquireOptions{0s, -1s});
    FAIL("no throw");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("AcquireOptions.deadline") != std::string::npos);
  }
}

TEST_CASE(
    "fake world: a lease deadline on a worker draining for a recycle stops it at the deadline",
    "[unit][pool][lease][control]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.recycle.max_runtime = 2s;
  sv::Pool pool(world, o);
  pool.start();
  sv::Lease lease = take(world, pool, {0s, 5s});
  world.advance(2s);
  CHECK(state(pool, 0) == WorkerState::draining);
  world.advance(3s);
  CHECK(lease.expired());
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(incarnation(pool, 0) == 2);
}

TEST_CASE("fake world: a lease released `broken` replaces its worker, through the loop or the desk",
          "[unit][pool][lease][control]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  auto breaker = counting_breaker();
  o.lease_breaker = breaker;
  const bool fast = GENERATE(true, false);
  o.lease_fast_path = fast;
  sv::Pool pool(world, o);
  pool.start();
  const int first = pid(pool, 0);
  sv::Lease lease = pool.acquire(0s);
  REQUIRE(lease.valid());
  lease.release(sv::LeaseOutcome::broken);
  world.run_pending();
  CHECK(world.stop_requested(first));
  CHECK(incarnation(pool, 0) == 2);
  CHECK(pid(pool, 0) != first);
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(events_of<sv::RestartScheduled>(pool).empty());
  CHECK(pool.snapshot().broken_leases == 1);
  CHECK(breaker->metrics(world.clock().now()).failed_calls == 1);
  // The next lease gets the new process.
  sv::Lease next = pool.acquire(0s);
  REQUIRE(next.valid());
  CHECK(next.pid() == pid(pool, 0));
  CHECK(next.incarnation() == 2);
}

TEST_CASE("fake world: signal, kill and restart one worker, with typed errors",
          "[unit][pool][control]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3));
  // Not started yet.
  CHECK(code_of([&](auto& ec) { pool.kill_worker(0, ec); }) == sv::errc::not_running);
  pool.start();

  const int p0 = pid(pool, 0);
  pool.signal_worker(0, sv::Signal::user1);
  pool.signal_worker(0, sv::Signal::hangup);
  CHECK(world.signals(p0) == std::vector<sv::Signal>{sv::Signal::user1, sv::Signal::hangup});
  CHECK(pid(pool, 0) == p0);

  // kill: the tree at once, a new incarnation at once, no restart policy.
  const int p1 = pid(pool, 1);
  pool.kill_worker(1);
  world.run_pending();
  const auto live = world.live_pids();
  CHECK(std::find(live.begin(), live.end(), p1) == live.end());
  CHECK(incarnation(pool, 1) == 2);
  CHECK(state(pool, 1) == WorkerState::ready);
  const auto exits = events_of<sv::WorkerExited>(pool);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].status.signal == 9);

  // restart: its StopPlan, even under a lease (which ends; its release is harmless).
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);
  sv::Lease lease = take(world, pool, {0s, 0s});
  REQUIRE(lease.valid());
  const std::size_t held = lease.worker();
  const int ph = lease.pid();
  pool.restart_worker(held);
  CHECK(state(pool, held) == WorkerState::stopping);
  CHECK(world.stop_requested(ph));
  world.advance(2s);  // the default StopPlan: SIGTERM, 10 s, then the kill
  CHECK(state(pool, held) == WorkerState::stopping);
  world.advance(8s);
  CHECK(state(pool, held) == WorkerState::ready);
  CHECK(incarnation(pool, held) == 2);
  lease.release();
  world.run_pending();
  CHECK(state(pool, held) == WorkerState::ready);
  CHECK(events_of<sv::RestartScheduled>(pool).empty());

  // A worker in backoff: restart starts it now; signal and kill find no process.
  world.set_stop_behavior(sv::testing::StopBehavior::exit_on_term);
  world.exit_code(pid(pool, 2), 1);
  REQUIRE(state(pool, 2) == WorkerState::backoff);
  CHECK(code_of([&](auto& ec) { pool.signal_worker(2, sv::Signal::user1, ec); }) ==
        sv::errc::not_running);
  CHECK(code_of([&](auto& ec) { pool.kill_worker(2, ec); }) == sv::errc::not_running);
  try {
    pool.kill_worker(2);
    FAIL("no throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::not_running);
    CHECK(std::string(e.what()).find("worker 2 has no process now (state backoff)") !=
          std::string::npos);
  }
  pool.restart_worker(2);
  CHECK(state(pool, 2) == WorkerState::ready);

  // Unknown and retired workers.
  CHECK(code_of([&](auto& ec) { pool.signal_worker(3, sv::Signal::user1, ec); }) ==
        sv::errc::unknown_worker);
  CHECK(code_of([&](auto& ec) { pool.restart_worker(99, ec); }) == sv::errc::unknown_worker);
  pool.resize(2);
  world.run_pending();
  REQUIRE(state(pool, 2) == WorkerState::retired);
  for (const auto& call : std::vector<std::function<void(std::error_code&)>>{
           [&](auto& ec) { pool.signal_worker(2, sv::Signal::user1, ec); },
           [&](auto& ec) { pool.kill_worker(2, ec); },
           [&](auto& ec) { pool.restart_worker(2, ec); }, [&](auto& ec) { pool.revive(2, ec); }}) {
    CHECK(code_of(call) == sv::errc::unknown_worker);
  }
  try {
    pool.restart_worker(2);
    FAIL("no throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::unknown_worker);
    CHECK(std::string(e.what()).find("no worker 2 (it is retired)") != std::string::npos);
  }
  pool.stop();
  CHECK(code_of([&](auto& ec) { pool.restart_worker(0, ec); }) == sv::errc::stopped);
  CHECK(code_of([&](auto& ec) { (void)pool.revive(ec); }) == sv::errc::stopped);
}

TEST_CASE("fake world: revive brings failed workers back with a fresh budget",
          "[unit][pool][revive]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  // Not failed: refused, naming its state.
  CHECK(code_of([&](auto& ec) { pool.revive(0, ec); }) == sv::errc::invalid_argument);
  CHECK(pool.revive() == 0);
  crash_until_failed(world, pool, 0);
  const auto gave_up = events_of<sv::WorkerGaveUp>(pool).size();
  pool.revive(0);
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(events_of<sv::WorkerTransition>(pool).back().cause == "ready: started");
  // A fresh budget: five more quick deaths are restarted, the first after the first delay.
  world.exit_code(pid(pool, 0), 1);
  CHECK(events_of<sv::RestartScheduled>(pool).back().delay == 100ms);
  world.advance(100ms);
  crash_until_failed(world, pool, 0);
  CHECK(events_of<sv::WorkerGaveUp>(pool).size() == gave_up + 1);
  crash_until_failed(world, pool, 1);
  CHECK(pool.revive() == 2);
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(state(pool, 1) == WorkerState::ready);
  // restart_worker revives a failed worker too.
  crash_until_failed(world, pool, 1);
  pool.restart_worker(1);
  CHECK(state(pool, 1) == WorkerState::ready);
}

TEST_CASE("fake world: failed_retry_after revives a failed worker after the cool-down",
          "[unit][pool][revive]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.failed_retry_after = 10min;
  sv::Pool pool(world, o);
  pool.start();
  crash_until_failed(world, pool, 0);
  world.advance(10min - 1ms);
  CHECK(state(pool, 0) == WorkerState::failed);
  world.advance(1ms);
  CHECK(state(pool, 0) == WorkerState::ready);
  // Again and again: it never stays failed for good.
  crash_until_failed(world, pool, 0);
  world.advance(10min);
  CHECK(state(pool, 0) == WorkerState::ready);
}

TEST_CASE("fake world: resize counts failed workers as missing", "[unit][pool][revive]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3));
  pool.start();
  crash_until_failed(world, pool, 1);
  // The same size: the failed one is started again.
  pool.resize(3);
  CHECK(state(pool, 1) == WorkerState::ready);
  // Shrinking retires the failed one first, though it is not the highest-numbered.
  crash_until_failed(world, pool, 0);
  pool.resize(2);
  world.run_pending();
  CHECK(state(pool, 0) == WorkerState::retired);
  CHECK(state(pool, 1) == WorkerState::ready);
  CHECK(state(pool, 2) == WorkerState::ready);
  CHECK(pool.snapshot().size == 2);
}

TEST_CASE("fake world: the pool reports degraded, down and recovered", "[unit][pool][health]") {
  sv::testing::FakeWorld world;
  auto o = options(3);
  o.degraded_below = 3;
  sv::Pool pool(world, o);
  CHECK(pool.snapshot().health == sv::PoolHealth::starting);
  pool.start();
  CHECK(health_path(pool) == std::vector<sv::PoolHealth>{sv::PoolHealth::healthy});
  CHECK(pool.snapshot().health == sv::PoolHealth::healthy);
  world.kill(pid(pool, 0));
  CHECK(pool.snapshot().health == sv::PoolHealth::degraded);
  CHECK(sv::to_prometheus(pool.snapshot(), "p")
            .find("supervisor_pool_health{pool=\"p\",health=\"degraded\"} 1\n") !=
        std::string::npos);
  auto changes = events_of<sv::PoolHealthChanged>(pool);
  CHECK(changes.back().from == sv::PoolHealth::healthy);
  CHECK(changes.back().ready == 2);
  CHECK(changes.back().size == 3);
  world.kill(pid(pool, 1));
  world.kill(pid(pool, 2));
  CHECK(pool.snapshot().health == sv::PoolHealth::down);
  CHECK(events_of<sv::PoolHealthChanged>(pool).back().ready == 0);
  world.advance(100ms);  // all three restart
  CHECK(health_path(pool) ==
        std::vector<sv::PoolHealth>{sv::PoolHealth::healthy, sv::PoolHealth::degraded,
                                    sv::PoolHealth::down, sv::PoolHealth::degraded,
                                    sv::PoolHealth::healthy});
  // A smaller pool needs fewer: the threshold is at most the size.
  world.kill(pid(pool, 2));
  CHECK(pool.snapshot().health == sv::PoolHealth::degraded);
  pool.resize(2);
  world.run_pending();
  CHECK(pool.snapshot().health == sv::PoolHealth::healthy);
  // Stopping is no outage.
  const auto before = events_of<sv::PoolHealthChanged>(pool).size();
  pool.stop();
  CHECK(events_of<sv::PoolHealthChanged>(pool).size() == before);
}

TEST_CASE("fake world: with a threshold of 1, starting workers are no outage, a failed start is",
          "[unit][pool][health]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  o.readiness = sv::Readiness::after(1s);
  o.degraded_below = 1;  // down and recovered only
  sv::Pool pool(world, o);
  pool.start();
  world.advance(500ms);
  CHECK(pool.snapshot().health == sv::PoolHealth::starting);
  CHECK(events_of<sv::PoolHealthChanged>(pool).empty());
  // One start fails: the pool has no worker up, and says so.
  world.exit_code(pid(pool, 0), 1);
  CHECK(pool.snapshot().health == sv::PoolHealth::down);
  world.advance(1s);
  // One up is healthy with a threshold of 1.
  CHECK(pool.snapshot().health == sv::PoolHealth::healthy);
  CHECK(health_path(pool) ==
        std::vector<sv::PoolHealth>{sv::PoolHealth::down, sv::PoolHealth::healthy});
}

TEST_CASE("fake world: without a threshold, no health events, the snapshot still tells",
          "[unit][pool][health]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  CHECK(pool.snapshot().health == sv::PoolHealth::healthy);
  world.kill(pid(pool, 0));
  CHECK(pool.snapshot().health == sv::PoolHealth::down);
  world.advance(100ms);
  CHECK(pool.snapshot().health == sv::PoolHealth::healthy);
  CHECK(events_of<sv::PoolHealthChanged>(pool).empty());
}

namespace {

// When each WorkerRecycled happened, from the start of the world.
std::vector<sv::Duration> recycle_times(const sv::Pool& pool, sv::TimePoint start) {
  std::vector<sv::Duration> out;
  for (const auto& e : pool.history()) {
    if (std::holds_alternative<sv::WorkerRecycled>(e.data)) out.push_back(e.at - start);
  }
  return out;
}

}  // namespace

TEST_CASE("fake world: max_runtime with jitter recycles workers started together at spread times",
          "[unit][pool][recycle]") {
  auto run = [](std::uint64_t seed) {
    sv::testing::FakeWorld world;
    auto o = options(8);
    o.recycle.max_runtime = 60min;
    o.recycle.max_runtime_jitter = 30min;
    o.recycle.seed = seed;
    sv::Pool pool(world, o);
    const sv::TimePoint start = world.clock().now();
    pool.start();
    world.advance(60min);
    auto times = recycle_times(pool, start);
    CHECK(pool.snapshot().ready == 8);
    pool.stop();
    return times;
  };
  const auto times = run(1);
  REQUIRE(times.size() == 8);  // each once within max_runtime, none later than it
  for (const auto t : times) {
    CHECK(t >= 30min);
    CHECK(t <= 60min);
  }
  // Spread: no two at the same instant, and over more than half the jitter's span.
  CHECK(std::set<sv::Duration>(times.begin(), times.end()).size() == 8);
  CHECK(*std::max_element(times.begin(), times.end()) -
            *std::min_element(times.begin(), times.end()) >
        15min);
  // Deterministic: the same seed gives the same times, another seed others.
  CHECK(run(1) == times);
  CHECK(run(2) != times);
  // Without jitter, all at once.
  sv::testing::FakeWorld world;
  auto o = options(4);
  o.recycle.max_runtime = 60min;
  sv::Pool pool(world, o);
  const sv::TimePoint start = world.clock().now();
  pool.start();
  world.advance(60min);
  CHECK(recycle_times(pool, start) == std::vector<sv::Duration>(4, 60min));
}

TEST_CASE("fake world: graceful recycling starts the replacement first, never fewer ready",
          "[unit][pool][recycle]") {
  sv::testing::FakeWorld world;
  auto o = options(4);
  o.readiness = sv::Readiness::after(2s);  // replacements take a while: an overlap to see
  o.recycle.max_runtime = 10min;
  o.recycle.max_runtime_jitter = 5min;
  o.recycle.graceful = true;
  o.recycle.graceful_ready_timeout = 30s;
  sv::Pool pool(world, o);
  sv::testing::UpCounter up(pool);
  pool.start();
  world.advance(2s);
  REQUIRE(up.watch() == 4);
  world.advance(31min);  // at least three rounds each
  CHECK(up.fewest() >= 4);
  const auto finished = events_of<sv::ReplacementFinished>(pool);
  CHECK(finished.size() >= 12);
  CHECK(events_of<sv::ReplacementAborted>(pool).empty());
  auto snap = pool.snapshot();
  CHECK(snap.size == 4);
  CHECK(snap.ready == 4);
  // No worker was stopped before its replacement was ready: no exit but planned stops.
  for (const auto& e : events_of<sv::WorkerExited>(pool)) CHECK(e.status.stop_requested);
  CHECK(events_of<sv::RestartScheduled>(pool).empty());
}

TEST_CASE("fake world: a graceful recycle whose replacement never gets ready keeps the old one",
          "[unit][pool][recycle]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.readiness = sv::Readiness::after(1s);
  o.recycle.max_runtime = 10min;
  o.recycle.graceful = true;
  o.recycle.graceful_ready_timeout = 30s;
  sv::Pool pool(world, o);
  pool.start();
  world.advance(1s);
  const int old = pid(pool, 0);
  world.advance(10min - 1s);
  REQUIRE(events_of<sv::ReplacementStarted>(pool).size() == 1);
  const std::size_t fresh = events_of<sv::ReplacementStarted>(pool).back().replacement;
  world.exit_code(pid(pool, fresh), 1);  // dies before it is ready
  CHECK(events_of<sv::ReplacementAborted>(pool).size() == 1);
  CHECK(pid(pool, 0) == old);
  CHECK(state(pool, 0) == WorkerState::ready);
  // Tried again after the timeout, and this time it works.
  world.advance(30s);
  CHECK(events_of<sv::ReplacementStarted>(pool).size() == 2);
  world.advance(1s);
  CHECK(events_of<sv::ReplacementFinished>(pool).size() == 1);
  CHECK(state(pool, 0) == WorkerState::retired);
  CHECK(pool.snapshot().ready == 1);
}

TEST_CASE("PoolOptions: lease control, revival and recycling fields are validated by name",
          "[unit][pool][validate]") {
  auto bad = [](auto&& change) {
    auto o = options(1);
    change(o);
    std::error_code ec;
    sv::validate(o, ec);
    CHECK(ec == sv::errc::invalid_argument);
    try {
      sv::validate(o);
    } catch (const std::system_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(bad([](sv::PoolOptions& o) {
          o.recycle.max_runtime = 1min;
          o.recycle.max_runtime_jitter = 1min;
        }).find("PoolOptions.recycle.max_runtime_jitter") != std::string::npos);
  CHECK(bad([](sv::PoolOptions& o) {
          o.recycle.max_runtime_jitter = 1s;
        }).find("PoolOptions.recycle.max_runtime_jitter") != std::string::npos);
  CHECK(bad([](sv::PoolOptions& o) {
          o.recycle.graceful = true;
          o.recycle.graceful_ready_timeout = 0s;
        }).find("PoolOptions.recycle.graceful_ready_timeout") != std::string::npos);
  CHECK(bad([](sv::PoolOptions& o) {
          o.failed_retry_after = -1s;
        }).find("PoolOptions.failed_retry_after") != std::string::npos);
  CHECK(bad([](sv::PoolOptions& o) {
          o.max_size = 4;
          o.degraded_below = 5;
        }).find("PoolOptions.degraded_below") != std::string::npos);
  CHECK(sv::to_string(sv::PoolHealth::degraded) == "degraded");
}
