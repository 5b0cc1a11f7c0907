// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/error.hpp>
#include <supervisor/scaling.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace supervisor {

SUPERVISOR_INLINE ScalingPolicy::~ScalingPolicy() = default;

SUPERVISOR_INLINE TargetUtilization::TargetUtilization(TargetUtilizationOptions options)
    : options_(options) {
  if (!(options_.target > 0 && options_.target <= 1)) {
    throw_error(
        errc::invalid_argument,
        fmt::format("TargetUtilizationOptions.target: {} is outside (0, 1]", options_.target));
  }
  if (options_.scale_down_window < Duration::zero() ||
      options_.scale_up_window < Duration::zero()) {
    throw_error(errc::invalid_argument,
                "TargetUtilizationOptions: a stabilisation window is negative");
  }
  if (options_.queue_wait_target < Duration::zero()) {
    throw_error(errc::invalid_argument,
                fmt::format("TargetUtilizationOptions.queue_wait_target: {}ns is negative",
                            options_.queue_wait_target.count()));
  }
}

SUPERVISOR_INLINE std::size_t TargetUtilization::desired_size(const ScalingInput& in) {
  const double demand = static_cast<double>(in.leased + in.waiting);
  auto raw = static_cast<std::size_t>(std::ceil(demand / options_.target));
  if (options_.queue_wait_target > Duration::zero() && in.queue_wait > options_.queue_wait_target)
    raw = std::max(raw, in.size + std::max<std::size_t>(1, in.waiting));
  history_.emplace_back(in.now, raw);
  const Duration keep = std::max(options_.scale_down_window, options_.scale_up_window);
  while (!history_.empty() && in.now - history_.front().first > keep) history_.pop_front();
  // Growing: the smallest recommendation of the up window (all of it at once with a zero
  // window); shrinking: the largest of the down window.
  std::size_t up = raw;
  std::size_t down = raw;
  for (const auto& [at, n] : history_) {
    if (in.now - at <= options_.scale_up_window) up = std::min(up, n);
    if (in.now - at <= options_.scale_down_window) down = std::max(down, n);
  }
  if (up > in.size) return up;
  if (down < in.size) return down;
  return in.size;
}

}  // namespace supervisor
