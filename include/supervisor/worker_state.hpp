// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 19  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// The life of one worker slot of a Pool, as an explicit state machine. Only moves listed in the
/// transition table are applied; any other is rejected with `errc::invalid_transition` and
/// leaves the state unchanged. Every applied move is a `WorkerTransition` with time and cause.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

/// States of a worker slot.
enum class WorkerState : std::uint8_t {
  starting,  ///< Spawned (or being spawned); not ready for work yet.
  ready,     ///< Running and ready; may be leased.
  leased,    ///< Running, exclusively held by one lease.
  draining,  ///< Running; takes no new lease, finishes the current one, then stops.
  stopping,  ///< Its StopPlan is running.
  exited,    ///< The process and its tree are gone; the restart policy decides next.
  backoff,   ///< Waiting out a restart delay (or an open restart breaker).
  failed,    ///< Given up on (restart budget exhausted, or never restart).
  retired,   ///< Removed from the pool for good (terminal).
};

inline constexpr std::size_t worker_state_count = 9;

/// The state's name, e.g. "leased".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(WorkerState s) noexcept;

/// Whether the table allows `from` -> `to`. Pure; thread-safe.
[[nodiscard]] SUPERVISOR_API bool transition_allowed(WorkerState from, WorkerState to) noexcept;

/// One applied move.
struct WorkerTransition {
  std::size_t worker = 0;         ///< The slot.
  std::uint64_t incarnation = 0;  ///< Which process of that slot (1 for the first spawn).
  WorkerState from = WorkerState::starting;
  WorkerState to = WorkerState::starting;
  TimePoint at{};     ///< Monotonic time of the move.
  std::string cause;  ///< Why, e.g. "ready: READY=1" or "exited: signal (SIGKILL)".
};

/// The state of one slot. Not thread-safe: owned and driven by the supervision loop.
class SUPERVISOR_API WorkerStateMachine {
 public:
  explicit WorkerStateMachine(std::size_t worker, WorkerState initial = WorkerState::starting,
                              TimePoint now = {}) noexcept;
  /// Continues a slot's numbering: its last incarnation was `last_incarnation`, so its next
  /// `starting` begins `last_incarnation + 1` (a reused slot never repeats an incarnation).
  /// `initial` must not be `starting`.
  WorkerStateMachine(std::size_t worker, WorkerState initial, TimePoint now,
                     std::uint64_t last_incarnation) noexcept;

  [[nodiscard]] WorkerState state() const noexcept { return state_; }
  [[nodiscard]] std::size_t worker() const noexcept { return worker_; }
  [[nodiscard]] std::uint64_t incarnation() const noexcept { return incarnation_; }
  /// When the current state was entered.
  [[nodiscard]] TimePoint since() const noexcept { return since_; }
  /// Time spent in each state so far, including the current one up to `now`.
  [[nodiscard]] Duration time_in(WorkerState s, TimePoint now) const noexcept;

  /// Applies `from -> to` if the table allows it; entering `starting` begins a new incarnation.
  /// Throws `std::system_error` (`errc::invalid_transition`, naming both states and the cause)
  /// and leaves the state unchanged otherwise.
  WorkerTransition transition(WorkerState to, std::string cause, TimePoint now);
  /// \overload Reports through `ec`; on error the returned transition is meaningless.
  WorkerTransition transition(WorkerState to, std::string cause, TimePoint now,
                              std::error_code& ec) noexcept;

 private:
  std::size_t worker_;
  WorkerState state_;
  std::uint64_t incarnation_;
  TimePoint since_;
  std::array<Duration, worker_state_count> time_in_{};
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 19
#  include <supervisor/detail/header_only_end.hpp>
#endif
