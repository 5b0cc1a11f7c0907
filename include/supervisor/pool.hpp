// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 9  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `Pool`: keeps N workers of one `ProcessSpec` running, restarts them by a `RestartPolicy`
/// behind an optional `CircuitBreaker`, and hands out exclusive `Lease`s on ready workers.
///
/// Threading: every method of `Pool` and `Lease` is thread-safe. Host calls become commands for
/// the pool's `Loop` thread, which alone changes worker state; strategies, subscribers and the
/// error handler run on that thread (never call a blocking Pool method from them).

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <supervisor/circuit_breaker.hpp>
#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/export.hpp>
#include <supervisor/health.hpp>
#include <supervisor/metrics.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/restart_policy.hpp>
#include <supervisor/scaling.hpp>
#include <supervisor/worker_state.hpp>

namespace supervisor {

namespace detail {
class HostEnd;
class PoolCore;
struct LeaseTicket;
}  // namespace detail
namespace testing {
class FakeWorld;
}

/// When a started worker counts as ready for leases.
struct Readiness {
  enum class Mode {
    immediate,    ///< As soon as it was spawned.
    after_delay,  ///< After it stayed alive for `delay` (a start that dies sooner never was ready).
    notify,       ///< When it sends `READY=1` to `$NOTIFY_SOCKET` (sd_notify, as for systemd's
                  ///< Type=notify); `delay` is a start timeout, after which it is killed (zero:
                  ///< `default_start_timeout`; `Duration::max()`: none).
  };
  Mode mode = Mode::immediate;
  Duration delay{};

  static Readiness immediate() { return {}; }
  static Readiness after(Duration d) { return {Mode::after_delay, d}; }
  /// `notify` with a start timeout. Zero means `default_start_timeout` (systemd's
  /// TimeoutStartSec); `Duration::max()` waits for ever.
  static Readiness notify(Duration timeout = Duration::zero()) { return {Mode::notify, timeout}; }
  /// How long a `notify` start may take when `delay` is zero: 90 s, as systemd's default.
  static constexpr Duration default_start_timeout = std::chrono::seconds(90);
};

/// How a lease ended; feeds the lease circuit breaker (`on_success`, `on_failure`, `on_slow`:
/// a `slow` lease counts as a slow call whatever its duration) and the health score.
/// `broken` says the worker itself is broken: it counts as a failure, and the worker is not
/// reused: it is stopped with its StopPlan and started again at once as a new incarnation
/// (counted in `PoolSnapshot::broken_leases`).
enum class LeaseOutcome { success, failure, slow, broken };

/// How to take a lease (`Pool::acquire`).
struct AcquireOptions {
  /// How long to wait for a ready worker (FIFO among waiters); zero: do not wait.
  Duration timeout{};
  /// How long the lease may be held (zero: for ever). Past it, the lease expires: the worker
  /// (stuck on a job that never ends, say) is stopped with its StopPlan and started again at
  /// once as a new incarnation, the expiry counts as a failed lease (breaker, health score), a
  /// `LeaseExpired` event is sent and `PoolSnapshot::lease_expirations` counts it; the holder
  /// sees `Lease::expired()`, and its later `release` reports nothing more. A lease with a
  /// deadline is handed out by the loop, never the lease desk's fast path (its timer is the
  /// loop's). Must not be negative (`errc::invalid_argument` naming `AcquireOptions.deadline`).
  Duration deadline{};
};

/// Planned replacement of workers that have done enough (soft limits; a worker is never stopped
/// in the middle of a lease: a leased one finishes its lease first, in state `draining`).
struct RecycleOptions {
  std::uint64_t max_leases = 0;  ///< Replace a worker after this many leases (0: never).
  Duration max_runtime{};        ///< Replace a worker after it ran this long (0: never).
  /// Spread for `max_runtime`: each incarnation runs `max_runtime` minus a random part of up to
  /// this much (uniform, drawn when it starts), so that workers started together are not all
  /// recycled at the same moment. Less than `max_runtime`; zero: none.
  Duration max_runtime_jitter{};
  /// Seed of that jitter's generator (SplitMix64, as `BackoffOptions::seed`): the same seed and
  /// the same starts give the same runtimes on every platform.
  std::uint64_t seed = 0;
  /// Recycle after `max_runtime` gracefully, as `Pool::replace` does: a new worker starts
  /// first, and the old one drains and stops only once the new one is ready (so the pool never
  /// has fewer ready workers for it). When the replacement is not ready within
  /// `graceful_ready_timeout` (or the worker cannot be replaced now: it is part of another
  /// replacement or a rollout), the old worker stays and is tried again after that timeout.
  /// Off: the worker is stopped, then started again (a gap of one worker per recycle).
  bool graceful = false;
  Duration graceful_ready_timeout = std::chrono::seconds(30);
};

/// How many of its workers a pool has up (ready or leased), against its threshold
/// (`PoolOptions::degraded_below`, which also turns on its `PoolHealthChanged` events).
enum class PoolHealth {
  starting,  ///< Started, and not healthy yet (no worker failed to start so far either).
  healthy,   ///< At least the threshold up.
  degraded,  ///< Some up, fewer than the threshold.
  down,      ///< None up.
};

/// The health's name, e.g. "degraded".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(PoolHealth h) noexcept;

/// A rolling restart of the whole pool, as a Kubernetes Deployment rolls out: `max_surge`
/// workers may be replaced gracefully at once (a new one is started first, and the old one is
/// drained and stopped only once the new one is ready), and `max_unavailable` more may be
/// restarted in place (stopped, then started again). With the defaults the pool never has fewer
/// ready workers than before. A replacement not ready within `ready_timeout` ends the rollout:
/// the old worker is kept, and the rollout reports where it stopped.
struct RollingRestart {
  std::size_t max_surge = 1;
  std::size_t max_unavailable = 0;
  Duration ready_timeout = std::chrono::seconds(30);
};

/// How a rolling restart ended.
struct RolloutResult {
  std::size_t total = 0;     ///< Workers it set out to replace.
  std::size_t replaced = 0;  ///< ... and replaced.
  bool completed = false;    ///< All of them.
  std::string why;           ///< When not: what stopped it.
};

/// A count of workers, or a percentage of the pool's size (Kubernetes' IntOrString): `3`, or
/// `percent(25)`. Resolved against the pool's size when a rollout starts (see `resolve`).
struct IntOrPercent {
  std::size_t value = 0;
  bool is_percent = false;  ///< `value` is a percentage (0-100) of the pool's size.

  constexpr IntOrPercent() noexcept = default;
  constexpr IntOrPercent(std::size_t count) noexcept : value(count) {}  // NOLINT: implicit
  constexpr IntOrPercent(std::size_t v, bool percent) noexcept : value(v), is_percent(percent) {}
  /// The count it stands for in a pool of `size`: a percentage rounded up (`round_up`, as
  /// Kubernetes does for maxSurge) or down (maxUnavailable).
  [[nodiscard]] constexpr std::size_t resolve(std::size_t size, bool round_up) const noexcept {
    if (!is_percent) return value;
    return round_up ? (value * size + 99) / 100 : value * size / 100;
  }
};
/// `percent(25)`: 25% of the pool's size.
[[nodiscard]] constexpr IntOrPercent percent(std::size_t p) noexcept { return {p, true}; }

/// How `Pool::update` rolls a new spec out, with the semantics of a Kubernetes Deployment's
/// RollingUpdate strategy (and its defaults): at most `max_surge` workers above the pool's size
/// (new workers started before old ones go), and at most `max_unavailable` below it (old workers
/// restarted in place on the new spec). Percentages are of the pool's size when the rollout
/// starts; `max_surge` rounds up, `max_unavailable` down, and when both come to zero
/// `max_unavailable` is 1 (as Kubernetes does). Not both may be given as zero.
struct RolloutStrategy {
  IntOrPercent max_surge = percent(25);
  IntOrPercent max_unavailable = percent(25);
  /// A new worker counts as updated only once it has stayed ready this long (minReadySeconds);
  /// should it leave `ready`/`leased` meanwhile, it does not count.
  Duration min_ready{};
  /// A new worker not counted as updated within this long (started, ready, and `min_ready`
  /// passed) fails the rollout (Kubernetes' progressDeadlineSeconds, per worker here). Positive.
  Duration progress_deadline = std::chrono::seconds(600);
};

/// A new version of the pool's workers, for `Pool::update`.
struct PoolUpdate {
  /// The new spec (validated as `PoolOptions::spec` is: `errc::invalid_spec` names the field).
  /// `PoolOptions::per_worker_spec`, the hooks and the identity variables apply to it as before.
  ProcessSpec spec;
  /// The new version's health checks (validated as `PoolOptions::health_checks`); none given:
  /// the current ones. Each worker is probed by the checks of its own revision.
  std::optional<std::vector<HealthCheck>> health_checks;
  RolloutStrategy strategy{};
  /// When the rollout fails (a new worker not counted within `progress_deadline`, or one that
  /// died before it was ready): return to the previous spec, replacing the new-version workers
  /// back, ready-gated, with the same strategy; the pool ends on the old version with every
  /// worker serving. Off: the rollout stops where it is (old and new workers both serve).
  bool rollback_on_failure = true;
};

/// How `Pool::update` ended.
struct UpdateResult {
  std::uint64_t from_revision = 0;  ///< The revision the pool ran when it started.
  std::uint64_t to_revision = 0;    ///< The new spec's revision.
  std::uint64_t revision = 0;       ///< The revision every worker runs now (when `completed`:
                                    ///< `to_revision`; when rolled back: `from_revision`).
  bool completed = false;           ///< Every worker runs the new spec.
  bool rolled_back = false;         ///< It failed, and the pool went back to the old spec.
  std::size_t updated = 0;          ///< Workers the forward rollout moved to the new spec.
  std::string why;                  ///< When not completed: what failed.
};

/// The rollout of `Pool::update` now (`PoolSnapshot::rollout`). Without one under way, the
/// figures still describe the pool: `current_revision == target_revision`, `old == 0`.
struct RolloutStatus {
  bool active = false;                 ///< A rollout (or its rollback) is under way.
  bool rolling_back = false;           ///< ... and it is the rollback.
  std::uint64_t current_revision = 1;  ///< The revision the pool ran before the rollout.
  std::uint64_t target_revision = 1;   ///< The revision new workers start on.
  std::size_t updated = 0;             ///< Live workers on the target revision.
  std::size_t ready_updated = 0;       ///< ... ready or leased.
  std::size_t old = 0;                 ///< Live workers on another revision.
};

/// A 0-100 score per worker, fed by its probes and its leases, that starts a graceful
/// replacement when it sinks too low: for workers that degrade slowly (leaks, fragmentation,
/// a wedged cache) rather than fail outright. Hysteresis: after one replacement request, the next
/// needs the score to have climbed above `recover_above` first. Every worker starts at 100.
struct HealthScoreOptions {
  bool enabled = false;
  int healthy_probe = 5;     ///< Added for each healthy probe answer.
  int degraded_probe = -10;  ///< Added for each degraded answer.
  int failed_probe = -25;    ///< Added for each unhealthy or unknown answer (or a timeout).
  int lease_success = 2;     ///< Added for each lease released with `success`.
  int lease_slow = -5;       ///< ... with `slow`.
  int lease_failure = -15;   ///< ... with `failure`.
  int replace_below = 30;    ///< At or below this, the worker is replaced gracefully.
  int recover_above = 60;    ///< ... and may be again only after rising above this.
  Duration ready_timeout = std::chrono::seconds(30);  ///< For that replacement.
};

/// The worker a per-worker hook is called for (`PoolOptions::per_worker_spec`, `pre_start`,
/// `post_stop`): its index (its slot: see `WorkerSnapshot`) and the incarnation about to start or
/// just ended (1, 2, ... in a slot; never repeated in it, see `WorkerSnapshot`).
struct WorkerContext {
  std::size_t index = 0;
  std::uint64_t incarnation = 0;
};

/// The variables a pool puts into each worker's environment (`PoolOptions::identity_env`): its
/// index, as `WorkerSnapshot::index` ("0", "1", ...), and its incarnation ("1", "2", ...).
inline constexpr std::string_view worker_index_variable = "SUPERVISOR_WORKER_INDEX";
/// \copydoc worker_index_variable
inline constexpr std::string_view worker_incarnation_variable = "SUPERVISOR_WORKER_INCARNATION";

/// One line of a worker's output, as `PoolOptions::on_output` receives it.
struct OutputLine {
  std::size_t worker = 0;             ///< The worker's index (see `WorkerSnapshot`).
  std::uint64_t incarnation = 0;      ///< The incarnation that wrote it.
  StdStream stream = StdStream::out;  ///< `out` or `err` (`out` when err is `same_as_out`).
  std::string_view text;  ///< The line, without its newline; valid only during the call.
};

/// Output counters of a worker (summed over its incarnations) or of a pool, per stream. Counts
/// only what the loop reads (streams that are `pipe` or `log_file`).
struct OutputCounts {
  OutputStats out;  ///< Its stdout (with stderr, when err is `same_as_out`).
  OutputStats err;  ///< Its stderr.
};

/// Configuration of a Pool.
struct PoolOptions {
  ProcessSpec spec;             ///< What every worker runs.
  std::size_t size = 1;         ///< How many workers to start with (at least 1).
  std::size_t min_size = 1;     ///< `resize` and the scaling policy never go below this.
  std::size_t max_size = 1024;  ///< ... nor above this.
  /// Decides the size every `scaling_period` (e.g. `TargetUtilization`). Default none: fixed.
  std::shared_ptr<ScalingPolicy> scaling;
  Duration scaling_period = std::chrono::seconds(15);
  /// Decides restarts. Default: `StandardRestartPolicy` with its defaults (always restart,
  /// exponential backoff, systemd's start limit per worker).
  std::shared_ptr<RestartPolicy> restart_policy;
  /// Wraps restarts: every abnormal exit is a failed call, every start that becomes ready a
  /// successful one. While it is open, workers wait in `backoff`; after its wait, trial starts
  /// decide. Default none.
  std::shared_ptr<CircuitBreaker> restart_breaker;
  /// Wraps leases: each lease's outcome is a call. While it is open, `acquire` fails with
  /// `errc::circuit_open`. Default none.
  std::shared_ptr<CircuitBreaker> lease_breaker;
  Readiness readiness;
  /// Planned replacement: the worker is stopped with its StopPlan and started again at once,
  /// without consulting the restart policy (it did nothing wrong).
  RecycleOptions recycle;
  /// Policies that sample running workers and may have them replaced gracefully (soft limits;
  /// e.g. `SamplingLimiter`). Kernel-enforced limits are `spec.resources`. Default none.
  std::vector<std::shared_ptr<ResourceLimiter>> limiters;
  /// Limits on all the pool's workers together (e.g. 2 GiB and 4 cores for the whole pool), on
  /// top of each worker's own `spec.resources`: a `ResourceGroup` made at `start()` that every
  /// worker's own group lives in. Tree-wide limits only (`errc::invalid_argument` for
  /// `max_open_files`, `cpu_time` or `wall_time`). Its `enforcement` works as for a spec:
  /// `required` fails `start()` with `errc::controller_unavailable`, `best_effort` sends
  /// `LimitsNotEnforced` with `group` set. Change it later with `set_group_resources`. Default:
  /// none.
  ResourceLimits group_resources;
  /// A `ResourceGroup` of the pool's loop to live in: the pool's own group (`group_resources`)
  /// is made inside it, or, without one, the workers' groups are. Several pools in one group
  /// share its limits (one memory budget for a fleet). Its limits are the host's to change.
  /// Default: none.
  ResourceGroup group;
  /// How often the pool reads the throttling counters of workers (and of its group) whose
  /// `cpu_cores` or `memory_high` is set, and reports new throttling as a `LimitViolation`
  /// (`count`: CPU periods throttled, or memory.high events, since the last look). Zero: never.
  /// Reads a few files per worker; unused without those limits.
  Duration limit_watch_period = std::chrono::seconds(10);
  /// How long a limiter's replacement may take to become ready before it is given up (and the
  /// old worker kept).
  Duration limit_recycle_ready_timeout = std::chrono::seconds(30);
  /// sd_notify watchdog: each worker gets `WATCHDOG_USEC` and must send `WATCHDOG=1` at least
  /// this often (from its start on); a worker that falls silent is killed and its exit reported
  /// with `ExitReason::watchdog`. Zero: off.
  Duration watchdog{};
  /// Accept sd_notify messages from any process of the worker's tree, not only its main process
  /// (systemd's NotifyAccess=all rather than =main). The tree is the worker's own cgroup (the
  /// processes in it) where it has one, else the session it leads (`ProcessSpec::new_session`);
  /// without either, only the main process. A datagram from a sender outside the tree is
  /// always ignored.
  bool notify_access_all = false;
  /// Health checks, each with its role and Kubernetes timing (see `supervisor/health.hpp`).
  /// Startup checks hold back the others until they pass; liveness failures stop the worker
  /// (exit reason `unhealthy`, then the restart policy decides); readiness gates leases.
  std::vector<HealthCheck> health_checks;
  /// At most this many workers may be out at once because a health check stopped them (stopped,
  /// or restarting and not yet ready again); further stops wait, so that a shared dependency
  /// failing cannot restart the whole pool at once. Zero: no cap.
  std::size_t max_out_for_health = 0;
  /// The health score (off by default).
  HealthScoreOptions health_score;
  /// Leases of idle workers are handed out and taken back by the calling thread itself (a
  /// mutex, no round trip to the loop), which is what makes millions of lease cycles per second
  /// possible. Such leases do not move the worker's state machine (it stays `ready`; snapshots
  /// count and show it as leased) and emit no transition events; counters, histograms and the
  /// lease breaker see them all. Off, or whenever `acquire` would have to wait, leases go through
  /// the loop (FIFO waiters, a `leased` transition each). Not used with `recycle.max_leases` or
  /// `health_score`, which need the loop to see every lease.
  bool lease_fast_path = true;
  Containment containment = Containment::automatic;
  /// The open-file limit. Each live worker holds host fds (on Linux: its pidfd; the read ends of
  /// its piped stdout and stderr, a log file each, its stdin pipe, its channel, a notify socket
  /// with sd_notify readiness or a watchdog; its cgroup's directory when that group carries
  /// limits or sits in the pool's group). `start()` and growth (`resize`, a scaling policy) check
  /// first that the workers they add fit, with what the process has open already, under the soft
  /// RLIMIT_NOFILE; when they do not, nothing is started and the error is `errc::fd_limit`,
  /// naming the limit, its soft and hard values and the value needed (a scaling policy's growth
  /// is then not made, and `error_handler` gets that error with where = "scaling up"). With this
  /// set, the soft limit is raised instead to what is needed (never above the hard limit, never
  /// lowered; `raise_fd_limit`), and only a hard limit that is too low fails. Off by default: the
  /// library never changes the host's limits unasked. Workers started afterwards inherit the
  /// raised soft limit. Ignored where no such limit exists (Windows).
  bool raise_fd_limit = false;
  std::size_t history_size = 1024;  ///< Events kept for `history()`.
  /// Receives exceptions thrown by strategies and subscribers (loop thread). Must not throw.
  std::function<void(std::exception_ptr, std::string_view where)> error_handler;

  // ---- Worker identity and hooks -----------------------------------------------------------
  // Each start of a worker (every incarnation, restarts, replacements and scale-ups included)
  // goes, on the loop thread: `per_worker_spec` -> `pre_start` -> spawn (which adds the
  // `identity_env` variables); and each incarnation the pool tried to start ends with one
  // `post_stop`. Like subscribers, the hooks may call the pool's non-blocking methods.

  /// Every worker's environment holds `SUPERVISOR_WORKER_INDEX` (its index) and
  /// `SUPERVISOR_WORKER_INCARNATION` (its incarnation), as supervisord's `process_num` or PM2's
  /// `NODE_APP_INSTANCE`. The spawn adds them after the spec's environment (over what
  /// `per_worker_spec` may have put there; `spec.env.set` may not name them while this is on:
  /// `errc::invalid_argument`); they are not written into the spec (`ProbeTarget::spec`,
  /// `pre_start`'s spec). Cheap: no copy of the spec, and the host's environment is still passed
  /// on uncopied unless it holds these names itself (a worker that runs a pool of its own).
  /// Exec probes get them too (`ExecCheck`). Default on.
  bool identity_env = true;
  /// Derives a worker's spec from `spec` before each start: called with a copy of `spec` (the
  /// latest, `set_resources` included) to change in place, e.g. a port of its own
  /// (`argv.push_back(std::to_string(8000 + w.index))`), a working directory, a log file. The
  /// result is validated like `spec`: a bad one fails that start with `errc::invalid_spec`, an
  /// exception fails it with `errc::hook_failed` (and goes to `error_handler`, where
  /// "per_worker_spec"). Such a failure is a `SpawnFailed` naming the worker (the restart policy
  /// decides what follows), and on the first start it is what `start()` returns. The health
  /// checks see the derived spec (`ProbeTarget::spec`). Loop thread; it must not block. Default:
  /// none (every worker runs `spec`).
  std::function<void(const WorkerContext& worker, ProcessSpec& spec)> per_worker_spec;
  /// Runs before each spawn (systemd's `ExecStartPre=`), with the spec about to be started (the
  /// derived one, with the incarnation's `NOTIFY_SOCKET` when the pool uses sd_notify; the
  /// identity variables come on top at the spawn): to prepare what the incarnation needs (a
  /// directory, a port reservation, a config file). Returning an error fails the start with that
  /// error; throwing fails it with `errc::hook_failed` (the message quotes the exception's
  /// `what()`; the exception also goes to `error_handler`, where "pre_start"). A failed start
  /// spawns nothing: a `SpawnFailed` event names the worker and carries the error, the restart
  /// policy decides what follows (as for an exit with reason `spawn_failed`), and on the first
  /// start `start()` returns it. Loop thread; it must not block for long: the whole pool waits
  /// meanwhile. Default: none.
  std::function<std::error_code(const WorkerContext& worker, const ProcessSpec& spec)> pre_start;
  /// Runs exactly once per incarnation the pool tried to start (systemd's `ExecStopPost=`): after
  /// its process tree is gone, with its `ExitStatus` (before the `WorkerExited` event, and
  /// before the next incarnation's `pre_start`); or, for a start that failed (in
  /// `per_worker_spec`, `pre_start` or the spawn itself), right after the failure, with reason
  /// `spawn_failed`. Also at `stop()`, which returns only after the last one. To clean what
  /// `pre_start` prepared. An exception goes to `error_handler` (where "post_stop") and changes
  /// nothing else. Loop thread. Default: none.
  std::function<void(const WorkerContext& worker, const ExitStatus& status)> post_stop;
  /// A worker the restart policy gave up on (`failed`) is revived after this long, as
  /// `Pool::revive(worker)` would (its budget and backoff reset), instead of staying failed for
  /// ever. Zero: never (a failed worker waits for `revive` or `resize`).
  Duration failed_retry_after{};
  /// The pool is `PoolHealth::degraded` while fewer than this many workers (at most its size)
  /// are up, `down` with none, and a `PoolHealthChanged` event reports each change: 1 reports
  /// only `down` and the recovery from it. Zero (the default): no such events (a pool of one
  /// worker would send two on every restart); `PoolSnapshot::health` still shows `down` and
  /// `healthy`.
  std::size_t degraded_below = 0;

  // ---- Resource usage ------------------------------------------------------------------------
  /// How often the pool samples each running worker's memory and CPU time (one timer on the
  /// pool's loop; each worker's figures are read once per period: see `WorkerUsage`). The last
  /// sample shows in `WorkerSnapshot::usage`, the pool's totals in `PoolSnapshot::usage` and in
  /// `to_prometheus`. Zero (the default): off, at no cost (no timer, no reads). Otherwise at
  /// least 10 ms (`errc::invalid_argument`).
  Duration usage_sample_period{};

  // ---- Output ------------------------------------------------------------------------------
  /// Receives every complete line of every worker's piped stdout and stderr (`pipe` or
  /// `log_file`), with the worker's index, its incarnation and the stream (lines longer than
  /// `OutputOptions::max_line` come in pieces), after the stream's own `StdioSpec::on_line`
  /// (which still gets the bare line, as for a plain Process). Lines of a `log_file` stream
  /// come here too (and are also in the file). Loop thread: it must not block; an exception goes
  /// to `error_handler` (where "on_output"). Default: none (no cost per spawn). To give each
  /// worker a log file of its own, put `{worker}` in the spec's `StdioSpec::path` (see
  /// `StdioSpec::Mode::log_file`; it works for `file` paths too) or set the path in
  /// `per_worker_spec`.
  std::function<void(const OutputLine& line)> on_output;
};

/// Validates the options (and the spec); the error names the first bad field.
SUPERVISOR_API void validate(const PoolOptions& options);
/// \overload
SUPERVISOR_API void validate(const PoolOptions& options, std::error_code& ec) noexcept;

/// A worker process was spawned.
struct WorkerSpawned {
  std::size_t worker = 0;
  std::uint64_t incarnation = 0;
  int pid = 0;
};
/// A worker process (and its tree) ended.
struct WorkerExited {
  std::size_t worker = 0;
  std::uint64_t incarnation = 0;
  ExitStatus status;
};
/// The restart policy scheduled a restart.
struct RestartScheduled {
  std::size_t worker = 0;
  Duration delay{};
  std::string why;
};
/// The restart policy gave up on a worker (it is now `failed`).
struct WorkerGaveUp {
  std::size_t worker = 0;
  std::string why;
};
/// A spawn failed (typed error; the restart policy decides what follows).
struct SpawnFailed {
  std::size_t worker = 0;
  std::error_code error;
  std::string message;
};
/// A circuit breaker changed state.
struct BreakerChanged {
  std::string breaker;  ///< "restart" or "lease".
  BreakerTransition transition;
};
/// The kernel acted on a limit of `ProcessSpec::resources` (or `PoolOptions::group_resources`):
/// the OOM killer under `memory_max` (`count` processes killed), forks refused at
/// `max_processes` (`count` refusals), the CPU time rlimit or `wall_time` (`count` 1), throttling
/// at `cpu_cores` (`count` CPU periods) or `memory_high` (`count` events), seen every
/// `limit_watch_period`. Also counted in `PoolSnapshot::limit_violations`.
struct LimitViolation {
  std::size_t worker = 0;
  std::uint64_t incarnation = 0;
  LimitKind kind = LimitKind::memory_max;
  std::uint64_t count = 0;
  /// The pool-wide limit (`PoolOptions::group_resources`) was the one hit, not the worker's own.
  bool group = false;
  std::string detail;  ///< e.g. `1 process OOM-killed at memory_max 67108864 bytes`.
};
/// Some limits of `ProcessSpec::resources` are not enforced on this host (best-effort mode); sent
/// once per pool, with the first worker that started so, and again if the set changes.
struct LimitsNotEnforced {
  std::size_t worker = 0;
  std::vector<LimitStatus> limits;  ///< The limits with backend `none`, each with its why.
  /// About `PoolOptions::group_resources` (sent at `start` and on changes; `worker` is 0).
  bool group = false;
};
/// A worker is being replaced as planned (`PoolOptions::recycle`).
struct WorkerRecycled {
  std::size_t worker = 0;
  std::string why;
};
/// A worker sent `STATUS=...` over its notify socket.
struct WorkerStatusChanged {
  std::size_t worker = 0;
  std::string status;
};
/// A health check of a worker changed its verdict (it crossed a threshold), or a probe's answer
/// changed from the one before.
struct HealthChanged {
  std::size_t worker = 0;
  std::uint64_t incarnation = 0;
  std::string check;  ///< The strategy's name.
  ProbeRole role = ProbeRole::liveness;
  HealthStatus status = HealthStatus::unknown;  ///< This probe's answer.
  bool passing = false;  ///< The check's verdict after this probe (thresholds applied).
  std::string detail;
};
/// A graceful replacement began: `replacement` (a new worker) starts while `worker` serves on.
struct ReplacementStarted {
  std::size_t worker = 0;
  std::size_t replacement = 0;
};
/// The replacement became ready; the old worker drains and stops.
struct ReplacementFinished {
  std::size_t worker = 0;
  std::size_t replacement = 0;
};
/// The replacement did not become ready in time (or died first): it is stopped, and the old
/// worker is kept.
struct ReplacementAborted {
  std::size_t worker = 0;
  std::size_t replacement = 0;
  std::string why;
};
/// A rolling restart ended.
struct RolloutFinished {
  RolloutResult result;
};
/// `Pool::update` started rolling out a revision (`rollback`: back to the previous one).
struct RolloutStarted {
  std::uint64_t from_revision = 0;
  std::uint64_t to_revision = 0;
  bool rollback = false;
  std::size_t max_surge = 0;        ///< Resolved against the pool's size.
  std::size_t max_unavailable = 0;  ///< Resolved against the pool's size.
};
/// A worker of `Pool::update`'s rollout now counts as updated (ready for `min_ready`).
struct RolloutProgress {
  std::uint64_t revision = 0;  ///< The target.
  std::size_t worker = 0;      ///< The worker that now counts.
  std::size_t updated = 0;     ///< Live workers on the target revision.
  std::size_t ready_updated = 0;
  std::size_t old = 0;  ///< Live workers on another revision.
};
/// `Pool::update`'s rollout failed and was rolled back (the rollback's own end follows).
struct RolloutRolledBack {
  std::uint64_t from_revision = 0;  ///< The revision that failed.
  std::uint64_t to_revision = 0;    ///< The revision restored.
  std::string why;
};
/// An `acquire` found no ready worker in time.
struct LeaseTimedOut {
  Duration waited{};
};
/// A lease was held past its deadline (`AcquireOptions::deadline`): its worker is stopped and
/// started again.
struct LeaseExpired {
  std::size_t worker = 0;
  std::uint64_t incarnation = 0;
  Duration held{};  ///< How long it had been held.
};
/// The pool's health changed (see `PoolHealth`, `PoolOptions::degraded_below`).
struct PoolHealthChanged {
  PoolHealth from = PoolHealth::starting;
  PoolHealth to = PoolHealth::starting;
  std::size_t ready = 0;  ///< Workers up (ready or leased) now.
  std::size_t size = 0;   ///< The pool's target size now.
};
/// Everything a pool reports.
using PoolEventData =
    std::variant<WorkerTransition, WorkerSpawned, WorkerExited, RestartScheduled, WorkerGaveUp,
                 SpawnFailed, BreakerChanged, LeaseTimedOut, WorkerStatusChanged, WorkerRecycled,
                 HealthChanged, ReplacementStarted, ReplacementFinished, ReplacementAborted,
                 RolloutFinished, LimitViolation, LimitsNotEnforced, LeaseExpired,
                 PoolHealthChanged, RolloutStarted, RolloutProgress, RolloutRolledBack>;
/// One event, numbered in the order it happened.
struct PoolEvent {
  std::uint64_t sequence = 0;
  TimePoint at{};
  WallTime wall{};
  PoolEventData data;
};

/// Whose figures a `WorkerUsage` figure is.
enum class UsageScope {
  /// The worker's main process alone (Linux: /proc/<pid>/stat), not its children: its resident
  /// set size, its own user + system CPU time.
  process,
  /// Its whole tree, from the worker's own cgroup (Linux: cgroup v2 `cpu.stat` `usage_usec` and
  /// `memory.current`; cgroup v1 `memory.usage_in_bytes` when a v1 memory limit gave it a v1
  /// memory group): every process in it, the CPU of descendants that already ended included. Its
  /// memory is what the kernel charges the tree (systemd's `MemoryCurrent=`): anonymous memory,
  /// and also page cache and kernel memory, so it can exceed the sum of the RSS of its processes.
  tree,
};

/// A worker's resources at its last sample (`PoolOptions::usage_sample_period`). Each figure is
/// the tree's where the worker has its own cgroup giving it (the default containment on a
/// cgroup v2 host: CPU always, memory where the memory controller is enabled for the workers'
/// groups), else its main process's; `memory_scope` and `cpu_scope` say which. A new
/// incarnation starts afresh: its CPU time counts from its own start, and `cpu_cores` is unknown
/// until its second sample. A worker's CPU over all its incarnations is not kept per worker: the
/// pool's total (`PoolUsage::cpu_time`) keeps every incarnation's.
struct WorkerUsage {
  std::uint64_t memory_bytes = 0;  ///< Resident memory (see `memory_scope`).
  UsageScope memory_scope = UsageScope::process;
  Duration cpu_time{};  ///< User + system CPU time of this incarnation so far.
  UsageScope cpu_scope = UsageScope::process;
  /// CPU used since the previous sample of this incarnation, in cores (1.0: one core busy all
  /// the time; more for a tree that uses several). None at an incarnation's first sample.
  std::optional<double> cpu_cores;
  TimePoint sampled_at{};  ///< When it was read (the pool's clock).
};

/// The pool's totals of `WorkerUsage` (sampling on).
struct PoolUsage {
  /// The sum of `WorkerUsage::memory_bytes` over the workers whose process runs.
  std::uint64_t memory_bytes = 0;
  /// CPU time of every incarnation since `start()`, never decreasing (a counter): a live one's
  /// at its last sample; an ended one's at its end (the larger of its last sample, if any, and
  /// the main process's own CPU time from its exit, `ExitStatus::usage`). CPU that a tree's other
  /// processes used after its last sample is not counted.
  Duration cpu_time{};
  std::size_t workers = 0;  ///< Workers in `memory_bytes` (those with a sample now).
};

/// One worker slot, as seen at snapshot time: the worker in it now, and only that one (a slot
/// reclaimed for a new worker starts its counts, times and `last_exit` again; the pool's totals
/// in `PoolSnapshot` keep counting everything ever).
///
/// Worker indices are slot numbers, reused: a new worker (a graceful replacement, a rollout's,
/// a scale-up) takes the lowest retired slot that nothing refers to any more (no lease of it
/// handed out through the desk, no timer, replacement, rollout or probe pending, no process of
/// it still ending), else a new slot at the end. Incarnations never repeat within a slot: a
/// reclaimed slot's first incarnation follows the last one of the worker it held, so a lease,
/// an event or a callback naming an old `(index, incarnation)` never matches the new worker.
/// `Pool::replace(worker)` and the like name the slot as it is when they run.
struct WorkerSnapshot {
  std::size_t index = 0;
  WorkerState state = WorkerState::starting;
  std::uint64_t incarnation = 0;
  int pid = 0;                 ///< 0 when no process runs.
  std::uint64_t restarts = 0;  ///< Spawns after the first.
  std::uint64_t leases = 0;    ///< Leases handed out.
  /// Its processes' ends, counted by reason (indexed by `ExitReason`); the pool-wide total is
  /// `PoolSnapshot::exits_by_reason`.
  std::array<std::uint64_t, exit_reason_count> exits_by_reason{};
  std::optional<ExitStatus> last_exit;
  std::string status;  ///< The last `STATUS=` it sent (sd_notify).
  Duration time_up{};  ///< Total time spent ready or leased (for availability).
  /// Total time spent in each state over all incarnations, indexed by `WorkerState`.
  std::array<Duration, worker_state_count> time_in_state{};
  /// The worst last answer of its health checks (`unknown` with none, or none answered yet).
  HealthStatus health = HealthStatus::unknown;
  std::string health_detail;  ///< The last answer's detail of the check that set `health`.
  int health_score = 100;     ///< See `HealthScoreOptions` (stays 100 when it is off).
  bool serving = true;  ///< Its readiness checks pass (true without any): leases may go to it.
  /// The revision of the spec its process runs (or its next one will): 1 for
  /// `PoolOptions::spec`, one more for each `Pool::update`.
  std::uint64_t revision = 1;
  /// Its current process's last sample (`PoolOptions::usage_sample_period`): none while
  /// sampling is off, before the incarnation's first sample, and once its process ended.
  std::optional<WorkerUsage> usage;
  /// What its processes wrote: bytes read, bytes the ring dropped, lines (all its incarnations).
  OutputCounts output;
  /// How long its current process has run (since its spawn); zero when none runs.
  Duration uptime{};
  /// When its current process was spawned (wall clock); none when no process runs.
  std::optional<WallTime> started_at;
};

/// The whole pool, as seen at snapshot time.
struct PoolSnapshot {
  bool running = false;
  bool draining = false;  ///< `drain()` was called: no new leases.
  std::size_t size = 0;   ///< Target number of workers (retired ones not counted).
  /// Every slot, indexed by worker index: the live workers, and the retired slots not reclaimed
  /// yet (each with its last worker's figures). Retired slots are reclaimed for new workers, so
  /// its size is bounded by the peak number of workers the pool had at once, those still
  /// stopping included (through rolling restarts: `size`, plus `max_surge` replacements
  /// starting, plus as many replaced workers still stopping), not by how many it ever had.
  std::vector<WorkerSnapshot> workers;
  std::size_t ready = 0;  ///< Workers ready and not leased.
  std::size_t leased = 0;
  std::size_t waiting = 0;  ///< `acquire` calls waiting for a worker.
  std::uint64_t restarts = 0;
  std::uint64_t spawn_failures = 0;
  std::uint64_t lease_timeouts = 0;
  std::uint64_t strategy_errors = 0;  ///< Exceptions caught from strategies and subscribers.
  /// Transitions the pool tried that the state machine refused (never applied; each also goes to
  /// the error handler). Always 0 unless the library has a bug: worth an alert.
  std::uint64_t invalid_transitions = 0;
  std::uint64_t leases = 0;  ///< Leases handed out.
  /// Worker exits by reason (systemd's names: "signal", "exit-code", "watchdog", ...), of every
  /// worker the pool ever had (those of reclaimed slots too).
  std::map<std::string, std::uint64_t> exits_by_reason;
  /// Time every worker the pool ever had spent in each state, indexed by `WorkerState` (the
  /// rows of `workers` plus the workers of reclaimed slots).
  std::array<Duration, worker_state_count> time_in_state{};
  /// Limit hits by limit (`memory_max`, `max_processes`, `cpu_time`), as in `LimitViolation`;
  /// hits of a pool-wide limit are keyed `group.memory_max`, `group.max_processes`.
  std::map<std::string, std::uint64_t> limit_violations;
  /// How each limit of `PoolOptions::group_resources` is enforced (empty without them).
  std::vector<LimitStatus> group_limits;
  /// Workers a `ResourceLimiter` had replaced (soft limits).
  std::uint64_t soft_recycles = 0;
  Histogram lease_wait = Histogram::default_seconds();      ///< acquire -> lease handed out.
  Histogram lease_duration = Histogram::default_seconds();  ///< lease handed out -> released.
  Histogram start_to_ready = Histogram::default_seconds();  ///< spawn -> ready.
  Histogram worker_uptime = Histogram::default_seconds();   ///< lifetime of ended processes.
  Histogram probe_latency = Histogram::default_seconds();   ///< health probe -> its answer.
  std::uint64_t probes = 0;                                 ///< Health probes run.
  std::uint64_t probe_failures = 0;  ///< ... that failed (unhealthy, unknown, timed out).
  std::uint64_t health_stops = 0;    ///< Workers stopped by a failing startup/liveness check.
  /// Stops a failing check asked for but `max_out_for_health` held back.
  std::uint64_t health_stops_deferred = 0;
  std::optional<BreakerState> restart_breaker;  ///< Its state, when the pool has one.
  std::optional<BreakerState> lease_breaker;    ///< Its state, when the pool has one.
  std::uint64_t lease_expirations = 0;          ///< Leases held past their deadline.
  std::uint64_t broken_leases = 0;              ///< Leases released `broken`.
  PoolHealth health = PoolHealth::starting;     ///< See `PoolHealthChanged`.
  RolloutStatus rollout;  ///< Revisions and `Pool::update`'s progress (see `RolloutStatus`).
  /// The workers' resources together; none while sampling is off
  /// (`PoolOptions::usage_sample_period`).
  std::optional<PoolUsage> usage;
  /// What every worker the pool ever had wrote (those of reclaimed slots too).
  OutputCounts output;
};

/// The snapshot in Prometheus' text exposition format (version 0.0.4), every series labelled
/// `pool="<pool>"`: worker counts by state, restarts, exits by reason, lease counters, breaker
/// states, the histograms, the output counters (`supervisor_pool_output_bytes_total`,
/// `..._output_dropped_bytes_total`, `..._output_lines_total` by `stream`, and
/// `supervisor_pool_worker_output_bytes_total`, `..._worker_output_dropped_bytes_total` by
/// `worker` and `stream`); with usage sampling on (`PoolSnapshot::usage`), also
/// `supervisor_pool_resident_memory_bytes` and `supervisor_pool_cpu_seconds_total`; per worker
/// (label `worker`, the slot index: bounded by the pool's peak size, never a PID) its state
/// (`supervisor_pool_worker_state`, 1 for the current one), restarts, time up, the start time
/// of its process, its spec's revision and, with sampling on, its memory and CPU time. One
/// pool's document: for several pools (and loops) in one exposition, use `add_pool_metrics` on
/// one `MetricSet`, or a `Monitor` (which does it).
[[nodiscard]] SUPERVISOR_API std::string to_prometheus(const PoolSnapshot& snapshot,
                                                       std::string_view pool);
/// Adds the families of `to_prometheus` to `set`, every series labelled `pool="<pool>"`: call it
/// for each pool (with distinct names), then `set.to_prometheus()` is one valid exposition with
/// each family once.
SUPERVISOR_API void add_pool_metrics(MetricSet& set, const PoolSnapshot& snapshot,
                                     std::string_view pool);

/// Exclusive use of one ready worker, until released (explicitly, or by the destructor with
/// `success`). Movable, not copyable; thread-safe.
class SUPERVISOR_API Lease {
 public:
  Lease() noexcept;
  ~Lease();
  Lease(Lease&&) noexcept;
  Lease& operator=(Lease&&) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  [[nodiscard]] bool valid() const noexcept { return core_ != nullptr; }
  [[nodiscard]] std::size_t worker() const noexcept { return worker_; }
  [[nodiscard]] int pid() const noexcept { return pid_; }
  [[nodiscard]] std::uint64_t incarnation() const noexcept { return incarnation_; }
  /// True once the lease was held past its deadline (`AcquireOptions::deadline`): its worker is
  /// being stopped and started again, and `release` reports nothing more (call it all the same,
  /// or let the destructor). False for a lease without a deadline.
  [[nodiscard]] bool expired() const noexcept;
  /// Gives the worker back, reporting how the job went. Idempotent. A lease that is destroyed
  /// without a release reports `success`, or `failure` when it is destroyed by an exception's
  /// unwinding (the job that held it did not finish).
  void release(LeaseOutcome outcome = LeaseOutcome::success) noexcept;
  /// The channel to the leased worker's current incarnation, when the pool's spec has one
  /// (`ProcessSpec::channel`; else an invalid `Channel`). Jobs sent there reach this worker
  /// only. It serves while the lease is held: once the lease is released its calls fail with
  /// `errc::invalid_argument` (the worker may serve another lease by then). A worker that dies
  /// mid-job makes them fail with `errc::peer_gone`; release the lease with
  /// `LeaseOutcome::failure` then (the pool restarts the worker by its restart policy). The job
  /// may see the death before the pool does: until the loop has read the exit (usually well
  /// under a millisecond), an `acquire` may still hand out that worker, whose calls then fail
  /// with `errc::peer_gone` at once; retry such a job on a new lease.
  [[nodiscard]] Channel channel() const;

 private:
  friend class detail::PoolCore;
  std::shared_ptr<detail::PoolCore> core_;
  std::size_t worker_ = 0;
  std::uint64_t incarnation_ = 0;
  int pid_ = 0;
  TimePoint acquired_{};
  bool fast_ = false;                          // taken from the pool's lease desk, without the loop
  int uncaught_ = std::uncaught_exceptions();  // at its start: more at its end means unwinding
  std::shared_ptr<detail::LeaseTicket> ticket_;  // a lease with a deadline: whether it expired
  std::shared_ptr<detail::HostEnd> channel_;     // its worker's channel, if it has one
  std::uint64_t channel_ticket_ = 0;             // the channel's generation while it is held
};

/// Keeps `size` workers of one spec healthy on a Loop. Thread-safe.
class SUPERVISOR_API Pool {
 public:
  /// Validates `options` (throws `errc::invalid_spec` / `errc::invalid_argument` naming the
  /// field); starts nothing yet. `loop` must outlive the pool.
  Pool(Loop& loop, PoolOptions options);
  /// A pool with a Loop of its own (one more thread, joined when the pool is destroyed).
  explicit Pool(PoolOptions options);
  /// The same pool on a fake world (see `supervisor/testing.hpp`): deterministic, no process.
  Pool(testing::FakeWorld& world, PoolOptions options);
  /// Stops the workers (each within its StopPlan's bound) and waits for them.
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Spawns every worker. A spawn error of the first start (missing binary, bad cwd, ...) is
  /// returned here, synchronously, and the pool is stopped: a misconfigured pool never starts a
  /// restart storm. Later spawn failures go through the restart policy (`SpawnFailed` events).
  /// Workers whose fds would not fit under the open-file limit: `errc::fd_limit`, before anything
  /// is started (see `PoolOptions::raise_fd_limit`).
  void start();
  /// \overload
  void start(std::error_code& ec) noexcept;

  /// Stops every worker with its StopPlan and waits until all are gone; waiters of `acquire`
  /// get `errc::stopped`. Idempotent. On the loop thread (from a callback or subscriber), where
  /// waiting would wait for itself, it starts the stop and returns at once; `stop()` from a host
  /// thread (or the destructor) then waits for the end.
  void stop();
  /// Like `stop`, without blocking: starts the stop, and `done` runs on the loop thread (in a
  /// turn of its own, never inside this call) once every worker is gone, as `stop()` would have
  /// returned; at once (next turn) when the pool is stopped already. For event-driven hosts and
  /// supervisors of pools (`SupervisionGroup`). What `done` throws goes to the error handler.
  void stop_async(std::function<void()> done);

  /// Exclusive use of a ready worker; waits up to `timeout` (FIFO among waiters). Errors:
  /// `errc::lease_timeout`, `errc::circuit_open` (lease breaker), `errc::stopped`,
  /// `errc::not_running` (not started). With `timeout` zero it never blocks, and may then be
  /// called from the loop thread too; with a timeout there, it fails with
  /// `std::errc::resource_deadlock_would_occur` (use `acquire_async`).
  Lease acquire(Duration timeout);
  /// \overload
  Lease acquire(Duration timeout, std::error_code& ec) noexcept;
  /// Like `acquire`, without blocking: `done` runs on the loop thread with the lease or the
  /// error (the same ones as `acquire`). Event-driven hosts and fake-world tests use this.
  void acquire_async(Duration timeout, std::function<void(Lease, std::error_code)> done);
  /// `acquire` with options: a wait and a deadline for the lease (see `AcquireOptions`).
  /// Errors: those of `acquire`, and `errc::invalid_argument` for a negative deadline.
  Lease acquire(const AcquireOptions& options);
  /// \overload
  Lease acquire(const AcquireOptions& options, std::error_code& ec) noexcept;
  /// `acquire_async` with options.
  void acquire_async(const AcquireOptions& options,
                     std::function<void(Lease, std::error_code)> done);

  /// Drains the pool: no new lease is handed out (waiting and new `acquire` calls fail with
  /// `errc::stopped`), and the call waits up to `timeout` for the current leases to be released.
  /// True when none is left. Workers keep running; `stop()` usually follows. On the loop thread
  /// it does not wait: it answers for now.
  bool drain(Duration timeout);

  /// Changes the number of workers. Growing adds workers (in reclaimed retired slots, else with
  /// new indexes: see `WorkerSnapshot`) and spawns them at once (if started); shrinking retires
  /// the highest-numbered workers, idle ones first: a leased worker finishes its lease (state
  /// `draining`) before it is stopped. Retired workers stay in snapshots with state `retired`
  /// until a new worker reclaims their slot. Errors: `errc::invalid_argument` for 0 or more than
  /// 100000, `errc::stopped` once stopped, `errc::fd_limit` when the workers it would add do not
  /// fit under the open-file limit (nothing is changed; see `PoolOptions::raise_fd_limit`).
  /// A `failed` worker counts as missing: it is retired first when shrinking, else revived (as
  /// `revive(worker)` does), so `resize(n)` with the same `n` replaces the failed ones.
  void resize(std::size_t size);
  /// \overload
  void resize(std::size_t size, std::error_code& ec) noexcept;

  /// Changes the workers' kernel-enforced limits (`spec.resources`) while they run, like
  /// `systemctl set-property`: each running worker gets them where the kernel allows it now (see
  /// `Process::set_resources`), and every later start gets them all. Errors: `errc::invalid_spec`
  /// (a bad value; nothing changes), otherwise the first worker's failure (the others still
  /// change).
  void set_resources(const ResourceLimits& limits);
  /// \overload
  void set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept;

  /// Changes the pool-wide limits (`PoolOptions::group_resources`) while the workers run; limits
  /// no longer set are lifted. Errors: `errc::invalid_argument` (a bad value, or a pool started
  /// without group limits: its workers are in no group), `errc::controller_unavailable`
  /// (required mode), `errc::not_running` before `start()`, or the kernel's refusal.
  void set_group_resources(const ResourceLimits& limits);
  /// \overload
  void set_group_resources(const ResourceLimits& limits, std::error_code& ec) noexcept;
  /// The pool-wide group's counters now (all fields empty without group limits).
  [[nodiscard]] GroupSample group_sample() const;

  /// Replaces `worker` gracefully: starts a new worker (in another slot: a reclaimed retired one
  /// or a new one, see `WorkerSnapshot`), and once it is ready,
  /// drains the old one (a lease in progress finishes) and stops it. If the new one is not ready
  /// within `ready_timeout` (or dies first), it is stopped and the old one kept. Blocks until one
  /// or the other; true when replaced. Errors: `errc::invalid_argument` for a worker that is not
  /// running or is being replaced already, `errc::stopped`; from the loop thread it fails with
  /// `std::errc::resource_deadlock_would_occur` (use `replace_async`).
  bool replace(std::size_t worker, Duration ready_timeout = std::chrono::seconds(30));
  /// Like `replace`, without blocking: `done` runs on the loop thread with the outcome (an error
  /// code, or none and whether it was replaced).
  void replace_async(std::size_t worker, Duration ready_timeout,
                     std::function<void(bool replaced, std::error_code)> done);
  /// Restarts every worker running now, a few at a time (see `RollingRestart`), and blocks until
  /// the rollout ends. Errors: `errc::invalid_argument` (both limits zero), `errc::already_running`
  /// (a rollout is under way), `errc::stopped`; on the loop thread
  /// `std::errc::resource_deadlock_would_occur` (use `rolling_restart_async`).
  RolloutResult rolling_restart(const RollingRestart& options = {});
  /// Like `rolling_restart`, without blocking: `done` runs on the loop thread.
  void rolling_restart_async(const RollingRestart& options,
                             std::function<void(RolloutResult, std::error_code)> done);
  /// Rolls a new spec out (see `PoolUpdate`, `RolloutStrategy`): new workers (the rollout's,
  /// scale-ups, graceful replacements) start on it, old ones are replaced a few at a time, and
  /// each new one counts once ready for `min_ready`. Blocks until every worker runs the new
  /// spec, or the rollout failed (and, with `rollback_on_failure`, every worker runs the old
  /// one again). A worker's restarts after a crash keep its own revision (as a Kubernetes
  /// ReplicaSet restarts its own pods): an old worker that crashes mid-rollout comes back on the
  /// old spec, to be replaced in its turn. Errors: `errc::invalid_spec` naming the field (a bad
  /// spec, a percentage over 100, both limits zero, a progress deadline not positive;
  /// `errc::invalid_argument` for a bad health check, as `PoolOptions::health_checks`),
  /// `errc::already_running` (a rollout or rolling restart is under way), `errc::not_running`,
  /// `errc::stopped`; on the loop thread `std::errc::resource_deadlock_would_occur` (use
  /// `update_async`). A failed rollout is no error: see `UpdateResult`.
  UpdateResult update(const PoolUpdate& update);
  /// \overload
  UpdateResult update(const PoolUpdate& update, std::error_code& ec) noexcept;
  /// Like `update`, without blocking: `done` runs on the loop thread.
  void update_async(const PoolUpdate& update,
                    std::function<void(UpdateResult, std::error_code)> done);

  /// Waits until at least `count` workers are ready (or leased); false on timeout. On the loop
  /// thread it does not wait: it answers for now.
  bool wait_ready(std::size_t count, Duration timeout);

  /// Sends `signal` to the main process of `worker` (as `Process::signal`); what follows (an
  /// exit, say) is handled as any other. Errors: `errc::unknown_worker` for an index the pool
  /// never had or a retired (or retiring) worker, `errc::not_running` when the worker has no
  /// process now (in backoff, failed) or the pool is not started, `errc::stopped` once the pool
  /// stops, or the OS's refusal. Thread-safe (runs on the loop); usable from the loop thread.
  void signal_worker(std::size_t worker, Signal signal);
  /// \overload
  void signal_worker(std::size_t worker, Signal signal, std::error_code& ec) noexcept;
  /// Kills `worker`'s whole tree now (no StopPlan) and starts it again at once, as a new
  /// incarnation (the restart policy is not asked: the host wanted it). A lease on it ends (its
  /// release is then harmless). A worker already stopping is killed, and then goes where its
  /// stop was leading. Errors: as `signal_worker`.
  void kill_worker(std::size_t worker);
  /// \overload
  void kill_worker(std::size_t worker, std::error_code& ec) noexcept;
  /// Restarts `worker`: stops it with its StopPlan and starts it again at once as a new
  /// incarnation (a lease on it ends); one waiting in backoff starts now; a `failed` one is
  /// revived (as `revive(worker)`). Errors: `errc::unknown_worker`, `errc::not_running` (pool
  /// not started), `errc::stopped`.
  void restart_worker(std::size_t worker);
  /// \overload
  void restart_worker(std::size_t worker, std::error_code& ec) noexcept;
  /// Revives every `failed` worker (as systemd's `reset-failed` and a start): the restart
  /// policy forgets it (budget and backoff start again) and it starts now. Returns how many.
  /// Errors: `errc::not_running` (not started), `errc::stopped`.
  std::size_t revive();
  /// \overload
  std::size_t revive(std::error_code& ec) noexcept;
  /// Revives one `failed` worker. Errors: `errc::unknown_worker`, `errc::invalid_argument` for a
  /// worker that is not `failed` (the message names its state), `errc::not_running`,
  /// `errc::stopped`.
  void revive(std::size_t worker);
  /// \overload
  void revive(std::size_t worker, std::error_code& ec) noexcept;

  [[nodiscard]] PoolSnapshot snapshot() const;
  /// The most recent events (at most `PoolOptions::history_size`), oldest first.
  [[nodiscard]] std::vector<PoolEvent> history() const;
  /// Calls `fn` on the loop thread for every event from now on. Returns an id for `unsubscribe`.
  /// The pool lets go of (destroys) every `fn` when it is destroyed, or at `unsubscribe`.
  std::uint64_t subscribe(std::function<void(const PoolEvent&)> fn);
  /// Stops calling the subscriber `id` (an unknown id: nothing).
  void unsubscribe(std::uint64_t id);

 private:
  std::unique_ptr<Loop> own_loop_;  // destroyed last: after the workers are stopped
  std::shared_ptr<detail::PoolCore> core_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 9
#  include <supervisor/detail/header_only_end.hpp>
#endif
