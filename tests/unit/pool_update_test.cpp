// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Pool::update on a FakeWorld: a new spec rolled out with Deployment semantics (surge,
// unavailability, min_ready, progress deadline) and rolled back when it never becomes ready.
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
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

// Workers say READY=1 themselves (sd_notify): the test decides which versions ever do.
sv::PoolOptions options(std::size_t size) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker-v1"};  // never executed: the world is fake
  o.size = size;
  o.readiness = sv::Readiness::notify(sv::Duration::max());
  return o;
}

sv::PoolUpdate to_version(const std::string& argv0, sv::RolloutStrategy strategy = {}) {
  sv::PoolUpdate u;
  u.spec.argv = {argv0};
  u.strategy = strategy;
  return u;
}

std::string version_of(sv::testing::FakeWorld& world, int pid) {
  const sv::ProcessSpec* spec = world.spec_of(pid);
  return spec != nullptr ? spec->argv.at(0) : std::string();
}

// Every starting worker running one of `versions` says READY=1.
void ready_up(sv::testing::FakeWorld& world, const sv::Pool& pool,
              const std::vector<std::string>& versions) {
  for (const auto& w : pool.snapshot().workers) {
    if (w.state != WorkerState::starting || w.pid == 0) continue;
    const std::string v = version_of(world, w.pid);
    if (std::find(versions.begin(), versions.end(), v) != versions.end())
      world.notify(w.pid, "READY=1");
  }
}

int first_ready_pid(const sv::Pool& pool) {
  for (const auto& w : pool.snapshot().workers) {
    if (w.state == WorkerState::ready) return w.pid;
  }
  return 0;
}

std::size_t up(const sv::PoolSnapshot& s) { return s.ready + s.leased; }

// The versions the live processes of the pool run, one entry per live worker.
std::vector<std::string> live_versions(sv::testing::FakeWorld& world, const sv::Pool& pool) {
  std::vector<std::string> out;
  for (const auto& w : pool.snapshot().workers) {
    if (w.pid != 0 && w.state != WorkerState::retired) out.push_back(version_of(world, w.pid));
  }
  return out;
}

struct Outcome {
  std::optional<sv::UpdateResult> result;
  std::error_code ec;

  // Starts `update` on `pool`, its answer kept here (which must outlive it).
  void start(sv::Pool& pool, const sv::PoolUpdate& update) {
    pool.update_async(update, [this](sv::UpdateResult r, std::error_code e) {
      result = std::move(r);
      ec = e;
    });
  }
};

// Steps time by 100 ms (making `versions` ready), checking the pool never has fewer than
// `min_up` workers up, until the update ends (or a guard of 10 minutes of fake time).
void run_until_done(sv::testing::FakeWorld& world, sv::Pool& pool, const Outcome& out,
                    const std::vector<std::string>& versions, std::size_t min_up) {
  for (int i = 0; i < 6000 && !out.result && !out.ec; ++i) {
    ready_up(world, pool, versions);
    world.run_pending();
    const auto s = pool.snapshot();
    INFO("step " << i);
    REQUIRE(up(s) >= min_up);
    world.advance(100ms);
  }
}

}  // namespace

TEST_CASE("update: a new spec rolls out, ready-gated, and every worker ends on it",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(4));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  REQUIRE(pool.snapshot().ready == 4);
  CHECK(pool.snapshot().rollout.target_revision == 1);

  sv::RolloutStrategy strategy;
  strategy.max_surge = 1;
  strategy.max_unavailable = 0;
  strategy.progress_deadline = 30s;
  Outcome out;
  pool.update_async(to_version("/usr/bin/worker-v2", strategy),
                    [&](sv::UpdateResult r, std::error_code ec) {
                      out.result = std::move(r);
                      out.ec = ec;
                    });
  world.run_pending();
  // Under way: one new worker surges above the size; the old ones all still serve.
  auto s = pool.snapshot();
  CHECK(s.rollout.active);
  CHECK(s.rollout.current_revision == 1);
  CHECK(s.rollout.target_revision == 2);
  CHECK(s.rollout.updated == 1);
  CHECK(s.rollout.ready_updated == 0);
  CHECK(s.rollout.old == 4);
  CHECK(s.ready == 4);
  CHECK(world.live_pids().size() == 5);

  run_until_done(world, pool, out, {"/usr/bin/worker-v1", "/usr/bin/worker-v2"}, 4);
  REQUIRE_FALSE(out.ec);
  REQUIRE(out.result.has_value());
  CHECK(out.result->completed);
  CHECK_FALSE(out.result->rolled_back);
  CHECK(out.result->from_revision == 1);
  CHECK(out.result->to_revision == 2);
  CHECK(out.result->revision == 2);
  CHECK(out.result->updated == 4);
  world.run_pending();
  s = pool.snapshot();
  CHECK_FALSE(s.rollout.active);
  CHECK(s.rollout.current_revision == 2);
  CHECK(s.rollout.updated == 4);
  CHECK(s.rollout.ready_updated == 4);
  CHECK(s.rollout.old == 0);
  CHECK(s.ready == 4);
  CHECK(live_versions(world, pool) == std::vector<std::string>(4, "/usr/bin/worker-v2"));
  for (const auto& w : s.workers) {
    if (w.state != WorkerState::retired) CHECK(w.revision == 2);
  }
  const auto started = events_of<sv::RolloutStarted>(pool);
  REQUIRE(started.size() == 1);
  CHECK(started[0].from_revision == 1);
  CHECK(started[0].to_revision == 2);
  CHECK_FALSE(started[0].rollback);
  const auto progress = events_of<sv::RolloutProgress>(pool);
  REQUIRE(progress.size() == 4);
  CHECK(progress.back().updated == 4);
  CHECK(progress.back().old == 0);
  CHECK(events_of<sv::RolloutRolledBack>(pool).empty());

  // A crash after the rollout restarts on the new spec; so does a scale-up.
  REQUIRE(first_ready_pid(pool) != 0);
  world.kill(first_ready_pid(pool));
  pool.resize(5);
  world.advance(5s);
  CHECK(live_versions(world, pool) == std::vector<std::string>(5, "/usr/bin/worker-v2"));
  pool.stop();
}

TEST_CASE("update: a new version that never becomes ready is rolled back, every worker serving",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(4));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  REQUIRE(pool.snapshot().ready == 4);

  sv::RolloutStrategy strategy;  // 25% / 25% of 4: one above, one below
  strategy.progress_deadline = 10s;
  Outcome out;
  pool.update_async(to_version("/usr/bin/worker-v2", strategy),
                    [&](sv::UpdateResult r, std::error_code ec) {
                      out.result = std::move(r);
                      out.ec = ec;
                    });
  // Only v1 ever says READY=1; the pool never has fewer than size - max_unavailable up.
  run_until_done(world, pool, out, {"/usr/bin/worker-v1"}, 3);
  REQUIRE_FALSE(out.ec);
  REQUIRE(out.result.has_value());
  CHECK_FALSE(out.result->completed);
  CHECK(out.result->rolled_back);
  CHECK(out.result->revision == 1);
  CHECK(out.result->to_revision == 2);
  CHECK_FALSE(out.result->why.empty());
  world.run_pending();
  const auto s = pool.snapshot();
  CHECK(s.ready == 4);
  CHECK(s.size == 4);
  CHECK_FALSE(s.rollout.active);
  CHECK(s.rollout.target_revision == 1);
  CHECK(s.rollout.old == 0);
  CHECK(live_versions(world, pool) == std::vector<std::string>(4, "/usr/bin/worker-v1"));
  for (const auto& w : s.workers) {
    if (w.state != WorkerState::retired) CHECK(w.revision == 1);
  }
  const auto back = events_of<sv::RolloutRolledBack>(pool);
  REQUIRE(back.size() == 1);
  CHECK(back[0].from_revision == 2);
  CHECK(back[0].to_revision == 1);
  const auto started = events_of<sv::RolloutStarted>(pool);
  REQUIRE(started.size() == 2);
  CHECK(started[0].max_surge == 1);
  CHECK(started[0].max_unavailable == 1);
  CHECK(started[1].rollback);
  CHECK(started[1].to_revision == 1);
  pool.stop();
}

TEST_CASE("update: a new worker counts only after min_ready", "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  const int old_pid = pool.snapshot().workers[0].pid;
  sv::RolloutStrategy strategy;
  strategy.max_surge = 1;
  strategy.max_unavailable = 0;
  strategy.min_ready = 5s;
  Outcome out;
  out.start(pool, to_version("/usr/bin/worker-v2", strategy));
  world.run_pending();
  ready_up(world, pool, {"/usr/bin/worker-v2"});
  auto s = pool.snapshot();
  CHECK(s.rollout.ready_updated == 1);
  world.advance(4999ms);
  CHECK_FALSE(out.result.has_value());
  CHECK_FALSE(world.stop_requested(old_pid));  // the old one still serves
  CHECK(events_of<sv::RolloutProgress>(pool).empty());
  world.advance(1ms);
  world.run_pending();
  REQUIRE(out.result.has_value());
  CHECK(out.result->completed);
  CHECK(world.stop_requested(old_pid));
  CHECK(events_of<sv::RolloutProgress>(pool).size() == 1);
  pool.stop();
}

TEST_CASE("update: a new worker that leaves ready during min_ready does not count",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(1));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  sv::RolloutStrategy strategy;
  strategy.max_surge = 1;
  strategy.max_unavailable = 0;
  strategy.min_ready = 5s;
  strategy.progress_deadline = 20s;
  Outcome out;
  out.start(pool, to_version("/usr/bin/worker-v2", strategy));
  world.run_pending();
  ready_up(world, pool, {"/usr/bin/worker-v2"});
  world.advance(2s);
  // The new one dies inside min_ready: the replacement fails, the update rolls back.
  for (const auto& w : pool.snapshot().workers) {
    if (w.pid != 0 && version_of(world, w.pid) == "/usr/bin/worker-v2") world.kill(w.pid);
  }
  run_until_done(world, pool, out, {"/usr/bin/worker-v1"}, 1);
  REQUIRE(out.result.has_value());
  CHECK_FALSE(out.result->completed);
  CHECK(out.result->rolled_back);
  CHECK(events_of<sv::RolloutProgress>(pool).empty());
  CHECK(live_versions(world, pool) == std::vector<std::string>{"/usr/bin/worker-v1"});
  pool.stop();
}

TEST_CASE("update: percentages round as Kubernetes does", "[unit][pool][update]") {
  CHECK(sv::percent(25).resolve(10, true) == 3);   // surge: 2.5 rounds up
  CHECK(sv::percent(25).resolve(10, false) == 2);  // unavailable: 2.5 rounds down
  CHECK(sv::percent(100).resolve(7, false) == 7);
  CHECK(sv::IntOrPercent(3).resolve(10, true) == 3);

  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  sv::RolloutStrategy strategy;
  strategy.max_surge = 0;
  strategy.max_unavailable = sv::percent(10);  // 0.3 of 3 rounds down to 0: then 1, as k8s
  Outcome out;
  out.start(pool, to_version("/usr/bin/worker-v2", strategy));
  world.run_pending();
  const auto started = events_of<sv::RolloutStarted>(pool);
  REQUIRE(started.size() == 1);
  CHECK(started[0].max_surge == 0);
  CHECK(started[0].max_unavailable == 1);
  run_until_done(world, pool, out, {"/usr/bin/worker-v1", "/usr/bin/worker-v2"}, 2);
  REQUIRE(out.result.has_value());
  CHECK(out.result->completed);
  CHECK(live_versions(world, pool) == std::vector<std::string>(3, "/usr/bin/worker-v2"));
  pool.stop();
}

TEST_CASE("update: invalid requests fail with a typed error naming the field",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  const auto error_of = [&](const sv::PoolUpdate& u) {
    std::optional<std::error_code> got;
    pool.update_async(u, [&](sv::UpdateResult, std::error_code ec) { got = ec; });
    world.run_pending();
    REQUIRE(got.has_value());
    return *got;
  };
  sv::RolloutStrategy over;
  over.max_surge = sv::percent(150);
  CHECK(error_of(to_version("/usr/bin/worker-v2", over)) == sv::errc::invalid_spec);
  sv::RolloutStrategy zero;
  zero.max_surge = 0;
  zero.max_unavailable = 0;
  CHECK(error_of(to_version("/usr/bin/worker-v2", zero)) == sv::errc::invalid_spec);
  sv::RolloutStrategy no_deadline;
  no_deadline.progress_deadline = sv::Duration::zero();
  CHECK(error_of(to_version("/usr/bin/worker-v2", no_deadline)) == sv::errc::invalid_spec);
  sv::PoolUpdate empty;  // no argv
  CHECK(error_of(empty) == sv::errc::invalid_spec);

  // The blocking form names the field before it would block.
  try {
    (void)pool.update(to_version("/usr/bin/worker-v2", over));
    FAIL("no error");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_spec);
    CHECK(std::string(e.what()).find("PoolUpdate.strategy.max_surge") != std::string::npos);
  }
  std::error_code ec;
  (void)pool.update(empty, ec);
  CHECK(ec == sv::errc::invalid_spec);

  // What a pool's spec may not hold, as PoolOptions.spec: a stdin pipe, the identity variables.
  sv::PoolUpdate piped = to_version("/usr/bin/worker-v2");
  piped.spec.in = sv::StdioSpec::pipe();
  (void)pool.update(piped, ec);
  CHECK(ec == sv::errc::invalid_spec);
  sv::PoolUpdate own_index = to_version("/usr/bin/worker-v2");
  static_assert(sv::worker_index_variable == "SUPERVISOR_WORKER_INDEX");
  // emplace, not operator[] and =: GCC 12 reports a false -Wrestrict for that at -O2 (tsan).
  own_index.spec.env.set.emplace("SUPERVISOR_WORKER_INDEX", "7");
  try {
    (void)pool.update(own_index);
    FAIL("no error");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_spec);
    CHECK(std::string(e.what()).find("PoolUpdate.spec.env.set") != std::string::npos);
  }
  // ... nor a rotating log file every worker would share.
  sv::PoolUpdate shared_log = to_version("/usr/bin/worker-v2");
  shared_log.spec.out = sv::StdioSpec::log_file("/var/log/app.log", 1024, 2);
  try {
    (void)pool.update(shared_log);
    FAIL("no error");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_spec);
    CHECK(std::string(e.what()).find("PoolUpdate.spec.out.path") != std::string::npos);
  }

  // One rollout at a time.
  Outcome first;
  pool.update_async(to_version("/usr/bin/worker-v2"),
                    [&](sv::UpdateResult r, std::error_code) { first.result = std::move(r); });
  CHECK(error_of(to_version("/usr/bin/worker-v3")) == sv::errc::already_running);
  std::optional<std::error_code> restart;
  pool.rolling_restart_async({}, [&](sv::RolloutResult, std::error_code e) { restart = e; });
  world.run_pending();
  CHECK(restart == std::error_code(sv::errc::already_running));
  run_until_done(world, pool, first, {"/usr/bin/worker-v1", "/usr/bin/worker-v2"}, 1);
  REQUIRE(first.result.has_value());
  CHECK(first.result->completed);
  pool.stop();
}

TEST_CASE("update: an old worker that crashes mid-rollout restarts on the old spec",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  sv::RolloutStrategy strategy;
  strategy.max_surge = 1;
  strategy.max_unavailable = 0;
  Outcome out;
  out.start(pool, to_version("/usr/bin/worker-v2", strategy));
  world.run_pending();
  // Worker 2 waits its turn (worker 0's replacement is starting); it crashes.
  const int crashed = pool.snapshot().workers[2].pid;
  world.kill(crashed);
  for (int i = 0; i < 600 && (pool.snapshot().workers[2].pid == 0 ||
                              pool.snapshot().workers[2].pid == crashed);
       ++i)
    world.advance(100ms);
  const auto w2 = pool.snapshot().workers[2];
  REQUIRE(w2.pid != 0);
  REQUIRE(w2.pid != crashed);
  CHECK(version_of(world, w2.pid) == "/usr/bin/worker-v1");  // as its ReplicaSet would
  CHECK(w2.revision == 1);
  // ... and is replaced in its turn: the rollout still ends with every worker on v2.
  run_until_done(world, pool, out, {"/usr/bin/worker-v1", "/usr/bin/worker-v2"}, 2);
  REQUIRE(out.result.has_value());
  CHECK(out.result->completed);
  world.run_pending();
  CHECK(live_versions(world, pool) == std::vector<std::string>(3, "/usr/bin/worker-v2"));
  pool.stop();
}

TEST_CASE("update: stopping the pool mid-rollout answers the update", "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  Outcome out;
  pool.update_async(to_version("/usr/bin/worker-v2"), [&](sv::UpdateResult r, std::error_code ec) {
    out.result = std::move(r);
    out.ec = ec;
  });
  world.run_pending();
  REQUIRE(pool.snapshot().rollout.active);
  bool stopped = false;
  pool.stop_async([&] { stopped = true; });
  for (int i = 0; i < 100 && !stopped; ++i) world.advance(100ms);
  CHECK(stopped);
  REQUIRE((out.result.has_value() || out.ec));
  if (out.result) {
    CHECK_FALSE(out.result->completed);
    CHECK_FALSE(out.result->rolled_back);
  }
  CHECK(world.live_pids().empty());
}

namespace {

// A readiness check with a fixed answer.
class Fixed final : public sv::HealthCheckStrategy {
 public:
  explicit Fixed(bool up) : up_(up) {}
  void probe(const sv::ProbeTarget&, sv::ProbeCallback done) override {
    done(up_ ? sv::ProbeResult::healthy() : sv::ProbeResult::unhealthy("not yet"));
  }
  [[nodiscard]] std::string name() const override { return up_ ? "up" : "down"; }

 private:
  bool up_;
};

std::vector<sv::HealthCheck> readiness_check(bool up) {
  sv::ProbeTiming t;
  t.period = 500ms;
  return {{std::make_shared<Fixed>(up), sv::ProbeRole::readiness, t}};
}

}  // namespace

TEST_CASE("update: the new version's own checks gate it, and a rollback restores the old ones",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));  // no checks
  pool.start();
  const std::vector<std::string> all = {"/usr/bin/worker-v1", "/usr/bin/worker-v2"};
  ready_up(world, pool, all);
  sv::RolloutStrategy strategy;
  strategy.max_surge = 1;
  strategy.max_unavailable = 0;
  strategy.progress_deadline = 5s;

  // v2 says READY=1, but its readiness check never passes: rolled back.
  auto u = to_version("/usr/bin/worker-v2", strategy);
  u.health_checks = readiness_check(false);
  Outcome out;
  out.start(pool, u);
  run_until_done(world, pool, out, all, 2);
  REQUIRE(out.result.has_value());
  CHECK(out.result->rolled_back);
  CHECK(pool.snapshot().probes > 0);
  world.run_pending();
  CHECK(pool.snapshot().ready == 2);
  // The old workers run without checks again: a restart is ready on READY=1 alone.
  const auto probes = pool.snapshot().probes;
  REQUIRE(first_ready_pid(pool) != 0);
  world.kill(first_ready_pid(pool));
  for (int i = 0; i < 100 && pool.snapshot().ready < 2; ++i) {
    world.advance(100ms);
    ready_up(world, pool, all);
  }
  CHECK(pool.snapshot().ready == 2);
  CHECK(pool.snapshot().probes == probes);

  // With a check that passes, the same version rolls out.
  u.health_checks = readiness_check(true);
  Outcome again;
  pool.update_async(u, [&](sv::UpdateResult r, std::error_code) { again.result = std::move(r); });
  run_until_done(world, pool, again, all, 2);
  REQUIRE(again.result.has_value());
  CHECK(again.result->completed);
  CHECK(again.result->revision == 3);  // revision numbers are never reused
  world.run_pending();
  CHECK(live_versions(world, pool) == std::vector<std::string>(2, "/usr/bin/worker-v2"));

  // Checks are validated as PoolOptions' are, the field named.
  sv::PoolUpdate bad = to_version("/usr/bin/worker-v3");
  bad.health_checks = std::vector<sv::HealthCheck>{{nullptr, sv::ProbeRole::readiness, {}}};
  try {
    (void)pool.update(bad);
    FAIL("no error");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("PoolUpdate.health_checks[0].strategy") != std::string::npos);
  }
  pool.stop();
}

TEST_CASE(
    "update: a worker stopping to restart when the rollout reaches it restarts on the new "
    "spec",
    "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  const std::vector<std::string> all = {"/usr/bin/worker-v1", "/usr/bin/worker-v2"};
  ready_up(world, pool, all);
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);  // it stays `stopping` a while
  const int stopping_pid = pool.snapshot().workers[1].pid;
  pool.restart_worker(1);
  world.run_pending();
  REQUIRE(pool.snapshot().workers[1].state == WorkerState::stopping);
  sv::RolloutStrategy strategy;
  strategy.max_surge = 1;
  strategy.max_unavailable = 0;
  Outcome out;
  out.start(pool, to_version("/usr/bin/worker-v2", strategy));
  run_until_done(world, pool, out, all, 0);
  REQUIRE(out.result.has_value());
  CHECK(out.result->completed);
  for (int i = 0; i < 600 && live_versions(world, pool).size() != 2; ++i) {
    world.advance(100ms);
    ready_up(world, pool, all);
  }
  world.run_pending();
  const std::vector<int> live = world.live_pids();
  CHECK(std::find(live.begin(), live.end(), stopping_pid) == live.end());
  CHECK(live_versions(world, pool) == std::vector<std::string>(2, "/usr/bin/worker-v2"));
  CHECK(pool.snapshot().rollout.old == 0);
  pool.stop();
}

TEST_CASE("update: a replacement already under way when it starts is followed by the update",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(2));
  pool.start();
  const std::vector<std::string> all = {"/usr/bin/worker-v1", "/usr/bin/worker-v2"};
  ready_up(world, pool, all);
  std::optional<bool> replaced;
  pool.replace_async(0, 30s, [&](bool ok, std::error_code) { replaced = ok; });
  world.run_pending();  // its new worker starts on v1, not ready yet
  sv::RolloutStrategy strategy;
  strategy.max_surge = 1;
  strategy.max_unavailable = 0;
  Outcome out;
  out.start(pool, to_version("/usr/bin/worker-v2", strategy));
  world.run_pending();
  run_until_done(world, pool, out, all, 1);
  REQUIRE(out.result.has_value());
  CHECK(out.result->completed);
  CHECK(replaced == std::optional<bool>(true));
  for (int i = 0; i < 100 && pool.snapshot().rollout.old != 0; ++i) world.advance(100ms);
  world.run_pending();
  CHECK(pool.snapshot().rollout.old == 0);
  CHECK(live_versions(world, pool) == std::vector<std::string>(2, "/usr/bin/worker-v2"));
  pool.stop();
}

TEST_CASE("update: a new version that crashes on start, restarted in place, is rolled back",
          "[unit][pool][update]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3));
  pool.start();
  ready_up(world, pool, {"/usr/bin/worker-v1"});
  sv::RolloutStrategy strategy;
  strategy.max_surge = 0;
  strategy.max_unavailable = 1;
  strategy.progress_deadline = 5s;
  Outcome out;
  out.start(pool, to_version("/usr/bin/worker-v2", strategy));
  for (int i = 0; i < 6000 && !out.result; ++i) {
    for (const int pid : world.live_pids()) {
      if (version_of(world, pid) == "/usr/bin/worker-v2") world.exit_code(pid, 3);
    }
    ready_up(world, pool, {"/usr/bin/worker-v1"});
    world.run_pending();
    REQUIRE(up(pool.snapshot()) >= 2);  // size - max_unavailable
    world.advance(100ms);
  }
  REQUIRE(out.result.has_value());
  CHECK(out.result->rolled_back);
  for (int i = 0; i < 100 && pool.snapshot().ready < 3; ++i) {
    world.advance(100ms);
    ready_up(world, pool, {"/usr/bin/worker-v1"});
  }
  CHECK(pool.snapshot().ready == 3);
  CHECK(live_versions(world, pool) == std::vector<std::string>(3, "/usr/bin/worker-v1"));
  CHECK(pool.snapshot().rollout.old == 0);
  pool.stop();
}
