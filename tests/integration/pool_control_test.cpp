// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Lease control and revival against real processes: lease deadlines, broken outcomes, the calls
// on one worker, revive. Every test ends with a leak audit.
#include <supervisor/pool.hpp>

#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;
using st::events_of;

namespace {

// Waits (a failure guard, not a timing) until worker `i` runs incarnation `inc` and is ready.
bool ready_again(const sv::Pool& pool, std::size_t i, std::uint64_t inc) {
  return st::wait_until(
      [&] {
        const auto s = pool.snapshot();
        return s.workers[i].incarnation == inc && s.workers[i].state == sv::WorkerState::ready;
      },
      10000ms);
}

}  // namespace

TEST_CASE("a hung job is stopped by its lease deadline, and the worker starts again",
          "[integration][pool][control]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-deadline");
  {
    sv::Loop loop;
    sv::Pool pool(loop, st::pool_for(tag, {"sleep", "forever"}, 1));
    pool.start();
    REQUIRE(pool.wait_ready(1, 10s));
    // The job never answers: the host just holds the lease.
    sv::Lease lease = pool.acquire(sv::AcquireOptions{5s, 300ms});
    REQUIRE(lease.valid());
    const int hung = lease.pid();
    REQUIRE(st::wait_until([&] { return lease.expired(); }, 10000ms));
    REQUIRE(ready_again(pool, 0, 2));
    const auto snap = pool.snapshot();
    CHECK(snap.workers[0].pid != hung);
    CHECK(snap.lease_expirations == 1);
    REQUIRE(snap.workers[0].last_exit.has_value());
    CHECK(snap.workers[0].last_exit->stop_requested);  // its StopPlan ended it
    CHECK(snap.workers[0].last_exit->signal == SIGTERM);
    const auto expired = events_of<sv::LeaseExpired>(pool);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].incarnation == 1);
    CHECK(expired[0].held >= 300ms);
    // The late release is harmless: the new worker stays ready, and can be leased.
    lease.release();
    sv::Lease next = pool.acquire(5s);
    REQUIRE(next.valid());
    CHECK(next.incarnation() == 2);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a lease released `broken` replaces its worker with a new process",
          "[integration][pool][control]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-broken");
  {
    sv::Loop loop;
    sv::Pool pool(loop, st::pool_for(tag, {"sleep", "forever"}, 1));
    pool.start();
    REQUIRE(pool.wait_ready(1, 10s));
    sv::Lease lease = pool.acquire(5s);  // from the lease desk's fast path
    REQUIRE(lease.valid());
    const int broken = lease.pid();
    lease.release(sv::LeaseOutcome::broken);
    REQUIRE(ready_again(pool, 0, 2));
    const auto snap = pool.snapshot();
    CHECK(snap.workers[0].pid != broken);
    CHECK(snap.broken_leases == 1);
    CHECK(events_of<sv::RestartScheduled>(pool).empty());  // replaced, not restarted by policy
    sv::Lease next = pool.acquire(5s);
    REQUIRE(next.valid());
    CHECK(next.pid() != broken);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("signal_worker, kill_worker and restart_worker act on one real worker",
          "[integration][pool][control]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-control");
  {
    sv::Loop loop;
    sv::Pool pool(loop, st::pool_for(tag, {"sleep", "forever"}, 3));
    pool.start();
    REQUIRE(pool.wait_ready(3, 10s));
    const auto before = pool.snapshot();

    // SIGUSR1 ends the sleeping child (its default action): the restart policy restarts it.
    pool.signal_worker(0, sv::Signal::user1);
    REQUIRE(ready_again(pool, 0, 2));
    // kill: the tree at once, started again at once.
    pool.kill_worker(1);
    REQUIRE(ready_again(pool, 1, 2));
    // restart: the StopPlan (SIGTERM), then a new process.
    pool.restart_worker(2);
    REQUIRE(ready_again(pool, 2, 2));

    const auto snap = pool.snapshot();
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(snap.workers[i].pid != before.workers[i].pid);
      REQUIRE(snap.workers[i].last_exit.has_value());
    }
    CHECK(snap.workers[0].last_exit->signal == SIGUSR1);
    CHECK_FALSE(snap.workers[0].last_exit->stop_requested);
    CHECK(snap.workers[1].last_exit->signal == SIGKILL);
    CHECK(snap.workers[2].last_exit->signal == SIGTERM);
    CHECK(snap.workers[2].last_exit->stop_requested);
    const auto scheduled = events_of<sv::RestartScheduled>(pool);
    REQUIRE(scheduled.size() == 1);  // only the signalled one went through the policy
    CHECK(scheduled[0].worker == 0);

    // Unknown and retired workers, each way.
    std::error_code ec;
    pool.signal_worker(7, sv::Signal::user1, ec);
    CHECK(ec == sv::errc::unknown_worker);
    pool.resize(2);
    REQUIRE(st::wait_until(
        [&] { return pool.snapshot().workers[2].state == sv::WorkerState::retired; }, 10000ms));
    pool.kill_worker(2, ec);
    CHECK(ec == sv::errc::unknown_worker);
    pool.restart_worker(2, ec);
    CHECK(ec == sv::errc::unknown_worker);
    CHECK_THROWS_AS(pool.signal_worker(2, sv::Signal::user1), std::system_error);
    try {
      pool.kill_worker(9);
    } catch (const std::system_error& e) {
      CHECK(e.code() == sv::errc::unknown_worker);
      CHECK(std::string(e.what()).find("no worker 9") != std::string::npos);
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("revive brings back a worker whose fast crashes exhausted its budget",
          "[integration][pool][revive]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-revive");
  {
    sv::Loop loop;
    auto o = st::pool_for(tag, {"exit", "3"}, 1);
    sv::StandardRestartOptions r;
    r.backoff = sv::BackoffOptions::fixed(5ms);
    r.budget = {3, 60s};
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
    sv::Pool pool(loop, o);
    pool.start();
    auto failed = [&] { return pool.snapshot().workers[0].state == sv::WorkerState::failed; };
    REQUIRE(st::wait_until(failed, 10000ms));
    CHECK(events_of<sv::WorkerExited>(pool).size() == 4);
    std::error_code ec;
    pool.signal_worker(0, sv::Signal::user1, ec);
    CHECK(ec == sv::errc::not_running);  // no process to signal
    // Revived with a fresh budget: it runs (and crashes) four more times before failing again.
    CHECK(pool.revive() == 1);
    REQUIRE(st::wait_until(
        [&] { return failed() && events_of<sv::WorkerGaveUp>(pool).size() == 2; }, 10000ms));
    CHECK(events_of<sv::WorkerExited>(pool).size() == 8);
    CHECK(pool.snapshot().workers[0].incarnation == 8);
    pool.revive(0);
    REQUIRE(st::wait_until(
        [&] { return failed() && events_of<sv::WorkerGaveUp>(pool).size() == 3; }, 10000ms));
    CHECK(events_of<sv::WorkerExited>(pool).size() == 12);
  }
  REQUIRE_CLEAN(audit, tag);
}
