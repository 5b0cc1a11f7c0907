// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/clock.hpp>

#include <fmt/format.h>

#include <supervisor/error.hpp>

namespace supervisor {

SUPERVISOR_INLINE Clock::~Clock() = default;

SUPERVISOR_INLINE TimePoint SteadyClock::now() const noexcept {
  return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

SUPERVISOR_INLINE WallTime SteadyClock::wall_now() const noexcept {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

SUPERVISOR_INLINE Clock& default_clock() noexcept {
  static SteadyClock instance;
  return instance;
}

SUPERVISOR_INLINE ManualClock::ManualClock(TimePoint start, WallTime wall_start) noexcept
    : ticks_(start.time_since_epoch().count()),
      wall_offset_(wall_start.time_since_epoch().count() - start.time_since_epoch().count()) {}

SUPERVISOR_INLINE TimePoint ManualClock::now() const noexcept {
  return TimePoint{Duration{ticks_.load(std::memory_order_acquire)}};
}

SUPERVISOR_INLINE WallTime ManualClock::wall_now() const noexcept {
  return WallTime{Duration{ticks_.load(std::memory_order_acquire) + wall_offset_}};
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void advance_impl(std::atomic<std::int64_t>& ticks, Duration d,
                                    detail::ErrorSink& err) {
  if (d.count() < 0) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("ManualClock::advance: negative duration {}ns (time is monotonic)",
                         d.count());
    });
    return;
  }
  ticks.fetch_add(d.count(), std::memory_order_acq_rel);
}

SUPERVISOR_INLINE void set_impl(std::atomic<std::int64_t>& ticks, TimePoint t,
                                detail::ErrorSink& err) {
  const std::int64_t target = t.time_since_epoch().count();
  std::int64_t current = ticks.load(std::memory_order_acquire);
  do {
    if (target < current) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("ManualClock::set: {}ns is {}ns before now (time is monotonic)", target,
                           current - target);
      });
      return;
    }
  } while (!ticks.compare_exchange_weak(current, target, std::memory_order_acq_rel));
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void ManualClock::advance(Duration d) {
  detail::or_throw([&](detail::ErrorSink& err) { advance_impl(ticks_, d, err); });
}

SUPERVISOR_INLINE void ManualClock::advance(Duration d, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { advance_impl(ticks_, d, err); });
}

SUPERVISOR_INLINE void ManualClock::set(TimePoint t) {
  detail::or_throw([&](detail::ErrorSink& err) { set_impl(ticks_, t, err); });
}

SUPERVISOR_INLINE void ManualClock::set(TimePoint t, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { set_impl(ticks_, t, err); });
}

}  // namespace supervisor
