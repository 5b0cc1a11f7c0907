// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The default Loop (a fresh cgroup per incarnation where usable) at scale and in a crash loop,
// against the contained raw floor (raw_cgroup.hpp: a fresh cgroup each, clone3 into it, pidfd,
// rmdir after the exit), measured in one run:
//   1. a pool of 10,000 idle sleeps, first thing in the process (so that no earlier pool's freed
//      memory hides its growth): bring-up until wait_ready, host RSS growth per worker, host
//      CPU while idle for 30 s, and the stop;
//   2. bring-up scaling: T(10,000) / T(1,000) of the pool over the same ratio of the contained
//      floor, rounds interleaved (the kernel's own cost per process grows with their number, so
//      like is compared with like);
//   3. a crash loop: a worker that exits at once (/bin/true), restarted with no backoff, in
//      restarts per second, against the floor doing the same on one thread; rounds interleaved.
// The benchmark raises its own soft RLIMIT_NOFILE to the hard limit (it is the host here, and
// says so): 10,000 workers need a descriptor each. Linux only, x86-64 for the contained floor.
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/restart_policy.hpp>
#include <supervisor/worker_state.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "pool_common.hpp"

namespace {

using namespace supervisor::bench;  // NOLINT: this benchmark's own helpers

constexpr std::size_t small_pool = 1000;
constexpr std::size_t large_pool = 10000;
constexpr int scaling_rounds = 2;  // per variant and size, interleaved (after the first pool)
constexpr auto idle_window = 30s;  // the metric is per 30 s: measured over all of it
constexpr int crash_rounds = 3;    // per variant, interleaved
constexpr auto crash_span = 2s;    // per round

char true_path[] = "/bin/true";
char* const true_argv[] = {true_path, nullptr};

// Restarts per second of a pool of one /bin/true on `loop`: WorkerSpawned events counted over
// `crash_span`, after the first.
double pool_crash_rate(sv::Loop& loop) {
  sv::PoolOptions o;
  o.spec.argv = {"/bin/true"};
  o.spec.in = o.spec.out = o.spec.err = sv::StdioSpec::null();
  sv::StandardRestartOptions restart;
  restart.backoff = sv::BackoffOptions::fixed(sv::Duration::zero());
  restart.min_uptime = sv::Duration::zero();  // every run is free: no backoff growth, no budget
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(std::move(restart));
  sv::Pool pool(loop, o);
  std::atomic<std::uint64_t> spawned{0};
  const auto id = pool.subscribe([&](const sv::PoolEvent& ev) {
    if (std::holds_alternative<sv::WorkerSpawned>(ev.data))
      spawned.fetch_add(1, std::memory_order_relaxed);
  });
  pool.start();
  while (spawned.load() == 0) std::this_thread::sleep_for(1ms);
  const std::uint64_t first = spawned.load();
  const auto t0 = BenchClock::now();
  sleep_unless_interrupted(crash_span);
  const std::uint64_t last = spawned.load();
  const double s = std::chrono::duration<double>(BenchClock::now() - t0).count();
  pool.unsubscribe(id);
  pool.stop();
  return static_cast<double>(last - first) / s;
}

// The contained floor's crash loop: spawn /bin/true into a fresh group, poll its pidfd, waitid,
// rmdir, again; restarts per second over `crash_span`.
double raw_crash_rate(RawCgroupSpawner& spawner) {
  std::uint64_t n = 0;
  const auto t0 = BenchClock::now();
  const auto end = t0 + crash_span;
  auto t = t0;
  while (t < end && !g_interrupted.load(std::memory_order_relaxed)) {
    RawChild c = spawner.spawn();
    c.reap(true);
    ++n;
    t = BenchClock::now();
  }
  return static_cast<double>(n) / std::chrono::duration<double>(t - t0).count();
}

int run() {
  const rlim_t nofile = raise_nofile();
  const auto bench_start = BenchClock::now();
  sv::Loop loop;
  const sv::LoopInfo li = loop.info();
  std::printf("default loop: %s\n", describe_loop(loop).c_str());
  if (!li.cgroup_usable || !li.clone_into_cgroup_available || !RawCgroupSpawner::supported()) {
    std::printf("note: no contained raw floor here (%s): scale and crash-loop figures skipped\n",
                !li.cgroup_usable                 ? li.cgroup_why_not.c_str()
                : !li.clone_into_cgroup_available ? "no CLONE_INTO_CGROUP"
                                                  : "not x86-64");
    return 0;
  }
  // A descriptor per worker (its pidfd) and the host's own.
  if (nofile != RLIM_INFINITY && nofile < large_pool + 256) {
    std::printf(
        "note: RLIMIT_NOFILE is %llu (hard limit reached): too low for %zu workers; "
        "scale figures skipped\n",
        static_cast<unsigned long long>(nofile), large_pool);
    return 0;
  }
  RawCgroupSpawner contained(li.cgroup_base, sleep_path, sleep_argv);
  RawCgroupSpawner contained_true(li.cgroup_base, true_path, true_argv);
  const auto spawn_contained = [&contained] { return contained.spawn(); };

  // ---- 1: the pool of 10,000, first of all --------------------------------------------------
  double rss_growth = 0;
  double idle_cpu_ms = 0;
  double idle_s = 0;
  const Bringup first = pool_bringup(
      loop, large_pool, true,
      [&](sv::Pool&) {
        const double cpu0 = host_cpu_ms();
        const auto w0 = BenchClock::now();
        sleep_unless_interrupted(idle_window);
        idle_cpu_ms = host_cpu_ms() - cpu0;
        idle_s = std::chrono::duration<double>(BenchClock::now() - w0).count();
      },
      &rss_growth);
  if (first.reached < large_pool) throw std::runtime_error("pool of 10,000: " + first.note);
  check_interrupted();
  progress(bench_start, "pool of 10,000: up, idle and stopped");

  // ---- 2: scaling, interleaved ----------------------------------------------------------------
  std::vector<Bringup> pool_small;
  std::vector<Bringup> pool_large{first};
  std::vector<Bringup> raw_small;
  std::vector<Bringup> raw_large;
  Interleave order(4);
  for (int r = 0; r < scaling_rounds; ++r) {
    for (const int v : order.next_round()) {
      check_interrupted();
      switch (v) {
        case 0: pool_small.push_back(pool_bringup(loop, small_pool, true, {})); break;
        case 1: raw_small.push_back(raw_bringup(spawn_contained, small_pool)); break;
        case 2:
          if (r > 0) pool_large.push_back(pool_bringup(loop, large_pool, true, {}));
          break;
        default: raw_large.push_back(raw_bringup(spawn_contained, large_pool)); break;
      }
    }
    progress(bench_start, "scaling round done");
  }
  for (const auto* runs : {&pool_small, &pool_large, &raw_small, &raw_large}) {
    for (const auto& b : *runs) {
      if (!b.note.empty()) throw std::runtime_error(b.note);
    }
  }

  // ---- 3: crash loop, interleaved -------------------------------------------------------------
  std::vector<double> crash_pool;
  std::vector<double> crash_raw;
  for (int r = 0; r < crash_rounds; ++r) {
    check_interrupted();
    if (r % 2 == 0) {
      crash_pool.push_back(pool_crash_rate(loop));
      crash_raw.push_back(raw_crash_rate(contained_true));
    } else {
      crash_raw.push_back(raw_crash_rate(contained_true));
      crash_pool.push_back(pool_crash_rate(loop));
    }
  }
  progress(bench_start, "crash loop done");

  // ---- report ---------------------------------------------------------------------------------
  const auto up = [](const std::vector<Bringup>& runs) {
    std::vector<double> v;
    for (const auto& b : runs) v.push_back(b.up_ms);
    return median(std::move(v));
  };
  const auto down = [](const std::vector<Bringup>& runs) {
    std::vector<double> v;
    for (const auto& b : runs) v.push_back(b.down_ms);
    return median(std::move(v));
  };
  const double ps = up(pool_small);
  const double pl = up(pool_large);
  const double rs = up(raw_small);
  const double rl = up(raw_large);
  const double scaling = ratio(ratio(pl, ps), ratio(rl, rs));
  const double idle_per_30s = idle_s > 0 ? idle_cpu_ms * 30.0 / idle_s : 0.0;
  const double kib_per_worker = rss_growth / 1024.0 / static_cast<double>(large_pool);
  const double cp = median(crash_pool);
  const double cr = median(crash_raw);

  std::printf("\nbring-up (ms), default loop vs contained raw floor, median of rounds\n");
  std::printf("  %-36s %10s %10s %8s\n", "variant", "1,000", "10,000", "x");
  std::printf("  %-36s %10.1f %10.1f %8.2f\n", "Pool, default loop", ps, pl, ratio(pl, ps));
  std::printf("  %-36s %10.1f %10.1f %8.2f\n", "raw, a fresh cgroup each", rs, rl, ratio(rl, rs));
  std::printf("  scaling (pool's x over the floor's x): %.3f\n", scaling);
  std::printf("  stop of 10,000: pool %.1f ms (first pool), raw %.1f ms\n", first.down_ms,
              down(raw_large));
  std::printf("\npool of 10,000 idle workers\n");
  std::printf("  host CPU %.1f ms in %.2f s (%.2f ms per 30 s)\n", idle_cpu_ms, idle_s,
              idle_per_30s);
  std::printf("  host RSS growth %.0f KiB (%.2f KiB per worker)\n", rss_growth / 1024.0,
              kib_per_worker);
  std::printf("\ncrash loop (/bin/true, no backoff), restarts per second, %d rounds of %lld ms\n",
              crash_rounds, static_cast<long long>(std::chrono::milliseconds(crash_span).count()));
  std::printf("  Pool, default loop        %9.0f\n", cp);
  std::printf("  raw, a fresh cgroup each  %9.0f\n", cr);
  std::printf("(whole benchmark: %.1f s)\n",
              std::chrono::duration<double>(BenchClock::now() - bench_start).count());

  metric("pool.bringup_10000_ms", first.up_ms, "ms");
  metric("pool.bringup_10000_median_ms", pl, "ms");
  metric("pool.raw_contained_bringup_10000_ms", rl, "ms");
  metric("pool.stop_10000_ms", first.down_ms, "ms");
  metric("pool.idle_cpu_10000", idle_per_30s, "ms_per_30s");
  metric("pool.memory_per_worker_10000", kib_per_worker, "KiB");
  metric("pool.bringup_scaling", scaling, "ratio");
  metric("pool.crash_loop_restarts_per_s", cp, "per_s");
  metric("pool.raw_contained_crash_loop_per_s", cr, "per_s");
  metric("pool.crash_loop_ratio", ratio(cp, cr), "ratio");
  return 0;
}

}  // namespace

int main() { return supervisor::bench::guarded_main(run, "scale_bench"); }
