// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Pool on a FakeWorld: the same code as on a real Loop, with fake processes and a manual
// clock, so every timing below is exact. This is also how a user tests their own strategies.
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::WorkerState;

namespace {

sv::PoolOptions options(std::size_t size) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = size;
  return o;
}

using sv::testing::events_of;

WorkerState state(const sv::Pool& pool, std::size_t i) { return pool.snapshot().workers[i].state; }
int pid(const sv::Pool& pool, std::size_t i) { return pool.snapshot().workers[i].pid; }

std::uint64_t total_exits(const sv::PoolSnapshot& s) {
  std::uint64_t n = 0;
  for (const auto& [reason, count] : s.exits_by_reason) n += count;
  return n;
}

// The states a pool's breaker went through, from its events (each of which must name it).
std::vector<sv::BreakerState> breaker_path(const sv::Pool& pool, const std::string& breaker) {
  std::vector<sv::BreakerState> seen;
  for (const auto& e : events_of<sv::BreakerChanged>(pool)) {
    CHECK(e.breaker == breaker);
    seen.push_back(e.transition.to);
  }
  return seen;
}
const std::vector<sv::BreakerState> open_then_closed{
    sv::BreakerState::open, sv::BreakerState::half_open, sv::BreakerState::closed};

}  // namespace

TEST_CASE("fake world: start, ready at once, stop retires everything", "[unit][pool]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3));
  pool.start();
  CHECK(world.spawn_count() == 3);
  CHECK(world.live_pids().size() == 3);
  CHECK(pool.snapshot().ready == 3);
  pool.stop();
  CHECK(world.live_pids().empty());
  for (const auto& w : pool.snapshot().workers) CHECK(w.state == WorkerState::retired);
  for (const auto& e : events_of<sv::WorkerExited>(pool)) {
    CHECK(e.status.stop_requested);
    CHECK(e.status.reason == sv::ExitReason::success);
  }
}

TEST_CASE("fake world: a crash restarts after exactly the policy's delay", "[unit][pool]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));  // default policy: 100 ms, doubling; 5 quick deaths per 10 s
  pool.start();
  const int first = pid(pool, 0);
  world.kill(first);
  CHECK(state(pool, 0) == WorkerState::backoff);
  const auto r = events_of<sv::RestartScheduled>(pool);
  REQUIRE(r.size() == 1);
  CHECK(r[0].delay == 100ms);
  world.advance(99ms);
  CHECK(state(pool, 0) == WorkerState::backoff);
  world.advance(1ms);
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(pid(pool, 0) != first);
  CHECK(pool.snapshot().workers[0].incarnation == 2);
  // The second quick death waits twice as long.
  world.kill(pid(pool, 0));
  CHECK(events_of<sv::RestartScheduled>(pool).back().delay == 200ms);
  world.advance(200ms);
  world.exit_code(pid(pool, 0), 3);
  // Counted by reason, for this worker and for the pool.
  const auto snap = pool.snapshot();
  const auto& by_reason = snap.workers[0].exits_by_reason;
  CHECK(by_reason[static_cast<std::size_t>(sv::ExitReason::signal)] == 2);
  CHECK(by_reason[static_cast<std::size_t>(sv::ExitReason::exit_code)] == 1);
  CHECK(std::accumulate(by_reason.begin(), by_reason.end(), std::uint64_t{0}) == 3);
  CHECK(snap.exits_by_reason.at("signal") == 2);
  CHECK(snap.exits_by_reason.at("exit-code") == 1);
}

TEST_CASE("fake world: the restart budget gives up at the 6th quick death", "[unit][pool]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  sv::Duration waited{};
  for (int death = 1; death <= 6; ++death) {
    REQUIRE(state(pool, 0) == WorkerState::ready);
    world.exit_code(pid(pool, 0), 1);
    if (death < 6) {
      const auto delay = events_of<sv::RestartScheduled>(pool).back().delay;
      waited += delay;
      world.advance(delay);
    }
  }
  CHECK(state(pool, 0) == WorkerState::failed);
  CHECK(waited == 100ms + 200ms + 400ms + 800ms + 1600ms);
  REQUIRE(events_of<sv::WorkerGaveUp>(pool).size() == 1);
  CHECK(world.live_pids().empty());
}

TEST_CASE("fake world: readiness after a delay, a death before it is never ready", "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.readiness = sv::Readiness::after(2s);
  sv::Pool pool(world, o);
  pool.start();
  world.advance(1999ms);
  CHECK(state(pool, 0) == WorkerState::starting);
  world.advance(1ms);
  CHECK(state(pool, 0) == WorkerState::ready);
  world.kill(pid(pool, 0));
  world.advance(100ms);  // restarted
  CHECK(state(pool, 0) == WorkerState::starting);
  world.kill(pid(pool, 0));
  CHECK(state(pool, 0) == WorkerState::backoff);
}

TEST_CASE("fake world: sd_notify readiness, status, sender check and start timeout",
          "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.readiness = sv::Readiness::notify(5s);
  sv::Pool pool(world, o);
  pool.start();
  const int p = pid(pool, 0);
  const sv::ProcessSpec* spec = world.spec_of(p);
  REQUIRE(spec != nullptr);
  CHECK(spec->env.set.at("NOTIFY_SOCKET").rfind("@supervisor/", 0) == 0);
  CHECK(state(pool, 0) == WorkerState::starting);
  world.notify(p, "READY=1", /*sender=*/p + 7);  // not the main process: ignored
  CHECK(state(pool, 0) == WorkerState::starting);
  world.notify(p, "READY=1\nSTATUS=warming up");
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(pool.snapshot().workers[0].status == "warming up");

  // A worker that never says READY=1 is killed at the timeout, as a failed start.
  world.kill(p);
  world.advance(100ms);
  REQUIRE(state(pool, 0) == WorkerState::starting);
  world.advance(4999ms);
  CHECK(state(pool, 0) == WorkerState::starting);
  world.advance(1ms);
  const auto last = pool.snapshot().workers[0].last_exit;
  REQUIRE(last.has_value());
  CHECK(last->reason == sv::ExitReason::timeout);
}

TEST_CASE("fake world: the watchdog kills a worker that falls silent", "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.watchdog = 1s;
  sv::Pool pool(world, o);
  pool.start();
  const int p = pid(pool, 0);
  CHECK(world.spec_of(p)->env.set.at("WATCHDOG_USEC") == "1000000");
  for (int i = 0; i < 5; ++i) {
    world.advance(900ms);
    world.notify(p, "WATCHDOG=1");
  }
  CHECK(pool.snapshot().workers[0].incarnation == 1);
  world.advance(1s);
  const auto last = pool.snapshot().workers[0].last_exit;
  REQUIRE(last.has_value());
  CHECK(last->reason == sv::ExitReason::watchdog);
}

TEST_CASE("fake world: leases are FIFO and time out at the exact instant", "[unit][pool][lease]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  sv::Lease held = pool.acquire(0s);
  REQUIRE(held.valid());
  std::vector<std::string> log;
  sv::Lease second;
  pool.acquire_async(10s, [&](sv::Lease l, std::error_code ec) {
    log.push_back(ec ? "first: " + ec.message() : "first: leased");
    second = std::move(l);
  });
  pool.acquire_async(300ms, [&](sv::Lease, std::error_code ec) {
    log.push_back(ec == sv::errc::lease_timeout ? "second: timeout" : "second: ?");
  });
  world.advance(299ms);
  CHECK(log.empty());
  world.advance(1ms);
  CHECK(log == std::vector<std::string>{"second: timeout"});
  held.release();
  world.run_pending();
  CHECK(log.back() == "first: leased");
  CHECK(second.valid());
  std::error_code ec;
  (void)pool.acquire(0s, ec);
  CHECK(ec == sv::errc::lease_timeout);
  CHECK_THROWS_AS(pool.acquire(1s), std::system_error);  // would block the loop: refused
}

TEST_CASE("fake world: an ignored SIGTERM is killed after the plan's waits", "[unit][pool]") {
  sv::testing::FakeWorld world;
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);
  auto o = options(2);
  o.spec.stop.steps = {{sv::Signal::terminate, 3s}, {sv::Signal::interrupt, 2s}};
  sv::Pool pool(world, o);
  pool.start();
  pool.stop();  // starts the stop; the fake ignores it
  CHECK(world.live_pids().size() == 2);
  CHECK(state(pool, 0) == WorkerState::stopping);
  world.advance(4999ms);
  CHECK(world.live_pids().size() == 2);
  world.advance(1ms);
  CHECK(world.live_pids().empty());
  CHECK(state(pool, 0) == WorkerState::retired);
  CHECK(events_of<sv::WorkerExited>(pool)[0].status.reason == sv::ExitReason::timeout);
}

TEST_CASE("fake world: spawn failures on restart go through the policy, then recover",
          "[unit][pool]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  world.fail_next_spawns(2, std::make_error_code(std::errc::no_such_file_or_directory));
  world.kill(pid(pool, 0));
  world.advance(100ms);  // restart 1: fails
  world.advance(200ms);  // restart 2: fails
  CHECK(events_of<sv::SpawnFailed>(pool).size() == 2);
  CHECK(state(pool, 0) == WorkerState::backoff);
  world.advance(400ms);  // restart 3: works
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(pool.snapshot().spawn_failures == 2);
}

TEST_CASE("fake world: a first-start spawn error fails start() and stops the pool",
          "[unit][pool]") {
  sv::testing::FakeWorld world;
  world.fail_next_spawns(1, std::make_error_code(std::errc::permission_denied));
  sv::Pool pool(world, options(3));
  std::error_code ec;
  pool.start(ec);
  CHECK(ec == std::errc::permission_denied);
  CHECK(world.live_pids().empty());
  CHECK_FALSE(pool.snapshot().running);
}

TEST_CASE("fake world: the restart breaker holds a crash loop in backoff until a trial",
          "[unit][pool][breaker]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  sv::StandardRestartOptions r;
  r.backoff = sv::BackoffOptions::fixed(10ms);
  r.min_uptime = sv::Duration::zero();
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  sv::BreakerOptions b;
  b.window_size = 3;
  b.minimum_calls = 3;
  b.wait_in_open = 30s;
  b.permitted_calls_in_half_open = 1;
  o.restart_breaker = sv::SlidingWindowBreaker::create(b);
  sv::Pool pool(world, o);
  pool.start();  // ready: one success
  world.kill(pid(pool, 0));
  world.advance(10ms);
  world.kill(pid(pool, 0));  // successes 2, failures 2 of 4 calls in a window of 3: 2/3 failed
  world.advance(10ms);
  // Open now: the next restart waits in backoff for the breaker's 30 s.
  world.kill(pid(pool, 0));
  const auto spawned = world.spawn_count();
  world.advance(29s);
  CHECK(world.spawn_count() == spawned);
  CHECK(state(pool, 0) == WorkerState::backoff);
  world.advance(1s + 10ms);
  CHECK(world.spawn_count() == spawned + 1);  // the trial start
  CHECK(state(pool, 0) == WorkerState::ready);
  // The trial decided: its start reached ready, which closes the breaker.
  CHECK(pool.snapshot().restart_breaker == sv::BreakerState::closed);
  CHECK(breaker_path(pool, "restart") == open_then_closed);
}

TEST_CASE("fake world: resize grows at once and shrinks idle workers first", "[unit][pool]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  pool.resize(5);
  CHECK(pool.snapshot().ready == 5);
  CHECK(pool.snapshot().size == 5);
  CHECK(world.live_pids().size() == 5);
  sv::Lease busy = pool.acquire(0s);  // the longest-ready worker: 0
  REQUIRE(busy.valid());
  pool.resize(1);
  world.run_pending();
  auto snap = pool.snapshot();
  CHECK(snap.size == 1);
  // Workers 1..4 were idle: retired; the leased one is untouched.
  CHECK(snap.workers[busy.worker()].state == WorkerState::leased);
  for (std::size_t i = 1; i < 5; ++i) CHECK(snap.workers[i].state == WorkerState::retired);
  CHECK(world.live_pids().size() == 1);
  const std::uint64_t exits_before = total_exits(pool.snapshot());
  pool.resize(2);
  // The lowest retired slot is reclaimed: its incarnations go on, its figures start again, and
  // the pool's totals keep what its last worker counted.
  snap = pool.snapshot();
  CHECK(snap.workers.size() == 5);
  CHECK(snap.workers[1].state == WorkerState::ready);
  CHECK(snap.workers[1].incarnation == 2);
  CHECK(snap.workers[1].restarts == 0);
  CHECK_FALSE(snap.workers[1].last_exit.has_value());
  CHECK(total_exits(snap) == exits_before);
  std::error_code ec;
  pool.resize(0, ec);
  CHECK(ec == sv::errc::invalid_argument);
}

TEST_CASE("fake world: shrinking below the leased workers drains them after their lease",
          "[unit][pool][lease]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  sv::Lease a = pool.acquire(0s);
  sv::Lease b = pool.acquire(0s);
  pool.resize(1);
  const auto victim = std::max(a.worker(), b.worker());
  CHECK(pool.snapshot().workers[victim].state == WorkerState::draining);
  CHECK(world.live_pids().size() == 2);  // still finishing its job
  (victim == a.worker() ? a : b).release();
  world.run_pending();
  CHECK(pool.snapshot().workers[victim].state == WorkerState::retired);
  CHECK(world.live_pids().size() == 1);
}

TEST_CASE("fake world: drain refuses new leases and waits for the current ones",
          "[unit][pool][lease]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  sv::Lease held = pool.acquire(0s);
  std::error_code waiter_ec;
  sv::Lease other = pool.acquire(0s);
  pool.acquire_async(10s, [&](sv::Lease, std::error_code ec) { waiter_ec = ec; });
  world.run_pending();
  CHECK_FALSE(pool.drain(1s));  // two leases still out
  CHECK(waiter_ec == sv::errc::stopped);
  std::error_code ec;
  (void)pool.acquire(0s, ec);
  CHECK(ec == sv::errc::stopped);
  held.release();
  other.release();
  CHECK(pool.drain(1s));
  CHECK(pool.snapshot().draining);
  CHECK(pool.snapshot().ready == 2);  // workers keep running
}

TEST_CASE("fake world: recycling after N leases and after a maximum runtime, never mid-lease",
          "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.recycle.max_leases = 2;
  o.recycle.max_runtime = 60s;
  sv::Pool pool(world, o);
  pool.start();
  const int first = pid(pool, 0);
  pool.acquire(0s).release();
  world.run_pending();
  CHECK(pid(pool, 0) == first);
  pool.acquire(0s).release();  // the 2nd lease: replaced at once, no restart delay
  world.run_pending();
  CHECK(world.stop_requested(first));
  CHECK(pool.snapshot().workers[0].incarnation == 2);
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(events_of<sv::RestartScheduled>(pool).empty());  // planned: the policy is not asked
  REQUIRE(events_of<sv::WorkerRecycled>(pool).size() == 1);
  CHECK(events_of<sv::WorkerRecycled>(pool)[0].why == "served 2 leases");

  // Max runtime, while leased: it finishes the lease first.
  const int second = pid(pool, 0);
  sv::Lease busy = pool.acquire(0s);
  world.advance(60s);
  CHECK(state(pool, 0) == WorkerState::draining);
  CHECK_FALSE(world.stop_requested(second));
  busy.release();
  world.run_pending();
  CHECK(world.stop_requested(second));
  CHECK(pool.snapshot().workers[0].incarnation == 3);
  CHECK(events_of<sv::WorkerRecycled>(pool).back().why == "reached its maximum runtime");
}

TEST_CASE("histograms count into cumulative Prometheus buckets", "[unit][metrics]") {
  auto h = sv::Histogram::with_bounds({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 2.0, 20.0, -1.0}) h.observe(v);
  CHECK(h.count == 6);
  CHECK(h.counts == std::vector<std::uint64_t>{3, 1, 1, 1});  // -1 counts as 0; 0.1 is "le 0.1"
  CHECK(h.sum == Approx(22.65));
  CHECK(h.quantile_bound(0.5) == 0.1);
  CHECK(h.quantile_bound(0.9) == std::numeric_limits<double>::infinity());
  CHECK(sv::Histogram{}.quantile_bound(0.5) == 0);
}

TEST_CASE("fake world: pool metrics and their Prometheus text", "[unit][metrics][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  o.readiness = sv::Readiness::after(2s);
  sv::BreakerOptions b;
  o.lease_breaker = sv::SlidingWindowBreaker::create(b);
  sv::Pool pool(world, o);
  pool.start();
  world.advance(2s);
  sv::Lease l = pool.acquire(0s);
  world.advance(3s);
  l.release();
  world.run_pending();
  world.kill(pid(pool, 0));
  const auto s = pool.snapshot();
  CHECK(s.leases == 1);
  CHECK(s.lease_wait.count == 1);
  CHECK(s.lease_duration.count == 1);
  CHECK(s.lease_duration.sum == Approx(3.0));
  CHECK(s.start_to_ready.count == 2);
  CHECK(s.start_to_ready.sum == Approx(4.0));
  CHECK(s.exits_by_reason.at("signal") == 1);
  CHECK(s.worker_uptime.sum == Approx(5.0));
  REQUIRE(s.lease_breaker.has_value());
  CHECK(*s.lease_breaker == sv::BreakerState::closed);
  const std::string text = sv::to_prometheus(s, "exec\"pool");
  CHECK(text.find("supervisor_pool_workers{pool=\"exec\\\"pool\",state=\"ready\"} 1") !=
        std::string::npos);
  CHECK(text.find("supervisor_pool_workers{pool=\"exec\\\"pool\",state=\"backoff\"} 1") !=
        std::string::npos);
  CHECK(text.find("supervisor_pool_exits_total{pool=\"exec\\\"pool\",reason=\"signal\"} 1") !=
        std::string::npos);
  CHECK(text.find("supervisor_pool_leases_total{pool=\"exec\\\"pool\"} 1") != std::string::npos);
  CHECK(text.find(
            "supervisor_pool_lease_duration_seconds_bucket{pool=\"exec\\\"pool\",le=\"5\"} 1") !=
        std::string::npos);
  CHECK(text.find(
            "supervisor_pool_lease_duration_seconds_bucket{pool=\"exec\\\"pool\",le=\"1\"} 0") !=
        std::string::npos);
  CHECK(text.find("le=\"+Inf\"} 2") != std::string::npos);  // start_to_ready: both starts
  CHECK(text.find("supervisor_pool_breaker_state{pool=\"exec\\\"pool\",breaker=\"lease\",state="
                  "\"closed\"} 1") != std::string::npos);
  CHECK(text.find("# TYPE supervisor_pool_worker_uptime_seconds histogram") != std::string::npos);
  // Time per state: worker 0 was 2 s starting, then 3 s ready or leased (a lease from the desk
  // leaves the state machine at `ready`); both workers' 2 s of starting add up in the text.
  const auto& in = s.workers[0].time_in_state;
  CHECK(in[static_cast<std::size_t>(WorkerState::starting)] == 2s);
  CHECK(in[static_cast<std::size_t>(WorkerState::ready)] +
            in[static_cast<std::size_t>(WorkerState::leased)] ==
        3s);
  CHECK(text.find(
            "supervisor_pool_state_seconds_total{pool=\"exec\\\"pool\",state=\"starting\"} 4\n") !=
        std::string::npos);
  CHECK(text.find("supervisor_pool_probes_total{pool=\"exec\\\"pool\"} 0") != std::string::npos);
  CHECK(text.find("supervisor_pool_invalid_transitions_total{pool=\"exec\\\"pool\"} 0") !=
        std::string::npos);
}

TEST_CASE("fake world: target-utilisation scaling grows at once and shrinks after its window",
          "[unit][pool][scaling]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.min_size = 1;
  o.max_size = 4;
  sv::TargetUtilizationOptions t;
  t.target = 0.5;
  t.scale_down_window = 60s;
  o.scaling = std::make_shared<sv::TargetUtilization>(t);
  o.scaling_period = 10s;
  sv::Pool pool(world, o);
  pool.start();
  sv::Lease a = pool.acquire(0s);
  world.advance(10s);  // 1 leased at 50% target: 2 wanted
  CHECK(pool.snapshot().size == 2);
  sv::Lease b = pool.acquire(0s);
  world.advance(10s);  // 2 leased: 4 wanted
  CHECK(pool.snapshot().size == 4);
  a.release();
  b.release();
  world.advance(50s);  // demand is 0, but 4 was wanted within the last 60 s
  CHECK(pool.snapshot().size == 4);
  world.advance(20s);
  CHECK(pool.snapshot().size == 1);  // clamped to min_size
  CHECK_THROWS_AS(sv::TargetUtilization(sv::TargetUtilizationOptions{1.5, {}, {}}),
                  std::system_error);
  std::error_code ec;
  pool.resize(5, ec);  // above max_size
  CHECK(ec == sv::errc::invalid_argument);
}

TEST_CASE("fake world: scaling on queue wait grows a pool whose short leases still queue",
          "[unit][pool][scaling]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.min_size = 1;
  o.max_size = 3;
  sv::TargetUtilizationOptions t;
  t.target = 1.0;
  t.scale_down_window = sv::Duration::zero();
  t.queue_wait_target = 100ms;
  o.scaling = std::make_shared<sv::TargetUtilization>(t);
  o.scaling_period = 1s;
  sv::Pool pool(world, o);
  pool.start();
  sv::Lease a = pool.acquire(0s);
  REQUIRE(a.valid());
  bool served = false;
  pool.acquire_async(5s, [&](sv::Lease l, std::error_code ec) {
    served = !ec && l.valid();  // released at once: a short lease
  });
  world.advance(500ms);
  a.release();  // the waiter gets the worker after 500 ms in the queue
  world.run_pending();
  CHECK(served);
  world.advance(500ms);  // evaluation: nothing leased, nobody waiting, but an acquire waited 500 ms
  CHECK(pool.snapshot().size == 2);
  world.advance(1s);  // no wait since: utilisation decides again
  CHECK(pool.snapshot().size == 1);

  // Without a queue-wait target, the same story leaves the size alone.
  sv::TargetUtilizationOptions plain = t;
  plain.queue_wait_target = sv::Duration::zero();
  sv::TargetUtilization util(plain);
  sv::ScalingInput in;
  in.size = 1;
  in.queue_wait = 500ms;
  CHECK(util.desired_size(in) == 0);
  // With it: one more than now, and one more per waiting acquire.
  sv::TargetUtilization queue(t);
  in.now += 1s;
  CHECK(queue.desired_size(in) == 2);
  in.now += 1s;
  in.size = 2;
  in.leased = 2;
  in.waiting = 3;
  CHECK(queue.desired_size(in) == 5);  // 2 + 3, as much as the utilisation asks (5 / 1.0)
  in.now += 1s;
  in.waiting = 0;
  in.queue_wait = 100ms;  // at the target, not over it
  CHECK(queue.desired_size(in) == 2);
  sv::TargetUtilizationOptions bad = t;
  bad.queue_wait_target = -1ms;
  CHECK_THROWS_WITH(sv::TargetUtilization(bad),
                    Catch::Matchers::Contains("TargetUtilizationOptions.queue_wait_target"));
}

TEST_CASE("fake world: a subscriber may resize the pool from inside an event", "[unit][pool]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  bool resized = false;
  pool.subscribe([&](const sv::PoolEvent& e) {
    const auto* t = std::get_if<sv::WorkerTransition>(&e.data);
    if (t && t->to == WorkerState::ready && !resized) {
      resized = true;
      pool.resize(8);  // while the pool is walking its slots
    }
  });
  pool.start();
  world.run_pending();
  CHECK(pool.snapshot().size == 8);
  CHECK(pool.snapshot().ready == 8);
}

TEST_CASE("fake world: an immediate restart starts the replacement before the exit's events",
          "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  sv::StandardRestartOptions r;
  r.backoff = sv::BackoffOptions::fixed(sv::Duration::zero());
  r.min_uptime = sv::Duration::zero();
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  sv::Pool pool(world, o);
  std::size_t spawned_when_exited = 0;
  bool stop_on_exit = false;
  pool.subscribe([&](const sv::PoolEvent& e) {
    if (!std::holds_alternative<sv::WorkerExited>(e.data)) return;
    spawned_when_exited = world.spawn_count();
    if (stop_on_exit) pool.stop();  // from inside the exit's own event
  });
  pool.start();
  const int first = pid(pool, 0);
  world.kill(first);
  // The process was started ahead; the events still come in their order, and the policy's delay
  // and the incarnations are what they would be without the fast path.
  CHECK(spawned_when_exited == 2);
  CHECK(state(pool, 0) == WorkerState::ready);
  CHECK(pool.snapshot().workers[0].incarnation == 2);
  CHECK(world.live_pids().size() == 1);
  const auto transitions = events_of<sv::WorkerTransition>(pool);
  REQUIRE(transitions.size() >= 4);
  const auto n = transitions.size();
  CHECK(transitions[n - 4].to == WorkerState::exited);
  CHECK(transitions[n - 3].to == WorkerState::backoff);
  CHECK(transitions[n - 2].to == WorkerState::starting);
  CHECK(transitions[n - 1].to == WorkerState::ready);
  const auto spawns = events_of<sv::WorkerSpawned>(pool);
  REQUIRE(spawns.size() == 2);
  CHECK(spawns[1].incarnation == 2);
  CHECK(spawns[1].pid == pid(pool, 0));

  // A subscriber that stops the pool on the exit: the process started ahead is not kept, and the
  // stop still leaves nothing running.
  stop_on_exit = true;
  world.kill(pid(pool, 0));
  CHECK(spawned_when_exited == 3);  // started ahead, then not wanted
  world.run_pending();
  CHECK(world.live_pids().empty());
  CHECK(state(pool, 0) == WorkerState::retired);
  CHECK_FALSE(pool.snapshot().running);
  CHECK(events_of<sv::WorkerSpawned>(pool).size() == 2);  // the discarded one was never announced
}

TEST_CASE("fake world: a subscriber that stops the pool on a restart decision starts nothing",
          "[unit][pool]") {
  // The pool stopped from the restart's own event (RestartScheduled, in decide): the worker is
  // retired there and then, so the restart that was under way must not start it again, nor keep
  // the process the fast path started ahead; no transition is refused on the way.
  sv::testing::FakeWorld world;
  auto o = options(1);
  sv::StandardRestartOptions r;
  r.backoff = sv::BackoffOptions::fixed(sv::Duration::zero());
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  sv::Pool pool(world, o);
  pool.subscribe([&](const sv::PoolEvent& e) {
    if (std::holds_alternative<sv::RestartScheduled>(e.data)) pool.stop();
  });
  pool.start();
  world.kill(pid(pool, 0));
  world.run_pending();
  CHECK(world.live_pids().empty());
  CHECK(world.spawn_count() == 2);  // the first, and the one started ahead, killed since
  const auto snap = pool.snapshot();
  CHECK(snap.workers[0].state == WorkerState::retired);
  CHECK_FALSE(snap.running);
  CHECK(snap.invalid_transitions == 0);
  CHECK(snap.strategy_errors == 0);
  CHECK(events_of<sv::WorkerSpawned>(pool).size() == 1);  // the discarded one never announced
}

TEST_CASE("fake world: the lease desk hands out idle workers without the loop, FIFO intact",
          "[unit][pool][desk]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  const auto transitions_before = events_of<sv::WorkerTransition>(pool).size();
  sv::Lease a = pool.acquire(0s);  // from the desk: no transition, no event
  REQUIRE(a.valid());
  CHECK(events_of<sv::WorkerTransition>(pool).size() == transitions_before);
  auto snap = pool.snapshot();
  CHECK(snap.workers[0].state == WorkerState::leased);  // the snapshot knows
  CHECK(snap.leased == 1);
  CHECK(snap.ready == 0);
  CHECK(snap.leases == 1);
  // Nobody is free: a waiter queues in the loop, and the desk closes so that it is served first.
  std::vector<std::string> log;
  pool.acquire_async(10s, [&](sv::Lease l, std::error_code ec) {
    log.push_back(ec ? "waiter: " + ec.message() : "waiter: got " + std::to_string(l.worker()));
    l.release();
  });
  world.run_pending();
  CHECK(log.empty());
  a.release();  // the desk is closed: the worker goes back through the loop, to the waiter
  world.run_pending();
  REQUIRE(log.size() == 1);
  CHECK(log[0] == "waiter: got 0");
  // The waiter's lease went through the loop: a `leased` transition this time.
  bool leased_event = false;
  for (const auto& t : events_of<sv::WorkerTransition>(pool))
    leased_event = leased_event || t.to == WorkerState::leased;
  CHECK(leased_event);
  // Nobody waits any more: the desk is open again.
  sv::Lease b = pool.acquire(0s);
  CHECK(b.valid());
  CHECK(pool.snapshot().leases == 3);
  b.release();
  // drain() counts desk leases too.
  sv::Lease c = pool.acquire(0s);
  REQUIRE(c.valid());
  CHECK_FALSE(pool.drain(0s));
  c.release();
  world.run_pending();
  CHECK(pool.drain(0s));
  pool.stop();
}

TEST_CASE("fake world: a desk lease given back while the desk is closed is on it once it reopens",
          "[unit][pool][desk]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  sv::Lease a = pool.acquire(0s);  // both from the desk
  sv::Lease b = pool.acquire(0s);
  REQUIRE(a.valid());
  REQUIRE(b.valid());
  const std::size_t first = a.worker();
  const std::size_t second = b.worker();
  // A waiter in the loop closes the desk.
  sv::Lease held;
  std::vector<std::size_t> served;
  pool.acquire_async(10s, [&](sv::Lease l, std::error_code ec) {
    CHECK_FALSE(ec);
    served.push_back(l.worker());
    held = std::move(l);
  });
  world.run_pending();
  // Both come back while it is closed, each through the loop: the first to the waiter, after
  // which the desk opens again; the second then goes back on the open desk.
  a.release();
  b.release();
  world.run_pending();
  REQUIRE(served.size() == 1);
  CHECK(served[0] == first);
  const auto transitions = events_of<sv::WorkerTransition>(pool).size();
  sv::Lease c = pool.acquire(0s);
  REQUIRE(c.valid());
  CHECK(c.worker() == second);
  CHECK(events_of<sv::WorkerTransition>(pool).size() == transitions);  // from the desk
  c.release();
  held.release();
  pool.stop();
}

TEST_CASE("fake world: without the fast path every lease is a transition", "[unit][pool][desk]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.lease_fast_path = false;
  sv::Pool pool(world, o);
  pool.start();
  sv::Lease l = pool.acquire(0s);
  REQUIRE(l.valid());
  CHECK(events_of<sv::WorkerTransition>(pool).back().to == WorkerState::leased);
  l.release();
  world.run_pending();
  CHECK(events_of<sv::WorkerTransition>(pool).back().to == WorkerState::ready);
  pool.stop();
}

TEST_CASE("fake world: the lease breaker trips on failed leases, refuses, and one trial decides",
          "[unit][pool][lease][breaker]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  sv::BreakerOptions b;
  b.window_size = 4;
  b.minimum_calls = 4;
  b.failure_rate_threshold = 50.0;
  b.wait_in_open = 10s;
  b.permitted_calls_in_half_open = 1;
  o.lease_breaker = sv::SlidingWindowBreaker::create(b);
  sv::Pool pool(world, o);
  pool.start();
  // Two failures out of four leases: 50% trips it at the fourth.
  for (const auto outcome : {sv::LeaseOutcome::success, sv::LeaseOutcome::failure,
                             sv::LeaseOutcome::success, sv::LeaseOutcome::failure}) {
    sv::Lease l = pool.acquire(0s);
    REQUIRE(l.valid());
    l.release(outcome);
    world.run_pending();
  }
  CHECK(pool.snapshot().lease_breaker == sv::BreakerState::open);
  std::error_code ec;
  (void)pool.acquire(0s, ec);
  CHECK(ec == sv::errc::circuit_open);
  // Ready workers are not leased while it is open; the wait ends, and one trial call decides.
  CHECK(pool.snapshot().ready == 2);
  world.advance(10s);
  sv::Lease trial = pool.acquire(0s, ec);
  REQUIRE(trial.valid());
  (void)pool.acquire(0s, ec);  // the only trial permit is taken
  CHECK(ec == sv::errc::circuit_open);
  trial.release(sv::LeaseOutcome::success);
  world.run_pending();
  CHECK(pool.snapshot().lease_breaker == sv::BreakerState::closed);
  sv::Lease after = pool.acquire(0s, ec);
  CHECK(after.valid());
  // Each change of state is an event naming the lease breaker.
  CHECK(breaker_path(pool, "lease") == open_then_closed);
}

TEST_CASE("fake world: a lease released `slow` is a slow call for the breaker, however short",
          "[unit][pool][lease][breaker]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  sv::BreakerOptions b;
  b.window_size = 4;
  b.minimum_calls = 4;
  b.failure_rate_threshold = 100.0;
  b.slow_call_rate_threshold = 50.0;
  b.slow_call_duration = 60s;  // no lease here lasts anywhere near that
  auto breaker = std::shared_ptr<sv::SlidingWindowBreaker>(sv::SlidingWindowBreaker::create(b));
  o.lease_breaker = breaker;
  sv::Pool pool(world, o);
  pool.start();
  for (const auto outcome :
       {sv::LeaseOutcome::success, sv::LeaseOutcome::slow, sv::LeaseOutcome::success}) {
    sv::Lease l = pool.acquire(0s);
    REQUIRE(l.valid());
    world.advance(1ms);
    l.release(outcome);
    world.run_pending();
  }
  const auto m = breaker->metrics(world.clock().now());
  CHECK(m.slow_calls == 1);
  CHECK(m.failed_calls == 0);
  CHECK(pool.snapshot().lease_breaker == sv::BreakerState::closed);
  sv::Lease l = pool.acquire(0s);
  l.release(sv::LeaseOutcome::slow);  // 2 of 4 slow: 50%
  world.run_pending();
  CHECK(pool.snapshot().lease_breaker == sv::BreakerState::open);
}

namespace {

// A user's restart policy that records what the Pool tells it.
class RecordingPolicy final : public sv::RestartPolicy {
 public:
  std::vector<std::string> log;
  sv::RestartDecision on_exit(const sv::RestartContext& ctx) override {
    log.push_back("exit " + std::to_string(ctx.worker));
    return sv::RestartDecision::after(10ms, "recorded");
  }
  void on_started(std::size_t worker, sv::TimePoint /*now*/) override {
    log.push_back("started " + std::to_string(worker));
  }
  void on_ready(std::size_t worker, sv::TimePoint /*now*/) override {
    log.push_back("ready " + std::to_string(worker));
  }
  void forget(std::size_t worker) override { log.push_back("forget " + std::to_string(worker)); }
};

// A user's scaling policy: the size it is told to answer, or an exception.
class ScriptedScaling final : public sv::ScalingPolicy {
 public:
  std::size_t answer = 0;
  bool fail = false;
  std::vector<sv::ScalingInput> inputs;
  std::size_t desired_size(const sv::ScalingInput& in) override {
    inputs.push_back(in);
    if (fail) throw std::runtime_error("scaling policy failed on purpose");
    return answer;
  }
};

}  // namespace

TEST_CASE("fake world: the Pool calls a user policy's hooks as documented", "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  auto policy = std::make_shared<RecordingPolicy>();
  o.restart_policy = policy;
  sv::Pool pool(world, o);
  pool.start();
  CHECK(policy->log == std::vector<std::string>{"started 0", "ready 0", "started 1", "ready 1"});
  policy->log.clear();
  world.kill(pid(pool, 0));
  CHECK(policy->log == std::vector<std::string>{"exit 0"});
  world.advance(10ms);  // the decision's delay
  CHECK(policy->log == std::vector<std::string>{"exit 0", "started 0", "ready 0"});
  policy->log.clear();
  pool.resize(1);  // worker 1 retires: the policy may drop what it kept about it
  world.run_pending();
  CHECK(std::count(policy->log.begin(), policy->log.end(), "forget 1") == 1);
  CHECK(std::count(policy->log.begin(), policy->log.end(), "exit 1") == 0);  // a planned stop
}

TEST_CASE("fake world: history keeps the last history_size events, unsubscribe stops delivery",
          "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.history_size = 5;
  sv::Pool pool(world, o);
  int delivered = 0;
  const auto id = pool.subscribe([&](const sv::PoolEvent&) { ++delivered; });
  pool.start();
  for (int i = 0; i < 4; ++i) {
    world.kill(pid(pool, 0));
    world.advance(1s);
  }
  const auto h = pool.history();
  REQUIRE(h.size() == 5);
  for (std::size_t i = 1; i < h.size(); ++i) CHECK(h[i].sequence == h[i - 1].sequence + 1);
  CHECK(h.back().sequence == static_cast<std::uint64_t>(delivered));  // the newest, in order
  pool.unsubscribe(id);
  const int before = delivered;
  world.kill(pid(pool, 0));
  world.advance(1s);
  CHECK(delivered == before);
  CHECK(pool.history().back().sequence > h.back().sequence);  // events go on, unseen by it
}

TEST_CASE("fake world: a user scaling policy sizes the pool within bounds, a throw changes nothing",
          "[unit][pool][scaling]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  o.min_size = 1;
  o.max_size = 4;
  auto scaling = std::make_shared<ScriptedScaling>();
  o.scaling = scaling;
  o.scaling_period = 1s;
  std::vector<std::string> errors;
  o.error_handler = [&](std::exception_ptr e, std::string_view where) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      errors.push_back(std::string(where) + ": " + x.what());
    }
  };
  sv::Pool pool(world, o);
  pool.start();
  scaling->answer = 3;
  world.advance(1s);
  CHECK(pool.snapshot().size == 3);
  REQUIRE(!scaling->inputs.empty());
  CHECK(scaling->inputs.back().size == 2);  // what it was told: the size before its answer
  CHECK(scaling->inputs.back().ready == 2);
  scaling->answer = 100;  // clamped to max_size
  world.advance(1s);
  CHECK(pool.snapshot().size == 4);
  scaling->answer = 0;  // clamped to min_size
  world.advance(1s);
  CHECK(pool.snapshot().size == 1);
  scaling->fail = true;
  scaling->answer = 4;
  world.advance(1s);
  CHECK(pool.snapshot().size == 1);  // left as it was
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == "scaling_policy: scaling policy failed on purpose");  // where, and what
  CHECK(pool.snapshot().strategy_errors == 1);
}

TEST_CASE("fake world: a throwing completion callback is reported, and the pool goes on",
          "[unit][pool]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  std::vector<std::string> wheres;
  o.error_handler = [&](std::exception_ptr, std::string_view where) { wheres.emplace_back(where); };
  sv::Pool pool(world, o);
  pool.start();
  pool.acquire_async(
      1s, [](sv::Lease, std::error_code) { throw std::runtime_error("acquire callback failed"); });
  world.run_pending();
  // The lease it was handed went back with the exception: both workers can be leased again.
  sv::Lease a = pool.acquire(0s);
  sv::Lease b = pool.acquire(0s);
  CHECK(a.valid());
  CHECK(b.valid());
  a.release();
  b.release();
  world.run_pending();
  pool.replace_async(
      0, 5s, [](bool, std::error_code) { throw std::runtime_error("replace callback failed"); });
  world.run_pending();
  pool.rolling_restart_async({}, [](sv::RolloutResult, std::error_code) {
    throw std::runtime_error("rollout callback failed");
  });
  world.run_pending();
  CHECK(wheres == std::vector<std::string>{"acquire_async callback", "replace_async callback",
                                           "rolling_restart_async callback"});
  CHECK(pool.snapshot().strategy_errors == 3);
  CHECK(pool.snapshot().ready == 2);  // worker 0 replaced, then a rollout of both: all ready
  pool.stop();
}

TEST_CASE(
    "target utilisation: scale_up_window holds a growth back until it has been wanted so long",
    "[unit][scaling]") {
  sv::TargetUtilizationOptions t;
  t.target = 0.5;
  t.scale_up_window = 30s;
  t.scale_down_window = sv::Duration::zero();
  sv::TargetUtilization util(t);
  sv::ScalingInput in;
  in.size = 2;
  in.leased = 1;  // 1 of 2 at 50%: 2 wanted
  CHECK(util.desired_size(in) == 2);
  in.now += 10s;
  in.leased = 2;  // 4 wanted now, but 2 was wanted 10 s ago: the smallest within 30 s wins
  CHECK(util.desired_size(in) == 2);
  in.now += 25s;  // the wish for 2 left the window; 4 has been wanted throughout since
  CHECK(util.desired_size(in) == 4);
}

namespace {

// A user's lease breaker that fails on every outcome it is told: the pool must survive it.
class ThrowingBreaker final : public sv::CircuitBreaker {
 public:
  bool try_acquire(sv::TimePoint /*now*/) override { return true; }
  void on_success(sv::Duration /*elapsed*/, sv::TimePoint /*now*/) override {
    throw std::runtime_error("breaker failed on purpose");
  }
  void on_failure(sv::Duration elapsed, sv::TimePoint now) override { on_success(elapsed, now); }
  sv::BreakerState state(sv::TimePoint /*now*/) override { return sv::BreakerState::closed; }
};

}  // namespace

TEST_CASE("fake world: a throwing lease breaker is reported, the lease still goes back",
          "[unit][pool][breaker]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.lease_fast_path = false;  // through the loop, where it is reported with its where
  o.lease_breaker = std::make_shared<ThrowingBreaker>();
  std::vector<std::string> wheres;
  o.error_handler = [&](std::exception_ptr, std::string_view where) { wheres.emplace_back(where); };
  sv::Pool pool(world, o);
  pool.start();
  for (int i = 0; i < 3; ++i) {
    sv::Lease l = pool.acquire(0s);
    REQUIRE(l.valid());
    l.release(sv::LeaseOutcome::failure);
    world.run_pending();
  }
  CHECK(wheres == std::vector<std::string>(3, "lease_breaker"));
  CHECK(pool.snapshot().strategy_errors == 3);
  CHECK(pool.snapshot().ready == 1);
}
