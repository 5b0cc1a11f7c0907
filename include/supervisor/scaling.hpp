// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 15  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `ScalingPolicy`: how many workers a Pool should run, decided periodically on its loop thread.

#include <cstddef>
#include <deque>
#include <system_error>
#include <utility>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

/// What a scaling policy sees at each evaluation.
struct ScalingInput {
  TimePoint now{};
  std::size_t size = 0;     ///< Workers the pool runs now (not retired).
  std::size_t leased = 0;   ///< Of them, leased.
  std::size_t ready = 0;    ///< Of them, ready and idle.
  std::size_t waiting = 0;  ///< Acquire calls waiting for a worker.
  /// The longest an acquire waited for a worker since the previous evaluation: those served or
  /// timed out meanwhile, and the oldest still waiting. Zero when none had to wait.
  Duration queue_wait{};
};

/// Decides the pool size. Called on the pool's loop thread only, every
/// `PoolOptions::scaling_period`; the Pool clamps the answer to [min_size, max_size]. A throwing
/// policy leaves the size as it is.
class SUPERVISOR_API ScalingPolicy {
 public:
  virtual ~ScalingPolicy();
  [[nodiscard]] virtual std::size_t desired_size(const ScalingInput& input) = 0;

 protected:
  ScalingPolicy() = default;
  ScalingPolicy(const ScalingPolicy&) = default;
  ScalingPolicy& operator=(const ScalingPolicy&) = default;
};

/// Options of `TargetUtilization` (Kubernetes HPA semantics).
struct TargetUtilizationOptions {
  /// Wanted fraction of workers leased, in (0, 1]. Waiting acquires count as demand too.
  double target = 0.7;
  /// Scale-down stabilisation: the size used is the largest wanted during this window (HPA's
  /// default 5 min), so that a dip does not shrink the pool only to grow it again.
  Duration scale_down_window = std::chrono::minutes(5);
  /// Scale-up stabilisation: the smallest wanted during this window (HPA's default 0: at once).
  Duration scale_up_window{};
  /// Queue-latency target (zero: off). When `ScalingInput::queue_wait` exceeds it, the pool is
  /// too small whatever its utilisation says (short leases keep utilisation low while acquires
  /// still queue): the recommendation is then at least one worker more than now, and one more per
  /// waiting acquire. The signal queue-driven autoscalers use; HPA has no queue to look at.
  Duration queue_wait_target{};
};

/// desired = ceil((leased + waiting) / target), raised to size + max(1, waiting) while the queue
/// wait exceeds `queue_wait_target`; stabilised. Loop thread only.
class SUPERVISOR_API TargetUtilization final : public ScalingPolicy {
 public:
  /// Throws `errc::invalid_argument` naming the field for a bad option.
  explicit TargetUtilization(TargetUtilizationOptions options = {});
  [[nodiscard]] std::size_t desired_size(const ScalingInput& input) override;

 private:
  TargetUtilizationOptions options_;
  std::deque<std::pair<TimePoint, std::size_t>> history_;  // raw recommendations, oldest first
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 15
#  include <supervisor/detail/header_only_end.hpp>
#endif
