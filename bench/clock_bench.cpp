// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Cost of reading time through the injectable Clock (a virtual call) next to reading
// std::chrono::steady_clock directly, measured side by side, interleaved, in one run.
#include <supervisor/clock.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "bench_util.hpp"

namespace {
volatile std::int64_t sink;  // keeps the reads from being optimised away
}

int main() {
  namespace sv = supervisor;
  using supervisor::bench::median_ns_per_op;
  constexpr long iterations = 2'000'000;
  constexpr int rounds = 15;
  sv::Clock& clock = sv::default_clock();

  std::vector<double> ours_v, raw_v;
  for (int r = 0; r < rounds; ++r) {
    ours_v.push_back(median_ns_per_op(1, iterations, [&](long n) {
      for (long i = 0; i < n; ++i) sink = clock.now().time_since_epoch().count();
    }));
    raw_v.push_back(median_ns_per_op(1, iterations, [&](long n) {
      for (long i = 0; i < n; ++i)
        sink = std::chrono::steady_clock::now().time_since_epoch().count();
    }));
  }
  const double ours = supervisor::bench::median(ours_v);
  const double raw = supervisor::bench::median(raw_v);
  std::printf("%-28s %10s\n", "clock read", "ns/op (median)");
  std::printf("%-28s %10.2f\n", "supervisor::default_clock()", ours);
  std::printf("%-28s %10.2f\n", "std::chrono::steady_clock", raw);
  supervisor::bench::metric("clock.now_ns", ours, "ns");
  supervisor::bench::metric("clock.raw_now_ns", raw, "ns");
  supervisor::bench::metric("clock.now_ratio", raw > 0 ? ours / raw : 0.0, "ratio");
  return 0;
}
