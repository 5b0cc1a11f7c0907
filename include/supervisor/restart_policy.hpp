// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 14  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `RestartPolicy`: the strategy a `Pool` asks, each time a worker process ends, whether to start
/// it again and after how long.
///
/// The pieces, each usable on its own in a user-written policy, and combined by
/// `StandardRestartPolicy`:
///   - `RestartMode` and `restart_wanted()`: when to restart, in systemd's `Restart=` vocabulary;
///   - exit-code and signal rules (`StandardRestartOptions::prevent_restart_*` / `force_restart_*`,
///     systemd's `RestartPreventExitStatus=` / `RestartForceExitStatus=`);
///   - `Backoff`: fixed or exponential delays with optional jitter, reset after a stable run
///     (Kubernetes' CrashLoopBackOff);
///   - `RestartBudget`: at most N restarts in a sliding window T (OTP's intensity/period, systemd's
///     `StartLimitBurst=` / `StartLimitIntervalSec=`), per worker or shared by a whole pool.
///
/// The model of `StandardRestartPolicy`, in one paragraph: a run shorter than `min_uptime` is a
/// *failed start*. Only failed starts are charged to the budgets and only they advance the backoff;
/// a longer run is a successful start and is restarted after the current backoff delay, free of
/// charge; a run of at least `backoff.reset_after` also resets the backoff to its first step.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

// ---------------------------------------------------------------------------------------------
// The strategy interface
// ---------------------------------------------------------------------------------------------

/// What a policy is told when a worker process has ended. Built by the Pool on its loop thread
/// for one `on_exit` call; `status` is only valid during that call (copy what you keep).
struct RestartContext {
  std::size_t worker = 0;    ///< The worker slot's index in its pool.
  const ExitStatus& status;  ///< How the process ended, including its `uptime`.
  TimePoint now;             ///< The Pool clock's `now()` when the exit was seen.

  /// How long the process ran (`status.uptime`: from spawn to exit; zero if it never ran).
  [[nodiscard]] Duration uptime() const noexcept { return status.uptime; }
};

/// A policy's answer. A plain value.
struct RestartDecision {
  bool restart = false;  ///< Start the worker again (after `delay`), or give up on it.
  Duration delay{};      ///< Wait before restarting; a negative delay is treated as zero.
  std::string why;       ///< One readable sentence for events and logs.

  /// Restart at once.
  [[nodiscard]] static RestartDecision now(std::string why = {}) {
    return {true, Duration::zero(), std::move(why)};
  }
  /// Restart after `d`.
  [[nodiscard]] static RestartDecision after(Duration d, std::string why = {}) {
    return {true, d, std::move(why)};
  }
  /// Do not restart; the Pool marks the worker failed and reports `why`.
  [[nodiscard]] static RestartDecision give_up(std::string why) {
    return {false, Duration::zero(), std::move(why)};
  }
};

/// The delay after which the Pool restarts a worker when `RestartPolicy::on_exit` threw: the
/// policy failed, not the worker, so capacity is kept, but slowly (Kubernetes' first back-off
/// step, 10 s), so that a policy that always throws cannot turn a crashing worker into a busy loop.
inline constexpr Duration policy_error_restart_delay = std::chrono::seconds(10);

/// The strategy a Pool consults when a worker process ends. Subclass it to write your own; keep
/// per-worker state keyed by the worker index.
///
/// Threading: the Pool calls every member on its supervision loop thread only, one call at a
/// time, never concurrently and never re-entrantly, always with its injected Clock's `now()`. A
/// policy instance therefore needs no locking unless the user shares it between pools (don't).
///
/// The Pool's contract:
///   - `on_started` after every spawn of a worker (the first and each restart);
///   - `on_ready` when that process passed its readiness check;
///   - `on_exit` once for every process end the Pool did not ask for as part of retiring a worker
///     or stopping the pool (a kill the Pool made for health reasons *is* reported; it shows as
///     `status.stop_requested`, `ExitReason::timeout` or `ExitReason::watchdog`);
///   - `forget` when a worker slot is retired for good; a later worker reusing the index starts
///     with fresh state.
///
/// Errors: when `on_exit` throws, the Pool catches the exception, counts it, sends it to the
/// error handler, and restarts the worker after `policy_error_restart_delay`. Exceptions from the
/// other hooks are caught, counted and reported, and otherwise ignored.
class SUPERVISOR_API RestartPolicy {
 public:
  virtual ~RestartPolicy();

  /// Decides what to do about the process end described by `ctx`. Loop thread only.
  [[nodiscard]] virtual RestartDecision on_exit(const RestartContext& ctx) = 0;
  /// A new process of `worker` was spawned at `now`. Loop thread only. The default does nothing.
  virtual void on_started(std::size_t worker, TimePoint now);
  /// The current process of `worker` became ready at `now`. Loop thread only. The default does
  /// nothing.
  virtual void on_ready(std::size_t worker, TimePoint now);
  /// Drops everything kept about `worker` (the slot was retired). Loop thread only. The default
  /// does nothing.
  virtual void forget(std::size_t worker);

 protected:
  RestartPolicy() = default;
  RestartPolicy(const RestartPolicy&) = default;
  RestartPolicy& operator=(const RestartPolicy&) = default;
};

// ---------------------------------------------------------------------------------------------
// (1) When to restart
// ---------------------------------------------------------------------------------------------

/// Which process ends are restarted, in systemd's `Restart=` vocabulary. How each `ExitReason`
/// is classified (see `is_clean_exit` and `is_abnormal_exit`):
///
/// | reason         | clean | abnormal | never | always | on_success | on_failure | on_abnormal |
/// |----------------|-------|----------|-------|--------|------------|------------|-------------|
/// | success        | yes   | no       | -     | yes    | yes        | -          | -           |
/// | exit_code      | (1)   | no       | -     | yes    | (1)        | yes (1)    | -           |
/// | signal         | (1)   | yes (1)  | -     | yes    | (1)        | yes (1)    | yes (1)     |
/// | core_dump      | no    | yes      | -     | yes    | -          | yes        | yes         |
/// | timeout        | no    | yes      | -     | yes    | -          | yes        | yes         |
/// | watchdog       | no    | yes      | -     | yes    | -          | yes        | yes         |
/// | unhealthy      | no    | yes      | -     | yes    | -          | yes        | yes         |
/// | oom_kill       | no    | yes      | -     | yes    | -          | yes        | yes         |
/// | resource_limit | no    | yes      | -     | yes    | -          | yes        | yes         |
/// | spawn_failed   | no    | no (2)   | -     | yes    | -          | yes        | -           |
/// | unknown        | no    | yes (3)  | -     | yes    | -          | yes        | yes         |
///
/// (1) An `exit_code` or `signal` end with `stop_requested` set (the Pool's stop plan asked for
///     it and the process complied) is clean, and not abnormal. Unlike systemd, SIGHUP, SIGINT,
///     SIGTERM and SIGPIPE are not clean by themselves: the Pool knows which stops it asked for.
///     List such signals in `prevent_restart_signals` to get systemd's behaviour.
/// (2) As in systemd, which reports a failed exec as `exit-code` (status 203): the program could
///     not run, which a restart rarely fixes.
/// (3) The end could not be observed; the process is gone without a known clean exit.
enum class RestartMode {
  never,        ///< Never restart (systemd `no`; OTP `temporary`).
  always,       ///< Restart whatever the end (systemd `always`; OTP `permanent`; Kubernetes
                ///< `restartPolicy: Always`).
  on_success,   ///< Restart only after a clean exit (systemd `on-success`).
  on_failure,   ///< Restart unless the exit was clean (systemd `on-failure`; OTP `transient`;
                ///< Kubernetes `OnFailure`).
  on_abnormal,  ///< Restart only after an abnormal end: a signal, core dump, timeout, watchdog,
                ///< OOM or resource kill; not a non-zero exit code (systemd `on-abnormal`).
};

/// The mode's name, e.g. "on-failure" (systemd's spelling, except "never" for its "no").
[[nodiscard]] SUPERVISOR_API std::string_view to_string(RestartMode m) noexcept;

/// True for a clean exit: `success`, or an `exit_code` / `signal` end the stop plan asked for
/// (`stop_requested`). Pure; thread-safe.
[[nodiscard]] SUPERVISOR_API bool is_clean_exit(const ExitStatus& s) noexcept;

/// True for an abnormal end: a `signal` not asked for, `core_dump`, `timeout`, `watchdog`,
/// `oom_kill`, `resource_limit` or `unknown`. Pure; thread-safe.
[[nodiscard]] SUPERVISOR_API bool is_abnormal_exit(const ExitStatus& s) noexcept;

/// The mode's verdict alone (no exit-code rules, delays or budgets): the table above. Pure;
/// thread-safe.
[[nodiscard]] SUPERVISOR_API bool restart_wanted(RestartMode mode, const ExitStatus& s) noexcept;

// ---------------------------------------------------------------------------------------------
// (3) Delays
// ---------------------------------------------------------------------------------------------

/// Randomisation of a delay `d` (Marc Brooker's "Exponential Backoff And Jitter", AWS).
enum class Jitter {
  none,   ///< Exactly `d`.
  full,   ///< Uniform in [0, d].
  equal,  ///< d/2 plus uniform in [0, d/2], i.e. within [d/2, d].
};

/// The jitter's name, e.g. "equal".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(Jitter j) noexcept;

/// Restart delays: step `k` (0 for the first restart after a reset) waits
/// `min(max, initial * multiplier^k)`, then jitter is applied. A fixed delay is `multiplier` 1
/// (see `fixed`).
struct BackoffOptions {
  /// Delay of the first step. Default 100 ms: systemd's `RestartSec=` default.
  Duration initial = std::chrono::milliseconds(100);
  /// Growth per step, >= 1 and finite. Default 2: Kubernetes' CrashLoopBackOff doubling.
  double multiplier = 2.0;
  /// Cap on the un-jittered delay, >= `initial`. Default 5 min: Kubernetes' CrashLoopBackOff cap.
  Duration max = std::chrono::minutes(5);
  /// Randomisation. Default none, as in systemd and Kubernetes: restarts stay predictable; choose
  /// `equal` to spread a pool's simultaneous restarts while keeping at least half the delay.
  Jitter jitter = Jitter::none;
  /// The first step (after a reset) restarts at once; step k >= 1 then waits
  /// `initial * multiplier^(k-1)`. Default false; Kubernetes does this (0, 10 s, 20 s, ...).
  bool first_immediately = false;
  /// A run lasting at least this long resets the backoff to step 0. Must be >= the policy's
  /// `min_uptime`; `Duration::max()` never resets. Default 10 min: Kubernetes' reset period.
  Duration reset_after = std::chrono::minutes(10);
  /// Seed of the jitter's pseudo-random generator (SplitMix64): the same seed and the same calls
  /// give the same delays on every platform. Default 0.
  std::uint64_t seed = 0;

  /// Always `delay` (no growth, no jitter); `fixed(Duration::zero())` restarts at once.
  [[nodiscard]] static BackoffOptions fixed(Duration delay) {
    BackoffOptions o;
    o.initial = delay;
    o.max = delay;
    o.multiplier = 1.0;
    return o;
  }
};

/// Checks every field; the error (`errc::invalid_argument`) names the first bad field and its
/// value, e.g. `BackoffOptions.multiplier: 0.5 is less than 1`. Thread-safe.
SUPERVISOR_API void validate(const BackoffOptions& options);
/// \overload
SUPERVISOR_API void validate(const BackoffOptions& options, std::error_code& ec) noexcept;

/// Computes backoff delays and draws their jitter from its own seeded generator. Not thread-safe:
/// use it from one thread (a policy's, i.e. the Pool's loop thread).
class SUPERVISOR_API Backoff {
 public:
  /// Throws `errc::invalid_argument` naming the field when `validate(options)` would fail (call
  /// `validate(options, ec)` first to stay exception-free; the constructor then cannot throw).
  explicit Backoff(const BackoffOptions& options = {});

  /// The options in use.
  [[nodiscard]] const BackoffOptions& options() const noexcept { return options_; }
  /// The un-jittered delay of `step` (0 is the first restart after a reset). Saturates at `max`
  /// for any step, without overflow.
  [[nodiscard]] Duration base_delay(std::uint32_t step) const noexcept;
  /// `base_delay(step)` with the jitter applied; advances the generator when jitter is on.
  [[nodiscard]] Duration delay(std::uint32_t step) noexcept;

 private:
  BackoffOptions options_;
  std::uint64_t random_state_;
};

// ---------------------------------------------------------------------------------------------
// (5) Restart budgets
// ---------------------------------------------------------------------------------------------

/// At most `max_restarts` restarts within any `window`: a restart at `now` is allowed when fewer
/// than `max_restarts` were charged in (now - window, now]; a charge exactly `window` old has
/// left the window.
struct RestartBudgetOptions {
  /// Restarts allowed per window; 0 allows none (OTP's intensity 0). Default 5: systemd's
  /// `StartLimitBurst=`.
  std::size_t max_restarts = 5;
  /// The sliding window, >= 0; zero disables the budget (systemd's `StartLimitIntervalSec=0`).
  /// Default 10 s: systemd's `StartLimitIntervalSec=`.
  Duration window = std::chrono::seconds(10);
};

/// Checks every field; the error (`errc::invalid_argument`) names the first bad field and its
/// value, e.g. `RestartBudgetOptions.window: -1s is negative`. Thread-safe.
SUPERVISOR_API void validate(const RestartBudgetOptions& options);
/// \overload
SUPERVISOR_API void validate(const RestartBudgetOptions& options, std::error_code& ec) noexcept;

/// A sliding-window restart budget that several policies, or several workers, can share (a
/// pool-wide budget: OTP's supervisor intensity/period). Thread-safe: every member may be called
/// from any thread; memory is bounded by `max_restarts` timestamps.
class SUPERVISOR_API RestartBudget {
 public:
  /// Throws `errc::invalid_argument` naming the field when `validate(options)` would fail.
  explicit RestartBudget(const RestartBudgetOptions& options = {});
  RestartBudget(const RestartBudget&) = delete;
  RestartBudget& operator=(const RestartBudget&) = delete;

  /// The options in use.
  [[nodiscard]] const RestartBudgetOptions& options() const noexcept { return options_; }
  /// Charges one restart at `now` and returns true if the window has room; otherwise charges
  /// nothing and returns false. Thread-safe.
  bool try_acquire(TimePoint now);
  /// Whether `try_acquire(now)` would succeed, without charging. Thread-safe.
  [[nodiscard]] bool would_allow(TimePoint now) const;
  /// Restarts charged in (now - window, now]. Thread-safe.
  [[nodiscard]] std::size_t used(TimePoint now) const;
  /// Forgets every charge. Thread-safe.
  void clear() noexcept;

 private:
  RestartBudgetOptions options_;
  mutable std::mutex mutex_;
  std::deque<TimePoint> charges_;  // oldest first; pruned on every call that can
};

/// A shared budget for `StandardRestartOptions::pool_budget`. Throws `errc::invalid_argument`
/// naming the field on bad options.
[[nodiscard]] SUPERVISOR_API std::shared_ptr<RestartBudget> make_restart_budget(
    const RestartBudgetOptions& options);
/// \overload Returns null and sets `ec` on bad options (or `std::errc::not_enough_memory`).
[[nodiscard]] SUPERVISOR_API std::shared_ptr<RestartBudget> make_restart_budget(
    const RestartBudgetOptions& options, std::error_code& ec) noexcept;

// ---------------------------------------------------------------------------------------------
// The standard policy: all of the above together
// ---------------------------------------------------------------------------------------------

/// Configuration of `StandardRestartPolicy`. The defaults suit a pool of long-running OS
/// processes: restart whatever the end, systemd's 100 ms first delay doubling up to Kubernetes'
/// 5 min cap, and systemd's start limit. With them, a worker that dies right at start-up is given
/// up on at its 6th quick death, about 3 s in; a worker that ran 10 s or more is always restarted.
struct StandardRestartOptions {
  /// When to restart. Default `always`: Kubernetes' default `restartPolicy` and OTP's default
  /// `permanent` child; a pool exists to keep its workers running.
  RestartMode mode = RestartMode::always;
  /// Exit codes (0-255) that are never restarted, whatever the mode: e.g. 78 (EX_CONFIG). A code
  /// may not be in both lists. Default empty: systemd's `RestartPreventExitStatus=`.
  std::vector<int> prevent_restart_exit_codes;
  /// Terminating signal numbers (1-64, as in `ExitStatus::signal`, for `signal` and `core_dump`
  /// ends) that are never restarted. Default empty: systemd's `RestartPreventExitStatus=`.
  std::vector<int> prevent_restart_signals;
  /// Exit codes (0-255) that are restarted whatever the mode (still subject to delays and
  /// budgets). Default empty: systemd's `RestartForceExitStatus=`.
  std::vector<int> force_restart_exit_codes;
  /// Terminating signal numbers (1-64) that are restarted whatever the mode. Default empty:
  /// systemd's `RestartForceExitStatus=`.
  std::vector<int> force_restart_signals;
  /// Restart delays; see `BackoffOptions` for each default's origin.
  BackoffOptions backoff;
  /// A run shorter than this is a failed start: it is charged to the budgets and advances the
  /// backoff. A longer run is free and waits the current delay. Zero makes every run free (no
  /// growth, no budget); `Duration::max()` charges every run (OTP, systemd). Default 10 s, the
  /// default budget window (systemd's `StartLimitIntervalSec=`): a run that outlives the window
  /// would have left it anyway.
  Duration min_uptime = std::chrono::seconds(10);
  /// Each worker's own budget of failed starts. Default 5 per 10 s: systemd's start limit.
  RestartBudgetOptions budget;
  /// A budget shared with other workers (and, if you like, other policies): failed starts of any
  /// of them are charged to it too. Default none; OTP's supervisor-wide default (1 per 5 s) is in
  /// `otp()`.
  std::shared_ptr<RestartBudget> pool_budget;

  /// Kubernetes' CrashLoopBackOff for `restartPolicy: Always`: restart at once, then after
  /// 10 s, 20 s, 40 s, ... up to 5 min; reset after 10 min of running; never give up.
  [[nodiscard]] static StandardRestartOptions kubernetes();
  /// systemd's defaults for a `Restart=on-failure` service: 100 ms between restarts, at most 5
  /// starts per 10 s, every run counted.
  [[nodiscard]] static StandardRestartOptions systemd();
  /// An OTP `permanent` child under a supervisor with the default intensity 1 and period 5 s:
  /// restart at once; a second restart within 5 s gives up. The budget is per worker; share one
  /// through `pool_budget` to make it supervisor-wide as in OTP.
  [[nodiscard]] static StandardRestartOptions otp();
};

/// Checks every field; the error (`errc::invalid_argument`) names the first bad field and its
/// value, e.g. `StandardRestartOptions.prevent_restart_exit_codes[1]: 300 is not an exit code
/// (0-255)`. Thread-safe.
SUPERVISOR_API void validate(const StandardRestartOptions& options);
/// \overload
SUPERVISOR_API void validate(const StandardRestartOptions& options, std::error_code& ec) noexcept;

/// The policy built from `StandardRestartOptions`. For each exit, in order:
///   1. `prevent_restart_*` match: give up. Else `force_restart_*` match: restart. Else the mode
///      (`restart_wanted`) decides; a "no" gives up.
///   2. A run of at least `backoff.reset_after` resets the worker's backoff step to 0.
///   3. A failed start (run shorter than `min_uptime`) is charged to the worker's budget, then to
///      `pool_budget`; an exhausted budget gives up, naming it (nothing is charged then).
///   4. Restart after the current step's delay; a failed start then advances the step.
///
/// Per-worker state (backoff step and budget charges) is keyed by worker index and dropped by
/// `forget`. Not thread-safe: one loop thread (see `RestartPolicy`); the shared `pool_budget` is
/// thread-safe. `on_exit` throws only `std::bad_alloc`.
class SUPERVISOR_API StandardRestartPolicy : public RestartPolicy {
 public:
  /// Throws `errc::invalid_argument` naming the field when `validate(options)` would fail.
  explicit StandardRestartPolicy(StandardRestartOptions options = {});

  /// Applies the steps above. Loop thread only.
  [[nodiscard]] RestartDecision on_exit(const RestartContext& ctx) override;
  /// Drops `worker`'s backoff step and budget charges. Loop thread only.
  void forget(std::size_t worker) override;

  /// The options in use. Loop thread (or any thread while no Pool uses the policy).
  [[nodiscard]] const StandardRestartOptions& options() const noexcept { return options_; }
  /// `worker`'s current backoff step (0 when unknown). Loop thread.
  [[nodiscard]] std::uint32_t backoff_step(std::size_t worker) const noexcept;
  /// Failed starts of `worker` charged in (now - budget.window, now]. Loop thread.
  [[nodiscard]] std::size_t restarts_in_window(std::size_t worker, TimePoint now) const noexcept;
  /// How many workers have state (not yet forgotten). Loop thread.
  [[nodiscard]] std::size_t tracked_workers() const noexcept { return workers_.size(); }

 private:
  struct WorkerRecord {
    std::uint32_t step = 0;
    std::deque<TimePoint> charges;  // failed starts in the budget window, oldest first
  };

  StandardRestartOptions options_;
  Backoff backoff_;
  std::unordered_map<std::size_t, WorkerRecord> workers_;
};

/// A validated `StandardRestartPolicy`. Throws `errc::invalid_argument` naming the bad field.
[[nodiscard]] SUPERVISOR_API std::unique_ptr<RestartPolicy> make_restart_policy(
    StandardRestartOptions options);
/// \overload Returns null and sets `ec` on bad options (or `std::errc::not_enough_memory`).
[[nodiscard]] SUPERVISOR_API std::unique_ptr<RestartPolicy> make_restart_policy(
    StandardRestartOptions options, std::error_code& ec) noexcept;

/// Never restarts (mode `never`, nothing else applies). Thread-safe to call.
[[nodiscard]] SUPERVISOR_API std::unique_ptr<RestartPolicy> restart_never();
/// The default `StandardRestartOptions` (mode `always`, delays and budget). Thread-safe to call.
[[nodiscard]] SUPERVISOR_API std::unique_ptr<RestartPolicy> restart_always();
/// The defaults with mode `on_failure`. Thread-safe to call.
[[nodiscard]] SUPERVISOR_API std::unique_ptr<RestartPolicy> restart_on_failure();
/// The defaults with mode `on_abnormal`. Thread-safe to call.
[[nodiscard]] SUPERVISOR_API std::unique_ptr<RestartPolicy> restart_on_abnormal();

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 14
#  include <supervisor/detail/header_only_end.hpp>
#endif
