// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/circuit_breaker.hpp>
#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "catch_compat.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::BreakerState;

namespace {

const sv::TimePoint t0{1000s};

// Records every transition the breaker reports.
struct Recorder {
  std::vector<sv::BreakerTransition> seen;
  void attach(sv::CircuitBreaker& b) {
    b.set_listener([this](const sv::BreakerTransition& t) { seen.push_back(t); });
  }
  [[nodiscard]] bool saw(BreakerState from, BreakerState to) const {
    for (const auto& t : seen) {
      if (t.from == from && t.to == to) return true;
    }
    return false;
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

sv::BreakerOptions small_options() {
  sv::BreakerOptions o;
  o.window_size = 10;
  o.minimum_calls = 4;
  o.failure_rate_threshold = 50.0;
  o.wait_in_open = 30s;
  o.permitted_calls_in_half_open = 2;
  return o;
}

// Permits and reports one call that failed (or succeeded) at `now`.
void fail_at(sv::SlidingWindowBreaker& b, sv::TimePoint now, sv::Duration took = 1ms) {
  REQUIRE(b.try_acquire(now));
  b.on_failure(took, now);
}
void succeed_at(sv::SlidingWindowBreaker& b, sv::TimePoint now, sv::Duration took = 1ms) {
  REQUIRE(b.try_acquire(now));
  b.on_success(took, now);
}

// Trips a breaker built from small_options() at t0.
void trip(sv::SlidingWindowBreaker& b) {
  for (int i = 0; i < 4; ++i) fail_at(b, t0);
  REQUIRE(b.state(t0) == BreakerState::open);
}

std::string validation_message(const sv::BreakerOptions& o) {
  try {
    sv::validate(o);
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_argument);
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("breaker states and window types have names", "[unit][breaker]") {
  CHECK(sv::to_string(BreakerState::closed) == "closed");
  CHECK(sv::to_string(BreakerState::open) == "open");
  CHECK(sv::to_string(BreakerState::half_open) == "half_open");
  CHECK(sv::to_string(BreakerState::disabled) == "disabled");
  CHECK(sv::to_string(BreakerState::forced_open) == "forced_open");
  CHECK(sv::to_string(sv::SlidingWindowType::count_based) == "count_based");
  CHECK(sv::to_string(sv::SlidingWindowType::time_based) == "time_based");
}

TEST_CASE("default options are valid and documented", "[unit][breaker]") {
  const sv::BreakerOptions o;
  CHECK(o.window_type == sv::SlidingWindowType::count_based);
  CHECK(o.window_size == 100);
  CHECK(o.minimum_calls == 5);
  CHECK(o.failure_rate_threshold == 50.0);
  CHECK(o.slow_call_rate_threshold == 100.0);
  CHECK(o.slow_call_duration == 60s);
  CHECK(o.wait_in_open == 60s);
  CHECK(o.permitted_calls_in_half_open == 10);
  CHECK(o.max_wait_in_half_open == 0s);
  CHECK_FALSE(o.automatic_open_to_half_open);
  std::error_code ec;
  sv::validate(o, ec);
  CHECK(!ec);
  auto b = sv::SlidingWindowBreaker::create(o);
  REQUIRE(b);
  CHECK(b->state(t0) == BreakerState::closed);
  CHECK(b->options().window_size == 100);
}

TEST_CASE("invalid options name the field and the value", "[unit][breaker]") {
  struct Case {
    const char* expected;
    void (*mutate)(sv::BreakerOptions&);
  };
  const Case cases[] = {
      {"BreakerOptions.window_size: 0 is outside 1 .. 1000000 calls",
       [](sv::BreakerOptions& o) { o.window_size = 0; }},
      {"BreakerOptions.window_size: 1000001 is outside 1 .. 1000000 calls",
       [](sv::BreakerOptions& o) { o.window_size = 1'000'001; }},
      {"BreakerOptions.window_size: 86401 is outside 1 .. 86400 seconds",
       [](sv::BreakerOptions& o) {
         o.window_type = sv::SlidingWindowType::time_based;
         o.window_size = 86'401;
       }},
      {"BreakerOptions.window_type: 7 is not a SlidingWindowType",
       [](sv::BreakerOptions& o) { o.window_type = static_cast<sv::SlidingWindowType>(7); }},
      {"BreakerOptions.minimum_calls: -1 is less than 1",
       [](sv::BreakerOptions& o) { o.minimum_calls = -1; }},
      {"BreakerOptions.failure_rate_threshold: 0 is outside (0, 100] percent",
       [](sv::BreakerOptions& o) { o.failure_rate_threshold = 0.0; }},
      {"BreakerOptions.failure_rate_threshold: 150 is outside (0, 100] percent",
       [](sv::BreakerOptions& o) { o.failure_rate_threshold = 150.0; }},
      {"BreakerOptions.failure_rate_threshold: nan is outside",
       [](sv::BreakerOptions& o) {
         o.failure_rate_threshold = std::numeric_limits<double>::quiet_NaN();
       }},
      {"BreakerOptions.slow_call_rate_threshold: 100.5 is outside (0, 100] percent",
       [](sv::BreakerOptions& o) { o.slow_call_rate_threshold = 100.5; }},
      {"BreakerOptions.slow_call_duration: 0s is not positive",
       [](sv::BreakerOptions& o) { o.slow_call_duration = 0s; }},
      {"BreakerOptions.wait_in_open: -5s is not positive",
       [](sv::BreakerOptions& o) { o.wait_in_open = -5s; }},
      {"BreakerOptions.permitted_calls_in_half_open: 0 is less than 1",
       [](sv::BreakerOptions& o) { o.permitted_calls_in_half_open = 0; }},
      {"BreakerOptions.max_wait_in_half_open: -250ms is negative (0 waits for every trial call)",
       [](sv::BreakerOptions& o) { o.max_wait_in_half_open = -250ms; }},
  };
  for (const Case& c : cases) {
    INFO(c.expected);
    sv::BreakerOptions o;
    c.mutate(o);
    const std::string message = validation_message(o);
    CHECK(contains(message, c.expected));

    std::error_code ec;
    sv::validate(o, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK(ec == std::errc::invalid_argument);

    ec.clear();
    CHECK(sv::SlidingWindowBreaker::create(o, ec) == nullptr);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK_THROWS_AS(sv::SlidingWindowBreaker::create(o), sv::Error);
  }
  // Boundaries that are valid.
  sv::BreakerOptions edge;
  edge.window_size = 1;
  edge.minimum_calls = 1;
  edge.failure_rate_threshold = 100.0;
  edge.slow_call_rate_threshold = 0.001;
  edge.slow_call_duration = 1ns;
  edge.wait_in_open = 1ns;
  edge.permitted_calls_in_half_open = 1;
  std::error_code ec;
  CHECK(sv::SlidingWindowBreaker::create(edge, ec) != nullptr);
  CHECK(!ec);
}

TEST_CASE("closed trips on the failure rate only once minimum_calls are recorded",
          "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  Recorder rec;
  rec.attach(*b);

  // Three failures out of three: 100%, but below minimum_calls (4).
  for (int i = 0; i < 3; ++i) fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::closed);
  auto m = b->metrics(t0);
  CHECK(m.buffered_calls == 3);
  CHECK(m.failed_calls == 3);
  CHECK(m.failure_rate == 100.0);  // reported even below the minimum
  CHECK(m.minimum_calls == 4);
  CHECK(rec.seen.empty());

  // The fourth outcome reaches the minimum: 4 of 4 failed.
  fail_at(*b, t0 + 1s);
  CHECK(b->state(t0 + 1s) == BreakerState::open);
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].from == BreakerState::closed);
  CHECK(rec.seen[0].to == BreakerState::open);
  CHECK(rec.seen[0].at == t0 + 1s);
  CHECK(contains(rec.seen[0].reason,
                 "failure rate 100.0% reached the 50.0% threshold over the last 4 call(s)"));
  // The open state shows the numbers that tripped it.
  m = b->metrics(t0 + 1s);
  CHECK(m.state == BreakerState::open);
  CHECK(m.buffered_calls == 4);
  CHECK(m.failure_rate == 100.0);
}

TEST_CASE("a rate below the threshold keeps the breaker closed, reaching it trips",
          "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  // 1 failure in 4 = 25%, then 2 in 5 = 40%, then 3 in 6 = 50% (>= threshold trips).
  succeed_at(*b, t0);
  succeed_at(*b, t0);
  succeed_at(*b, t0);
  fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::closed);
  fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::closed);
  CHECK(b->metrics(t0).failure_rate == 40.0);
  fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::open);
}

TEST_CASE("minimum_calls above a count window's size is clamped to the size", "[unit][breaker]") {
  sv::BreakerOptions o;
  o.window_size = 3;
  o.minimum_calls = 50;
  auto b = sv::SlidingWindowBreaker::create(o);
  CHECK(b->metrics(t0).minimum_calls == 3);
  fail_at(*b, t0);
  fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::closed);
  fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::open);
}

TEST_CASE("the slow-call rate trips the breaker even when every call succeeds", "[unit][breaker]") {
  sv::BreakerOptions o = small_options();
  o.slow_call_duration = 2s;
  o.slow_call_rate_threshold = 75.0;
  auto b = sv::SlidingWindowBreaker::create(o);
  Recorder rec;
  rec.attach(*b);

  succeed_at(*b, t0, 2s);  // exactly the threshold duration is not slow
  succeed_at(*b, t0, 3s);
  succeed_at(*b, t0, 3s);
  succeed_at(*b, t0, 3s);  // 3 slow of 4 = 75%
  CHECK(b->state(t0) == BreakerState::open);
  REQUIRE(rec.seen.size() == 1);
  CHECK(contains(rec.seen[0].reason,
                 "slow-call rate 75.0% (calls over 2s) reached the 75.0% threshold"));
  const auto m = b->metrics(t0);
  CHECK(m.slow_calls == 3);
  CHECK(m.failed_calls == 0);
  CHECK(m.slow_call_rate == 75.0);
}

TEST_CASE("slow failures count towards both rates", "[unit][breaker]") {
  sv::BreakerOptions o = small_options();
  o.minimum_calls = 10;
  o.slow_call_duration = 1s;
  auto b = sv::SlidingWindowBreaker::create(o);
  fail_at(*b, t0, 5s);
  succeed_at(*b, t0, 5s);
  succeed_at(*b, t0);
  succeed_at(*b, t0);
  const auto m = b->metrics(t0);
  CHECK(m.failed_calls == 1);
  CHECK(m.slow_calls == 2);
  CHECK(m.failure_rate == 25.0);
  CHECK(m.slow_call_rate == 50.0);
}

TEST_CASE("open refuses calls, counts them and ignores late outcomes", "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  trip(*b);
  CHECK(b->next_transition_at(t0) == t0 + 30s);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(b->try_acquire(t0 + 10s));
  CHECK(b->metrics(t0 + 10s).not_permitted_calls == 5);
  // A call permitted before the trip that finishes now changes nothing.
  b->on_success(1ms, t0 + 11s);
  b->on_failure(1ms, t0 + 11s);
  b->release(t0 + 11s);
  const auto m = b->metrics(t0 + 11s);
  CHECK(m.state == BreakerState::open);
  CHECK(m.buffered_calls == 4);
  CHECK(m.not_permitted_calls == 5);
  // Just before the end of the wait: still open.
  CHECK_FALSE(b->try_acquire(t0 + 30s - 1ns));
  CHECK(b->metrics(t0 + 30s - 1ns).not_permitted_calls == 6);
}

TEST_CASE("after the wait, the next try_acquire goes half-open and is a trial call",
          "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  Recorder rec;
  rec.attach(*b);
  trip(*b);
  // Without automatic transitions the state stays open, however long nobody calls.
  CHECK(b->state(t0 + 30s) == BreakerState::open);
  CHECK(b->state(t0 + 1h) == BreakerState::open);
  REQUIRE(rec.seen.size() == 1);

  CHECK(b->try_acquire(t0 + 1h));
  CHECK(b->state(t0 + 1h) == BreakerState::half_open);
  REQUIRE(rec.seen.size() == 2);
  CHECK(rec.seen[1].from == BreakerState::open);
  CHECK(rec.seen[1].to == BreakerState::half_open);
  CHECK(rec.seen[1].at == t0 + 1h);
  CHECK(contains(rec.seen[1].reason, "wait_in_open of 30s elapsed; 2 trial call(s) permitted"));
  const auto m = b->metrics(t0 + 1h);
  CHECK(m.buffered_calls == 0);  // the trial window starts empty
  CHECK(m.minimum_calls == 2);
  CHECK(b->next_transition_at(t0 + 1h) == std::nullopt);  // no max wait: waits for the trials
}

TEST_CASE("automatic_open_to_half_open moves on in state(now) without a call", "[unit][breaker]") {
  sv::BreakerOptions o = small_options();
  o.automatic_open_to_half_open = true;
  auto b = sv::SlidingWindowBreaker::create(o);
  Recorder rec;
  rec.attach(*b);
  trip(*b);
  CHECK(b->state(t0 + 30s - 1ns) == BreakerState::open);
  CHECK(b->next_transition_at(t0 + 1s) == t0 + 30s);
  CHECK(b->state(t0 + 30s) == BreakerState::half_open);
  REQUIRE(rec.seen.size() == 2);
  CHECK(rec.seen[1].to == BreakerState::half_open);
  CHECK(rec.seen[1].at == t0 + 30s);
  // The trial permits are all still there.
  CHECK(b->try_acquire(t0 + 31s));
  CHECK(b->try_acquire(t0 + 31s));
  CHECK_FALSE(b->try_acquire(t0 + 31s));
}

TEST_CASE("half-open permits exactly N trial calls, release returns a permit", "[unit][breaker]") {
  sv::BreakerOptions o = small_options();
  o.permitted_calls_in_half_open = 3;
  auto b = sv::SlidingWindowBreaker::create(o);
  trip(*b);
  const sv::TimePoint t = t0 + 30s;
  CHECK(b->try_acquire(t));
  CHECK(b->try_acquire(t));
  CHECK(b->try_acquire(t));
  CHECK_FALSE(b->try_acquire(t));
  CHECK_FALSE(b->try_acquire(t));
  CHECK(b->metrics(t).not_permitted_calls == 2);
  b->release(t);  // one trial was cancelled: its permit comes back
  CHECK(b->try_acquire(t));
  CHECK_FALSE(b->try_acquire(t));
  // Outcomes do not return permits: the trial window is fixed.
  b->on_success(1ms, t);
  CHECK_FALSE(b->try_acquire(t));
  CHECK(b->state(t) == BreakerState::half_open);
}

TEST_CASE("trial outcomes close the breaker or open it again", "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());  // 2 trials, 50% threshold
  Recorder rec;
  rec.attach(*b);
  trip(*b);

  SECTION("trials below the thresholds close it with a fresh window") {
    const sv::TimePoint t = t0 + 30s;
    REQUIRE(b->try_acquire(t));
    REQUIRE(b->try_acquire(t));
    b->on_success(1ms, t);
    CHECK(b->state(t) == BreakerState::half_open);  // one trial outcome is not enough
    b->on_success(1ms, t);
    CHECK(b->state(t) == BreakerState::closed);
    REQUIRE(rec.seen.size() == 3);
    CHECK(rec.seen[2].from == BreakerState::half_open);
    CHECK(rec.seen[2].to == BreakerState::closed);
    CHECK(contains(rec.seen[2].reason,
                   "trial calls passed: failure rate 0.0% and slow-call rate "
                   "0.0% are below their thresholds over 2 trial call(s)"));
    const auto m = b->metrics(t);
    CHECK(m.buffered_calls == 0);
    CHECK(m.minimum_calls == 4);
    // It trips again from scratch.
    for (int i = 0; i < 3; ++i) fail_at(*b, t + 1s);
    CHECK(b->state(t + 1s) == BreakerState::closed);
  }

  SECTION("trials at the failure threshold open it for another wait") {
    const sv::TimePoint t = t0 + 40s;
    REQUIRE(b->try_acquire(t));
    REQUIRE(b->try_acquire(t));
    b->on_success(1ms, t);
    b->on_failure(1ms, t + 1s);  // 1 of 2 = 50%
    CHECK(b->state(t + 1s) == BreakerState::open);
    REQUIRE(rec.seen.size() == 3);
    CHECK(rec.seen[2].from == BreakerState::half_open);
    CHECK(rec.seen[2].to == BreakerState::open);
    CHECK(contains(rec.seen[2].reason,
                   "trial calls failed: failure rate 50.0% reached the 50.0% "
                   "threshold over 2 trial call(s)"));
    const auto m = b->metrics(t + 1s);
    CHECK(m.buffered_calls == 2);  // the trials that reopened it
    CHECK(m.failed_calls == 1);
    CHECK(b->next_transition_at(t + 1s) == t + 1s + 30s);
    CHECK_FALSE(b->try_acquire(t + 30s));
    CHECK(b->try_acquire(t + 31s));
  }
}

TEST_CASE("in half-open an outcome without an outstanding trial permit is ignored",
          "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  trip(*b);
  const sv::TimePoint t = t0 + 30s;
  REQUIRE(b->try_acquire(t));  // now half-open, one trial out
  b->on_failure(1ms, t);       // the trial
  b->on_failure(1ms, t);       // a straggler from before the trip: not a trial
  CHECK(b->state(t) == BreakerState::half_open);
  CHECK(b->metrics(t).buffered_calls == 1);
}

TEST_CASE("max_wait_in_half_open reopens a breaker whose trials do not finish", "[unit][breaker]") {
  sv::BreakerOptions o = small_options();
  o.max_wait_in_half_open = 10s;
  auto b = sv::SlidingWindowBreaker::create(o);
  Recorder rec;
  rec.attach(*b);
  trip(*b);
  const sv::TimePoint t = t0 + 30s;
  REQUIRE(b->try_acquire(t));
  REQUIRE(b->try_acquire(t));
  b->on_success(1ms, t + 1s);
  CHECK(b->next_transition_at(t + 1s) == t + 10s);
  CHECK(b->state(t + 10s - 1ns) == BreakerState::half_open);
  CHECK(b->state(t + 10s) == BreakerState::open);
  REQUIRE(rec.seen.size() == 3);
  CHECK(rec.seen[2].from == BreakerState::half_open);
  CHECK(rec.seen[2].to == BreakerState::open);
  CHECK(rec.seen[2].at == t + 10s);
  CHECK(contains(rec.seen[2].reason,
                 "no decision within max_wait_in_half_open of 10s (1 of 2 trial call(s) "
                 "completed)"));
  // The missing trial reports late: it is ignored, and the wait starts at the reopening.
  b->on_success(1ms, t + 11s);
  CHECK(b->state(t + 11s) == BreakerState::open);
  CHECK(b->next_transition_at(t + 11s) == t + 10s + 30s);
}

TEST_CASE("max_wait_in_half_open is also enforced on try_acquire and outcomes", "[unit][breaker]") {
  sv::BreakerOptions o = small_options();
  o.max_wait_in_half_open = 5s;
  auto b = sv::SlidingWindowBreaker::create(o);
  trip(*b);
  const sv::TimePoint t = t0 + 30s;
  REQUIRE(b->try_acquire(t));
  // The trial outcome arrives after the deadline: the breaker reopened first.
  b->on_success(1ms, t + 6s);
  CHECK(b->state(t + 6s) == BreakerState::open);
  CHECK_FALSE(b->try_acquire(t + 7s));
}

TEST_CASE("a count window keeps only the last N outcomes", "[unit][breaker]") {
  sv::BreakerOptions o;
  o.window_size = 4;
  o.minimum_calls = 4;
  o.failure_rate_threshold = 75.0;
  auto b = sv::SlidingWindowBreaker::create(o);
  // F F S S: 50%.
  fail_at(*b, t0);
  fail_at(*b, t0);
  succeed_at(*b, t0);
  succeed_at(*b, t0);
  auto m = b->metrics(t0);
  CHECK(m.buffered_calls == 4);
  CHECK(m.failure_rate == 50.0);
  // S evicts the oldest F: F S S S = 25%; another S evicts the second F: 0%.
  succeed_at(*b, t0);
  m = b->metrics(t0);
  CHECK(m.buffered_calls == 4);
  CHECK(m.failed_calls == 1);
  succeed_at(*b, t0);
  CHECK(b->metrics(t0).failed_calls == 0);
  // Three failures now make S F F F = 75%: trips, which the old failures alone would have.
  fail_at(*b, t0);
  fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::closed);
  fail_at(*b, t0);
  CHECK(b->state(t0) == BreakerState::open);
  m = b->metrics(t0);
  CHECK(m.buffered_calls == 4);
  CHECK(m.failed_calls == 3);
}

TEST_CASE("a time window forgets the seconds that slide out of it", "[unit][breaker]") {
  sv::BreakerOptions o;
  o.window_type = sv::SlidingWindowType::time_based;
  o.window_size = 10;  // seconds
  o.minimum_calls = 4;
  o.failure_rate_threshold = 50.0;
  auto b = sv::SlidingWindowBreaker::create(o);
  Recorder rec;
  rec.attach(*b);

  // Three failures in second 0 and one success in second 5.
  fail_at(*b, t0);
  fail_at(*b, t0 + 300ms);
  fail_at(*b, t0 + 999ms);
  CHECK(b->metrics(t0 + 5s).buffered_calls == 3);
  // Second 10 is the first that no longer sees second 0.
  CHECK(b->metrics(t0 + 9s + 999ms).buffered_calls == 3);
  CHECK(b->metrics(t0 + 10s).buffered_calls == 0);
  // Those failures have expired, so a fourth call does not reach the minimum.
  fail_at(*b, t0 + 10s);
  CHECK(b->state(t0 + 10s) == BreakerState::closed);
  auto m = b->metrics(t0 + 10s);
  CHECK(m.buffered_calls == 1);
  CHECK(m.failure_rate == 100.0);

  // Spread over the window: seconds 10, 12, 15, 19 -> four failures in the last 10 s trip it.
  fail_at(*b, t0 + 12s);
  fail_at(*b, t0 + 15s);
  CHECK(b->state(t0 + 15s) == BreakerState::closed);
  fail_at(*b, t0 + 19s + 500ms);
  CHECK(b->state(t0 + 19s + 500ms) == BreakerState::open);
  REQUIRE(rec.seen.size() == 1);
  CHECK(contains(rec.seen[0].reason, "over 4 call(s) in the last 10s"));
}

TEST_CASE("a time window survives long idle gaps and late timestamps", "[unit][breaker]") {
  sv::BreakerOptions o;
  o.window_type = sv::SlidingWindowType::time_based;
  o.window_size = 3;
  o.minimum_calls = 100;
  auto b = sv::SlidingWindowBreaker::create(o);
  succeed_at(*b, t0);
  succeed_at(*b, t0 + 1s);
  succeed_at(*b, t0 + 2s);
  CHECK(b->metrics(t0 + 2s).buffered_calls == 3);
  // A stamp from a second still in the window (a thread that read the clock earlier) counts.
  b->on_failure(1ms, t0 + 1s);
  CHECK(b->metrics(t0 + 2s).failed_calls == 1);
  // One from a second that has left the window does not.
  b->on_failure(1ms, t0 - 1s);
  CHECK(b->metrics(t0 + 2s).buffered_calls == 4);
  // A gap longer than the window empties it; later seconds are counted afresh.
  CHECK(b->metrics(t0 + 1h).buffered_calls == 0);
  succeed_at(*b, t0 + 1h);
  succeed_at(*b, t0 + 1h + 2s);
  CHECK(b->metrics(t0 + 1h + 2s).buffered_calls == 2);
  CHECK(b->metrics(t0 + 1h + 3s).buffered_calls == 1);
}

TEST_CASE("a time window works around a negative epoch", "[unit][breaker]") {
  sv::BreakerOptions o;
  o.window_type = sv::SlidingWindowType::time_based;
  o.window_size = 2;
  o.minimum_calls = 100;
  auto b = sv::SlidingWindowBreaker::create(o);
  const sv::TimePoint neg{-3s};
  succeed_at(*b, neg + 500ms);
  succeed_at(*b, neg + 1s + 500ms);
  CHECK(b->metrics(neg + 1s + 500ms).buffered_calls == 2);
  CHECK(b->metrics(neg + 2s).buffered_calls == 1);
  CHECK(b->metrics(neg + 3s).buffered_calls == 0);
}

TEST_CASE("force_open refuses every call until reset", "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  Recorder rec;
  rec.attach(*b);
  succeed_at(*b, t0);
  b->force_open(t0 + 1s);
  b->force_open(t0 + 2s);  // no-op
  CHECK(b->state(t0 + 1h) == BreakerState::forced_open);
  CHECK_FALSE(b->try_acquire(t0 + 1h));
  CHECK(b->next_transition_at(t0 + 1h) == std::nullopt);
  auto m = b->metrics(t0 + 1h);
  CHECK(m.not_permitted_calls == 1);
  CHECK(m.buffered_calls == 0);
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].from == BreakerState::closed);
  CHECK(rec.seen[0].to == BreakerState::forced_open);
  CHECK(rec.seen[0].reason == "force_open()");

  b->reset(t0 + 2h);
  CHECK(b->state(t0 + 2h) == BreakerState::closed);
  CHECK(b->try_acquire(t0 + 2h));
  m = b->metrics(t0 + 2h);
  CHECK(m.not_permitted_calls == 0);
  REQUIRE(rec.seen.size() == 2);
  CHECK(rec.seen[1].from == BreakerState::forced_open);
  CHECK(rec.seen[1].to == BreakerState::closed);
  CHECK(rec.seen[1].reason == "reset()");
}

TEST_CASE("disable permits every call and records nothing", "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  Recorder rec;
  rec.attach(*b);
  trip(*b);
  b->disable(t0 + 1s);
  b->disable(t0 + 1s);  // no-op
  for (int i = 0; i < 50; ++i) fail_at(*b, t0 + 2s);
  CHECK(b->state(t0 + 2s) == BreakerState::disabled);
  auto m = b->metrics(t0 + 2s);
  CHECK(m.buffered_calls == 0);
  CHECK(m.not_permitted_calls == 0);
  REQUIRE(rec.seen.size() == 2);
  CHECK(rec.seen[1].from == BreakerState::open);
  CHECK(rec.seen[1].to == BreakerState::disabled);
  CHECK(rec.seen[1].reason == "disable()");

  // disable -> force_open -> reset: each change is heard.
  b->force_open(t0 + 3s);
  b->reset(t0 + 4s);
  b->reset(t0 + 5s);  // already closed: no transition
  REQUIRE(rec.seen.size() == 4);
  CHECK(rec.saw(BreakerState::disabled, BreakerState::forced_open));
  CHECK(rec.saw(BreakerState::forced_open, BreakerState::closed));
}

TEST_CASE("reset from open or half-open closes with an empty window", "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  trip(*b);
  CHECK_FALSE(b->try_acquire(t0 + 1s));
  b->reset(t0 + 2s);
  auto m = b->metrics(t0 + 2s);
  CHECK(m.state == BreakerState::closed);
  CHECK(m.buffered_calls == 0);
  CHECK(m.not_permitted_calls == 0);
  trip(*b);
  REQUIRE(b->try_acquire(t0 + 30s));
  CHECK(b->state(t0 + 30s) == BreakerState::half_open);
  b->reset(t0 + 31s);
  CHECK(b->state(t0 + 31s) == BreakerState::closed);
  b->on_failure(1ms, t0 + 31s);  // the trial's late outcome is an ordinary closed outcome
  CHECK(b->metrics(t0 + 31s).buffered_calls == 1);
}

TEST_CASE("the listener sees every transition in order, with reasons", "[unit][breaker]") {
  sv::BreakerOptions o = small_options();
  o.automatic_open_to_half_open = true;
  o.permitted_calls_in_half_open = 1;
  auto b = sv::SlidingWindowBreaker::create(o);
  Recorder rec;
  rec.attach(*b);

  trip(*b);                                              // closed -> open
  CHECK(b->state(t0 + 30s) == BreakerState::half_open);  // open -> half_open
  fail_at(*b, t0 + 31s);                                 // half_open -> open
  REQUIRE(b->try_acquire(t0 + 61s));                     // open -> half_open
  b->on_success(1ms, t0 + 62s);                          // half_open -> closed
  b->force_open(t0 + 63s);                               // closed -> forced_open
  b->reset(t0 + 64s);                                    // forced_open -> closed
  b->disable(t0 + 65s);                                  // closed -> disabled
  b->reset(t0 + 66s);                                    // disabled -> closed

  const std::vector<std::pair<BreakerState, BreakerState>> expected = {
      {BreakerState::closed, BreakerState::open},
      {BreakerState::open, BreakerState::half_open},
      {BreakerState::half_open, BreakerState::open},
      {BreakerState::open, BreakerState::half_open},
      {BreakerState::half_open, BreakerState::closed},
      {BreakerState::closed, BreakerState::forced_open},
      {BreakerState::forced_open, BreakerState::closed},
      {BreakerState::closed, BreakerState::disabled},
      {BreakerState::disabled, BreakerState::closed},
  };
  REQUIRE(rec.seen.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("transition " << i << ": " << rec.seen[i].reason);
    CHECK(rec.seen[i].from == expected[i].first);
    CHECK(rec.seen[i].to == expected[i].second);
    CHECK(!rec.seen[i].reason.empty());
    if (i > 0) CHECK(rec.seen[i].at >= rec.seen[i - 1].at);
  }

  // Clearing the listener stops notifications.
  b->set_listener({});
  b->force_open(t0 + 70s);
  CHECK(rec.seen.size() == expected.size());
}

TEST_CASE("a listener may call back into the breaker, and its exceptions are counted",
          "[unit][breaker]") {
  auto b = sv::SlidingWindowBreaker::create(small_options());
  std::vector<BreakerState> states_seen;
  b->set_listener([&](const sv::BreakerTransition& t) {
    // Reentrant calls: the breaker's lock is not held here.
    states_seen.push_back(b->state(t.at));
    (void)b->metrics(t.at);
    if (t.to == BreakerState::open) {
      b->force_open(t.at);  // a transition from inside the listener is delivered after this one
    }
    throw std::runtime_error("listener bug");
  });
  for (int i = 0; i < 4; ++i) fail_at(*b, t0);
  // closed -> open, then (queued from inside the listener) open -> forced_open.
  REQUIRE(states_seen.size() == 2);
  CHECK(states_seen[0] == BreakerState::open);
  CHECK(states_seen[1] == BreakerState::forced_open);
  CHECK(b->listener_failures() == 2);
  CHECK(b->state(t0) == BreakerState::forced_open);
}

TEST_CASE("BreakerGuard reports elapsed time and releases unused permits", "[unit][breaker]") {
  sv::ManualClock clock(t0);
  sv::BreakerOptions o = small_options();
  o.slow_call_duration = 5s;
  o.slow_call_rate_threshold = 50.0;
  auto b = sv::SlidingWindowBreaker::create(o);

  {
    sv::BreakerGuard call(*b, clock);
    REQUIRE(call);
    clock.advance(6s);
    call.success();
    call.failure();  // already reported: ignored
  }
  auto m = b->metrics(clock.now());
  CHECK(m.buffered_calls == 1);
  CHECK(m.slow_calls == 1);
  CHECK(m.failed_calls == 0);

  b->reset(clock.now());
  trip(*b);
  clock.set(t0 + 30s);
  {
    sv::BreakerGuard first(*b, clock);   // goes half-open: trial 1 of 2
    sv::BreakerGuard second(*b, clock);  // trial 2 of 2
    sv::BreakerGuard third(*b, clock);
    CHECK(first.permitted());
    CHECK(second.permitted());
    CHECK_FALSE(third.permitted());
    third.success();  // not permitted: ignored
    first.success();
    // `second` is never made: its destructor returns the permit.
  }
  sv::BreakerGuard again(*b, clock);
  CHECK(again.permitted());
  again.success();  // second trial outcome: 0 of 2 failed
  CHECK(b->state(clock.now()) == BreakerState::closed);
}

namespace {

// A user's own policy: open after `limit` consecutive failures, allow one probe after `cooldown`.
// It shows the minimum a subclass implements, and how its tests drive it with a ManualClock.
class ConsecutiveFailuresBreaker final : public sv::CircuitBreaker {
 public:
  ConsecutiveFailuresBreaker(int limit, sv::Duration cooldown)
      : limit_(limit), cooldown_(cooldown) {}

  bool try_acquire(sv::TimePoint now) override {
    bool permitted = false;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (state_ == BreakerState::open && now >= opened_at_ + cooldown_) {
        move_to(BreakerState::half_open, now, "cooldown over");
      }
      if (state_ == BreakerState::closed) {
        permitted = true;
      } else if (state_ == BreakerState::half_open && !probing_) {
        probing_ = true;
        permitted = true;
      }
    }
    deliver_transitions();
    return permitted;
  }
  void on_success(sv::Duration, sv::TimePoint now) override {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      failures_ = 0;
      probing_ = false;
      if (state_ == BreakerState::half_open) move_to(BreakerState::closed, now, "probe passed");
    }
    deliver_transitions();
  }
  void on_failure(sv::Duration, sv::TimePoint now) override {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      probing_ = false;
      if (state_ == BreakerState::half_open || ++failures_ >= limit_) {
        opened_at_ = now;
        move_to(BreakerState::open, now, "consecutive failures");
      }
    }
    deliver_transitions();
  }
  void release(sv::TimePoint) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    probing_ = false;
  }
  BreakerState state(sv::TimePoint) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    return state_;
  }

 private:
  void move_to(BreakerState to, sv::TimePoint now, const char* why) {
    if (to == state_) return;
    enqueue_transition({state_, to, now, why});
    state_ = to;
  }

  const int limit_;
  const sv::Duration cooldown_;
  std::mutex mutex_;
  BreakerState state_ = BreakerState::closed;
  int failures_ = 0;
  bool probing_ = false;
  sv::TimePoint opened_at_{};
};

}  // namespace

TEST_CASE("example: testing your own CircuitBreaker subclass with a ManualClock",
          "[unit][breaker]") {
  sv::ManualClock clock(t0);
  ConsecutiveFailuresBreaker breaker(3, 10s);
  std::vector<std::string> log;
  breaker.set_listener([&](const sv::BreakerTransition& t) {
    log.push_back(std::string(sv::to_string(t.from)) + "->" + std::string(sv::to_string(t.to)));
  });

  // Two failures, a success (resets the streak), then three failures trip it.
  for (bool ok : {false, false, true, false, false, false}) {
    sv::BreakerGuard call(breaker, clock);
    REQUIRE(call);
    clock.advance(100ms);
    if (ok) {
      call.success();
    } else {
      call.failure();
    }
  }
  CHECK(breaker.state(clock.now()) == BreakerState::open);
  CHECK_FALSE(sv::BreakerGuard(breaker, clock).permitted());
  CHECK(breaker.next_transition_at(clock.now()) == std::nullopt);  // the base's default

  clock.advance(10s);
  {
    sv::BreakerGuard probe(breaker, clock);
    REQUIRE(probe);
    CHECK_FALSE(sv::BreakerGuard(breaker, clock).permitted());  // only one probe
    probe.success();
  }
  CHECK(breaker.state(clock.now()) == BreakerState::closed);
  CHECK(log == std::vector<std::string>{"closed->open", "open->half_open", "half_open->closed"});
}

TEST_CASE("a breaker hammered from 4 threads stays consistent", "[unit][breaker][concurrency]") {
  sv::ManualClock clock(t0);
  sv::BreakerOptions o;
  // Short waits and a fast clock, so that the breaker changes state thousands of times and
  // deliveries from different threads overlap.
  o.window_size = 10;
  o.minimum_calls = 3;
  o.failure_rate_threshold = 40.0;
  o.wait_in_open = 100ms;
  o.permitted_calls_in_half_open = 2;
  o.max_wait_in_half_open = 300ms;
  o.automatic_open_to_half_open = true;
  auto b = sv::SlidingWindowBreaker::create(o);

  // Calls are serialized, so the listener needs no lock of its own (TSan checks that claim).
  std::vector<sv::BreakerTransition> seen;
  b->set_listener([&](const sv::BreakerTransition& t) {
    seen.push_back(t);
    std::this_thread::yield();  // widen the window in which other threads transition
  });

  constexpr int thread_count = 4;
  constexpr int iterations = 20'000;
  std::atomic<std::int64_t> refused{0};
  std::atomic<std::int64_t> permitted{0};
  std::atomic<int> bad_snapshots{0};  // Catch2 v2 assertions are not thread-safe: count instead
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (int id = 0; id < thread_count; ++id) {
    threads.emplace_back([&, id] {
      std::uint32_t rng = 12345u + static_cast<std::uint32_t>(id) * 7919u;
      auto next = [&rng] {
        rng = rng * 1664525u + 1013904223u;
        return rng >> 16;
      };
      std::int64_t my_refused = 0;
      std::int64_t my_permitted = 0;
      for (int i = 0; i < iterations; ++i) {
        const std::uint32_t r = next();
        if (id == 0 && r % 16 == 0) clock.advance(50ms);
        const sv::TimePoint now = clock.now();
        if (!b->try_acquire(now)) {
          ++my_refused;
        } else {
          ++my_permitted;
          switch (r % 5) {
            case 0:
            case 1: b->on_failure(1ms, clock.now()); break;
            case 2: b->release(clock.now()); break;
            default: b->on_success(1ms, clock.now()); break;
          }
        }
        if (r % 97 == 0) (void)b->state(clock.now());
        if (r % 101 == 0) {
          const auto m = b->metrics(clock.now());
          if (m.buffered_calls > 10 || m.failed_calls > m.buffered_calls) ++bad_snapshots;
        }
        if (r % 4099 == 0) (void)b->next_transition_at(clock.now());
      }
      refused += my_refused;
      permitted += my_permitted;
    });
  }
  for (auto& t : threads) t.join();

  CHECK(bad_snapshots.load() == 0);
  const auto m = b->metrics(clock.now());
  CHECK(m.not_permitted_calls == refused.load());
  CHECK(refused.load() + permitted.load() == std::int64_t{thread_count} * iterations);
  CHECK(refused.load() > 0);
  // Every transition was delivered, in order: each starts where the previous one ended.
  REQUIRE(seen.size() >= 100);
  CHECK(seen.front().from == BreakerState::closed);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    INFO("transition " << i);
    CHECK(seen[i].from == seen[i - 1].to);
  }
  const BreakerState final_state = b->state(clock.now());
  CHECK(seen.back().to == final_state);
  CHECK(b->listener_failures() == 0);
}
