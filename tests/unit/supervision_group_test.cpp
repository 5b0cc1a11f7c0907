// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// SupervisionGroup on a FakeWorld: start order, strategies, the budget and its escalation, with
// exact timings.
#include <supervisor/supervision_group.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "catch_compat.hpp"
#include "group_events.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

sv::PoolOptions pool_options(std::size_t size) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = size;
  return o;
}

sv::GroupMember member(std::string name, std::size_t size = 1) {
  sv::GroupMember m;
  m.name = std::move(name);
  m.pool = pool_options(size);
  return m;
}

sv::SupervisionGroupOptions group_of(sv::GroupStrategy strategy, std::size_t size = 1) {
  sv::SupervisionGroupOptions o;
  o.strategy = strategy;
  o.members = {member("a", size), member("b", size), member("c", size)};
  o.intensity = 3;
  o.period = 10s;
  return o;
}

// The member's pool never restarts a worker, and its death is a worker given up on.
void gives_up_at_once(sv::GroupMember& m) {
  m.failure = sv::MemberFailure::worker_gave_up;
  sv::StandardRestartOptions never;
  never.mode = sv::RestartMode::never;
  m.pool.restart_policy = std::make_shared<sv::StandardRestartPolicy>(never);
}

using sv::testing::story;

int pid_of(const sv::SupervisionGroup& group, const std::string& name, std::size_t worker = 0) {
  return group.pool(name)->snapshot().workers.at(worker).pid;
}

// Starts the group on the fake world and runs it until the start is answered.
std::error_code start(sv::testing::FakeWorld& world, sv::SupervisionGroup& group) {
  bool answered = false;
  std::error_code got;
  group.start_async([&](std::error_code ec) {
    answered = true;
    got = ec;
  });
  world.run_pending();
  REQUIRE(answered);
  return got;
}

std::uint64_t incarnation(const sv::SupervisionGroup& group, std::size_t member) {
  return group.snapshot().members.at(member).incarnation;
}

}  // namespace

TEST_CASE("group: options are validated, the error names the field", "[unit][group]") {
  auto bad = [](auto mutate) {
    sv::SupervisionGroupOptions o = group_of(sv::GroupStrategy::one_for_all);
    mutate(o);
    std::error_code ec;
    sv::validate(o, ec);
    CHECK(ec == sv::errc::invalid_argument);
    try {
      sv::validate(o);
    } catch (const sv::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(bad([](auto& o) { o.members.clear(); }).find("SupervisionGroupOptions.members") !=
        std::string::npos);
  CHECK(bad([](auto& o) {
          o.members[1].name.clear();
        }).find("SupervisionGroupOptions.members[1].name: empty") != std::string::npos);
  CHECK(bad([](auto& o) {
          // A copy, not = "a": g++ 12 at -O2 warns of an overlapping memcpy in the latter.
          o.members[2].name = o.members[0].name;
        }).find("members[2].name: \"a\" is not unique") != std::string::npos);
  CHECK(bad([](auto& o) {
          o.members[1].pool.size = 0;
        }).find("members[1].pool (\"b\"): PoolOptions.size") != std::string::npos);
  CHECK(bad([](auto& o) { o.members[0].ready_workers = 2; }).find("members[0].ready_workers: 2") !=
        std::string::npos);
  CHECK(bad([](auto& o) { o.members[0].start_timeout = 0s; }).find("members[0].start_timeout") !=
        std::string::npos);
  CHECK(bad([](auto& o) { o.intensity = 0; }).find("SupervisionGroupOptions.intensity: 0") !=
        std::string::npos);
  CHECK(bad([](auto& o) { o.period = 0s; }).find("SupervisionGroupOptions.period") !=
        std::string::npos);
  CHECK(bad([](auto& o) { o.history_size = 0; }).find("history_size") != std::string::npos);

  sv::testing::FakeWorld world;
  sv::SupervisionGroupOptions o = group_of(sv::GroupStrategy::one_for_all);
  o.intensity = 0;
  CHECK_THROWS_AS(sv::SupervisionGroup(world, o), sv::Error);
  CHECK(sv::to_string(sv::GroupStrategy::rest_for_one) == "rest_for_one");
  CHECK(sv::to_string(sv::MemberFailure::no_ready_worker) == "no_ready_worker");
}

TEST_CASE("group: members start in order, each ready before the next, and stop in reverse",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_one, 2);
  for (auto& m : o.members) m.pool.readiness = sv::Readiness::after(1s);
  o.members[1].ready_workers = 1;  // b counts as started with one of its two ready
  sv::SupervisionGroup group(world, o);
  CHECK(group.pool("a") == nullptr);
  std::error_code ec;
  CHECK(group.pool("nope", ec) == nullptr);
  CHECK(ec == sv::errc::invalid_argument);

  bool answered = false;
  std::error_code got = sv::errc::internal;
  group.start_async([&](std::error_code e) {
    answered = true;
    got = e;
  });
  world.run_pending();
  CHECK(world.spawn_count() == 2);  // a only: b waits for a's readiness
  CHECK(story(group) == std::vector<std::string>{"starting a"});
  world.advance(1s);
  CHECK(world.spawn_count() == 4);
  CHECK(story(group) == std::vector<std::string>{"starting a", "started a", "starting b"});
  CHECK(group.snapshot().state == sv::GroupState::starting);
  world.advance(1s);
  CHECK(world.spawn_count() == 6);
  CHECK_FALSE(answered);
  world.advance(1s);
  REQUIRE(answered);
  CHECK_FALSE(got);
  CHECK(story(group) == std::vector<std::string>{"starting a", "started a", "starting b",
                                                 "started b", "starting c", "started c"});
  const auto snap = group.snapshot();
  CHECK(snap.state == sv::GroupState::running);
  for (const auto& m : snap.members) {
    CHECK(m.state == sv::MemberState::running);
    CHECK(m.incarnation == 1);
    CHECK(m.ready == 2);
  }
  // A second start is refused.
  std::error_code again;
  group.start_async([&](std::error_code e) { again = e; });
  world.run_pending();
  CHECK(again == sv::errc::already_running);

  const std::size_t before = story(group).size();
  group.stop();
  CHECK(world.live_pids().empty());
  CHECK(story(group, before) == std::vector<std::string>{"stopping c", "stopped c", "stopping b",
                                                         "stopped b", "stopping a", "stopped a",
                                                         "group stopped"});
  CHECK(group.snapshot().state == sv::GroupState::stopped);
  // A stopped group does not start again.
  std::error_code after;
  group.start_async([&](std::error_code e) { after = e; });
  world.run_pending();
  CHECK(after == sv::errc::stopped);
  // Blocking start on the loop thread (the fake world's) would wait for itself.
  CHECK_THROWS_AS(group.start(), std::system_error);
}

TEST_CASE("group: a member not ready in time fails the start, naming it, and undoes it",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_all);
  o.members[1].pool.readiness = sv::Readiness::notify(sv::Duration::max());  // never ready
  o.members[1].start_timeout = 5s;
  sv::SupervisionGroup group(world, o);
  bool answered = false;
  std::error_code got;
  group.start_async([&](std::error_code e) {
    answered = true;
    got = e;
  });
  world.run_pending();
  world.advance(4999ms);
  CHECK_FALSE(answered);
  CHECK(world.live_pids().size() == 2);
  world.advance(1ms);
  world.run_pending();
  REQUIRE(answered);
  CHECK(got == sv::errc::timeout);
  CHECK(world.live_pids().empty());
  CHECK(story(group) == std::vector<std::string>{"starting a", "started a", "starting b",
                                                 "start failed b", "stopping b", "stopped b",
                                                 "stopping a", "stopped a", "group stopped"});
  bool named = false;
  for (const auto& e : group.history()) {
    if (const auto* f = std::get_if<sv::MemberStartFailed>(&e.data)) {
      named = f->message.find("member \"b\" did not become ready within 5s (0 of 1") !=
              std::string::npos;
    }
  }
  CHECK(named);
  CHECK(group.snapshot().state == sv::GroupState::stopped);
}

TEST_CASE("group: a first-start spawn error fails the start with the pool's error",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  sv::SupervisionGroup group(world, group_of(sv::GroupStrategy::one_for_all));
  world.fail_next_spawns(1, std::make_error_code(std::errc::no_such_file_or_directory));
  const std::error_code ec = start(world, group);
  CHECK(ec == std::errc::no_such_file_or_directory);
  CHECK(world.live_pids().empty());
  CHECK(story(group) == std::vector<std::string>{"starting a", "start failed a", "stopping a",
                                                 "stopped a", "group stopped"});
}

TEST_CASE("group: one_for_all restarts every member in start order when one dies",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  sv::SupervisionGroup group(world, group_of(sv::GroupStrategy::one_for_all, 2));
  REQUIRE_FALSE(start(world, group));
  const int a = pid_of(group, "a");
  const int b = pid_of(group, "b", 1);
  const int c = pid_of(group, "c");
  const std::size_t before = story(group).size();
  world.kill(b);
  world.run_pending();
  CHECK(story(group, before) == std::vector<std::string>{"died b", "restarting b: a b c",
                                                         "stopping c", "stopped c", "stopping b",
                                                         "stopped b", "stopping a", "stopped a",
                                                         "starting a", "started a", "starting b",
                                                         "started b", "starting c", "started c"});
  CHECK(world.live_pids().size() == 6);
  CHECK(pid_of(group, "a") != a);
  CHECK(pid_of(group, "c") != c);
  for (std::size_t i = 0; i < 3; ++i) CHECK(incarnation(group, i) == 2);
  const auto snap = group.snapshot();
  CHECK(snap.state == sv::GroupState::running);
  CHECK(snap.restarts == 1);
  CHECK(snap.restarts_in_period == 1);
  CHECK(snap.members[1].deaths == 1);
}

TEST_CASE("group: rest_for_one restarts the dead member and those started after it",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  sv::SupervisionGroup group(world, group_of(sv::GroupStrategy::rest_for_one));
  REQUIRE_FALSE(start(world, group));
  const int a = pid_of(group, "a");
  const int c = pid_of(group, "c");
  const auto old_a = group.pool("a");
  const std::size_t before = story(group).size();
  world.kill(pid_of(group, "b"));
  world.run_pending();
  CHECK(story(group, before) == std::vector<std::string>{"died b", "restarting b: b c",
                                                         "stopping c", "stopped c", "stopping b",
                                                         "stopped b", "starting b", "started b",
                                                         "starting c", "started c"});
  CHECK(pid_of(group, "a") == a);
  CHECK(group.pool("a") == old_a);
  CHECK(pid_of(group, "c") != c);
  CHECK(incarnation(group, 0) == 1);
  CHECK(incarnation(group, 1) == 2);
  CHECK(incarnation(group, 2) == 2);
  // The last member's death restarts only itself.
  world.kill(pid_of(group, "c"));
  world.run_pending();
  CHECK(incarnation(group, 1) == 2);
  CHECK(incarnation(group, 2) == 3);
}

TEST_CASE("group: one_for_one leaves the restart to the pool and counts it", "[unit][group]") {
  sv::testing::FakeWorld world;
  sv::SupervisionGroup group(world, group_of(sv::GroupStrategy::one_for_one));
  REQUIRE_FALSE(start(world, group));
  const int b = pid_of(group, "b");
  const std::size_t before = story(group).size();
  world.kill(b);
  world.run_pending();
  CHECK(story(group, before) == std::vector<std::string>{"died b", "restarting b:"});
  world.advance(100ms);  // the pool's own backoff
  CHECK(pid_of(group, "b") != b);
  CHECK(pid_of(group, "b") != 0);
  for (std::size_t i = 0; i < 3; ++i) CHECK(incarnation(group, i) == 1);
  CHECK(group.snapshot().restarts == 1);

  // Exits nobody counts: a clean exit, and the pool's own planned replacement.
  world.exit_code(pid_of(group, "a"), 0);
  world.run_pending();
  const int c = pid_of(group, "c");
  auto pool_c = group.pool("c");
  bool replaced = false;
  pool_c->replace_async(0, 30s, [&](bool r, std::error_code) { replaced = r; });
  world.run_pending();
  CHECK(replaced);
  CHECK(world.stop_requested(c));
  CHECK(group.snapshot().restarts == 1);
}

TEST_CASE("group: one_for_one restarts alone a member whose pool gave up", "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_one);
  gives_up_at_once(o.members[1]);
  sv::SupervisionGroup group(world, o);
  REQUIRE_FALSE(start(world, group));
  const std::size_t before = story(group).size();
  world.kill(pid_of(group, "b"));
  world.run_pending();
  CHECK(story(group, before) == std::vector<std::string>{"died b", "restarting b: b", "stopping b",
                                                         "stopped b", "starting b", "started b"});
  CHECK(group.pool("b")->snapshot().workers[0].state == sv::WorkerState::ready);
  CHECK(incarnation(group, 0) == 1);
  CHECK(incarnation(group, 1) == 2);
}

TEST_CASE("group: no_ready_worker counts a member dead only when none of its workers is up",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_all, 2);
  o.members[0].failure = sv::MemberFailure::no_ready_worker;
  sv::SupervisionGroup group(world, o);
  REQUIRE_FALSE(start(world, group));
  world.kill(pid_of(group, "a", 0));
  world.run_pending();
  CHECK(group.snapshot().restarts == 0);  // one of two is still up
  world.kill(pid_of(group, "a", 1));
  world.run_pending();
  CHECK(group.snapshot().restarts == 1);
  for (std::size_t i = 0; i < 3; ++i) CHECK(incarnation(group, i) == 2);
}

TEST_CASE("group: the budget escalates once when spent, and stops the group", "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_all);
  o.intensity = 2;
  o.period = 10s;
  int escalations = 0;
  sv::GroupEscalated seen;
  o.on_escalation = [&](const sv::GroupEscalated& e) {
    ++escalations;
    seen = e;
  };
  sv::SupervisionGroup group(world, o);
  REQUIRE_FALSE(start(world, group));
  // Deaths spread wider than the period never spend it.
  for (int i = 0; i < 3; ++i) {
    world.kill(pid_of(group, "c"));
    world.run_pending();
    world.advance(6s);
  }
  CHECK(escalations == 0);
  CHECK(group.snapshot().restarts == 3);
  world.advance(10s);
  // Three within the period: the third escalates.
  world.kill(pid_of(group, "b"));
  world.run_pending();
  world.advance(1s);
  world.kill(pid_of(group, "a"));
  world.run_pending();
  CHECK(escalations == 0);
  world.advance(1s);
  world.kill(pid_of(group, "c"));
  world.run_pending();
  CHECK(escalations == 1);
  CHECK(seen.name == "c");
  CHECK(seen.intensity == 2);
  CHECK(seen.stopping);
  CHECK(world.live_pids().empty());
  const auto snap = group.snapshot();
  CHECK(snap.state == sv::GroupState::stopped);
  CHECK(snap.escalated);
  const auto tail = story(group, story(group).size() - 9);
  CHECK(tail == std::vector<std::string>{"died c", "escalated c", "stopping c", "stopped c",
                                         "stopping b", "stopped b", "stopping a", "stopped a",
                                         "group stopped"});
}

TEST_CASE("group: without stop_on_escalation it escalates once and the pools carry on",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_all);
  o.intensity = 1;
  o.stop_on_escalation = false;
  int escalations = 0;
  o.on_escalation = [&](const sv::GroupEscalated&) { ++escalations; };
  sv::SupervisionGroup group(world, o);
  int events = 0;
  group.subscribe([&](const sv::GroupEvent& e) {
    if (std::holds_alternative<sv::GroupEscalated>(e.data)) ++events;
  });
  REQUIRE_FALSE(start(world, group));
  world.kill(pid_of(group, "a"));
  world.run_pending();
  CHECK(incarnation(group, 2) == 2);
  for (int i = 0; i < 3; ++i) {
    world.kill(pid_of(group, "b"));
    world.run_pending();
    world.advance(1s);  // the pool's own restart (its backoff doubles)
  }
  CHECK(escalations == 1);
  CHECK(events == 1);
  CHECK(incarnation(group, 1) == 2);  // no group restart after the escalation
  CHECK(pid_of(group, "b") != 0);     // but the pool restarted its worker
  CHECK(group.snapshot().state == sv::GroupState::running);
  CHECK(group.snapshot().members[1].deaths == 3);
  group.stop();
  CHECK(world.live_pids().empty());
}

TEST_CASE("group: a restart whose member fails to start counts against the budget",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::rest_for_one);
  o.intensity = 2;
  int escalations = 0;
  o.on_escalation = [&](const sv::GroupEscalated&) { ++escalations; };
  sv::SupervisionGroup group(world, o);
  REQUIRE_FALSE(start(world, group));
  const std::size_t before = story(group).size();
  world.fail_next_spawns(100, std::make_error_code(std::errc::permission_denied));
  world.kill(pid_of(group, "b"));
  world.run_pending();
  CHECK(story(group, before) ==
        std::vector<std::string>{
            "died b",       "restarting b: b c", "stopping c", "stopped c",
            "stopping b",   "stopped b",         "starting b", "start failed b",
            "stopping b",   "stopped b",         "died b",     "restarting b: b c",
            "starting b",   "start failed b",    "stopping b", "stopped b",
            "died b",       "escalated b",       "stopping a", "stopped a",
            "group stopped"});
  CHECK(escalations == 1);
  CHECK(world.live_pids().empty());
}

TEST_CASE("group: stop during the start stops what started and answers the start",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_all);
  o.members[1].pool.readiness = sv::Readiness::after(5s);
  sv::SupervisionGroup group(world, o);
  std::error_code got;
  group.start_async([&](std::error_code e) { got = e; });
  world.run_pending();
  world.advance(1s);
  group.stop();
  CHECK(got == sv::errc::stopped);
  CHECK(world.live_pids().empty());
  CHECK(story(group) == std::vector<std::string>{"starting a", "started a", "starting b",
                                                 "stopping b", "stopped b", "stopping a",
                                                 "stopped a", "group stopped"});
}

TEST_CASE("pool: stop_async answers once every worker is gone, and at once when stopped",
          "[unit][group][pool]") {
  sv::testing::FakeWorld world;
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);
  auto o = pool_options(2);
  o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 3s, true}};
  sv::Pool pool(world, o);
  pool.start();
  int answers = 0;
  pool.stop_async([&] { ++answers; });
  CHECK(answers == 0);  // never inside the call
  world.run_pending();
  CHECK(answers == 0);  // the workers ignore SIGTERM: the plan waits
  CHECK(world.live_pids().size() == 2);
  world.advance(3s);
  world.run_pending();
  CHECK(answers == 1);
  CHECK(world.live_pids().empty());
  pool.stop_async([&] { ++answers; });
  world.run_pending();
  CHECK(answers == 2);
}

TEST_CASE("group: a stop while a member restarts waits for each member in reverse order",
          "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::one_for_one);
  gives_up_at_once(o.members[1]);
  o.members[1].pool.readiness = sv::Readiness::after(5s);
  for (auto& m : o.members) m.pool.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 10s}};
  sv::SupervisionGroup group(world, o);
  bool started = false;
  group.start_async([&](std::error_code ec) { started = !ec; });
  world.advance(5s);
  REQUIRE(started);
  world.kill(pid_of(group, "b"));
  world.run_pending();  // b restarts alone, and waits 5 s to be ready again
  CHECK(group.snapshot().members[1].state == sv::MemberState::starting);
  const std::size_t before = story(group).size();
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);  // each stop takes 10 s
  world.advance(1s);
  group.stop();  // returns with c still stopping: the fake world's time stands still
  CHECK(group.snapshot().state == sv::GroupState::stopping);
  world.advance(4s);  // b would be ready now: it must not count, nor jump the queue
  world.advance(60s);
  CHECK(world.live_pids().empty());
  CHECK(story(group, before) == std::vector<std::string>{"stopping c", "stopped c", "stopping b",
                                                         "stopped b", "stopping a", "stopped a",
                                                         "group stopped"});
}

TEST_CASE("group: a death during a restart is handled once the restart is done", "[unit][group]") {
  sv::testing::FakeWorld world;
  auto o = group_of(sv::GroupStrategy::rest_for_one);
  for (auto& m : o.members) m.pool.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 10s}};
  sv::SupervisionGroup group(world, o);
  REQUIRE_FALSE(start(world, group));
  world.set_stop_behavior(sv::testing::StopBehavior::ignore_term);  // each stop takes 10 s
  const std::size_t before = story(group).size();
  world.kill(pid_of(group, "b"));
  world.run_pending();
  CHECK(story(group, before) ==
        std::vector<std::string>{"died b", "restarting b: b c", "stopping c"});
  world.kill(pid_of(group, "a"));  // a is not part of this restart: it waits for its end
  world.advance(120s);
  CHECK(story(group, before) ==
        std::vector<std::string>{
            "died b",     "restarting b: b c",   "stopping c", "stopped c",  "stopping b",
            "stopped b",  "starting b",          "started b",  "starting c", "started c",
            "died a",     "restarting a: a b c", "stopping c", "stopped c",  "stopping b",
            "stopped b",  "stopping a",          "stopped a",  "starting a", "started a",
            "starting b", "started b",           "starting c", "started c"});
  CHECK(incarnation(group, 0) == 2);
  CHECK(incarnation(group, 1) == 3);
  CHECK(incarnation(group, 2) == 3);
  CHECK(group.snapshot().restarts == 2);
}
