// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 4  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// How a process ended, in systemd's `Result=` vocabulary.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

/// Why a process ended, as far as the library knows (systemd's `Result=` values).
enum class ExitReason {
  success,         ///< Exited with code 0.
  exit_code,       ///< Exited with a non-zero code.
  signal,          ///< Killed by a signal (not by our stop plan's final kill).
  core_dump,       ///< Killed by a signal and dumped core.
  timeout,         ///< Did not stop within the stop plan; the tree was killed.
  watchdog,        ///< Killed because its heartbeat stopped.
  unhealthy,       ///< Stopped because a startup or liveness check failed too often.
  oom_kill,        ///< Killed by the kernel's OOM killer (cgroup memory limit).
  resource_limit,  ///< Killed for exceeding a resource limit.
  spawn_failed,    ///< Never ran its program.
  unknown,         ///< The exit could not be observed (e.g. the host reaped our child).
};

/// How many `ExitReason` values there are (for arrays indexed by reason).
inline constexpr std::size_t exit_reason_count = 11;

/// The reason's name, e.g. "exit-code" (systemd spelling).
[[nodiscard]] SUPERVISOR_API std::string_view to_string(ExitReason r) noexcept;

/// Resources the process (not its descendants) used, from the kernel's rusage.
struct ResourceUsage {
  Duration user_cpu{};
  Duration system_cpu{};
  std::int64_t max_rss_kib = 0;
  std::int64_t minor_faults = 0;
  std::int64_t major_faults = 0;
  std::int64_t voluntary_switches = 0;
  std::int64_t involuntary_switches = 0;
};

/// The end of one process incarnation. A plain value.
struct ExitStatus {
  ExitReason reason = ExitReason::unknown;
  int exit_code = -1;        ///< The exit code when it exited normally, else -1.
  int signal = 0;            ///< The terminating signal number when killed, else 0.
  bool core_dumped = false;  ///< The kernel wrote a core dump.
  /// The stop plan sent its signals (the exit was asked for); `timeout` says it had to kill.
  bool stop_requested = false;
  /// Processes of the tree still alive when the main process was gone, which the library killed.
  int killed_descendants = 0;
  /// Descendants the library knows of but could not kill (no cgroup: escaped the process group),
  /// or that were still alive `StopPlan::kill_wait` after the final kill.
  int escaped_descendants = 0;
  /// The main process was still alive `StopPlan::kill_wait` after SIGKILL (stuck in
  /// uninterruptible sleep, or frozen by a cgroup v1 freezer), so the stop could not wait for it.
  /// It stays watched: the loop reaps it, and removes its cgroup, if it ever dies. The reason is
  /// `unknown` and there is no exit code or signal.
  bool unreaped = false;
  Duration uptime{};
  /// Processes of the tree the kernel's OOM killer killed under its `memory_max` (counted from the
  /// worker's memory group; 0 without one). With a SIGKILLed main process, makes the reason
  /// `oom_kill`.
  std::uint64_t oom_kills = 0;
  /// Forks the kernel refused because the tree was at `max_processes` (0 without a pids group).
  std::uint64_t fork_refusals = 0;
  /// It was stopped for running past `ResourceLimits::wall_time` (reason `resource_limit`).
  bool wall_time_exceeded = false;
  ResourceUsage usage;
  std::vector<std::string> stderr_tail;  ///< The last lines of stderr, when it was piped.
  /// Windows: the process's own exit code as Windows reported it (`GetExitCodeProcess`), kept
  /// whatever the reason. A crash ends with an NTSTATUS such as 0xC0000005 (an access
  /// violation), which `signal` names as the POSIX signal Linux sends for the same fault
  /// (SIGSEGV, 11); an exit code above INT_MAX that is no crash (`exit(-1)`: 0xFFFFFFFF) is the
  /// int the program passed in `exit_code` (-1) and is whole here. Always 0 on POSIX.
  std::uint32_t native_code = 0;

  /// True when it exited normally with code 0.
  [[nodiscard]] bool ok() const noexcept { return reason == ExitReason::success; }
  /// e.g. `exit-code (code 3) after 1.2s` or `signal (SIGKILL) after 20ms, 2 descendants killed`.
  [[nodiscard]] SUPERVISOR_API std::string describe() const;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 4
#  include <supervisor/detail/header_only_end.hpp>
#endif
