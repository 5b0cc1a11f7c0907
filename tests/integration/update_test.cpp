// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Pool::update against real processes: a new version rolled out, and one that never becomes
// ready rolled back with every worker still serving. Every test ends with a leak audit.
#include <supervisor/pool.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

// The test child in mode notify-ready: it says READY=1 with STATUS=<version>, so a snapshot
// shows which version each worker runs.
sv::PoolOptions versioned_pool(const std::string& tag, std::size_t size) {
  auto o = st::child_pool(tag, {"notify-ready", "v1"}, size);
  o.readiness = sv::Readiness::notify(20s);
  return o;
}

sv::PoolUpdate update_to(const sv::PoolOptions& o, const std::string& tag,
                         std::vector<std::string> args) {
  sv::PoolUpdate u;
  u.spec = o.spec;
  u.spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag};
  u.spec.argv.insert(u.spec.argv.end(), args.begin(), args.end());
  return u;
}

// The pool has exactly `n` workers not retired, all ready: the replaced ones have stopped and
// the pool has seen them go.
bool settled(const sv::Pool& pool, std::size_t n) {
  std::size_t live = 0;
  for (const auto& w : pool.snapshot().workers) {
    if (w.state == sv::WorkerState::retired) continue;
    if (w.state != sv::WorkerState::ready) return false;
    ++live;
  }
  return live == n;
}

}  // namespace

TEST_CASE("update: a new version of real workers rolls out, ready-gated",
          "[integration][pool][update]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("update");
  {
    sv::Loop loop;
    const auto o = versioned_pool(tag, 3);
    sv::Pool pool(loop, o);
    st::UpCounter up(pool);
    pool.start();
    REQUIRE(pool.wait_ready(3, 20s));
    REQUIRE(st::wait_until([&] { return up.watch() == 3; }, 5000ms));
    std::set<int> before;
    for (const auto& w : pool.snapshot().workers) before.insert(w.pid);

    auto u = update_to(o, tag, {"notify-ready", "v2"});
    u.strategy.max_surge = 1;
    u.strategy.max_unavailable = 0;
    u.strategy.min_ready = 100ms;
    u.strategy.progress_deadline = 20s;
    const sv::UpdateResult r = pool.update(u);
    INFO(r.why);
    CHECK(r.completed);
    CHECK(r.revision == 2);
    CHECK(r.updated == 3);
    CHECK(up.fewest() == 3);  // surge only: never fewer up than before
    // The replaced workers may still be stopping when it returns.
    CHECK(st::wait_until([&] { return settled(pool, 3); }, 10000ms));
    CHECK(st::processes_with_tag(tag).size() == 3);
    const auto snap = pool.snapshot();
    CHECK(snap.size == 3);
    CHECK(snap.rollout.target_revision == 2);
    CHECK(snap.rollout.old == 0);
    std::size_t live = 0;
    for (const auto& w : snap.workers) {
      if (w.state == sv::WorkerState::retired) continue;
      ++live;
      CHECK(w.state == sv::WorkerState::ready);
      CHECK(w.status == "v2");
      CHECK(w.revision == 2);
      CHECK(before.count(w.pid) == 0);
    }
    CHECK(live == 3);
    CHECK(st::events_of<sv::RolloutProgress>(pool.history()).size() == 3);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("update: a version that never becomes ready is rolled back, every worker serving",
          "[integration][pool][update]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("update-back");
  {
    sv::Loop loop;
    const auto o = versioned_pool(tag, 4);
    sv::Pool pool(loop, o);
    st::UpCounter up(pool);
    pool.start();
    REQUIRE(pool.wait_ready(4, 20s));
    REQUIRE(st::wait_until([&] { return up.watch() == 4; }, 5000ms));

    // It runs, but never says READY=1.
    auto u = update_to(o, tag, {"sleep", "forever"});
    u.strategy.max_surge = sv::percent(25);        // 1
    u.strategy.max_unavailable = sv::percent(25);  // 1
    u.strategy.progress_deadline = 1s;
    const sv::UpdateResult r = pool.update(u);
    INFO(r.why);
    CHECK_FALSE(r.completed);
    CHECK(r.rolled_back);
    CHECK(r.revision == 1);
    CHECK_FALSE(r.why.empty());
    CHECK(up.fewest() >= 3);  // size - max_unavailable
    CHECK(st::wait_until([&] { return settled(pool, 4); }, 10000ms));
    CHECK(st::processes_with_tag(tag).size() == 4);
    const auto snap = pool.snapshot();
    CHECK(snap.size == 4);
    CHECK(snap.ready == 4);
    CHECK(snap.rollout.target_revision == 1);
    CHECK(snap.rollout.old == 0);
    for (const auto& w : snap.workers) {
      if (w.state == sv::WorkerState::retired) continue;
      CHECK(w.state == sv::WorkerState::ready);
      CHECK(w.status == "v1");
      CHECK(w.revision == 1);
    }
    CHECK(st::events_of<sv::RolloutRolledBack>(pool.history()).size() == 1);
    // Every worker serves: four leases at once.
    std::vector<sv::Lease> leases;
    for (int i = 0; i < 4; ++i) leases.push_back(pool.acquire(5s));
    for (const auto& l : leases) CHECK(l.valid());
    leases.clear();
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}
