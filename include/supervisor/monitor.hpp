// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 23  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `Monitor`: what a host shows its operators and its orchestrator, in one place. It knows the
/// host's pools and loops by name, and answers for all of them: one metrics exposition (each
/// family once, pools and loops as labels), readiness (Kubernetes' `/readyz`: every pool has its
/// required number of workers up) and liveness (`/healthz`: every loop's thread turns). The
/// HTTP component (`supervisor::http`), the prometheus-cpp adapter (`supervisor::prometheus`)
/// and the host's own sd_notify client serve what it answers.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/metrics.hpp>
#include <supervisor/pool.hpp>

namespace supervisor {

/// How a `Monitor` judges one pool.
struct MonitoredPoolOptions {
  /// Workers that must be up (ready or leased) for the pool to count as ready. Zero (the
  /// default): all of them, the pool's target size at the time of the check.
  std::size_t min_ready = 0;
  /// The pool counts for `Monitor::readiness` (false: it is shown and measured, but a shortage
  /// does not make the host unready; e.g. a batch pool that may sit at zero).
  bool required = true;
};

/// Options of a `Monitor`.
struct MonitorOptions {
  /// How long `liveness()` (and the loop series of `metrics()`) waits for each loop's heartbeat
  /// (`Loop::heartbeat`) before it calls that loop stuck. At least 1 ms.
  Duration heartbeat_timeout = std::chrono::seconds(1);
};

/// One pool's snapshot under its name.
struct NamedPoolSnapshot {
  std::string name;
  PoolSnapshot snapshot;
};

/// One pool's readiness, as `Monitor::readiness` found it.
struct PoolReadiness {
  std::string pool;
  bool ready = false;
  bool required = true;    ///< `MonitoredPoolOptions::required`.
  std::size_t up = 0;      ///< Workers ready (serving) or leased.
  std::size_t needed = 0;  ///< What `min_ready` asks for now.
  std::size_t size = 0;    ///< The pool's target size.
  /// Why it is not ready, one line, e.g. `1 of 3 workers up (needs 3): 1 starting, 1 backoff`
  /// or `not running`; empty when ready.
  std::string why;
};

/// The host's readiness: ready when every required pool is.
struct ReadinessReport {
  bool ready = true;
  std::vector<PoolReadiness> pools;  ///< In the order they were added.
  /// One line: `ready: 3 pools` or `not ready: pool "api": 1 of 3 workers up (needs 3)...`
  /// (every pool that is short, separated by "; ").
  [[nodiscard]] SUPERVISOR_API std::string summary() const;
};

/// One loop's liveness, as `Monitor::liveness` found it.
struct LoopLiveness {
  std::string loop;
  LoopHeartbeat heartbeat;
};

/// The host's liveness: alive when every loop turns (with no loop added: alive).
struct LivenessReport {
  bool alive = true;
  std::vector<LoopLiveness> loops;  ///< In the order they were added.
  /// One line: `alive: 2 loops turning` or `not alive: loop "main" did not turn within 1s`.
  [[nodiscard]] SUPERVISOR_API std::string summary() const;
};

/// The pools and loops of a host, by name, and what they look like together. Thread-safe: any
/// thread may add, remove and ask at any time (an HTTP server's thread, a timer, the host's
/// main thread).
///
/// The monitor refers to the pools and loops it was given, and owns none: remove a pool (or
/// loop) before destroying it. Asking (`snapshots`, `metrics`, `readiness`) takes each pool's
/// snapshot on its loop, and waits for it; `remove_pool` waits for the questions under way, so
/// never call `remove_pool`/`remove_loop` from a pool's loop thread (a subscriber, a hook).
/// Liveness and the loop series never wait longer than `MonitorOptions::heartbeat_timeout` per
/// loop.
class SUPERVISOR_API Monitor {
 public:
  Monitor();
  /// Errors: `errc::invalid_argument` (a heartbeat timeout under 1 ms).
  explicit Monitor(MonitorOptions options);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  /// Adds `pool` under `name`, a label value in every series of it: non-empty, at most 128
  /// bytes, printable ASCII without `"` and `\`. Errors (`errc::invalid_argument`, naming it):
  /// a bad name, a name already taken, a pool already added under another name.
  void add_pool(std::string name, Pool& pool, MonitoredPoolOptions options = {});
  /// \overload
  void add_pool(std::string name, Pool& pool, MonitoredPoolOptions options,
                std::error_code& ec) noexcept;
  /// Removes the pool added as `name` (waiting for questions under way). False: no such pool.
  bool remove_pool(std::string_view name) noexcept;
  /// Adds `loop` under `name` (the same rules as a pool's name, among loops).
  void add_loop(std::string name, Loop& loop);
  /// \overload
  void add_loop(std::string name, Loop& loop, std::error_code& ec) noexcept;
  /// Removes the loop added as `name`. False: no such loop.
  bool remove_loop(std::string_view name) noexcept;

  /// The names of the pools, in the order they were added.
  [[nodiscard]] std::vector<std::string> pool_names() const;
  /// Each pool's snapshot, in the order they were added.
  [[nodiscard]] std::vector<NamedPoolSnapshot> snapshots() const;
  /// Every pool's families (`add_pool_metrics`), each loop's (`supervisor_loop_up`,
  /// `_lag_seconds`, `_processes`, `_callback_errors_total`, `_stolen_reaps_total`, labelled
  /// `loop`) and the monitor's own (`supervisor_pool_ready`: 1 while the pool meets its
  /// `min_ready`; `supervisor_pool_required_workers`).
  [[nodiscard]] MetricSet metrics() const;
  /// `metrics()` in the Prometheus text exposition format.
  [[nodiscard]] std::string prometheus() const;
  /// Every pool's readiness, from their snapshots (no loop is asked for a heartbeat).
  [[nodiscard]] ReadinessReport readiness() const;
  /// Every loop's heartbeat, asked of all loops at once: however many are stuck, it returns
  /// within one heartbeat timeout (`metrics()` and `status()` ask the same way).
  [[nodiscard]] LivenessReport liveness() const;
  /// What `snapshots`, `readiness` and `liveness` answer together, from one snapshot per pool.
  struct Status {
    std::vector<NamedPoolSnapshot> pools;
    ReadinessReport readiness;
    LivenessReport liveness;
  };
  [[nodiscard]] Status status() const;
  /// The options it was made with.
  [[nodiscard]] const MonitorOptions& options() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 23
#  include <supervisor/detail/header_only_end.hpp>
#endif
