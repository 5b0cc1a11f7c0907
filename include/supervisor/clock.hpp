// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 2  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Injectable time. Every deadline in the library is monotonic (`TimePoint`); wall-clock time
/// (`WallTime`) is only stamped on events for humans. Tests swap in a `ManualClock`.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <system_error>

#include <supervisor/export.hpp>

namespace supervisor {

/// Durations are nanoseconds throughout.
using Duration = std::chrono::nanoseconds;
/// A monotonic instant. Its epoch is arbitrary (the steady clock's, or a ManualClock's start).
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;
/// A wall-clock instant, for display only; never used for deadlines.
using WallTime = std::chrono::time_point<std::chrono::system_clock, Duration>;

/// Source of time for the library. Implementations must be thread-safe: `now()` is called from
/// the supervision loop and from host threads at once.
class SUPERVISOR_API Clock {
 public:
  virtual ~Clock();
  /// The current monotonic time. Never decreases.
  [[nodiscard]] virtual TimePoint now() const noexcept = 0;
  /// The current wall-clock time, for event timestamps.
  [[nodiscard]] virtual WallTime wall_now() const noexcept = 0;

 protected:
  Clock() = default;
  Clock(const Clock&) = default;
  Clock& operator=(const Clock&) = default;
};

/// The real clock: `std::chrono::steady_clock` and `std::chrono::system_clock`. Stateless and
/// thread-safe.
class SUPERVISOR_API SteadyClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const noexcept override;
  [[nodiscard]] WallTime wall_now() const noexcept override;
};

/// The process-wide real clock, used whenever no clock is injected. Thread-safe.
[[nodiscard]] SUPERVISOR_API Clock& default_clock() noexcept;

/// A clock that moves only when told to, for deterministic tests. Thread-safe: any thread may
/// read or advance it. Wall time moves in step with monotonic time.
class SUPERVISOR_API ManualClock final : public Clock {
 public:
  /// Starts at `start` (monotonic) and `wall_start` (wall clock).
  explicit ManualClock(TimePoint start = TimePoint{}, WallTime wall_start = WallTime{}) noexcept;

  [[nodiscard]] TimePoint now() const noexcept override;
  [[nodiscard]] WallTime wall_now() const noexcept override;

  /// Moves time forward by `d`. A negative `d` is `errc::invalid_argument` (time is monotonic),
  /// and leaves the clock unchanged.
  void advance(Duration d);
  /// \overload
  void advance(Duration d, std::error_code& ec) noexcept;

  /// Moves time forward to `t`. A `t` before `now()` is `errc::invalid_argument`, and leaves the
  /// clock unchanged.
  void set(TimePoint t);
  /// \overload
  void set(TimePoint t, std::error_code& ec) noexcept;

 private:
  std::atomic<std::int64_t> ticks_;  // nanoseconds since the TimePoint epoch
  std::int64_t wall_offset_;         // wall ticks minus monotonic ticks, fixed at construction
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 2
#  include <supervisor/detail/header_only_end.hpp>
#endif
