// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 21  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Alerts over pools' event streams: rules (`AlertRule`, and the built-in restart storm, breaker
/// opened, pool degraded or down, limit violation and worker given up), an `AlertManager` that
/// watches named pools, deduplicates and throttles what the rules raise and sends one resolved
/// notice when a condition clears, and sinks (`AlertSink`: a callback, a log line, a command run
/// with the alert as JSON on its stdin).
///
/// How a notice comes about. A rule reports, for one pool, occurrences of its condition
/// (`AlertContext::fire`) and its end (`AlertContext::resolve`). The manager keeps one incident
/// per (rule, pool): the first occurrence opens it and sends a `firing` notice, unless a firing
/// notice of the same (rule, pool) went out less than the throttle interval ago; further
/// occurrences within the interval are only counted, and the next notice carries their number in
/// `Alert::suppressed`. A firing notice held back by the throttle goes out at the first
/// evaluation once the interval has passed, if the condition still holds (else nothing is sent
/// for that short incident, and its occurrences count in the next notice's `suppressed`). A
/// notice whose severity is above the last one sent for the incident (a degraded pool going
/// down) is never held back. When the condition clears, exactly one `resolved` notice goes out
/// (never throttled) for an incident whose firing was announced.
///
/// Time. The manager reads a `Clock`. Rules are evaluated on every event of a watched pool (on
/// the pool's loop thread), and on `AlertManager::evaluate()`, which a host (or its HTTP or
/// notify component) may call at any time; conditions that clear by time passing alone (a
/// restart window sliding, a quiet period) resolve there. With `AlertManagerOptions::
/// evaluate_period` set, the manager's delivery thread also calls `evaluate()` that often.
///
/// Threads. Notices go through a bounded queue to the sinks, which are called from one place at
/// a time: the manager's delivery thread (one thread, started by the constructor and joined by the
/// destructor, when `AlertManagerOptions::delivery_thread` is on, the default), or the caller of
/// `AlertManager::deliver_pending()`. A slow sink never blocks a pool's loop thread: the loop only
/// queues. A full queue drops its oldest notice (counted in `AlertSinkStats::dropped` of every
/// sink).
///
/// The JSON of an alert (`to_json`, what the exec sink writes to its command's stdin and a
/// webhook posts), one line, UTF-8 (invalid bytes of the texts become U+FFFD):
///
///     {"schema_version":1,"sequence":7,"state":"firing","rule":"restart_storm","pool":"api",
///      "severity":"critical","summary":"5 restarts within 60s (threshold 5)",
///      "detail":"worker 2: exited with code 3","worker":2,"suppressed":3,"occurrences":4,
///      "first_at":"2026-12-07T17:11:07.123Z","last_at":"2026-12-07T17:11:09.456Z",
///      "duration_seconds":2.333}
///
/// `state` is "firing" or "resolved"; `severity` "info", "warning" or "critical"; `worker` is
/// `null` when no worker is concerned; the times are the incident's first and last occurrence,
/// RFC 3339 in UTC with milliseconds; `duration_seconds` is between them (monotonic). Fields may
/// be added within schema version 1; none is removed or changes meaning without a new version.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/export.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/process_spec.hpp>

namespace supervisor {

class Loop;

/// How bad an alert is. Ordered: `info < warning < critical`.
enum class AlertSeverity { info, warning, critical };

/// The severity's name: "info", "warning", "critical".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(AlertSeverity s) noexcept;

/// Whether a notice opens (or repeats) an incident, or ends it.
enum class AlertState { firing, resolved };

/// The state's name: "firing", "resolved".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(AlertState s) noexcept;

/// One notice, as the sinks receive it. A plain value.
struct Alert {
  std::string rule;  ///< The rule's name, e.g. "restart_storm".
  std::string pool;  ///< The pool's name, as given to `AlertManager::watch`.
  AlertSeverity severity = AlertSeverity::warning;
  AlertState state = AlertState::firing;
  std::string summary;                ///< One line, for humans.
  std::string detail;                 ///< More about the last occurrence (may be empty).
  std::optional<std::size_t> worker;  ///< The worker concerned, when one is.
  /// Occurrences the throttle swallowed since the previous notice of this (rule, pool).
  std::uint64_t suppressed = 0;
  /// Occurrences of the incident so far (this notice's included).
  std::uint64_t occurrences = 0;
  TimePoint first_at{};   ///< The incident's first occurrence (monotonic).
  TimePoint last_at{};    ///< Its last occurrence so far (a resolved notice: when it resolved).
  WallTime first_wall{};  ///< `first_at` on the wall clock.
  WallTime last_wall{};   ///< `last_at` on the wall clock.
  std::uint64_t sequence = 0;  ///< The manager's notice number: 1, 2, ... in the order sent.
};

/// The alert as one line of JSON, schema version 1 (see the top of this header).
[[nodiscard]] SUPERVISOR_API std::string to_json(const Alert& alert);

/// The alert as one greppable log line, e.g. `alert firing rule=restart_storm pool=api
/// severity=critical suppressed=3 occurrences=4 worker=2 seq=7 summary="5 restarts within 60s"`
/// (values with spaces, quotes or `=` are quoted, with `"` and `\` escaped; `worker=` only when
/// one is concerned; `detail="..."` last, when there is one). No newline.
[[nodiscard]] SUPERVISOR_API std::string to_log_line(const Alert& alert);

/// What a rule reports for one occurrence of its condition (`AlertContext::fire`).
struct AlertOccurrence {
  std::string summary;                    ///< One line.
  std::string detail;                     ///< More, may be empty.
  std::optional<std::size_t> worker;      ///< The worker concerned, when one is.
  std::optional<AlertSeverity> severity;  ///< None: the rule's `severity()`.
};

/// A rule's view of one pool while it is evaluated: the pool's name, the time, and the two
/// reports. Given by the manager to `AlertRule::on_event` / `on_time`, valid during that call
/// only. Implemented by the manager (a test of your own rule may implement it too).
class SUPERVISOR_API AlertContext {
 public:
  virtual ~AlertContext();
  /// The pool's name.
  [[nodiscard]] virtual std::string_view pool() const noexcept = 0;
  /// The manager's clock now.
  [[nodiscard]] virtual TimePoint now() const noexcept = 0;
  /// Whether this rule's incident for this pool is open (fired, not resolved since).
  [[nodiscard]] virtual bool firing() const noexcept = 0;
  /// One occurrence of the condition: opens the incident, or counts in it.
  virtual void fire(AlertOccurrence occurrence) = 0;
  /// The condition cleared: ends the incident (nothing when none is open). `summary`: why (empty:
  /// "resolved: " and the last occurrence's summary).
  virtual void resolve(std::string summary) = 0;

 protected:
  AlertContext() = default;
  AlertContext(const AlertContext&) = default;
  AlertContext& operator=(const AlertContext&) = default;
};

/// A condition over a pool's events. Subclass it for rules of your own.
///
/// Threads: the manager calls a rule with its own lock held, one call at a time (never two at
/// once, whichever pools' loops the events come from), from the loop thread of the pool whose
/// event it is, or from the thread that calls `AlertManager::evaluate()` / `observe()`. A rule
/// must therefore be quick, must not block, and must not call the `AlertManager` (nor a
/// blocking `Pool` method). One rule object serves every pool: keep state per `pool()`. What it
/// throws is caught, counted (`AlertStats::rule_errors`) and handed to
/// `AlertManagerOptions::error_handler`.
class SUPERVISOR_API AlertRule {
 public:
  virtual ~AlertRule();
  /// Its name, unique within a manager (e.g. "restart_storm"); not empty.
  [[nodiscard]] virtual std::string name() const = 0;
  /// The severity of its notices (unless an occurrence says otherwise).
  [[nodiscard]] virtual AlertSeverity severity() const noexcept = 0;
  /// Its throttle interval; zero: the manager's (`AlertManagerOptions::throttle`).
  [[nodiscard]] virtual Duration throttle() const noexcept { return Duration::zero(); }
  /// An event of the pool `context.pool()`.
  virtual void on_event(const PoolEvent& event, AlertContext& context) = 0;
  /// An evaluation without an event (after every event of the pool, and at every
  /// `AlertManager::evaluate()`): resolve what clears by time passing. Default: nothing.
  virtual void on_time(AlertContext& context);
  /// The pool was removed from the manager (or destroyed): drop its state. Default: nothing.
  virtual void forget(std::string_view pool) noexcept;

 protected:
  AlertRule() = default;
  AlertRule(const AlertRule&) = default;
  AlertRule& operator=(const AlertRule&) = default;
};

/// What every built-in rule has.
struct AlertRuleOptions {
  std::string name;  ///< Unique within a manager; not empty.
  AlertSeverity severity = AlertSeverity::warning;
  Duration throttle{};  ///< Zero: the manager's. Not negative.
};

/// A restart storm: at least `threshold` restarts (`RestartScheduled` events: the restart policy
/// restarting a worker that ended) of a pool within `window`. Every restart while the window
/// holds `threshold` or more is an occurrence. It resolves as soon as the window (sliding with
/// time: see `AlertManager::evaluate`) holds fewer than `threshold` restarts: the rate fell
/// below the threshold. A storm that pauses and starts again within the throttle interval
/// raises no new firing notice (see the top of this header), so the sliding window needs no
/// extra quiet period.
struct RestartStormOptions : AlertRuleOptions {
  std::size_t threshold = 5;                   ///< N, at least 1.
  Duration window = std::chrono::seconds(60);  ///< T, positive.
  RestartStormOptions() : AlertRuleOptions{"restart_storm", AlertSeverity::critical, {}} {}
};

/// A circuit breaker of the pool opened (`BreakerChanged` to `open` or `forced_open`); it resolves
/// when every breaker it watches that opened is `closed` (or `disabled`) again.
struct BreakerOpenOptions : AlertRuleOptions {
  /// Which breaker: "restart", "lease", or empty for both.
  std::string breaker;
  BreakerOpenOptions() : AlertRuleOptions{"breaker_open", AlertSeverity::warning, {}} {}
};

/// The pool is degraded or down (`PoolHealthChanged`: needs `PoolOptions::degraded_below`). A
/// `degraded` pool fires with `severity`, a `down` one with `down_severity`; it resolves when the
/// pool is `healthy` again.
struct PoolHealthAlertOptions : AlertRuleOptions {
  AlertSeverity down_severity = AlertSeverity::critical;
  PoolHealthAlertOptions() : AlertRuleOptions{"pool_health", AlertSeverity::warning, {}} {}
};

/// The kernel acted on a limit (`LimitViolation`); resolves once no violation came for `quiet`.
struct LimitViolationOptions : AlertRuleOptions {
  Duration quiet = std::chrono::minutes(5);  ///< Positive.
  LimitViolationOptions() : AlertRuleOptions{"limit_violation", AlertSeverity::warning, {}} {}
};

/// The restart policy gave up on a worker (`WorkerGaveUp`: it is `failed`); resolves when no
/// worker it fired for is failed any more: each ran again (spawned: revived, `failed_retry_after`,
/// `resize`) or left the failed state (retired).
struct WorkerGaveUpOptions : AlertRuleOptions {
  WorkerGaveUpOptions() : AlertRuleOptions{"worker_gave_up", AlertSeverity::critical, {}} {}
};

/// Checks the options: `errc::invalid_argument` naming the field (an empty `name`, a negative
/// `throttle`, `threshold` 0, a `window` or `quiet` not positive). Throws.
SUPERVISOR_API void validate(const RestartStormOptions& options);
/// \overload
SUPERVISOR_API void validate(const RestartStormOptions& options, std::error_code& ec) noexcept;
/// \copydoc validate(const RestartStormOptions&)
SUPERVISOR_API void validate(const BreakerOpenOptions& options);
/// \overload
SUPERVISOR_API void validate(const BreakerOpenOptions& options, std::error_code& ec) noexcept;
/// \copydoc validate(const RestartStormOptions&)
SUPERVISOR_API void validate(const PoolHealthAlertOptions& options);
/// \overload
SUPERVISOR_API void validate(const PoolHealthAlertOptions& options, std::error_code& ec) noexcept;
/// \copydoc validate(const RestartStormOptions&)
SUPERVISOR_API void validate(const LimitViolationOptions& options);
/// \overload
SUPERVISOR_API void validate(const LimitViolationOptions& options, std::error_code& ec) noexcept;
/// \copydoc validate(const RestartStormOptions&)
SUPERVISOR_API void validate(const WorkerGaveUpOptions& options);
/// \overload
SUPERVISOR_API void validate(const WorkerGaveUpOptions& options, std::error_code& ec) noexcept;

/// The built-in rules, validated (throwing `errc::invalid_argument` naming the field; the
/// `noexcept` overloads return null and set `ec`).
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> restart_storm_rule(
    const RestartStormOptions& options = {});
/// \overload
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> restart_storm_rule(
    const RestartStormOptions& options, std::error_code& ec) noexcept;
/// \copydoc restart_storm_rule(const RestartStormOptions&)
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> breaker_open_rule(
    const BreakerOpenOptions& options = {});
/// \overload
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> breaker_open_rule(
    const BreakerOpenOptions& options, std::error_code& ec) noexcept;
/// \copydoc restart_storm_rule(const RestartStormOptions&)
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> pool_health_rule(
    const PoolHealthAlertOptions& options = {});
/// \overload
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> pool_health_rule(
    const PoolHealthAlertOptions& options, std::error_code& ec) noexcept;
/// \copydoc restart_storm_rule(const RestartStormOptions&)
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> limit_violation_rule(
    const LimitViolationOptions& options = {});
/// \overload
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> limit_violation_rule(
    const LimitViolationOptions& options, std::error_code& ec) noexcept;
/// \copydoc restart_storm_rule(const RestartStormOptions&)
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> worker_gave_up_rule(
    const WorkerGaveUpOptions& options = {});
/// \overload
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertRule> worker_gave_up_rule(
    const WorkerGaveUpOptions& options, std::error_code& ec) noexcept;

/// Where notices go. Subclass it for sinks of your own (a webhook, a chat, a pager).
///
/// Threads: `deliver` is called from one thread at a time per manager (its delivery thread, or
/// the caller of `AlertManager::deliver_pending`), never from a pool's loop thread by the manager,
/// so it may block (for a bounded time: it holds up the notices after it). A sink added to two
/// managers must be thread-safe itself. `name()` may be called from any thread.
class SUPERVISOR_API AlertSink {
 public:
  virtual ~AlertSink();
  /// Its name in `AlertStats` (unique within a manager; not empty), e.g. "log", "webhook".
  [[nodiscard]] virtual std::string name() const = 0;
  /// Delivers one notice. A failure is an exception (e.g. `supervisor::Error`): the manager
  /// counts it (`AlertSinkStats::failed`), keeps its `what()` and goes on; there is no retry.
  virtual void deliver(const Alert& alert) = 0;

 protected:
  AlertSink() = default;
  AlertSink(const AlertSink&) = default;
  AlertSink& operator=(const AlertSink&) = default;
};

/// A sink that calls a function with each notice (see `AlertSink` for the thread). What the
/// function throws is a failed delivery.
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertSink> callback_sink(
    std::function<void(const Alert&)> fn, std::string name = "callback");

/// A sink that writes each notice as one `to_log_line` to `write` (the line without a newline).
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertSink> log_sink(
    std::function<void(std::string_view line)> write, std::string name = "log");
/// \overload Writes each line and a newline to `file` (e.g. `stderr`), flushed; a failed write is
/// a failed delivery. `file` must stay open while the sink lives.
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertSink> log_sink(std::FILE* file,
                                                                 std::string name = "log");

/// A command run for every notice, with the notice's JSON (`to_json`, and a newline) on its
/// stdin.
struct ExecSinkOptions {
  /// What to run (`argv` at least; `in` is replaced by a pipe). Its `stop` plan applies when the
  /// sink is destroyed mid-run; a timeout kills the whole tree at once.
  ProcessSpec spec;
  /// How long one run may take, stdin written and the command ended; past it, its whole tree
  /// is killed (cgroup.kill, or SIGKILL to its process group) and the delivery fails with
  /// `errc::timeout`. Positive.
  Duration timeout = std::chrono::seconds(10);
  std::string name = "exec";  ///< The sink's name. Not empty.
};

/// Checks `options` (`errc::invalid_argument` naming the field: an empty `spec.argv` or `name`,
/// a `timeout` not positive; `errc::invalid_spec` from `validate(ProcessSpec)`). Throws.
SUPERVISOR_API void validate(const ExecSinkOptions& options);
/// \overload
SUPERVISOR_API void validate(const ExecSinkOptions& options, std::error_code& ec) noexcept;

/// A sink that runs `options.spec` on `loop` for every notice (see `ExecSinkOptions`), waiting
/// for it in the delivering thread (never the loop's). A run fails (a failed delivery) when the
/// command cannot start, exits other than with 0 (`errc::hook_failed`, naming the status) or
/// times out (`errc::timeout`). `loop` must outlive the sink; do not deliver from its thread.
/// Validates like `validate(ExecSinkOptions)`.
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertSink> exec_sink(Loop& loop,
                                                                  ExecSinkOptions options);
/// \overload
[[nodiscard]] SUPERVISOR_API std::shared_ptr<AlertSink> exec_sink(Loop& loop,
                                                                  ExecSinkOptions options,
                                                                  std::error_code& ec) noexcept;

/// Configuration of an `AlertManager`.
struct AlertManagerOptions {
  /// At most one firing notice per (rule, pool) per this long (a rule may have its own). Not
  /// negative; zero: no throttling.
  Duration throttle = std::chrono::minutes(5);
  /// Notices waiting for the sinks, at most (at least 1). Past it the oldest is dropped.
  std::size_t queue_capacity = 256;
  /// Deliver from a thread of the manager's own (started by the constructor, joined by the
  /// destructor). Off: no thread at all; the host calls `deliver_pending()` (and `evaluate()`).
  bool delivery_thread = true;
  /// With `delivery_thread`: how often that thread calls `evaluate()` (real time, between two
  /// deliveries: a slow sink delays it; a period over a day counts as a day). Zero: never (the
  /// host calls it). Not negative.
  Duration evaluate_period = std::chrono::seconds(1);
  /// Receives what rules throw (`where`: "alert rule <name>"). Must not throw.
  std::function<void(std::exception_ptr, std::string_view where)> error_handler;
};

/// Checks `options` (`errc::invalid_argument` naming the field). Throws.
SUPERVISOR_API void validate(const AlertManagerOptions& options);
/// \overload
SUPERVISOR_API void validate(const AlertManagerOptions& options, std::error_code& ec) noexcept;

/// Deliveries to one sink.
struct AlertSinkStats {
  std::string name;
  std::uint64_t delivered = 0;  ///< Notices it took.
  std::uint64_t failed = 0;     ///< Notices whose delivery threw.
  std::uint64_t dropped = 0;    ///< Notices dropped from a full queue before reaching it.
  std::string last_error;       ///< The last failure's `what()`.
};

/// What a manager did so far.
struct AlertStats {
  std::uint64_t notices = 0;          ///< Notices queued (firing and resolved).
  std::uint64_t firing = 0;           ///< ... of them firing.
  std::uint64_t resolved = 0;         ///< ... of them resolved.
  std::uint64_t suppressed = 0;       ///< Occurrences the throttle swallowed.
  std::uint64_t dropped = 0;          ///< Notices dropped from a full queue.
  std::uint64_t rule_errors = 0;      ///< Exceptions thrown by rules.
  std::size_t queued = 0;             ///< Notices waiting for the sinks now.
  std::vector<AlertSinkStats> sinks;  ///< In the order the sinks were added.
};

/// Watches named pools with rules, and sends notices to sinks (see the top of this header).
///
/// Thread-safe: every method may be called from any thread, except from a rule or sink of its
/// own (`watch`, `remove` and the destructor subscribe to / unsubscribe from pools, which runs on
/// their loop thread: at once from there, else waiting for it). Lifetimes: a watched pool
/// may be destroyed before the manager (the manager then forgets it, resolving its open
/// incidents: summary "pool destroyed"), and the manager before its pools (it unsubscribes);
/// only `remove(name)` (or the manager's destructor) running at the very time that the pool is
/// destroyed by another thread is a race the host must avoid.
class SUPERVISOR_API AlertManager {
 public:
  /// Validates `options` (throws naming the field); starts the delivery thread when asked.
  explicit AlertManager(AlertManagerOptions options = {});
  /// The same, reading time from `clock` (which must outlive the manager): a fake world's
  /// `ManualClock` in tests.
  AlertManager(Clock& clock, AlertManagerOptions options = {});
  /// Unsubscribes from every pool still watched, stops the delivery thread (a delivery under
  /// way finishes first) and drops the notices still queued.
  ~AlertManager();
  AlertManager(const AlertManager&) = delete;
  AlertManager& operator=(const AlertManager&) = delete;

  /// Adds a rule; it sees events from now on. Errors: `errc::invalid_argument` for a null rule,
  /// an empty name, or a name already added.
  void add_rule(std::shared_ptr<AlertRule> rule);
  /// \overload
  void add_rule(std::shared_ptr<AlertRule> rule, std::error_code& ec) noexcept;
  /// Adds a sink; it receives the notices queued from now on. Errors as `add_rule`.
  void add_sink(std::shared_ptr<AlertSink> sink);
  /// \overload
  void add_sink(std::shared_ptr<AlertSink> sink, std::error_code& ec) noexcept;

  /// Watches `pool` under `name` (subscribes to its events). Errors: `errc::invalid_argument` for
  /// an empty name or one already watched.
  void watch(std::string name, Pool& pool);
  /// \overload
  void watch(std::string name, Pool& pool, std::error_code& ec) noexcept;
  /// Stops watching the pool `name`: unsubscribes, resolves its open incidents (summary "pool no
  /// longer watched") and makes every rule forget it. Errors: `errc::invalid_argument` for a
  /// name not watched.
  void remove(std::string_view name);
  /// \overload
  void remove(std::string_view name, std::error_code& ec) noexcept;
  /// Feeds one event of the pool `pool` as if it came from a watched pool (for hosts with other
  /// event sources, and tests). The pool need not be watched.
  void observe(std::string_view pool, const PoolEvent& event);

  /// Evaluates every rule for every pool now (`AlertRule::on_time`), and sends the firing
  /// notices the throttle held back whose interval has passed.
  void evaluate();
  /// Delivers the queued notices to the sinks on the calling thread (waiting for a delivery the
  /// thread has under way); returns how many. For managers without `delivery_thread`, and tests.
  std::size_t deliver_pending();
  /// Waits until the queue is empty and no delivery is under way (without `delivery_thread`:
  /// delivers them, as `deliver_pending`). False when `timeout` passed first.
  bool flush(Duration timeout);

  /// The open incidents now, as firing alerts (the last occurrence's summary), by rule and pool.
  [[nodiscard]] std::vector<Alert> firing() const;
  /// The counters.
  [[nodiscard]] AlertStats stats() const;
  /// The names of the watched pools, sorted.
  [[nodiscard]] std::vector<std::string> pools() const;

 private:
  class Impl;
  void do_add_rule(std::shared_ptr<AlertRule> rule, detail::ErrorSink& err);
  void do_add_sink(std::shared_ptr<AlertSink> sink, detail::ErrorSink& err);
  void do_watch(std::string name, Pool& pool, detail::ErrorSink& err);
  void do_remove(std::string_view name, detail::ErrorSink& err);
  std::shared_ptr<Impl> impl_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 21
#  include <supervisor/detail/header_only_end.hpp>
#endif
