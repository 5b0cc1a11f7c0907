// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Pool next to raw floors written here, measured in one run. Two floors:
//   plain:     posix_spawn + pidfd_open + poll + waitid (raw_child.hpp), the floor of the loop
//              with cgroups off;
//   contained: what the default loop promises, by hand: a fresh cgroup v2 group per
//              incarnation, clone3 into it, pidfd, rmdir after the exit (raw_cgroup.hpp).
// Measured, every variant interleaved with the others:
//   1. restart latency: an outside SIGKILL of the pool's only worker until its replacement is
//      ready (seen by a subscriber on the loop thread), against a raw watcher thread, asleep in
//      poll() on the pidfd until the kill, that reaps and spawns again; median of many kills;
//   2. bring-up: Pool::start of 1000 workers until wait_ready(1000) returns, against 1000 raw
//      spawns; stopping each side is timed too. The posix_spawn loop's workers do not setsid
//      (`new_session = false`), like the plain raw ones: without cgroups, stopping a worker
//      that leads its own session first scans /proc for descendants that left its group (26-27 s
//      for 1000, measured separately). The default loop's pool runs the default spec (its own
//      session, a cgroup each), and so does the contained floor (setsid in the child);
//   3. idle CPU of the host while 1000 idle workers sit in the pool;
//   4. host RSS growth per worker of that pool;
//   5. acquire + release cycles per second on 8 ready workers, from 1 and from 8 threads.
// The posix_spawn Loop (cgroups off) is compared with the plain floor; the default Loop (clone3,
// a cgroup per worker when usable) with the contained floor and with the plain one. Host CPU per
// restart, per started worker and per lease cycle is shown next to the times: it hardly depends
// on how busy the machine is, the times do. Linux only, like the process backend itself.
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/restart_policy.hpp>
#include <supervisor/worker_state.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "pool_common.hpp"

namespace {

using namespace supervisor::bench;  // NOLINT: this benchmark's own helpers

constexpr int restart_samples = 400;    // kills per variant, interleaved
constexpr std::size_t big_pool = 1000;  // workers for bring-up, idle CPU and memory
constexpr int bringup_rounds = 3;       // per side, interleaved
constexpr auto idle_window = 30s;       // the metric is per 30 s: measured over all of it
constexpr std::size_t lease_workers = 8;
constexpr int lease_threads = 8;
constexpr int lease_rounds = 3;  // per thread count, interleaved
constexpr auto lease_span = 1s;  // per round

struct LeaseRun {
  double rate = 0;    // cycles per second: the sum of each thread's own rate
  double cpu_us = 0;  // host CPU (every thread) per cycle
};

// acquire(1 s) + release cycles from `threads` threads for `lease_span` each.
LeaseRun lease_rate(sv::Pool& pool, int threads) {
  std::vector<double> rates(static_cast<std::size_t>(threads), 0.0);
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(threads), 0);
  std::vector<std::string> errors(static_cast<std::size_t>(threads));
  std::latch line_up(threads);
  const double cpu0 = host_cpu_ms();
  std::vector<std::thread> pool_threads;
  for (int i = 0; i < threads; ++i) {
    pool_threads.emplace_back([&, i] {
      const auto k = static_cast<std::size_t>(i);
      line_up.arrive_and_wait();
      const auto t0 = BenchClock::now();
      const auto deadline = t0 + lease_span;
      std::uint64_t cycles = 0;
      auto t = t0;
      while (t < deadline && !g_interrupted.load(std::memory_order_relaxed)) {
        std::error_code ec;
        sv::Lease lease = pool.acquire(1s, ec);
        if (ec) {
          errors[k] = "acquire: " + ec.message();
          break;
        }
        lease.release();
        ++cycles;
        t = BenchClock::now();
      }
      rates[k] = static_cast<double>(cycles) / std::chrono::duration<double>(t - t0).count();
      counts[k] = cycles;
    });
  }
  for (auto& th : pool_threads) th.join();
  const double cpu_ms = host_cpu_ms() - cpu0;
  for (const auto& e : errors) {
    if (!e.empty()) throw std::runtime_error("lease cycles: " + e);
  }
  LeaseRun run;
  std::uint64_t cycles = 0;
  for (std::size_t k = 0; k < rates.size(); ++k) {
    run.rate += rates[k];
    cycles += counts[k];
  }
  run.cpu_us = cycles > 0 ? cpu_ms * 1e3 / static_cast<double>(cycles) : 0.0;
  return run;
}

int run() {
  const rlim_t nofile = raise_nofile();
  // Room for the pool's pidfds (three fds per worker with cgroups) and the host's own.
  std::size_t pool_size = big_pool;
  std::string size_note;
  if (nofile != RLIM_INFINITY && nofile < big_pool * 3 + 64) {
    pool_size = std::max<std::size_t>(16, (static_cast<std::size_t>(nofile) - 64) / 3);
    size_note = "RLIMIT_NOFILE is " + std::to_string(nofile) + ": pools of " +
                std::to_string(pool_size) + " instead of " + std::to_string(big_pool);
  }
  const auto bench_start = BenchClock::now();

  sv::LoopOptions posix_options;
  posix_options.on_linux.disable_cgroups = true;
  posix_options.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
  sv::Loop posix_loop(std::move(posix_options));
  sv::Loop default_loop;
  RawSpawner spawner;
  std::printf("posix_spawn loop: %s\n", describe_loop(posix_loop).c_str());
  std::printf("default loop:     %s\n", describe_loop(default_loop).c_str());
  if (!size_note.empty()) std::printf("note: %s\n", size_note.c_str());

  // ---- 3 + 4: a pool of 1000 on the default loop: RSS growth, then idle CPU -----------------
  // First of all, so that no earlier pool's freed memory hides this one's growth.
  double rss_growth = 0;
  double idle_cpu_ms = 0;
  double idle_s = 0;
  Bringup mem_run;
  for (;;) {
    mem_run = pool_bringup(
        default_loop, pool_size, true,
        [&](sv::Pool&) {
          const double cpu0 = host_cpu_ms();
          const auto w0 = BenchClock::now();
          sleep_unless_interrupted(idle_window);
          idle_cpu_ms = host_cpu_ms() - cpu0;
          idle_s = std::chrono::duration<double>(BenchClock::now() - w0).count();
        },
        &rss_growth);
    if (mem_run.reached > 0 || pool_size <= 16) break;
    std::printf("note: %s; trying %zu\n", mem_run.note.c_str(), pool_size / 2);
    size_note = mem_run.note;
    pool_size /= 2;
  }
  if (mem_run.reached == 0) throw std::runtime_error(mem_run.note);
  check_interrupted();
  progress(bench_start, "memory and idle CPU done");
  if (!mem_run.note.empty()) size_note = mem_run.note;

  // The contained raw floor (a fresh cgroup per incarnation, as the default loop promises): where
  // the default loop has cgroups and clone3 can start a child in one.
  const sv::LoopInfo default_info = default_loop.info();
  std::unique_ptr<RawCgroupSpawner> contained;
  std::string contained_note;
  if (!RawCgroupSpawner::supported()) {
    contained_note = "the contained raw floor needs x86-64";
  } else if (!default_info.cgroup_usable) {
    contained_note = "no contained raw floor: the default loop has no cgroups (" +
                     default_info.cgroup_why_not + ")";
  } else if (!default_info.clone_into_cgroup_available) {
    contained_note = "no contained raw floor: this kernel has no CLONE_INTO_CGROUP";
  } else {
    contained =
        std::make_unique<RawCgroupSpawner>(default_info.cgroup_base, sleep_path, sleep_argv);
  }
  if (!contained_note.empty()) std::printf("note: %s\n", contained_note.c_str());
  const auto spawn_plain = [&spawner] { return spawner.spawn_sleep(); };
  const auto spawn_contained = [&contained] { return contained->spawn(); };

  // ---- 1: restart latency, interleaved -------------------------------------------------------
  std::vector<double> lat_ours;
  std::vector<double> lat_raw;
  std::vector<double> lat_default;
  std::vector<double> lat_contained;
  // Host CPU (every thread, children excluded) per restart: unlike the latency, it does not
  // depend on how busy the machine is.
  double cpu_ours = 0;
  double cpu_raw = 0;
  double cpu_default = 0;
  double cpu_contained = 0;
  auto sample = [](std::vector<double>& lat, double& cpu, auto& slot) {
    const double c0 = host_cpu_ms();
    lat.push_back(slot.restart_us());
    cpu += host_cpu_ms() - c0;
  };
  {
    PoolSlot ours(posix_loop);
    PoolSlot deflt(default_loop);
    RawSlot raw(spawn_plain);
    std::optional<RawSlot> raw_contained;
    if (contained) raw_contained.emplace(spawn_contained);
    for (int i = 0; i < 5; ++i) {  // warm-up
      ours.restart_us();
      raw.restart_us();
      deflt.restart_us();
      if (raw_contained) raw_contained->restart_us();
    }
    sv::bench::Interleave order(raw_contained ? 4 : 3);  // shuffled every round
    for (int i = 0; i < restart_samples; ++i) {
      check_interrupted();
      for (const int v : order.next_round()) {
        switch (v) {
          case 0: sample(lat_ours, cpu_ours, ours); break;
          case 1: sample(lat_raw, cpu_raw, raw); break;
          case 2: sample(lat_default, cpu_default, deflt); break;
          default: sample(lat_contained, cpu_contained, *raw_contained); break;
        }
      }
    }
  }

  progress(bench_start, "restart latency done");

  // ---- 2: bring-up of 1000, interleaved ------------------------------------------------------
  std::vector<Bringup> up_ours;
  std::vector<Bringup> up_raw;
  std::vector<Bringup> up_default;
  std::vector<Bringup> up_contained;
  {
    sv::bench::Interleave order(contained ? 4 : 3);
    for (int r = 0; r < bringup_rounds; ++r) {
      check_interrupted();
      for (const int v : order.next_round()) {
        switch (v) {
          case 0: up_ours.push_back(pool_bringup(posix_loop, pool_size, false, {})); break;
          case 1: up_raw.push_back(raw_bringup(spawn_plain, pool_size)); break;
          case 2: up_default.push_back(pool_bringup(default_loop, pool_size, true, {})); break;
          default: up_contained.push_back(raw_bringup(spawn_contained, pool_size)); break;
        }
      }
      progress(bench_start, "bring-up round done");
    }
  }
  auto field = [](const std::vector<Bringup>& runs, double Bringup::*f) {
    std::vector<double> v;
    for (const auto& b : runs) {
      if (b.reached > 0) v.push_back(b.*f);
    }
    return v;
  };
  std::string bringup_note;
  std::size_t reached = pool_size;
  for (const auto* runs : {&up_ours, &up_raw, &up_default, &up_contained}) {
    for (const auto& b : *runs) {
      reached = std::min(reached, b.reached);
      if (!b.note.empty() && bringup_note.empty()) bringup_note = b.note;
    }
  }

  // ---- 5: lease cycles on 8 ready workers, interleaved ---------------------------------------
  std::vector<LeaseRun> lease_1t;
  std::vector<LeaseRun> lease_nt;
  {
    sv::Pool pool(posix_loop, sleep_pool(lease_workers));
    pool.start();
    if (!pool.wait_ready(lease_workers, ready_timeout))
      throw std::runtime_error("lease pool: workers not ready");
    lease_rate(pool, 1);  // warm-up
    for (int r = 0; r < lease_rounds; ++r) {
      check_interrupted();
      if (r % 2 == 0) {
        lease_1t.push_back(lease_rate(pool, 1));
        lease_nt.push_back(lease_rate(pool, lease_threads));
      } else {
        lease_nt.push_back(lease_rate(pool, lease_threads));
        lease_1t.push_back(lease_rate(pool, 1));
      }
    }
  }

  check_interrupted();
  progress(bench_start, "lease cycles done");

  // ---- report --------------------------------------------------------------------------------
  using sv::bench::median;
  const double r_ours = median(lat_ours);
  const double r_raw = median(lat_raw);
  const double r_default = median(lat_default);
  const double r_contained = median(lat_contained);
  const double b_default = median(field(up_default, &Bringup::up_ms));
  const double b_contained = median(field(up_contained, &Bringup::up_ms));
  const double b_ours = median(field(up_ours, &Bringup::up_ms));
  const double b_raw = median(field(up_raw, &Bringup::up_ms));
  const double s_ours = median(field(up_ours, &Bringup::down_ms));
  const double s_raw = median(field(up_raw, &Bringup::down_ms));
  const double idle_per_30s = idle_s > 0 ? idle_cpu_ms * 30.0 / idle_s : 0.0;
  const double kib_per_worker = rss_growth / 1024.0 / static_cast<double>(mem_run.reached);
  auto lease_field = [](const std::vector<LeaseRun>& runs, double LeaseRun::*f) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*f);
    return median(std::move(v));
  };
  const double l1 = lease_field(lease_1t, &LeaseRun::rate);
  const double ln = lease_field(lease_nt, &LeaseRun::rate);

  std::printf("\nSIGKILL -> replacement ready (us), %d kills each, interleaved\n", restart_samples);
  std::printf("  %-44s %8s %9s %9s   %s\n", "variant", "median", "p10", "p90",
              "host CPU per restart");
  auto lat_row = [](const char* name, const std::vector<double>& v, double cpu) {
    std::printf("  %-44s %8.0f %9.0f %9.0f   %6.0f us\n", name, median(v), quantile(v, 0.1),
                quantile(v, 0.9), v.empty() ? 0.0 : cpu * 1e3 / static_cast<double>(v.size()));
  };
  lat_row("Pool, posix_spawn loop (no cgroups)", lat_ours, cpu_ours);
  lat_row("raw posix_spawn+pidfd_open+poll+waitid", lat_raw, cpu_raw);
  lat_row("Pool, default loop", lat_default, cpu_default);
  if (contained) lat_row("raw, a fresh cgroup each (clone3 into it)", lat_contained, cpu_contained);

  std::printf("\nbring-up of %zu sleeps (ms), %d rounds each, interleaved\n", pool_size,
              bringup_rounds);
  std::printf("  %-44s %8s %9s %9s %11s %9s\n", "variant", "up", "(min", "max)", "CPU/worker",
              "stop");
  auto up_row = [&](const char* name, const std::vector<Bringup>& runs) {
    const auto up = field(runs, &Bringup::up_ms);
    std::printf("  %-44s %8.1f %9.1f %9.1f %8.0f us %9.1f\n", name, median(up), quantile(up, 0.0),
                quantile(up, 1.0), median(field(runs, &Bringup::cpu_ms)) * 1e3 / double(pool_size),
                median(field(runs, &Bringup::down_ms)));
  };
  up_row("Pool::start .. wait_ready, posix_spawn loop", up_ours);
  up_row("raw posix_spawn + pidfd_open", up_raw);
  up_row("Pool, default loop", up_default);
  if (contained) up_row("raw, a fresh cgroup each (clone3 into it)", up_contained);
  if (!bringup_note.empty()) std::printf("  note: %s\n", bringup_note.c_str());

  std::printf("\npool of %zu idle workers, default loop\n", mem_run.reached);
  std::printf("  host CPU %.1f ms in %.2f s (%.2f ms per 30 s)\n", idle_cpu_ms, idle_s,
              idle_per_30s);
  std::printf("  host RSS growth %.0f KiB (%.2f KiB per worker)\n", rss_growth / 1024.0,
              kib_per_worker);

  std::printf("\nacquire(1 s) + release on %zu ready workers (cycles/s), %d rounds of %lld ms\n",
              lease_workers, lease_rounds,
              static_cast<long long>(std::chrono::milliseconds(lease_span).count()));
  std::printf("  1 thread:  %9.0f (%.2f us per cycle; host CPU %.2f us per cycle)\n", l1,
              l1 > 0 ? 1e6 / l1 : 0.0, lease_field(lease_1t, &LeaseRun::cpu_us));
  std::printf("  %d threads: %9.0f (host CPU %.2f us per cycle)\n", lease_threads, ln,
              lease_field(lease_nt, &LeaseRun::cpu_us));
  if (!size_note.empty() || reached < big_pool) {
    std::printf("note: the \"1000\" metrics were measured with %zu workers%s%s\n", reached,
                size_note.empty() ? "" : ": ", size_note.c_str());
  }
  std::printf("(whole benchmark: %.1f s)\n",
              std::chrono::duration<double>(BenchClock::now() - bench_start).count());

  sv::bench::metric("pool.restart_latency_us", r_ours, "us");
  sv::bench::metric("pool.raw_restart_latency_us", r_raw, "us");
  sv::bench::metric("pool.restart_latency_ratio", ratio(r_ours, r_raw), "ratio");
  sv::bench::metric("pool.restart_latency_default_us", r_default, "us");
  sv::bench::metric("pool.restart_latency_default_vs_plain", ratio(r_default, r_raw), "ratio");
  if (contained) {
    sv::bench::metric("pool.raw_contained_restart_latency_us", r_contained, "us");
    sv::bench::metric("pool.raw_contained_restart_cpu_us", cpu_contained * 1e3 / restart_samples,
                      "us");
    sv::bench::metric("pool.restart_latency_default_ratio", ratio(r_default, r_contained), "ratio");
  }
  sv::bench::metric("pool.restart_cpu_us", cpu_ours * 1e3 / restart_samples, "us");
  sv::bench::metric("pool.restart_default_cpu_us", cpu_default * 1e3 / restart_samples, "us");
  sv::bench::metric("pool.raw_restart_cpu_us", cpu_raw * 1e3 / restart_samples, "us");
  sv::bench::metric("pool.bringup_1000_ms", b_ours, "ms");
  sv::bench::metric("pool.raw_bringup_1000_ms", b_raw, "ms");
  sv::bench::metric("pool.bringup_1000_ratio", ratio(b_ours, b_raw), "ratio");
  sv::bench::metric("pool.bringup_1000_default_ms", b_default, "ms");
  sv::bench::metric("pool.bringup_1000_default_vs_plain", ratio(b_default, b_raw), "ratio");
  if (contained) {
    sv::bench::metric("pool.raw_contained_bringup_1000_ms", b_contained, "ms");
    sv::bench::metric("pool.bringup_1000_default_ratio", ratio(b_default, b_contained), "ratio");
    sv::bench::metric("pool.raw_contained_stop_1000_ms",
                      median(field(up_contained, &Bringup::down_ms)), "ms");
  }
  sv::bench::metric("pool.bringup_cpu_per_worker_us",
                    median(field(up_ours, &Bringup::cpu_ms)) * 1e3 / double(pool_size), "us");
  sv::bench::metric("pool.raw_bringup_cpu_per_worker_us",
                    median(field(up_raw, &Bringup::cpu_ms)) * 1e3 / double(pool_size), "us");
  sv::bench::metric("pool.stop_1000_ms", s_ours, "ms");
  sv::bench::metric("pool.raw_stop_1000_ms", s_raw, "ms");
  sv::bench::metric("pool.stop_1000_default_ms", median(field(up_default, &Bringup::down_ms)),
                    "ms");
  sv::bench::metric("pool.idle_cpu_1000", idle_per_30s, "ms_per_30s");
  sv::bench::metric("pool.memory_per_worker", kib_per_worker, "KiB");
  sv::bench::metric("pool.lease_cycles_1t", l1, "per_s");
  sv::bench::metric("pool.lease_cycles_8t", ln, "per_s");
  return 0;
}

}  // namespace

int main() { return supervisor::bench::guarded_main(run, "pool_bench"); }
