// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// No O(N^2) on a pool's paths: on a FakeWorld (no real process), each operation's cost per worker
// at a large N stays within a bound factor of its cost per worker at 1,000 workers. An O(N^2) path
// costs 100 times more per worker at 100,000 than at 1,000; an O(N log N) one, under twice.
#include <supervisor/metrics.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "fake_pool.hpp"

// Sanitizers make every memory access several times dearer: the large pool is smaller there, so
// that the test stays as quick as in the dev build (a quadratic path still costs 20 times more
// per worker at 20,000 than at 1,000). Wine (the windows stage) is slow too.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define SUPERVISOR_SCALE_TEST_SMALL 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#    define SUPERVISOR_SCALE_TEST_SMALL 1
#  endif
#endif
#if !defined(SUPERVISOR_SCALE_TEST_SMALL) && defined(_WIN32)
#  define SUPERVISOR_SCALE_TEST_SMALL 1
#endif
#ifndef SUPERVISOR_SCALE_TEST_SMALL
#  define SUPERVISOR_SCALE_TEST_SMALL 0
#endif

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t small_n = 1000;
constexpr std::size_t large_n = SUPERVISOR_SCALE_TEST_SMALL ? 20000 : 100000;
// How much dearer per worker the large pool may be. Not 1: a large pool's data is out of the CPU's
// caches, and the machine is shared. Far below what a quadratic path costs (large_n / small_n:
// 100, or 20 under sanitizers): with a bound of 5, a quadratic step fails the test once it costs
// (at 1,000 workers) about a twentieth of the linear work on its path, a fourth under sanitizers.
constexpr double bound = 5.0;
// What the small pool's costs count as at least, in CPU seconds per operation: a coarse clock
// (Windows' std::clock ticks in milliseconds) may read 0 for a short one.
constexpr double least = 0.001;

enum Op : std::size_t { construct, start, snapshot, metrics, exposition, exits, stop, op_count };
constexpr std::array<const char*, op_count> op_names{
    "construct", "start", "snapshot", "add_pool_metrics", "to_prometheus", "exit+restart", "stop"};

using Costs = std::array<double, op_count>;  // CPU seconds per worker

// The process's CPU time (std::clock: CLOCK_PROCESS_CPUTIME_ID with glibc), steadier than the
// wall clock on a shared machine. The fake world runs on the test's thread alone.
class CpuWatch {
 public:
  // CPU seconds since the last lap (or the watch's start), per worker of `n`.
  double lap(std::size_t n) {
    const std::clock_t now = std::clock();
    const double s = static_cast<double>(now - last_) / CLOCKS_PER_SEC;
    last_ = now;
    return s / static_cast<double>(n);
  }

 private:
  std::clock_t last_ = std::clock();
};

// One pool of `n` workers through every operation, each checked for what it must have done.
Costs measure(std::size_t n) {
  Costs c{};
  sv::testing::FakeWorld world;
  auto options = sv::testing::fake_pool(n);  // restarted after a fixed 100 ms
  options.max_size = n;
  options.degraded_below = n / 2;  // the pool's health is then weighed at every ready and exit
  std::unique_ptr<sv::Pool> pool;
  std::vector<int> pids;
  {
    CpuWatch w;
    pool = std::make_unique<sv::Pool>(world, options);
    c[construct] = w.lap(n);
    pool->start();  // immediate readiness: each worker is ready once spawned
    REQUIRE(pool->wait_ready(n, 0s));
    c[start] = w.lap(n);
    const sv::PoolSnapshot snap = pool->snapshot();
    c[snapshot] = w.lap(n);
    REQUIRE(snap.workers.size() == n);
    REQUIRE(snap.ready == n);
    std::size_t set_text_size = 0;
    std::size_t set_text_hash = 0;
    {  // let go of at once: at 100,000 workers, hundreds of megabytes
      sv::MetricSet set;
      sv::add_pool_metrics(set, snap, "scale");
      const std::string text = set.to_prometheus();
      c[metrics] = w.lap(n);
      set_text_size = text.size();
      set_text_hash = std::hash<std::string>()(text);
    }
    w.lap(n);
    {
      const std::string text = sv::to_prometheus(snap, "scale");
      c[exposition] = w.lap(n);
      CHECK(text.size() == set_text_size);
      CHECK(std::hash<std::string>()(text) == set_text_hash);
      CHECK(text.find("worker=\"" + std::to_string(n - 1) + "\"") != std::string::npos);
    }

    // Every process dies, in an order that is neither the pool's nor its reverse (a scan from
    // either end for the worker at hand would look cheap), and each restarts after 100 ms.
    pids = world.live_pids();
    REQUIRE(pids.size() == n);
    std::shuffle(pids.begin(), pids.end(), std::mt19937(2026));
    w.lap(n);
    for (const int pid : pids) world.kill(pid);
    world.advance(100ms);
    REQUIRE(pool->wait_ready(n, 0s));
    c[exits] = w.lap(n);
    REQUIRE(world.spawn_count() == 2 * n);

    // The stop of a pool whose workers run (each stopped and its exit awaited) or wait to restart
    // (each restart's timer cancelled, every one of them due at the same instant): half of each.
    pids = world.live_pids();
    std::shuffle(pids.begin(), pids.end(), std::mt19937(2027));
    for (std::size_t k = 0; k < n / 2; ++k) world.kill(pids[k]);
    REQUIRE(world.live_pids().size() == n - n / 2);
    w.lap(n);
    pool->stop();
    c[stop] = w.lap(n);
  }
  CHECK(world.live_pids().empty());
  const sv::PoolSnapshot after = pool->snapshot();
  CHECK(after.restarts == n);
  CHECK(after.exits_by_reason.at("signal") == n + n / 2);
  CHECK(std::all_of(after.workers.begin(), after.workers.end(), [](const sv::WorkerSnapshot& ws) {
    return ws.state == sv::WorkerState::retired;
  }));
  return c;
}

std::string micros(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f us", seconds * 1e6);
  return buf;
}

}  // namespace

TEST_CASE("scale: no operation of a pool costs more per worker at 100,000 than at 1,000",
          "[unit][pool][scale]") {
  // The small pool's best of a few runs: its costs are short, and a busy moment inflates one.
  Costs small = measure(small_n);
  for (int run = 1; run < 5; ++run) {
    const Costs again = measure(small_n);
    for (std::size_t k = 0; k < op_count; ++k) small[k] = std::min(small[k], again[k]);
  }
  for (double& cost : small) cost = std::max(cost, least / static_cast<double>(small_n));
  // 10,000 workers first: a path so quadratic that the large pool would run for minutes (past
  // CTest's timeout, saying nothing of which) already shows there, ten times dearer per worker.
  for (const std::size_t n : {std::size_t{10000}, large_n}) {
    Costs large = measure(n);
    const auto over = [&](std::size_t k) { return large[k] > bound * small[k]; };
    bool any_over = false;
    for (std::size_t k = 0; k < op_count; ++k) any_over = any_over || over(k);
    if (any_over) {
      // Measured again before it fails: the large pool ran once, and the machine is shared.
      const Costs again = measure(n);
      for (std::size_t k = 0; k < op_count; ++k) large[k] = std::min(large[k], again[k]);
      any_over = false;
      for (std::size_t k = 0; k < op_count; ++k) any_over = any_over || over(k);
    }
    std::printf("pool scale: CPU per worker at %s / at %s workers (bound: %.0fx)\n",
                std::to_string(small_n).c_str(), std::to_string(n).c_str(), bound);
    for (std::size_t k = 0; k < op_count; ++k) {
      std::printf("  %-16s %10s %10s  %5.1fx\n", op_names[k], micros(small[k]).c_str(),
                  micros(large[k]).c_str(), large[k] / small[k]);
    }
    std::fflush(stdout);
    for (std::size_t k = 0; k < op_count; ++k) {
      INFO(op_names[k] << ": " << micros(large[k]) << " per worker at " << n << " workers, "
                       << micros(small[k]) << " at " << small_n << " (" << large[k] / small[k]
                       << " times; bound " << bound << ")");
      CHECK_FALSE(over(k));
    }
    if (any_over) return;
  }
}
