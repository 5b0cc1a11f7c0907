// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/error.hpp>
#include <supervisor/worker_state.hpp>

#include <chrono>
#include <set>
#include <string>
#include <utility>

#include "catch_compat.hpp"

namespace sv = supervisor;
using S = sv::WorkerState;
using namespace std::chrono_literals;

namespace {

constexpr S all_states[] = {S::starting, S::ready,   S::leased, S::draining, S::stopping,
                            S::exited,   S::backoff, S::failed, S::retired};

// The table written out a second time, as the design says it, to catch a wrong bit.
const std::set<std::pair<S, S>>& expected_moves() {
  static const std::set<std::pair<S, S>> moves = {
      {S::starting, S::ready},   {S::starting, S::stopping}, {S::starting, S::exited},
      {S::ready, S::leased},     {S::ready, S::draining},    {S::ready, S::stopping},
      {S::ready, S::exited},     {S::leased, S::ready},      {S::leased, S::draining},
      {S::leased, S::stopping},  {S::leased, S::exited},     {S::draining, S::stopping},
      {S::draining, S::exited},  {S::stopping, S::exited},   {S::exited, S::starting},
      {S::exited, S::backoff},   {S::exited, S::failed},     {S::exited, S::retired},
      {S::backoff, S::starting}, {S::backoff, S::failed},    {S::backoff, S::retired},
      {S::failed, S::starting},  {S::failed, S::retired},
  };
  return moves;
}

}  // namespace

TEST_CASE("every pair of states: allowed exactly when the table says so", "[unit][state]") {
  int checked = 0;
  for (S from : all_states) {
    for (S to : all_states) {
      const bool expected = expected_moves().count({from, to}) == 1;
      INFO(sv::to_string(from) << " -> " << sv::to_string(to));
      CHECK(sv::transition_allowed(from, to) == expected);

      sv::WorkerStateMachine m(3, from, sv::TimePoint{1s});
      const auto before = m.incarnation();
      std::error_code ec;
      const auto t = m.transition(to, "test", sv::TimePoint{2s}, ec);
      if (expected) {
        CHECK(!ec);
        CHECK(m.state() == to);
        CHECK(t.from == from);
        CHECK(t.to == to);
        CHECK(t.worker == 3);
        CHECK(t.at == sv::TimePoint{2s});
        CHECK(t.cause == "test");
        CHECK(m.since() == sv::TimePoint{2s});
        CHECK(m.incarnation() == (to == S::starting ? before + 1 : before));
      } else {
        CHECK(ec == sv::errc::invalid_transition);
        CHECK(m.state() == from);  // rejected, never applied
        CHECK(m.since() == sv::TimePoint{1s});
        CHECK(m.incarnation() == before);
      }
      ++checked;
    }
  }
  CHECK(checked == 81);
}

TEST_CASE("retired is terminal and nothing re-enters it twice", "[unit][state]") {
  for (S to : all_states) CHECK_FALSE(sv::transition_allowed(S::retired, to));
  for (S s : all_states) CHECK_FALSE(sv::transition_allowed(s, s));  // no self-loops
}

TEST_CASE("a machine that continues a slot's numbering starts at the next incarnation",
          "[unit][state]") {
  sv::WorkerStateMachine fresh(3, S::backoff, sv::TimePoint{});
  CHECK(fresh.incarnation() == 0);
  CHECK(fresh.transition(S::starting, "start", sv::TimePoint{} + 1s).incarnation == 1);
  sv::WorkerStateMachine reused(3, S::backoff, sv::TimePoint{}, 7);
  CHECK(reused.worker() == 3);
  CHECK(reused.state() == S::backoff);
  CHECK(reused.incarnation() == 7);
  const sv::WorkerTransition t = reused.transition(S::starting, "start", sv::TimePoint{} + 1s);
  CHECK(t.incarnation == 8);
  CHECK(reused.incarnation() == 8);
  CHECK(reused.time_in(S::backoff, sv::TimePoint{} + 1s) == 1s);
}

TEST_CASE("an invalid transition throws, naming both states and the cause", "[unit][state]") {
  sv::WorkerStateMachine m(7);
  try {
    m.transition(S::leased, "acquire", sv::TimePoint{});
    FAIL("no throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_transition);
    const std::string what = e.what();
    CHECK(what.find("worker 7: starting -> leased") != std::string::npos);
    CHECK(what.find("acquire") != std::string::npos);
  }
  CHECK(m.state() == S::starting);
}

TEST_CASE("a full life: incarnations count and time in each state adds up", "[unit][state]") {
  sv::WorkerStateMachine m(0, S::starting, sv::TimePoint{0s});
  CHECK(m.incarnation() == 1);
  m.transition(S::ready, "READY=1", sv::TimePoint{2s});
  m.transition(S::leased, "lease 1", sv::TimePoint{3s});
  m.transition(S::ready, "released", sv::TimePoint{7s});
  m.transition(S::exited, "signal (SIGKILL)", sv::TimePoint{8s});
  m.transition(S::backoff, "restart in 1s", sv::TimePoint{8s});
  const auto t = m.transition(S::starting, "restart", sv::TimePoint{9s});
  CHECK(t.incarnation == 2);
  CHECK(m.incarnation() == 2);
  CHECK(m.time_in(S::starting, sv::TimePoint{10s}) == 3s);  // 2 s, then 1 s so far
  CHECK(m.time_in(S::ready, sv::TimePoint{10s}) == 2s);
  CHECK(m.time_in(S::leased, sv::TimePoint{10s}) == 4s);
  CHECK(m.time_in(S::backoff, sv::TimePoint{10s}) == 1s);
  m.transition(S::exited, "spawn failed", sv::TimePoint{10s});
  m.transition(S::failed, "budget exhausted", sv::TimePoint{10s});
  m.transition(S::retired, "pool stopped", sv::TimePoint{11s});
  CHECK(m.state() == S::retired);
}
