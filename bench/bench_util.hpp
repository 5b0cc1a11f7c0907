// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Tiny helpers shared by the benchmarks: medians over repeated runs, and the machine-readable
// `metric <name> <value> <unit>` lines that bench/run.sh collects.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace supervisor::bench {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

inline void metric(const std::string& name, double value, const std::string& unit) {
  std::printf("metric %s %.6g %s\n", name.c_str(), value, unit.c_str());
  std::fflush(stdout);
}

/// Runs `body` (which performs `iterations` operations) `rounds` times; returns the median
/// nanoseconds per operation.
template <class Body>
double median_ns_per_op(int rounds, long iterations, Body&& body) {
  std::vector<double> samples;
  samples.reserve(static_cast<std::size_t>(rounds));
  for (int r = 0; r < rounds; ++r) {
    const auto start = std::chrono::steady_clock::now();
    body(iterations);
    const auto stop = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration<double, std::nano>(stop - start).count() /
                      static_cast<double>(iterations));
  }
  return median(std::move(samples));
}

}  // namespace supervisor::bench
