// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Health checks on a FakeWorld: Kubernetes timing (initial delay, period, timeout, thresholds)
// and the three roles, exactly, on a manual clock. The check is scripted by the test, which is
// also how a user tests a check of their own.
#include <supervisor/health.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::HealthStatus;
using sv::WorkerState;

namespace {

// Answers every probe with `answer` at once, unless `hold` is set: then the test answers.
class ScriptedCheck : public sv::HealthCheckStrategy {
 public:
  void probe(const sv::ProbeTarget& target, sv::ProbeCallback done) override {
    ++probes;
    last_target = target;
    if (throws) throw std::runtime_error("scripted failure");
    if (hold) {
      held.push_back(std::move(done));
    } else {
      done(sv::ProbeResult{answer, "scripted"});
    }
  }
  void cancel(const sv::ProbeTarget& /*target*/) override { ++cancels; }
  [[nodiscard]] std::string name() const override { return "scripted"; }

  HealthStatus answer = HealthStatus::healthy;
  bool hold = false;
  bool throws = false;
  int probes = 0;
  int cancels = 0;
  sv::ProbeTarget last_target;
  std::vector<sv::ProbeCallback> held;
};

sv::PoolOptions options_with(std::vector<sv::HealthCheck> checks) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = 1;
  o.health_checks = std::move(checks);
  return o;
}

sv::ProbeTiming timing(sv::Duration initial, sv::Duration period, int successes, int failures,
                       sv::Duration timeout = 1s) {
  sv::ProbeTiming t;
  t.initial_delay = initial;
  t.period = period;
  t.timeout = timeout;
  t.success_threshold = successes;
  t.failure_threshold = failures;
  return t;
}

using sv::testing::events_of;

sv::WorkerSnapshot worker(const sv::Pool& pool) { return pool.snapshot().workers.at(0); }

// acquire(0) on the fake world: a lease now, or the error.
std::error_code try_acquire(sv::Pool& pool) {
  std::error_code ec;
  sv::Lease l = pool.acquire(0s, ec);
  return ec;
}

}  // namespace

TEST_CASE("health: liveness runs on Kubernetes timing and stops a worker after N failures",
          "[unit][health]") {
  sv::testing::FakeWorld world;
  auto check = std::make_shared<ScriptedCheck>();
  sv::Pool pool(world, options_with({{check, sv::ProbeRole::liveness, timing(5s, 10s, 1, 3)}}));
  pool.start();
  const int first = worker(pool).pid;
  CHECK(worker(pool).state == WorkerState::ready);  // liveness does not gate readiness
  world.advance(4999ms);
  CHECK(check->probes == 0);  // the initial delay
  world.advance(1ms);
  CHECK(check->probes == 1);
  CHECK(check->last_target.pid == first);
  CHECK(check->last_target.incarnation == 1);
  world.advance(10s);
  CHECK(check->probes == 2);  // then every period
  CHECK(worker(pool).health == HealthStatus::healthy);

  check->answer = HealthStatus::unhealthy;
  world.advance(10s);  // failure 1
  world.advance(10s);  // failure 2
  CHECK(worker(pool).pid == first);
  CHECK(worker(pool).health == HealthStatus::unhealthy);
  world.advance(10s);  // failure 3: stopped with its StopPlan
  CHECK(check->probes == 5);
  const auto exits = events_of<sv::WorkerExited>(pool);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].status.reason == sv::ExitReason::unhealthy);
  CHECK(pool.snapshot().health_stops == 1);
  CHECK(pool.snapshot().probe_failures == 3);
  // The restart policy saw an abnormal exit and restarts it (default: 100 ms).
  world.advance(100ms);
  CHECK(worker(pool).state == WorkerState::ready);
  CHECK(worker(pool).pid != first);
  // The new incarnation starts its checks afresh: the initial delay again.
  check->answer = HealthStatus::healthy;
  const int before = check->probes;
  world.advance(4900ms);
  CHECK(check->probes == before);
  world.advance(100ms);
  CHECK(check->probes == before + 1);
  CHECK(check->last_target.incarnation == 2);
  // Each verdict change was an event naming the check and its role.
  const auto changes = events_of<sv::HealthChanged>(pool);
  REQUIRE(changes.size() >= 3);
  CHECK(changes[0].check == "scripted");
  CHECK(changes[0].role == sv::ProbeRole::liveness);
  CHECK(changes[0].status == HealthStatus::healthy);
  pool.stop();
}

TEST_CASE("health: readiness gates leases without touching the process", "[unit][health]") {
  sv::testing::FakeWorld world;
  auto check = std::make_shared<ScriptedCheck>();
  check->answer = HealthStatus::unhealthy;
  sv::Pool pool(world, options_with({{check, sv::ProbeRole::readiness, timing(0s, 1s, 2, 2)}}));
  pool.start();
  const int pid = worker(pool).pid;
  world.run_pending();
  // Started, but not ready: readiness fails until it passes.
  CHECK(worker(pool).state == WorkerState::starting);
  CHECK_FALSE(worker(pool).serving);
  CHECK(try_acquire(pool) == sv::errc::lease_timeout);
  check->answer = HealthStatus::healthy;
  world.advance(1s);  // success 1 of 2
  CHECK(worker(pool).state == WorkerState::starting);
  world.advance(1s);  // success 2: ready
  CHECK(worker(pool).state == WorkerState::ready);
  CHECK(worker(pool).serving);
  CHECK_FALSE(try_acquire(pool));

  check->answer = HealthStatus::unhealthy;
  world.advance(1s);
  CHECK(worker(pool).serving);  // one failure is not enough
  world.advance(1s);
  CHECK_FALSE(worker(pool).serving);
  CHECK(pool.snapshot().ready == 0);
  CHECK(try_acquire(pool) == sv::errc::lease_timeout);
  CHECK(worker(pool).pid == pid);  // left running
  CHECK(world.live_pids().size() == 1);

  // A waiter is served as soon as the worker passes again.
  std::error_code waited = sv::errc::internal;
  pool.acquire_async(10s, [&](sv::Lease l, std::error_code ec) {
    waited = ec;
    l.release();
  });
  check->answer = HealthStatus::degraded;  // counts as a pass
  world.advance(1s);
  world.advance(1s);
  CHECK_FALSE(waited);
  CHECK(worker(pool).health == HealthStatus::degraded);
  pool.stop();
}

TEST_CASE("health: a startup check holds back the others, failing it stops the worker",
          "[unit][health]") {
  sv::testing::FakeWorld world;
  auto startup = std::make_shared<ScriptedCheck>();
  auto liveness = std::make_shared<ScriptedCheck>();
  startup->hold = true;
  sv::Pool pool(world, options_with({{startup, sv::ProbeRole::startup, timing(0s, 1s, 1, 3)},
                                     {liveness, sv::ProbeRole::liveness, timing(0s, 1s, 1, 3)}}));
  pool.start();
  world.run_pending();
  CHECK(startup->probes == 1);
  CHECK(worker(pool).state == WorkerState::starting);  // not serving before startup passes
  // No answer: each probe times out after 1 s (cancelled, a failure), the next comes a period
  // later: probes at 0, 2 and 4 s, failures at 1, 3 and 5 s; the third stops the worker.
  world.advance(4999ms);
  CHECK(startup->probes == 3);
  CHECK(startup->cancels == 2);
  CHECK(events_of<sv::WorkerExited>(pool).empty());
  world.advance(1ms);
  CHECK(startup->cancels == 3);
  CHECK(liveness->probes == 0);  // never began
  const auto exits = events_of<sv::WorkerExited>(pool);
  REQUIRE(exits.size() == 1);
  CHECK(exits[0].status.reason == sv::ExitReason::unhealthy);

  // The next incarnation passes its startup check: the liveness check begins, and the startup
  // one is never run again.
  startup->hold = false;
  world.advance(100ms);  // the restart delay
  REQUIRE(worker(pool).state == WorkerState::ready);
  CHECK(worker(pool).incarnation == 2);
  const int startup_probes = startup->probes;
  world.advance(5s);
  CHECK(startup->probes == startup_probes);
  CHECK(liveness->probes == 6);  // at 0, 1, ..., 5 s
  pool.stop();
}

TEST_CASE("health: a late answer after the timeout is ignored, a throwing check fails",
          "[unit][health]") {
  sv::testing::FakeWorld world;
  auto check = std::make_shared<ScriptedCheck>();
  check->hold = true;
  sv::Pool pool(world, options_with({{check, sv::ProbeRole::liveness, timing(0s, 5s, 1, 2, 2s)}}));
  pool.start();
  world.run_pending();
  REQUIRE(check->held.size() == 1);
  world.advance(2s);  // timed out: failure 1
  CHECK(check->cancels == 1);
  CHECK(worker(pool).health == HealthStatus::unhealthy);
  check->held[0](sv::ProbeResult::healthy("too late"));
  world.run_pending();
  CHECK(worker(pool).health == HealthStatus::unhealthy);  // not counted
  CHECK(pool.snapshot().probes == 1);

  check->hold = false;
  check->throws = true;
  world.advance(5s);  // failure 2: the exception counts as a failed probe
  CHECK(pool.snapshot().strategy_errors == 1);
  CHECK(events_of<sv::WorkerExited>(pool).size() == 1);
  CHECK(events_of<sv::WorkerExited>(pool)[0].status.reason == sv::ExitReason::unhealthy);
  pool.stop();
}

TEST_CASE("health: a composite check reports the worst answer and why", "[unit][health]") {
  auto a = std::make_shared<ScriptedCheck>();
  auto b = std::make_shared<ScriptedCheck>();
  auto c = std::make_shared<ScriptedCheck>();
  sv::CompositeCheck all({a, b, c});
  CHECK(all.name() == "all(scripted,scripted,scripted)");
  sv::ProbeResult got;
  auto run = [&] { all.probe(sv::ProbeTarget{}, [&](sv::ProbeResult r) { got = std::move(r); }); };
  run();
  CHECK(got.status == HealthStatus::healthy);
  b->answer = HealthStatus::degraded;
  run();
  CHECK(got.status == HealthStatus::degraded);
  c->answer = HealthStatus::unhealthy;
  run();
  CHECK(got.status == HealthStatus::unhealthy);
  CHECK(got.detail.find("unhealthy") != std::string::npos);
  // Answers that come later (any thread, any order) are gathered the same way.
  a->hold = true;
  got = {};
  run();
  CHECK(got.status == HealthStatus::unknown);  // not answered yet: untouched
  a->held.back()(sv::ProbeResult::healthy());
  CHECK(got.status == HealthStatus::unhealthy);
  c->throws = true;
  a->hold = false;
  run();
  CHECK(got.status == HealthStatus::unhealthy);
  CHECK(got.detail.find("threw") != std::string::npos);
}

TEST_CASE("health: the built-in network and exec checks answer unknown on a fake world",
          "[unit][health]") {
  sv::ProbeResult got;
  auto into = [&](sv::ProbeResult r) { got = std::move(r); };
  sv::TcpCheck("127.0.0.1", 1).probe(sv::ProbeTarget{}, into);
  CHECK(got.status == HealthStatus::unknown);
  sv::HttpCheck("127.0.0.1", 1).probe(sv::ProbeTarget{}, into);
  CHECK(got.status == HealthStatus::unknown);
  sv::ExecCheck({"/bin/true"}).probe(sv::ProbeTarget{}, into);
  CHECK(got.status == HealthStatus::unknown);
  CHECK(got.detail.find("real Loop") != std::string::npos);
}
