// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 1  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Circuit breakers: the policy a `Pool` consults before it starts a worker or hands out a lease.
///
/// A breaker is a small state machine (Resilience4j's model). While `closed` every call is
/// permitted and its outcome is recorded; when too many recent calls failed or were slow it
/// trips `open` and refuses calls; after a wait it lets a few trial calls through
/// (`half_open`), whose outcomes close it again or reopen it. `disabled` and `forced_open` are
/// manual overrides.
///
/// A caller asks `try_acquire(now)` before a call, then reports exactly one of
/// `on_success(elapsed, now)`, `on_failure(elapsed, now)` or `release(now)` (the permitted call
/// was not made). Time is always passed in (`TimePoint` from a `Clock`), so tests drive a breaker
/// with explicit instants or a `ManualClock` and never sleep.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

/// The state of a circuit breaker.
enum class BreakerState {
  closed,       ///< Calls are permitted; outcomes are recorded and may trip the breaker.
  open,         ///< Calls are refused until the wait in open state has passed.
  half_open,    ///< A fixed number of trial calls is permitted; their outcomes decide.
  disabled,     ///< Manual override: every call is permitted, nothing is recorded.
  forced_open,  ///< Manual override: every call is refused, until `reset`.
};

/// The state's name, e.g. "half_open". Thread-safe.
[[nodiscard]] SUPERVISOR_API std::string_view to_string(BreakerState s) noexcept;

/// One change of state, as seen by the listener.
struct BreakerTransition {
  BreakerState from = BreakerState::closed;  ///< The state left.
  BreakerState to = BreakerState::closed;    ///< The state entered.
  TimePoint at{};                            ///< The `now` of the call that caused it.
  /// Why, in one readable phrase, e.g. "failure rate 60.0% reached the 50.0% threshold over the
  /// last 10 calls".
  std::string reason;
};

/// The interface a `Pool` uses; subclass it to write your own policy (see
/// `SlidingWindowBreaker` for the built-in one).
///
/// Threads: the pure virtual calls may come from the supervision loop and from host threads at
/// once (a lease can be released on any thread), so implementations must be thread-safe. The
/// listener machinery in this base class is thread-safe.
///
/// Contract for each permitted call (`try_acquire` returned true): exactly one of `on_success`,
/// `on_failure` or `release` follows. Outcomes of calls that were permitted in an earlier state
/// may still arrive; implementations decide whether they count.
class SUPERVISOR_API CircuitBreaker {
 public:
  /// Receives every state change. See `set_listener` for when and where it is called.
  using Listener = std::function<void(const BreakerTransition&)>;

  /// Destroys the breaker. No call may be in progress on another thread.
  virtual ~CircuitBreaker();
  /// Not copyable: a breaker is shared by reference (it holds a lock and its listener).
  CircuitBreaker(const CircuitBreaker&) = delete;
  /// \copydoc CircuitBreaker(const CircuitBreaker&)
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  /// Asks permission to make one call at `now`. False when the breaker refuses it (open, forced
  /// open, or half-open with every trial permit taken). Any thread; must be thread-safe.
  [[nodiscard]] virtual bool try_acquire(TimePoint now) = 0;

  /// Reports that a permitted call succeeded after `elapsed`, finishing at `now`. Any thread;
  /// must be thread-safe.
  virtual void on_success(Duration elapsed, TimePoint now) = 0;

  /// Reports that a permitted call failed after `elapsed`, finishing at `now`. Any thread; must
  /// be thread-safe.
  virtual void on_failure(Duration elapsed, TimePoint now) = 0;

  /// Reports that a permitted call succeeded but was slow by the caller's own judgement (a
  /// lease released with `LeaseOutcome::slow`), whatever `elapsed` was. The default reports it
  /// as `on_success(elapsed, now)`, for breakers that judge slowness by time alone. Any thread;
  /// must be thread-safe.
  virtual void on_slow(Duration elapsed, TimePoint now);

  /// Returns the permit of a call that was permitted but not made (cancelled, timed out before
  /// it started): it counts as neither success nor failure. The default does nothing, which is
  /// right for a breaker without limited permits. Any thread; must be thread-safe.
  virtual void release(TimePoint now);

  /// The state at `now`. May perform time-driven transitions that are due (and notify the
  /// listener), hence not const. Any thread; must be thread-safe.
  [[nodiscard]] virtual BreakerState state(TimePoint now) = 0;

  /// The earliest instant after `now` at which the breaker may change state without a call
  /// (the end of the wait in open state, a half-open deadline), so that an event loop can set a
  /// timer instead of polling; `std::nullopt` when nothing is scheduled. The default returns
  /// `std::nullopt`. Any thread; must be thread-safe.
  [[nodiscard]] virtual std::optional<TimePoint> next_transition_at(TimePoint now);

  /// Sets (or, with an empty function, clears) the listener. It is called once per transition,
  /// in the order the transitions happened, one call at a time, and never while the breaker's
  /// own lock is held, so it may call back into the breaker. It runs on the thread whose call
  /// caused the transition, or on another thread that is delivering transitions at that moment.
  /// Exceptions it throws are caught and counted (`listener_failures`). Any thread; thread-safe.
  void set_listener(Listener listener);

  /// How many times the listener threw. Any thread; thread-safe.
  [[nodiscard]] std::uint64_t listener_failures() const noexcept;

 protected:
  /// For subclasses: starts without a listener.
  CircuitBreaker();

  /// For subclasses: queues a transition for the listener. Call it while holding your own lock,
  /// in the order the transitions happen, then call `deliver_transitions` after unlocking; this
  /// keeps the listener in order even when threads race. Thread-safe.
  void enqueue_transition(BreakerTransition transition);

  /// For subclasses: calls the listener for every queued transition, unless another thread is
  /// already doing so (it will deliver these too). Call it without holding your own lock.
  /// Thread-safe; never throws from the listener.
  void deliver_transitions() noexcept;

  /// For subclasses without a lock of their own: `enqueue_transition` then
  /// `deliver_transitions`. Thread-safe.
  void notify(BreakerTransition transition);

 private:
  mutable std::mutex listener_mutex_;  // guards the four members below
  std::shared_ptr<const Listener> listener_;
  std::deque<BreakerTransition> pending_;
  bool delivering_ = false;
  std::atomic<std::uint64_t> listener_failures_{0};
};

/// What `SlidingWindowBreaker` remembers of the closed state.
enum class SlidingWindowType {
  count_based,  ///< The last `window_size` calls.
  time_based,   ///< The calls that finished in the last `window_size` seconds (per-second buckets).
};

/// The type's name, e.g. "count_based". Thread-safe.
[[nodiscard]] SUPERVISOR_API std::string_view to_string(SlidingWindowType t) noexcept;

/// Configuration of a `SlidingWindowBreaker`. Defaults are Resilience4j's except
/// `minimum_calls`. Checked by `validate` and by `SlidingWindowBreaker::create`.
struct BreakerOptions {
  /// Largest `window_size` of a count-based window (one byte per call).
  static constexpr int max_count_window = 1'000'000;
  /// Largest `window_size` of a time-based window, in seconds (one day).
  static constexpr int max_time_window_seconds = 86'400;

  /// Count-based (the last N calls) or time-based (the last N seconds). Resilience4j default.
  SlidingWindowType window_type = SlidingWindowType::count_based;
  /// N: calls (count-based) or seconds (time-based); 1 .. the max above. Resilience4j: 100.
  int window_size = 100;
  /// Outcomes the window must hold before rates are compared with the thresholds. Resilience4j
  /// uses 100; ours is 5, because the first user is the restart breaker where a call is a process
  /// start: 100 crash-loop starts is far too late, and 5 is systemd's StartLimitBurst. For a
  /// count-based window the effective minimum is min(minimum_calls, window_size), as in
  /// Resilience4j. At least 1.
  int minimum_calls = 5;
  /// Trip when at least this percent of the recorded calls failed. (0, 100]. Resilience4j: 50.
  double failure_rate_threshold = 50.0;
  /// Trip when at least this percent of the recorded calls were slow. (0, 100]. Resilience4j:
  /// 100 (only when every call is slow).
  double slow_call_rate_threshold = 100.0;
  /// A call is slow when its `elapsed` is longer than this. Positive. Resilience4j: 60 s.
  Duration slow_call_duration = std::chrono::seconds(60);
  /// How long the breaker stays open before trial calls are permitted. Positive. Resilience4j:
  /// 60 s.
  Duration wait_in_open = std::chrono::seconds(60);
  /// Trial calls permitted in half-open; once that many outcomes are in, their rates decide
  /// (below both thresholds: closed; otherwise open again). At least 1. Resilience4j: 10. (A
  /// restart breaker where "one trial start decides" sets 1.)
  int permitted_calls_in_half_open = 10;
  /// 0: stay half-open until every trial outcome is in. Otherwise, after this long in half-open
  /// without a decision, open again. Not negative. Resilience4j: 0.
  Duration max_wait_in_half_open = Duration::zero();
  /// true: `state(now)` (and every other call) moves open to half-open as soon as the wait has
  /// passed. false: open lasts until the next `try_acquire` after the wait, which becomes the
  /// first trial call. Resilience4j: false.
  bool automatic_open_to_half_open = false;
};

/// Checks every field; an error is `errc::invalid_argument` naming the first bad field and its
/// value, e.g. `BreakerOptions.failure_rate_threshold: 150 is outside (0, 100] percent`.
/// Thread-safe.
SUPERVISOR_API void validate(const BreakerOptions& options);
/// \overload
SUPERVISOR_API void validate(const BreakerOptions& options, std::error_code& ec) noexcept;

/// A consistent snapshot of a `SlidingWindowBreaker`.
struct BreakerMetrics {
  BreakerState state = BreakerState::closed;  ///< The state at the snapshot's `now`.
  /// Percent of `buffered_calls` that failed (0 when there are none). Reported even below
  /// `minimum_calls` (Resilience4j reports -1 there); compare `buffered_calls` with
  /// `minimum_calls` to know whether the rate can trip the breaker yet.
  double failure_rate = 0.0;
  /// Percent of `buffered_calls` that were slow (failed or not); 0 when there are none.
  double slow_call_rate = 0.0;
  /// Outcomes the rates are computed over: the sliding window while closed (and in the open
  /// state that followed it), the trial calls in half-open (and in the open state that followed).
  /// Empty after `force_open`, `disable` and `reset`.
  std::int64_t buffered_calls = 0;
  std::int64_t failed_calls = 0;  ///< Of `buffered_calls`, how many failed.
  std::int64_t slow_calls = 0;    ///< Of `buffered_calls`, how many were slow.
  /// Calls refused by `try_acquire` since creation or the last `reset` (a monotonic counter, for
  /// exporters; Resilience4j restarts it with each state).
  std::int64_t not_permitted_calls = 0;
  /// The number of outcomes needed before the rates decide: the effective `minimum_calls` while
  /// the window is shown, `permitted_calls_in_half_open` while trial outcomes are shown.
  std::int64_t minimum_calls = 0;
};

/// The built-in breaker: a count- or time-based sliding window of outcomes, with Resilience4j's
/// semantics (see `BreakerOptions` for each knob).
///
/// Threads: every member is thread-safe (one internal mutex, held briefly and never while the
/// listener runs); the loop and host threads may call it at once. Outcomes reported while open,
/// forced open or disabled are ignored, and so is an outcome in half-open when no trial permit
/// is outstanding (it belongs to a call permitted before the trip).
class SUPERVISOR_API SlidingWindowBreaker final : public CircuitBreaker {
 public:
  /// Validates `options` (as `validate`) and builds a closed breaker. Thread-safe.
  [[nodiscard]] static std::unique_ptr<SlidingWindowBreaker> create(BreakerOptions options);
  /// \overload Returns null and sets `ec` when `options` is invalid.
  [[nodiscard]] static std::unique_ptr<SlidingWindowBreaker> create(BreakerOptions options,
                                                                    std::error_code& ec) noexcept;

  /// Destroys the breaker. No call may be in progress on another thread.
  ~SlidingWindowBreaker() override;

  /// Closed or disabled: true. Open: false, unless the wait has passed, in which case the
  /// breaker goes half-open and this is the first trial call. Half-open: true while trial permits
  /// remain. Forced open: false. Every false is counted in `not_permitted_calls`.
  [[nodiscard]] bool try_acquire(TimePoint now) override;
  /// Records a success (slow if `elapsed > slow_call_duration`); may close or trip the breaker.
  void on_success(Duration elapsed, TimePoint now) override;
  /// Records a failure (also slow if `elapsed > slow_call_duration`); may trip the breaker.
  void on_failure(Duration elapsed, TimePoint now) override;
  /// Records a success that counts as slow, whatever `elapsed` was; may trip the breaker (slow
  /// call rate) or close it.
  void on_slow(Duration elapsed, TimePoint now) override;
  /// In half-open, returns an outstanding trial permit; otherwise nothing to do.
  void release(TimePoint now) override;
  /// The state at `now`, after the time-driven transitions that are due.
  [[nodiscard]] BreakerState state(TimePoint now) override;
  /// Open: the end of the wait (with `automatic_open_to_half_open` the state changes then;
  /// without, the next `try_acquire` at or after it becomes a trial call). Half-open with
  /// `max_wait_in_half_open`: the deadline. Otherwise `std::nullopt`.
  [[nodiscard]] std::optional<TimePoint> next_transition_at(TimePoint now) override;

  /// Refuses every call until `reset`; clears the recorded outcomes. No-op if already forced.
  void force_open(TimePoint now);
  /// Permits every call and records nothing until `reset` (a forced close). Clears the recorded
  /// outcomes. No-op if already disabled.
  void disable(TimePoint now);
  /// Back to closed with an empty window and `not_permitted_calls` at 0, from any state; the
  /// listener hears of it only if the state changes.
  void reset(TimePoint now);

  /// A consistent snapshot at `now` (time-based windows drop the seconds that have left it).
  [[nodiscard]] BreakerMetrics metrics(TimePoint now);
  /// The options it was created with. Thread-safe (they never change).
  [[nodiscard]] const BreakerOptions& options() const noexcept;

 private:
  explicit SlidingWindowBreaker(const BreakerOptions& options);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Scoped permission for one call through a breaker: asks `try_acquire(clock.now())` on
/// construction; `success()` / `failure()` report the outcome with the elapsed time measured on
/// `clock`; if neither was called, the destructor calls `release`. Exceptions from the breaker
/// in the destructor are swallowed (destructors never throw). Not thread-safe: one guard belongs
/// to one thread at a time; the breaker and clock must outlive it.
class SUPERVISOR_API BreakerGuard {
 public:
  /// Asks `breaker` for permission at `clock.now()`.
  BreakerGuard(CircuitBreaker& breaker, const Clock& clock);
  /// Releases the permit if the call was permitted and no outcome was reported.
  ~BreakerGuard();
  /// Not copyable (it owns one permit).
  BreakerGuard(const BreakerGuard&) = delete;
  /// \copydoc BreakerGuard(const BreakerGuard&)
  BreakerGuard& operator=(const BreakerGuard&) = delete;

  /// Whether the call may be made.
  [[nodiscard]] bool permitted() const noexcept { return permitted_; }
  /// \copydoc permitted
  explicit operator bool() const noexcept { return permitted_; }
  /// Reports success. Does nothing if not permitted or already reported.
  void success();
  /// Reports failure. Does nothing if not permitted or already reported.
  void failure();

 private:
  CircuitBreaker& breaker_;
  const Clock& clock_;
  TimePoint start_;
  bool permitted_;
  bool pending_;  // permitted and no outcome reported yet
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 1
#  include <supervisor/detail/header_only_end.hpp>
#endif
