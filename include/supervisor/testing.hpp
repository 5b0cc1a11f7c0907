// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 17  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `supervisor::testing::FakeWorld`: an in-memory world for deterministic tests of pools and of
/// your own strategies. A Pool built on it runs the very same code as on a real Loop, but its
/// processes are fakes that you end, crash or make speak sd_notify, and its time is a
/// `ManualClock` that moves only when you say so. No thread, no sleep, no real process.
///
/// Threading: a FakeWorld and every Pool on it are used from one thread, the test's own, which
/// plays the loop thread: strategies and subscribers run inside `advance()` / `run_pending()`
/// (and inside Pool calls that act at once). Blocking waits are not available there:
/// `Pool::acquire` takes only a zero timeout; use `Pool::acquire_async` to wait. The world must
/// outlive its pools.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/export.hpp>
#include <supervisor/process_spec.hpp>

namespace supervisor {

class Pool;
class SupervisionGroup;

namespace detail {
class FakeHost;
}

namespace testing {

/// What a fake process does when its StopPlan starts.
enum class StopBehavior {
  exit_on_term,  ///< Exits at once, killed by the first rung's signal (the default).
  ignore_term,   ///< Ignores the signals; the plan's final kill ends it after the rungs' waits.
};

class SUPERVISOR_API FakeWorld {
 public:
  /// Time starts at `start` (monotonic) on the world's ManualClock.
  explicit FakeWorld(TimePoint start = TimePoint{});
  ~FakeWorld();
  FakeWorld(const FakeWorld&) = delete;
  FakeWorld& operator=(const FakeWorld&) = delete;

  /// The world's clock. Advance it through `advance()`, so that timers fire in order.
  [[nodiscard]] ManualClock& clock() noexcept;
  /// Runs posted work and due timers until nothing is left; time does not move.
  void run_pending();
  /// Moves time forward by `d`, firing every timer on the way at its own instant, in order.
  void advance(Duration d);

  /// Fake processes alive now (pids start at 1000 and are never reused).
  [[nodiscard]] std::vector<int> live_pids() const;
  /// How many processes were spawned so far (failed spawns not counted).
  [[nodiscard]] std::size_t spawn_count() const noexcept;
  /// The spec a process was started with (nullptr for an unknown pid): its env carries
  /// NOTIFY_SOCKET and WATCHDOG_USEC when the pool uses sd_notify; it is the worker's own when
  /// the pool has a `PoolOptions::per_worker_spec`.
  [[nodiscard]] const ProcessSpec* spec_of(int pid) const;
  /// The variables a process's environment was given over the host's (empty for an unknown
  /// pid): its spec's `env.set`, then those the pool sets for each worker
  /// (`SUPERVISOR_WORKER_INDEX`, `SUPERVISOR_WORKER_INCARNATION`: see `PoolOptions::identity_env`).
  [[nodiscard]] std::map<std::string, std::string> env_of(int pid) const;
  /// Whether the pool asked `pid` to stop (its StopPlan started).
  [[nodiscard]] bool stop_requested(int pid) const;

  /// Ends `pid` with exactly `status`, its reason too (its uptime is filled in from the clock).
  /// Unknown or dead: ignored.
  void exit(int pid, ExitStatus status);
  /// Ends `pid` with an exit code; the reason is the real process layer's for it (`success` for
  /// 0, else `exit-code`).
  void exit_code(int pid, int code);
  /// Ends `pid` as if killed from outside by signal number `signal` (SIGKILL = 9 by default); the
  /// reason is the real process layer's for it (`signal`, or `resource-limit` once its
  /// `wall_time` has stopped it).
  void kill(int pid, int signal = 9);
  /// The signals `Pool::signal_worker` sent to `pid`, in order (a fake process only records
  /// them, except `Signal::kill`, which ends it as `kill(pid)` does).
  [[nodiscard]] std::vector<Signal> signals(int pid) const;
  /// How processes react to a stop request from now on.
  void set_stop_behavior(StopBehavior behavior) noexcept;
  /// The next `count` spawns fail with `error` (e.g. `std::errc::no_such_file_or_directory`).
  void fail_next_spawns(int count, std::error_code error);
  /// Delivers one sd_notify datagram (`"READY=1\nSTATUS=up"`) to `pid`'s NOTIFY_SOCKET, as sent
  /// by process `sender` (default: `pid` itself). No effect when it has no notify socket.
  void notify(int pid, std::string_view datagram, int sender = 0);
  /// What `pid`'s resources read from now on (for `ResourceLimiter` tests, and for usage
  /// sampling: `PoolOptions::usage_sample_period`, both figures with `UsageScope::tree`): its
  /// memory (as the tree's) and its CPU time so far. A new process starts at zero.
  void set_usage(int pid, std::uint64_t memory_bytes, double cpu_seconds);
  /// `pid` writes `text` to its `stream` (out or err), read as the real loop reads a pipe: each
  /// complete line goes to the stream's `on_line` and to the pool's `PoolOptions::on_output`
  /// (with the worker's index and incarnation), and the bytes and lines are counted
  /// (`WorkerSnapshot::output`). Stderr is read as stdout when `err` is `same_as_out`; a stream
  /// that is not piped (`pipe`, `log_file`) is not read, and no log file is written. Unknown or
  /// dead: ignored.
  void output(int pid, StdStream stream, std::string_view text);

 private:
  friend class supervisor::Pool;
  friend class supervisor::SupervisionGroup;
  std::shared_ptr<detail::FakeHost> host_;
};

}  // namespace testing
}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 17
#  include <supervisor/detail/header_only_end.hpp>
#endif
