// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 8  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Metric values a Pool keeps (read through `Pool::snapshot()`), and their Prometheus text
/// exposition. Plain values: copy them, keep them, compare them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <supervisor/export.hpp>

namespace supervisor {

/// A fixed-bucket histogram of seconds (Prometheus semantics: cumulative `le` buckets).
struct SUPERVISOR_API Histogram {
  std::vector<double> bounds;         ///< Upper bounds in seconds, ascending.
  std::vector<std::uint64_t> counts;  ///< Per bucket (not cumulative); one more for +Inf.
  double sum = 0;                     ///< Sum of observed values, seconds.
  std::uint64_t count = 0;            ///< Number of observations.

  /// A histogram with `bounds` (seconds, ascending) and empty counts.
  static Histogram with_bounds(std::vector<double> bounds);
  /// Buckets from 1 ms to about 5 min, for latencies and lifetimes of processes.
  static Histogram default_seconds();
  /// Records one value (seconds; negative values count as 0).
  void observe(double seconds);
  /// Adds the observations of `other`, which must have the same bounds (else: ignored).
  void merge(const Histogram& other);
  /// The smallest bucket bound at or above quantile `q` (0..1) of the observations; +inf past
  /// the last bound, 0 when empty. A coarse estimate, as Prometheus' histogram_quantile.
  [[nodiscard]] double quantile_bound(double q) const;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 8
#  include <supervisor/detail/header_only_end.hpp>
#endif
