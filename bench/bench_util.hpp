// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Tiny helpers shared by the benchmarks: medians over repeated runs, and the machine-readable
// `metric <name> <value> <unit>` lines that bench/run.sh collects.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <random>
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

/// The order in which `variants` measurements run in each round, shuffled afresh every round
/// (fixed seed: the same sequence every run). A rotation (i + k) % n would have each variant
/// follow the same neighbour in most rounds, so that what a variant leaves for the kernel to
/// finish (a cgroup torn down, a process exiting) would always land on the same other one;
/// shuffled, each follows each other about equally often.
class Interleave {
 public:
  explicit Interleave(int variants, unsigned seed = 20261122)
      : order_(static_cast<std::size_t>(variants)), rng_(seed) {
    std::iota(order_.begin(), order_.end(), 0);
  }
  const std::vector<int>& next_round() {
    std::shuffle(order_.begin(), order_.end(), rng_);
    return order_;
  }

 private:
  std::vector<int> order_;
  std::mt19937 rng_;
};

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
