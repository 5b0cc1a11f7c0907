// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Graceful replacement, rolling restarts and the cap on workers out for health reasons, on a
// FakeWorld: exact timings on a manual clock.
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
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

// Workers count as ready after 1 s alive, so that a replacement's start is observable.
sv::PoolOptions options(std::size_t size, sv::Readiness readiness = sv::Readiness::after(1s)) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = size;
  o.readiness = readiness;
  return o;
}

std::set<int> live_worker_pids(const sv::Pool& pool) {
  std::set<int> out;
  for (const auto& w : pool.snapshot().workers) {
    if (w.pid != 0) out.insert(w.pid);
  }
  return out;
}

}  // namespace

TEST_CASE("replace: the new worker starts first, the old one stops once it is ready",
          "[unit][pool][replace]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  world.advance(1s);
  REQUIRE(pool.snapshot().ready == 2);
  const int old_pid = pool.snapshot().workers[0].pid;
  std::optional<bool> replaced;
  pool.replace_async(0, 5s, [&](bool ok, std::error_code ec) {
    CHECK_FALSE(ec);
    replaced = ok;
  });
  world.run_pending();
  const auto started = events_of<sv::ReplacementStarted>(pool);
  REQUIRE(started.size() == 1);
  CHECK(started[0].worker == 0);
  CHECK(started[0].replacement == 2);
  // Both run; the old one still serves.
  CHECK(pool.snapshot().workers[0].state == WorkerState::ready);
  CHECK(pool.snapshot().workers[2].state == WorkerState::starting);
  CHECK(world.live_pids().size() == 3);
  world.advance(999ms);
  CHECK_FALSE(replaced.has_value());
  world.advance(1ms);
  REQUIRE(replaced.has_value());
  CHECK(*replaced);
  CHECK(pool.snapshot().workers[0].state == WorkerState::retired);
  CHECK(pool.snapshot().workers[2].state == WorkerState::ready);
  CHECK(pool.snapshot().size == 2);
  CHECK(live_worker_pids(pool).count(old_pid) == 0);
  CHECK(world.live_pids().size() == 2);
  CHECK(events_of<sv::ReplacementFinished>(pool).size() == 1);
  pool.stop();
}

TEST_CASE("replace: a replacement that is not ready in time is stopped, the old one stays",
          "[unit][pool][replace]") {
  sv::testing::FakeWorld world;
  // READY=1 never comes: every new worker stays `starting`.
  sv::Pool pool(world, options(1, sv::Readiness::notify()));
  pool.start();
  const int pid = pool.snapshot().workers[0].pid;
  world.notify(pid, "READY=1");
  REQUIRE(pool.snapshot().ready == 1);
  std::optional<bool> replaced;
  pool.replace_async(0, 3s, [&](bool ok, std::error_code) { replaced = ok; });
  world.advance(2999ms);
  CHECK_FALSE(replaced.has_value());
  world.advance(1ms);
  REQUIRE(replaced.has_value());
  CHECK_FALSE(*replaced);
  const auto aborted = events_of<sv::ReplacementAborted>(pool);
  REQUIRE(aborted.size() == 1);
  CHECK(aborted[0].why == "not ready within 3s");
  CHECK(pool.snapshot().workers[0].pid == pid);
  CHECK(pool.snapshot().workers[0].state == WorkerState::ready);
  CHECK(pool.snapshot().workers[1].state == WorkerState::retired);
  CHECK(world.live_pids() == std::vector<int>{pid});

  // Bad requests are typed errors.
  std::error_code ec;
  pool.replace_async(7, 1s, [&](bool, std::error_code e) { ec = e; });
  world.run_pending();
  CHECK(ec == sv::errc::invalid_argument);
  pool.stop();
}

TEST_CASE("replace: a leased worker finishes its lease before it stops", "[unit][pool][replace]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  world.advance(1s);
  sv::Lease lease = pool.acquire(0s);
  REQUIRE(lease.valid());
  std::optional<bool> replaced;
  pool.replace_async(0, 5s, [&](bool ok, std::error_code) { replaced = ok; });
  world.advance(1s);
  CHECK(replaced == std::optional<bool>(true));
  CHECK(pool.snapshot().workers[0].state == WorkerState::draining);  // still leased
  CHECK(world.live_pids().size() == 2);
  lease.release();
  world.run_pending();
  CHECK(pool.snapshot().workers[0].state == WorkerState::retired);
  CHECK(world.live_pids().size() == 1);
  pool.stop();
}

TEST_CASE("rolling restart with max_surge 1 never has fewer ready workers than before",
          "[unit][pool][rollout]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(4));
  pool.start();
  world.advance(1s);
  const auto before = live_worker_pids(pool);
  REQUIRE(before.size() == 4);
  std::optional<sv::RolloutResult> result;
  pool.rolling_restart_async({}, [&](sv::RolloutResult r, std::error_code ec) {
    CHECK_FALSE(ec);
    result = r;
  });
  std::size_t fewest = 4;
  std::size_t most_alive = 0;
  for (int step = 0; step < 50 && !result; ++step) {
    world.advance(100ms);
    fewest = std::min(fewest, pool.snapshot().ready);
    most_alive = std::max(most_alive, world.live_pids().size());
  }
  REQUIRE(result.has_value());
  CHECK(result->completed);
  CHECK(result->total == 4);
  CHECK(result->replaced == 4);
  CHECK(fewest == 4);
  CHECK(most_alive <= 5);  // one surge at a time
  const auto after = live_worker_pids(pool);
  CHECK(after.size() == 4);
  for (int pid : before) CHECK(after.count(pid) == 0);
  CHECK(events_of<sv::RolloutFinished>(pool).size() == 1);
  pool.stop();
}

TEST_CASE("rolling restart with max_unavailable restarts in place, a bounded number at once",
          "[unit][pool][rollout]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(4));
  pool.start();
  world.advance(1s);
  const auto before = live_worker_pids(pool);
  sv::RollingRestart plan;
  plan.max_surge = 0;
  plan.max_unavailable = 2;
  std::optional<sv::RolloutResult> result;
  pool.rolling_restart_async(plan, [&](sv::RolloutResult r, std::error_code) { result = r; });
  std::size_t fewest = 4;
  for (int step = 0; step < 50 && !result; ++step) {
    world.advance(100ms);
    fewest = std::min(fewest, pool.snapshot().ready);
    CHECK(world.live_pids().size() <= 4);  // no surge
  }
  REQUIRE(result.has_value());
  CHECK(result->completed);
  CHECK(fewest == 2);
  for (int pid : live_worker_pids(pool)) CHECK(before.count(pid) == 0);
  // Both limits zero is refused; so is a second rollout while one runs.
  std::error_code ec;
  pool.rolling_restart_async(sv::RollingRestart{0, 0, 1s},
                             [&](sv::RolloutResult, std::error_code e) { ec = e; });
  world.run_pending();
  CHECK(ec == sv::errc::invalid_argument);
  pool.stop();
}

TEST_CASE("a rollout stops at a replacement that never becomes ready", "[unit][pool][rollout]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3, sv::Readiness::notify()));
  pool.start();
  for (int pid : world.live_pids()) world.notify(pid, "READY=1");
  REQUIRE(pool.snapshot().ready == 3);
  const auto before = live_worker_pids(pool);
  sv::RollingRestart plan;
  plan.ready_timeout = 2s;
  std::optional<sv::RolloutResult> result;
  pool.rolling_restart_async(plan, [&](sv::RolloutResult r, std::error_code) { result = r; });
  world.advance(2s);
  REQUIRE(result.has_value());
  CHECK_FALSE(result->completed);
  CHECK(result->replaced == 0);
  CHECK(result->why.find("not ready within 2s") != std::string::npos);
  CHECK(live_worker_pids(pool) == before);  // every old worker kept
  CHECK(pool.snapshot().ready == 3);
  pool.stop();
}

TEST_CASE("max_out_for_health caps how many workers a failing check may stop at once",
          "[unit][pool][health]") {
  // A check that always fails, as when a dependency every worker shares is down.
  class Down : public sv::HealthCheckStrategy {
   public:
    void probe(const sv::ProbeTarget&, sv::ProbeCallback done) override {
      done(sv::ProbeResult::unhealthy("dependency down"));
    }
    [[nodiscard]] std::string name() const override { return "down"; }
  };
  sv::testing::FakeWorld world;
  auto o = options(4, sv::Readiness::immediate());
  sv::ProbeTiming t;
  t.period = 1s;
  t.failure_threshold = 1;
  o.health_checks = {{std::make_shared<Down>(), sv::ProbeRole::liveness, t}};
  o.max_out_for_health = 1;
  sv::StandardRestartOptions r;
  r.backoff = sv::BackoffOptions::fixed(5s);  // slow restarts: the stopped one stays out
  r.min_uptime = sv::Duration::zero();        // no budget: every run counts as a good one
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  sv::Pool pool(world, o);
  pool.start();
  world.run_pending();
  world.advance(1s);
  const auto snap = pool.snapshot();
  CHECK(snap.health_stops == 1);
  CHECK(snap.health_stops_deferred >= 3);
  std::size_t out = 0;
  for (const auto& w : snap.workers) {
    if (w.state != WorkerState::ready) ++out;
  }
  CHECK(out == 1);
  pool.stop();
}

TEST_CASE("a sinking health score replaces the worker gracefully, with hysteresis",
          "[unit][pool][health]") {
  sv::testing::FakeWorld world;
  auto o = options(1, sv::Readiness::immediate());
  o.health_score.enabled = true;  // defaults: failure -15, success +2, below 30, above 60
  sv::Pool pool(world, o);
  pool.start();
  auto lease_with = [&](sv::LeaseOutcome outcome) {
    sv::Lease l = pool.acquire(0s);
    REQUIRE(l.valid());
    l.release(outcome);
    world.run_pending();
  };
  for (int i = 0; i < 4; ++i) lease_with(sv::LeaseOutcome::failure);
  CHECK(pool.snapshot().workers[0].health_score == 40);
  CHECK(events_of<sv::ReplacementStarted>(pool).empty());
  // The 5th failure: 25 <= 30. The replacement's spawn fails: aborted, the old worker is kept.
  world.fail_next_spawns(1, std::make_error_code(std::errc::resource_unavailable_try_again));
  lease_with(sv::LeaseOutcome::failure);
  REQUIRE(events_of<sv::ReplacementStarted>(pool).size() == 1);
  REQUIRE(events_of<sv::ReplacementAborted>(pool).size() == 1);
  CHECK(events_of<sv::WorkerRecycled>(pool).back().why == "health score 25 <= 30");
  CHECK(pool.snapshot().workers[0].state == WorkerState::ready);
  // Lower still, but disarmed until it recovers above 60: no second attempt.
  lease_with(sv::LeaseOutcome::failure);
  CHECK(pool.snapshot().workers[0].health_score == 10);
  CHECK(events_of<sv::ReplacementStarted>(pool).size() == 1);
  for (int i = 0; i < 26; ++i) lease_with(sv::LeaseOutcome::success);  // 10 + 52 = 62
  CHECK(pool.snapshot().workers[0].health_score == 62);
  for (int i = 0; i < 3; ++i) lease_with(sv::LeaseOutcome::failure);  // 47, 32, 17
  REQUIRE(events_of<sv::ReplacementStarted>(pool).size() == 2);
  CHECK(events_of<sv::ReplacementFinished>(pool).size() == 1);
  const auto snap = pool.snapshot();
  CHECK(snap.workers[0].state == WorkerState::retired);
  CHECK(snap.workers.back().state == WorkerState::ready);
  CHECK(snap.workers.back().health_score == 100);  // a new worker starts afresh
  pool.stop();
}

namespace {

// A user's check that answers every probe at once with whatever the test set last.
class Scripted final : public sv::HealthCheckStrategy {
 public:
  sv::ProbeResult answer = sv::ProbeResult::healthy("fine");
  int probes = 0;
  void probe(const sv::ProbeTarget& /*target*/, sv::ProbeCallback done) override {
    ++probes;
    done(answer);
  }
  [[nodiscard]] std::string name() const override { return "scripted"; }
};

}  // namespace

TEST_CASE("probe answers move the health score, degraded answers alone lead to a replacement",
          "[unit][pool][health]") {
  sv::testing::FakeWorld world;
  auto o = options(1, sv::Readiness::immediate());
  o.health_score.enabled = true;  // healthy +5, degraded -10, failed -25; below 30, above 60
  auto check = std::make_shared<Scripted>();
  sv::ProbeTiming t;
  t.period = 1s;
  t.failure_threshold = 1000;  // never stopped by the check itself: only the score acts
  o.health_checks = {{check, sv::ProbeRole::liveness, t}};
  sv::Pool pool(world, o);
  pool.start();
  world.advance(1s);
  CHECK(pool.snapshot().workers[0].health_score == 100);  // capped
  check->answer = sv::ProbeResult::degraded("slow answers");
  world.advance(3s);
  CHECK(pool.snapshot().workers[0].health_score == 70);
  check->answer = sv::ProbeResult::healthy("fine again");
  world.advance(2s);
  CHECK(pool.snapshot().workers[0].health_score == 80);
  check->answer = sv::ProbeResult::unhealthy("refused");
  world.advance(1s);
  CHECK(pool.snapshot().workers[0].health_score == 55);
  CHECK(events_of<sv::ReplacementStarted>(pool).empty());
  check->answer = sv::ProbeResult::degraded("slow answers");
  world.advance(3s);  // 45, 35, 25 <= 30: replaced gracefully
  REQUIRE(events_of<sv::ReplacementStarted>(pool).size() == 1);
  CHECK(events_of<sv::WorkerRecycled>(pool).back().why == "health score 25 <= 30");
  world.run_pending();
  const auto snap = pool.snapshot();
  CHECK(snap.workers[0].state == WorkerState::retired);
  CHECK(snap.workers.back().state == WorkerState::ready);
  CHECK(check->probes >= 10);
  // Each answer came at once: every probe is in the latency histogram, at zero on this clock.
  CHECK(snap.probe_latency.count == static_cast<std::uint64_t>(check->probes));
  CHECK(snap.probe_latency.sum == 0.0);
  pool.stop();
}

// ---- bounded slots: retired slots are reclaimed for new workers ----------------------------

namespace {

// The serving worker with the lowest index (there is one in these tests).
std::size_t first_ready(const sv::PoolSnapshot& s) {
  for (const auto& w : s.workers) {
    if (w.state == WorkerState::ready) return w.index;
  }
  FAIL("no ready worker");
  return 0;
}

std::uint64_t total_exits(const sv::PoolSnapshot& s) {
  std::uint64_t n = 0;
  for (const auto& [reason, count] : s.exits_by_reason) n += count;
  return n;
}

// A pool that churns: a short history, so that it is full early.
sv::PoolOptions churn_options(std::size_t size,
                              sv::Readiness readiness = sv::Readiness::after(1s)) {
  sv::PoolOptions o = options(size, readiness);
  o.history_size = 64;
  return o;
}

// Every index is a slot's position, below `bound`; a slot's incarnation never goes back.
void check_slots(const sv::PoolSnapshot& s, std::size_t bound,
                 std::vector<std::uint64_t>& last_incarnation) {
  REQUIRE(s.workers.size() <= bound);
  last_incarnation.resize(bound, 0);
  for (std::size_t i = 0; i < s.workers.size(); ++i) {
    REQUIRE(s.workers[i].index == i);
    REQUIRE(s.workers[i].incarnation >= last_incarnation[i]);
    last_incarnation[i] = s.workers[i].incarnation;
  }
}

}  // namespace

TEST_CASE("replace 10000 times: slots are reclaimed and the snapshot and history stay bounded",
          "[unit][pool][replace][reclaim]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, churn_options(2));
  pool.start();
  world.advance(1s);
  std::vector<std::uint64_t> last_incarnation;
  std::size_t replaced = 0;
  std::size_t max_slots = 0;
  for (int n = 0; n < 10000; ++n) {
    const std::size_t worker = first_ready(pool.snapshot());
    std::optional<bool> ok;
    pool.replace_async(worker, 5s, [&](bool r, std::error_code ec) {
      CHECK_FALSE(ec);
      ok = r;
    });
    world.advance(1s);  // the replacement is ready; the old worker stops and is retired
    world.run_pending();
    REQUIRE(ok == std::optional<bool>(true));
    ++replaced;
    const sv::PoolSnapshot s = pool.snapshot();
    max_slots = std::max(max_slots, s.workers.size());
    check_slots(s, 3, last_incarnation);  // size 2, plus one replacement at a time
    REQUIRE(s.ready == 2);
    REQUIRE(world.live_pids().size() == 2);
    REQUIRE(pool.history().size() <= 64);
  }
  const sv::PoolSnapshot s = pool.snapshot();
  CHECK(replaced == 10000);
  CHECK(max_slots == 3);
  // The totals count every worker the pool ever had; no restart, 10000 planned stops.
  CHECK(total_exits(s) == 10000);
  CHECK(s.restarts == 0);
  CHECK(world.spawn_count() == 10002);
  // Each slot's row is its current worker's: it has not exited, nor restarted.
  for (const auto& w : s.workers) {
    if (w.state == WorkerState::retired) continue;
    CHECK(w.restarts == 0);
    CHECK_FALSE(w.last_exit.has_value());
  }
  pool.stop();
  CHECK(world.live_pids().empty());
}

TEST_CASE("resize up and down 10000 times: the retired slot is reclaimed each time",
          "[unit][pool][reclaim]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, churn_options(2, sv::Readiness::immediate()));
  pool.start();
  std::vector<std::uint64_t> last_incarnation;
  for (int n = 0; n < 10000; ++n) {
    pool.resize(3);
    world.run_pending();
    pool.resize(2);
    world.run_pending();
    const sv::PoolSnapshot s = pool.snapshot();
    check_slots(s, 3, last_incarnation);
    REQUIRE(s.size == 2);
    REQUIRE(s.ready == 2);
    REQUIRE(world.live_pids().size() == 2);
  }
  const sv::PoolSnapshot s = pool.snapshot();
  CHECK(s.workers.size() == 3);
  CHECK(s.workers[2].state == WorkerState::retired);
  // Slot 2 had 10000 workers, numbered on: the last one was its 10000th incarnation.
  CHECK(s.workers[2].incarnation == 10000);
  CHECK(total_exits(s) == 10000);
  CHECK(s.restarts == 0);
  pool.stop();
  CHECK(world.live_pids().empty());
}

TEST_CASE("a lease of a retired worker given back after its slot was reclaimed is ignored",
          "[unit][pool][replace][reclaim]") {
  const bool fast_path = GENERATE(true, false);
  CAPTURE(fast_path);
  sv::testing::FakeWorld world;
  sv::PoolOptions o = options(1);
  o.lease_fast_path = fast_path;
  sv::Pool pool(world, o);
  pool.start();
  world.advance(1s);
  sv::Lease stale = pool.acquire(0s);
  REQUIRE(stale.valid());
  REQUIRE(stale.worker() == 0);
  const int old_pid = stale.pid();
  // Replaced while leased: worker 1 serves, worker 0 finishes its lease first; it dies meanwhile.
  std::optional<bool> ok;
  pool.replace_async(0, 5s, [&](bool r, std::error_code) { ok = r; });
  world.advance(1s);
  REQUIRE(ok == std::optional<bool>(true));
  REQUIRE(pool.snapshot().workers[0].state == WorkerState::draining);
  world.kill(old_pid);
  world.run_pending();
  REQUIRE(pool.snapshot().workers[0].state == WorkerState::retired);
  // Worker 1 is replaced in turn: the new worker takes slot 0, its incarnations numbered on.
  ok.reset();
  pool.replace_async(1, 5s, [&](bool r, std::error_code) { ok = r; });
  world.advance(1s);
  world.run_pending();
  REQUIRE(ok == std::optional<bool>(true));
  sv::PoolSnapshot s = pool.snapshot();
  REQUIRE(s.workers.size() == 2);
  REQUIRE(s.workers[0].state == WorkerState::ready);
  REQUIRE(s.workers[0].incarnation == 2);
  CHECK(s.workers[0].leases == 0);
  CHECK(s.workers[1].state == WorkerState::retired);
  const int new_pid = s.workers[0].pid;
  CHECK(new_pid != old_pid);
  sv::Lease fresh = pool.acquire(0s);
  REQUIRE(fresh.valid());
  REQUIRE(fresh.worker() == 0);
  REQUIRE(fresh.pid() == new_pid);
  // The old lease names slot 0 too, with its old incarnation: giving it back touches nothing.
  const std::uint64_t leases_before = pool.snapshot().leases;
  stale.release(sv::LeaseOutcome::failure);
  world.run_pending();
  s = pool.snapshot();
  CHECK(s.workers[0].state == WorkerState::leased);
  CHECK(s.workers[0].pid == new_pid);
  CHECK(s.workers[0].incarnation == 2);
  CHECK(s.leases == leases_before);
  CHECK(world.live_pids() == std::vector<int>{new_pid});
  // The new lease still works, and the worker serves the next one.
  fresh.release();
  world.run_pending();
  CHECK(pool.snapshot().workers[0].state == WorkerState::ready);
  sv::Lease next = pool.acquire(0s);
  CHECK(next.valid());
  CHECK(next.pid() == new_pid);
  next.release();
  pool.stop();
  CHECK(world.live_pids().empty());
}

TEST_CASE("1000 rolling restarts reclaim slots: at most size plus twice max_surge",
          "[unit][pool][rollout][reclaim]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, churn_options(4));
  pool.start();
  world.advance(1s);
  // At a time: 4 serving, 2 replacements starting, and up to 2 replaced workers still stopping
  // (a slot is reclaimed once its process ended).
  const std::size_t bound = 4 + 2 * 2;
  std::vector<std::uint64_t> last_incarnation;
  for (int n = 0; n < 1000; ++n) {
    std::optional<sv::RolloutResult> result;
    pool.rolling_restart_async(sv::RollingRestart{2, 0, 5s},
                               [&](sv::RolloutResult r, std::error_code ec) {
                                 CHECK_FALSE(ec);
                                 result = r;
                               });
    for (int step = 0; step < 20 && !result; ++step) {
      world.advance(500ms);
      check_slots(pool.snapshot(), bound, last_incarnation);
    }
    REQUIRE(result.has_value());
    REQUIRE(result->completed);
    REQUIRE(result->replaced == 4);
    world.run_pending();
    REQUIRE(pool.snapshot().ready == 4);
    REQUIRE(world.live_pids().size() == 4);
  }
  const sv::PoolSnapshot s = pool.snapshot();
  CHECK(s.workers.size() <= bound);
  CHECK(total_exits(s) == 4000);
  CHECK(s.restarts == 0);
  pool.stop();
  CHECK(world.live_pids().empty());
}
