// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/metrics.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace supervisor {

SUPERVISOR_INLINE Histogram Histogram::with_bounds(std::vector<double> b) {
  Histogram h;
  std::sort(b.begin(), b.end());
  h.bounds = std::move(b);
  h.counts.assign(h.bounds.size() + 1, 0);
  return h;
}

SUPERVISOR_INLINE Histogram Histogram::default_seconds() {
  return with_bounds({0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300});
}

SUPERVISOR_INLINE void Histogram::observe(double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // negative or NaN
  if (counts.size() != bounds.size() + 1) counts.assign(bounds.size() + 1, 0);
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  ++counts[static_cast<std::size_t>(it - bounds.begin())];
  sum += seconds;
  ++count;
}

SUPERVISOR_INLINE void Histogram::merge(const Histogram& other) {
  if (other.bounds != bounds || other.count == 0) return;
  if (counts.size() != bounds.size() + 1) counts.assign(bounds.size() + 1, 0);
  for (std::size_t i = 0; i < counts.size() && i < other.counts.size(); ++i)
    counts[i] += other.counts[i];
  sum += other.sum;
  count += other.count;
}

SUPERVISOR_INLINE double Histogram::quantile_bound(double q) const {
  if (count == 0) return 0;
  const double target = std::clamp(q, 0.0, 1.0) * static_cast<double>(count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    seen += counts[i];
    if (static_cast<double>(seen) >= target && seen > 0) {
      return i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity();
    }
  }
  return std::numeric_limits<double>::infinity();
}

}  // namespace supervisor
