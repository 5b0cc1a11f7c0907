// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 10  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `Process`: one supervised child and its tree, on a `Loop`: the process layer under `Pool`,
/// public for hosts that need a single supervised child. Includes the rest of the process layer
/// (`Loop`, `ResourceGroup`, `ProcessInfo` and the samples).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/export.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/process_info.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/resource_group.hpp>

namespace supervisor {

namespace detail {
class ChildCore;
struct ProcessAccess;
}  // namespace detail

/// Options for one Process.
struct ProcessOptions {
  Containment containment = Containment::automatic;
  /// A group whose shared limits the process tree is held to as well as to its own (empty: none).
  /// It must belong to the same loop. A group with cgroup v2 limits needs cgroup containment
  /// (`Containment::process_group` is refused with `errc::invalid_argument`).
  ResourceGroup group;
  /// Called on the loop thread once the whole tree is gone and the status is final, before
  /// `wait()` returns to anyone. It must not wait for this process (that would deadlock).
  std::function<void(const ExitStatus&)> on_exit;
};

/// One supervised child process and its tree. Movable, not copyable. Its methods are thread-safe
/// (they talk to the loop); the destructor stops the process with its StopPlan (bounded by it).
class SUPERVISOR_API Process {
 public:
  Process() noexcept;
  ~Process();
  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Validates `spec` and starts it on `loop`. Spawn errors (missing binary, not executable, a
  /// directory, bad ELF, bad cwd, unknown user, E2BIG, ...) come back here, synchronously, with the
  /// errno (system category) and a message naming the program and cwd; nothing is left behind.
  static Process start(Loop& loop, ProcessSpec spec, ProcessOptions options = {});
  /// \overload
  static Process start(Loop& loop, ProcessSpec spec, ProcessOptions options,
                       std::error_code& ec) noexcept;

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  [[nodiscard]] int pid() const noexcept;
  [[nodiscard]] ProcessInfo info() const;
  /// True until the main process has exited and its tree is gone.
  [[nodiscard]] bool running() const;
  /// The final status, once there is one.
  [[nodiscard]] std::optional<ExitStatus> exit_status() const;

  /// Blocks until the process and its tree are gone. The blocking calls (`wait`, `wait_for`,
  /// `stop`, `kill`) made on the loop thread (from a callback) while the process still runs
  /// would wait for the thread that is waiting: they throw
  /// `std::errc::resource_deadlock_would_occur` instead (use `request_stop`/`request_kill` and
  /// `ProcessOptions::on_exit` there).
  ExitStatus wait();
  /// Waits at most `timeout`; nullopt if still running.
  std::optional<ExitStatus> wait_for(Duration timeout);

  /// Runs the StopPlan (signals to the tree, waits, final kill) and waits for the end. Idempotent.
  ExitStatus stop();
  /// Starts the StopPlan without waiting.
  void request_stop();
  /// Kills the whole tree at once (cgroup.kill or SIGKILL to the group) and waits.
  ExitStatus kill();
  /// Starts `kill()` without waiting (usable on the loop thread, e.g. from a callback).
  void request_kill();

  /// Sends `s` to the main process only.
  void signal(Signal s);
  /// \overload
  void signal(Signal s, std::error_code& ec) noexcept;

  /// The recent output of a piped stream (at most `OutputOptions::ring_bytes`), without removing
  /// it.
  [[nodiscard]] std::string output(StdStream stream) const;
  /// Removes and returns the buffered output of a piped stream (in backpressure mode this makes
  /// room, and reading resumes).
  std::string take_output(StdStream stream);
  [[nodiscard]] OutputStats output_stats(StdStream stream) const;

  /// Samples the worker's resources now (on Linux: reads /proc and the cgroup; does not block the
  /// loop for long). A finished process gives `alive == false`.
  [[nodiscard]] ResourceSample sample() const;

  /// Changes the tree's limits while it runs, like `systemctl set-property`: cgroup limits are
  /// rewritten in its groups (v2, or the v1 groups it was started with), rlimits set on its main
  /// process; limits no longer set are lifted. `info().limits` then says how each applies (one
  /// that can only apply from a next start says so: a v1 controller the worker has no group in,
  /// or a raised hard rlimit without CAP_SYS_RESOURCE). Errors: `errc::invalid_spec` (a bad value),
  /// `errc::controller_unavailable` (required mode, a limit that cannot apply now),
  /// `errc::not_running`, or the kernel's refusal.
  void set_resources(const ResourceLimits& limits);
  void set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept;

 private:
  friend struct detail::ProcessAccess;
  explicit Process(std::shared_ptr<detail::ChildCore> state) noexcept;
  void reset() noexcept;
  std::shared_ptr<detail::ChildCore> state_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 10
#  include <supervisor/detail/header_only_end.hpp>
#endif
