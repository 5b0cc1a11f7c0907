// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "catch_compat.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

TEST_CASE("the default clock is monotonic and tracks the steady clock", "[unit][clock]") {
  sv::Clock& clock = sv::default_clock();
  CHECK(&clock == &sv::default_clock());
  const auto raw_before = std::chrono::steady_clock::now();
  const sv::TimePoint a = clock.now();
  const sv::TimePoint b = clock.now();
  const auto raw_after = std::chrono::steady_clock::now();
  CHECK(b >= a);
  CHECK(a >= std::chrono::time_point_cast<sv::Duration>(raw_before));
  CHECK(b <= std::chrono::time_point_cast<sv::Duration>(raw_after));
  const auto wall = clock.wall_now();
  const auto sys = std::chrono::system_clock::now();
  CHECK(std::chrono::abs(sys - wall) < 60s);
}

TEST_CASE("ManualClock moves only when told", "[unit][clock]") {
  const sv::TimePoint start{5s};
  const sv::WallTime wall_start{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};
  sv::ManualClock clock(start, wall_start);
  CHECK(clock.now() == start);
  CHECK(clock.now() == start);
  CHECK(clock.wall_now() == wall_start);

  clock.advance(250ms);
  CHECK(clock.now() == start + 250ms);
  CHECK(clock.wall_now() == wall_start + 250ms);

  clock.set(start + 10s);
  CHECK(clock.now() == start + 10s);
  clock.set(start + 10s);  // setting to now is allowed
  clock.advance(0ns);
  CHECK(clock.now() == start + 10s);
}

TEST_CASE("ManualClock refuses to go backwards, through both overloads", "[unit][clock]") {
  sv::ManualClock clock(sv::TimePoint{1s});
  std::error_code ec;
  clock.advance(-1ns, ec);
  CHECK(ec == sv::errc::invalid_argument);
  CHECK(clock.now() == sv::TimePoint{1s});

  ec.clear();
  clock.set(sv::TimePoint{500ms}, ec);
  CHECK(ec == sv::errc::invalid_argument);
  CHECK(clock.now() == sv::TimePoint{1s});

  try {
    clock.advance(-3ns);
    FAIL("advance(-3ns) did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_argument);
    CHECK(std::string(e.what()).find("negative duration -3ns") != std::string::npos);
  }
  try {
    clock.set(sv::TimePoint{400ms});
    FAIL("set(backwards) did not throw");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("600000000ns before now") != std::string::npos);
  }
  clock.advance(1ns, ec);
  CHECK(!ec);
}

TEST_CASE("ManualClock is safe to advance from many threads", "[unit][clock][concurrency]") {
  sv::ManualClock clock;
  constexpr int threads = 4;
  constexpr int steps = 10000;
  std::atomic<int> went_backwards{0};  // Catch2 assertions are not thread-safe: count, check later
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      sv::TimePoint last = clock.now();
      for (int i = 0; i < steps; ++i) {
        clock.advance(1ns);
        const sv::TimePoint seen = clock.now();
        if (seen < last) went_backwards.fetch_add(1, std::memory_order_relaxed);
        last = seen;
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(went_backwards.load() == 0);
  CHECK(clock.now() == sv::TimePoint{sv::Duration{threads * steps}});
}

TEST_CASE("Clock is usable through the interface", "[unit][clock]") {
  sv::ManualClock manual(sv::TimePoint{1h});
  const sv::Clock& clock = manual;
  CHECK(clock.now() == sv::TimePoint{1h});
  manual.advance(1min);
  CHECK(clock.now() == sv::TimePoint{61min});
}
