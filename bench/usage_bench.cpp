// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What usage sampling (PoolOptions::usage_sample_period) costs the host: a pool of idle workers
// runs for the same wall time with sampling off and on (interleaved rounds), and the host's CPU
// time (every thread: the loop's timer, reads and bookkeeping) of the two is compared. The
// difference over the number of worker samples is the CPU one sample costs; the samples are
// counted as `workers * elapsed / period`, at least as many as were taken (the timer is armed
// again after each round of reads), so the figure errs high. Off, the pool must cost nothing:
// its round is the baseline. Linux only, like the process backend itself.
#include <supervisor/loop.hpp>
#include <supervisor/pool.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench_util.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t k_workers = 16;
constexpr auto k_period = 10ms;  // the smallest period the pool accepts: the most samples
constexpr auto k_round = 2s;
constexpr int k_rounds = 5;

double host_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Host CPU seconds over one round of a pool of idle workers, sampled every `period` (zero: off).
double round_cpu(sv::Loop& loop, sv::Duration period, double& elapsed) {
  sv::PoolOptions o;
  o.spec.argv = {"/bin/sleep", "3600"};
  o.spec.out = sv::StdioSpec::null();
  o.size = k_workers;
  o.usage_sample_period = period;
  sv::Pool pool(loop, o);
  pool.start();
  if (!pool.wait_ready(k_workers, 10s)) throw std::runtime_error("workers not ready");
  std::this_thread::sleep_for(100ms);  // their starts settle
  const double cpu0 = host_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(k_round);
  const double cpu1 = host_cpu_seconds();
  elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (period > sv::Duration::zero() && !pool.snapshot().workers.at(0).usage)
    throw std::runtime_error("sampling on, but no sample");
  pool.stop();
  return cpu1 - cpu0;
}

int run() {
  sv::Loop loop;
  std::vector<double> per_sample_us;
  std::vector<double> off_cpu;
  for (int r = 0; r < k_rounds; ++r) {
    double off_elapsed = 0;
    double on_elapsed = 0;
    const double off = round_cpu(loop, sv::Duration::zero(), off_elapsed);
    const double on = round_cpu(loop, k_period, on_elapsed);
    const double samples = static_cast<double>(k_workers) * on_elapsed /
                           std::chrono::duration<double>(k_period).count();
    // The off round's CPU rate, over the on round's time: what the on round cost besides sampling.
    const double extra = on - off * on_elapsed / off_elapsed;
    per_sample_us.push_back(extra / samples * 1e6);
    off_cpu.push_back(off / off_elapsed);
    std::printf(
        "round %d: host cpu off %.4f s, on %.4f s over %.2f s; %.0f samples: %.2f us each\n", r,
        off, on, on_elapsed, samples, per_sample_us.back());
  }
  const double us = sv::bench::median(per_sample_us);
  std::printf(
      "%zu idle workers sampled every %lld ms: %.2f us of host CPU per worker sample "
      "(%.2f%% of a core); sampling off: %.3f%% of a core\n",
      k_workers, static_cast<long long>(k_period.count()), us,
      us * 1e-6 * k_workers / std::chrono::duration<double>(k_period).count() * 100,
      sv::bench::median(off_cpu) * 100);
  sv::bench::metric("pool.usage_sample_cpu_us", us, "us");
  sv::bench::metric("pool.usage_off_cpu_share", sv::bench::median(off_cpu), "cores");
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "usage_bench: %s\n", e.what());
    return 1;
  }
}
