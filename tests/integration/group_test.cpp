// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// supervisor::SupervisionGroup against real processes: strategies restart real pools in order,
// and the budget escalates once. Every test ends with a leak audit.
#include <supervisor/supervision_group.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "group_events.hpp"
#include "leak_audit.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;
using st::story;

namespace {

sv::PoolOptions sleeper_pool(const std::string& tag, std::size_t size) {
  sv::PoolOptions o;
  o.spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "sleep", "forever"};
  o.spec.out = sv::StdioSpec::null();
  o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 2s, true}};
  o.size = size;
  sv::StandardRestartOptions r;
  r.backoff = sv::BackoffOptions::fixed(10ms);
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  return o;
}

// Three members, "a", "b" (a single process) and "c", of two, one and two workers.
sv::SupervisionGroupOptions three(const std::string& tag, sv::GroupStrategy strategy) {
  sv::SupervisionGroupOptions o;
  o.strategy = strategy;
  sv::GroupMember a;
  a.name = "a";
  a.pool = sleeper_pool(tag, 2);
  sv::GroupMember b = sv::GroupMember::single("b", sleeper_pool(tag, 1).spec);
  sv::GroupMember c;
  c.name = "c";
  c.pool = sleeper_pool(tag, 2);
  o.members = {a, b, c};
  o.intensity = 3;
  o.period = 60s;
  for (auto& m : o.members) m.start_timeout = 20s;
  return o;
}

struct Member {
  std::shared_ptr<sv::Pool> pool;
  std::set<int> pids;
};

// Each member's pool now, and the pids of its workers.
std::map<std::string, Member> members_of(const sv::SupervisionGroup& group) {
  std::map<std::string, Member> out;
  for (const char* name : {"a", "b", "c"}) {
    Member m;
    m.pool = group.pool(name);
    for (const auto& w : m.pool->snapshot().workers) {
      if (w.pid != 0) m.pids.insert(w.pid);
    }
    out[name] = m;
  }
  return out;
}

// Waits until the group runs again with every member at `incarnations` (a, b, c).
bool wait_restarted(const sv::SupervisionGroup& group, std::vector<std::uint64_t> incarnations) {
  return st::wait_until(
      [&] {
        const auto s = group.snapshot();
        if (s.state != sv::GroupState::running) return false;
        for (std::size_t i = 0; i < s.members.size(); ++i) {
          if (s.members[i].state != sv::MemberState::running ||
              s.members[i].incarnation != incarnations[i])
            return false;
        }
        return true;
      },
      20000ms);
}

// When a pool's first worker was spawned, and when its last worker ended.
sv::TimePoint first_spawn(const sv::Pool& pool) {
  const auto h = pool.history();
  for (const auto& e : h) {
    if (std::holds_alternative<sv::WorkerSpawned>(e.data)) return e.at;
  }
  return sv::TimePoint::max();
}
sv::TimePoint last_exit(const sv::Pool& pool) {
  sv::TimePoint last{};
  for (const auto& e : pool.history()) {
    if (std::holds_alternative<sv::WorkerExited>(e.data)) last = e.at;
  }
  return last;
}

int first_pid(const Member& m) { return *m.pids.begin(); }

}  // namespace

TEST_CASE("group: one_for_all restarts every real pool in start order when one worker dies",
          "[integration][group]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("group-all");
  {
    sv::Loop loop;
    sv::SupervisionGroup group(loop, three(tag, sv::GroupStrategy::one_for_all));
    group.start();
    CHECK(story(group) == std::vector<std::string>{"starting a", "started a", "starting b",
                                                   "started b", "starting c", "started c"});
    const auto before = members_of(group);
    for (const auto& [name, m] : before) CHECK(m.pids.size() == (name == "b" ? 1u : 2u));
    CHECK(st::wait_until([&] { return st::processes_with_tag(tag).size() == 5; }, 5000ms));
    // Each member started once the one before was ready: its first spawn comes after theirs.
    CHECK(first_spawn(*before.at("a").pool) < first_spawn(*before.at("b").pool));
    CHECK(first_spawn(*before.at("b").pool) < first_spawn(*before.at("c").pool));

    const std::size_t seen = group.history().size();
    ::kill(first_pid(before.at("b")), SIGKILL);
    REQUIRE(wait_restarted(group, {2, 2, 2}));
    CHECK(story(group, seen) == std::vector<std::string>{"died b", "restarting b: a b c",
                                                         "stopping c", "stopped c", "stopping b",
                                                         "stopped b", "stopping a", "stopped a",
                                                         "starting a", "started a", "starting b",
                                                         "started b", "starting c", "started c"});
    const auto after = members_of(group);
    std::set<int> old_pids;
    for (const auto& [name, m] : before) old_pids.insert(m.pids.begin(), m.pids.end());
    for (const auto& [name, m] : after) {
      CHECK(m.pool != before.at(name).pool);
      for (int pid : m.pids) CHECK(old_pids.count(pid) == 0);
      // The old pool is stopped for good, every worker of it retired.
      for (const auto& w : before.at(name).pool->snapshot().workers)
        CHECK(w.state == sv::WorkerState::retired);
    }
    // Everything was down before anything started again, then they started in order.
    sv::TimePoint all_down{};
    for (const auto& [name, m] : before) all_down = std::max(all_down, last_exit(*m.pool));
    CHECK(all_down < first_spawn(*after.at("a").pool));
    CHECK(first_spawn(*after.at("a").pool) < first_spawn(*after.at("b").pool));
    CHECK(first_spawn(*after.at("b").pool) < first_spawn(*after.at("c").pool));
    CHECK(st::wait_until([&] { return st::processes_with_tag(tag).size() == 5; }, 5000ms));

    const std::size_t stopped_at = group.history().size();
    group.stop();
    CHECK(story(group, stopped_at) ==
          std::vector<std::string>{"stopping c", "stopped c", "stopping b", "stopped b",
                                   "stopping a", "stopped a", "group stopped"});
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("group: rest_for_one restarts only the real pools started after the dead one",
          "[integration][group]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("group-rest");
  {
    sv::Loop loop;
    sv::SupervisionGroup group(loop, three(tag, sv::GroupStrategy::rest_for_one));
    group.start();
    const auto before = members_of(group);
    const std::size_t seen = group.history().size();
    ::kill(first_pid(before.at("b")), SIGKILL);
    REQUIRE(wait_restarted(group, {1, 2, 2}));
    CHECK(story(group, seen) == std::vector<std::string>{"died b", "restarting b: b c",
                                                         "stopping c", "stopped c", "stopping b",
                                                         "stopped b", "starting b", "started b",
                                                         "starting c", "started c"});
    const auto after = members_of(group);
    CHECK(after.at("a").pool == before.at("a").pool);
    CHECK(after.at("a").pids == before.at("a").pids);  // untouched
    CHECK(st::events_of<sv::WorkerExited>(*after.at("a").pool).empty());
    CHECK(after.at("b").pids != before.at("b").pids);
    CHECK(after.at("c").pool != before.at("c").pool);
    for (int pid : after.at("c").pids) CHECK(before.at("c").pids.count(pid) == 0);
    CHECK(first_spawn(*after.at("b").pool) < first_spawn(*after.at("c").pool));
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("group: a spent budget escalates exactly once and stops the real group",
          "[integration][group]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("group-budget");
  {
    sv::Loop loop;
    auto o = three(tag, sv::GroupStrategy::one_for_all);
    o.intensity = 2;
    o.period = 60s;
    std::atomic<int> callbacks{0};
    std::mutex mu;
    sv::GroupEscalated escalated;  // (mu) what the callback got, checked here: Catch is not
                                   // thread-safe, and the callback runs on the loop thread
    o.on_escalation = [&](const sv::GroupEscalated& e) {
      std::lock_guard lock(mu);
      escalated = e;
      ++callbacks;
    };
    sv::SupervisionGroup group(loop, o);
    std::atomic<int> events{0};
    group.subscribe([&](const sv::GroupEvent& e) {
      if (std::holds_alternative<sv::GroupEscalated>(e.data)) ++events;
    });
    group.start();
    ::kill(first_pid(members_of(group).at("a")), SIGKILL);
    REQUIRE(wait_restarted(group, {2, 2, 2}));
    ::kill(first_pid(members_of(group).at("b")), SIGKILL);
    REQUIRE(wait_restarted(group, {3, 3, 3}));
    CHECK(callbacks == 0);
    ::kill(first_pid(members_of(group).at("c")), SIGKILL);
    REQUIRE(
        st::wait_until([&] { return group.snapshot().state == sv::GroupState::stopped; }, 20000ms));
    CHECK(callbacks == 1);
    CHECK(events == 1);
    {
      std::lock_guard lock(mu);
      CHECK(escalated.name == "c");
      CHECK(escalated.stopping);
      CHECK(escalated.intensity == 2);
    }
    const auto snap = group.snapshot();
    CHECK(snap.escalated);
    CHECK(snap.restarts == 2);
    for (const auto& m : snap.members) CHECK(m.state == sv::MemberState::stopped);
    CHECK(story(group).back() == "group stopped");
    CHECK(st::processes_with_tag(tag).empty());
    group.stop();  // idempotent
    CHECK(callbacks == 1);
  }
  REQUIRE_CLEAN(audit, tag);
}
