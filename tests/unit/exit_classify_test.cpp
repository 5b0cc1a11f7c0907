// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The exit classification table: every row, its precedence over the rows below it, and the
// pool's verdicts over what the process layer said. No process, no clock.
#include <supervisor/exit_status.hpp>

#include <chrono>
#include <set>
#include <string>

#include "catch_compat.hpp"
#include "process/exit_classify.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;
using namespace std::chrono_literals;

namespace {

constexpr int sigkill = 9;
constexpr int sigterm = 15;
constexpr int sigxcpu = 24;
constexpr int sigsegv = 11;

d::ExitFacts exited(int code) {
  d::ExitFacts f;
  f.exit_code = code;
  return f;
}

d::ExitFacts killed(int signal) {
  d::ExitFacts f;
  f.signal = signal;
  f.kill_signal = signal == sigkill;
  f.cpu_limit_signal = signal == sigxcpu;
  return f;
}

struct Case {
  const char* what;
  d::ExitFacts facts;
  d::ExitRule rule;
  sv::ExitReason reason;
};

}  // namespace

TEST_CASE("each row of the exit table decides the cases it names", "[unit][exit]") {
  std::vector<Case> cases;
  {
    d::ExitFacts f = killed(sigkill);
    f.verdict = d::PoolVerdict::watchdog;
    f.final_kill = true;
    f.stop_requested = true;
    cases.push_back({"the watchdog verdict, over a timeout", f, d::ExitRule::watchdog_verdict,
                     sv::ExitReason::watchdog});
  }
  {
    d::ExitFacts f = killed(sigterm);
    f.verdict = d::PoolVerdict::unhealthy;
    f.stop_requested = true;
    f.died_of_stop_signal = true;
    cases.push_back({"the unhealthy verdict, over a clean stop", f, d::ExitRule::unhealthy_verdict,
                     sv::ExitReason::unhealthy});
  }
  {
    d::ExitFacts f = exited(0);
    f.observed = false;
    cases.push_back(
        {"an exit someone else reaped", f, d::ExitRule::not_observed, sv::ExitReason::unknown});
  }
  cases.push_back({"exit 0", exited(0), d::ExitRule::exited_zero, sv::ExitReason::success});
  cases.push_back({"exit 3", exited(3), d::ExitRule::exited_nonzero, sv::ExitReason::exit_code});
  {
    d::ExitFacts f = exited(1);
    f.wall_time_hit = true;  // it exited on its own, with a code, before the stop landed
    f.stop_requested = true;
    cases.push_back({"an exit code wins over the wall_time stop it answered", f,
                     d::ExitRule::exited_nonzero, sv::ExitReason::exit_code});
  }
  {
    d::ExitFacts f = killed(sigkill);
    f.oom_kills = 1;
    cases.push_back(
        {"the OOM killer's SIGKILL", f, d::ExitRule::oom_killed, sv::ExitReason::oom_kill});
  }
  {
    d::ExitFacts f = killed(sigxcpu);
    f.cpu_time_limit = 1s;
    cases.push_back(
        {"SIGXCPU at the soft cpu_time", f, d::ExitRule::cpu_time, sv::ExitReason::resource_limit});
  }
  {
    d::ExitFacts f = killed(sigkill);
    f.cpu_time_limit = 1s;
    f.cpu_used = 1s;
    cases.push_back({"the kernel's SIGKILL at the hard cpu_time", f, d::ExitRule::cpu_time,
                     sv::ExitReason::resource_limit});
  }
  {
    d::ExitFacts f = killed(sigterm);
    f.wall_time_hit = true;
    f.stop_requested = true;
    f.died_of_stop_signal = true;
    cases.push_back(
        {"stopped at wall_time", f, d::ExitRule::wall_time, sv::ExitReason::resource_limit});
  }
  {
    d::ExitFacts f = killed(sigkill);
    f.final_kill = true;
    f.stop_requested = true;
    cases.push_back({"the plan ran out and the tree was killed", f, d::ExitRule::stop_timed_out,
                     sv::ExitReason::timeout});
  }
  {
    d::ExitFacts f = killed(sigterm);
    f.stop_requested = true;
    f.died_of_stop_signal = true;
    cases.push_back(
        {"died of the plan's SIGTERM", f, d::ExitRule::stop_signal, sv::ExitReason::success});
  }
  {
    d::ExitFacts f = killed(sigsegv);
    f.core_dumped = true;
    cases.push_back({"a crash with a core", f, d::ExitRule::core_dump, sv::ExitReason::core_dump});
  }
  cases.push_back(
      {"SIGKILL from outside", killed(sigkill), d::ExitRule::signal, sv::ExitReason::signal});
  {
    d::ExitFacts f = killed(sigsegv);
    f.stop_requested = true;  // asked to stop, but it crashed of something else
    cases.push_back({"a crash during a stop", f, d::ExitRule::signal, sv::ExitReason::signal});
  }

  std::set<d::ExitRule> covered;
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(d::exit_rule_for(c.facts) == c.rule);
    CHECK(d::classify_exit(c.facts) == c.reason);
    CHECK(d::reason_of(c.rule) == c.reason);
    covered.insert(c.rule);
  }
  CHECK(covered.size() == d::exit_rule_count);  // every row is exercised
}

TEST_CASE("the exit table's precedence: our own kill is never the OOM killer's or a limit's",
          "[unit][exit]") {
  d::ExitFacts f = killed(sigkill);
  f.oom_kills = 2;
  f.cpu_time_limit = 1s;
  f.cpu_used = 5s;
  // Without our kill: the OOM killer (counted) comes first.
  CHECK(d::exit_rule_for(f) == d::ExitRule::oom_killed);
  // With our final kill: neither the OOM count nor the CPU time explains the SIGKILL.
  f.final_kill = true;
  f.stop_requested = true;
  CHECK(d::exit_rule_for(f) == d::ExitRule::stop_timed_out);
  // A cpu_time that was not reached does not explain a SIGKILL.
  d::ExitFacts g = killed(sigkill);
  g.cpu_time_limit = 10s;
  g.cpu_used = 1s;
  CHECK(d::classify_exit(g) == sv::ExitReason::signal);
  // SIGXCPU without a cpu_time limit is just a signal.
  CHECK(d::classify_exit(killed(sigxcpu)) == sv::ExitReason::signal);
}

TEST_CASE("a pool's verdict outranks whatever the process layer said", "[unit][exit]") {
  for (auto r : {sv::ExitReason::success, sv::ExitReason::timeout, sv::ExitReason::signal,
                 sv::ExitReason::unknown, sv::ExitReason::oom_kill}) {
    CHECK(d::with_verdict(r, d::PoolVerdict::watchdog) == sv::ExitReason::watchdog);
    CHECK(d::with_verdict(r, d::PoolVerdict::unhealthy) == sv::ExitReason::unhealthy);
    CHECK(d::with_verdict(r, d::PoolVerdict::none) == r);
  }
}

TEST_CASE("every row of the exit table has a description", "[unit][exit]") {
  for (std::size_t i = 0; i < d::exit_rule_count; ++i) {
    const std::string text = d::describe(static_cast<d::ExitRule>(i));
    CHECK(!text.empty());
    CHECK(text != "?");
  }
  CHECK(std::string(d::describe(static_cast<d::ExitRule>(d::exit_rule_count))) == "?");
}
