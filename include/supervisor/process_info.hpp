// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 11  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Plain values of the process layer: how a child was started and contained (`ProcessInfo`),
/// and what sampling it reads (`ResourceSample`, `GroupSample`, `OutputStats`).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/export.hpp>
#include <supervisor/limits.hpp>

namespace supervisor {

/// How a worker's process tree is contained.
enum class Containment {
  automatic,      ///< A fresh cgroup v2 group when usable, else the process group.
  cgroup,         ///< A fresh cgroup v2 group; starting fails if none is usable.
  process_group,  ///< The child's process group (setsid); escaped descendants are counted.
  /// Windows: a Job Object of its own (every descendant joins it, TerminateJobObject kills the
  /// tree, and closing the host's only handle to it kills the tree with the host). Whatever
  /// containment is asked for, a Windows child gets its job (`cgroup` is refused there, with
  /// `errc::cgroup_unavailable`); ProcessInfo reports this value.
  job_object,
};

/// Which mechanism started a process.
enum class SpawnPath {
  /// Linux clone3: CLONE_PIDFD (+ CLONE_INTO_CGROUP, else the child joins its groups itself
  /// before execve): the program never runs outside its group.
  clone3,
  /// posix_spawn + pidfd_open (no PDEATHSIG). Only for a child that joins no group: posix_spawn
  /// could move it there only after its program started.
  posix_spawn,
  /// Linux clone(2), where clone3 is missing or not wanted (`LinuxLoopOptions::spawn_path` set to
  /// posix_spawn) and the child has groups to join: it joins them before execve.
  clone,
  /// Windows: CreateProcessW with PROC_THREAD_ATTRIBUTE_JOB_LIST, which puts the process into
  /// its job before its first instruction.
  job_list,
  /// Windows, where the job-list attribute is refused (before Windows 10): CREATE_SUSPENDED,
  /// AssignProcessToJobObject, then ResumeThread. The program still runs nothing outside its job.
  job_assign,
};

[[nodiscard]] SUPERVISOR_API std::string_view to_string(SpawnPath p) noexcept;
[[nodiscard]] SUPERVISOR_API std::string_view to_string(Containment c) noexcept;

/// Output counters of one piped stream.
struct OutputStats {
  std::uint64_t bytes_read = 0;     ///< Read from the pipe.
  std::uint64_t bytes_dropped = 0;  ///< Evicted from the ring before anyone took them.
  std::uint64_t lines = 0;          ///< Complete lines seen (delivered to `on_line` if set).
};

/// Facts about a running process.
struct ProcessInfo {
  int pid = 0;
  int pgid = 0;
  SpawnPath path = SpawnPath::clone3;
  /// Watched and signalled through a pidfd (else polled and signalled by PID); on Windows through
  /// the process handle (always).
  bool pidfd = true;
  Containment containment = Containment::process_group;
  std::string cgroup;   ///< The worker's fresh cgroup directory, when contained by one.
  std::string program;  ///< The resolved executable path.
  /// How each limit set in `ProcessSpec::resources` is enforced (or why it is not).
  std::vector<LimitStatus> limits;
};

/// A point-in-time reading of a worker's resources: the main process from /proc, and the whole
/// tree from its cgroup when it has one. Fields that could not be read keep their defaults.
struct ResourceSample {
  bool alive = false;                      ///< The main process was still there.
  std::uint64_t rss_bytes = 0;             ///< Main process resident set size.
  double cpu_seconds = 0;                  ///< Main process user + system CPU time.
  long threads = 0;                        ///< Main process threads.
  int open_fds = -1;                       ///< Main process open fds (-1 when unreadable).
  char state = '?';                        ///< Main process state letter (R, S, D, Z, T, ...).
  int tree_processes = 0;                  ///< Processes in the worker's cgroup (0 without one).
  std::optional<double> tree_cpu_seconds;  ///< cgroup cpu.stat usage.
  std::optional<std::uint64_t> tree_memory_bytes;  ///< The tree's memory (memory controller).
  std::optional<std::uint64_t> tree_pids;          ///< The tree's tasks (pids controller).
  /// CPU quota periods in which the tree was throttled (cpu controller, with `cpu_cores`).
  std::optional<std::uint64_t> cpu_throttled_periods;
  std::optional<double> cpu_throttled_seconds;  ///< Time the tree spent throttled.
  std::optional<std::uint64_t> oom_kills;       ///< Processes the OOM killer killed (memory_max).
  std::optional<std::uint64_t> fork_refusals;   ///< Forks refused at max_processes.
  /// Times the tree was throttled at `memory_high` (cgroup v2 `memory.events` `high`).
  std::optional<std::uint64_t> memory_high_events;
};

/// A reading of a `ResourceGroup`'s counters: the sum over every tree in it. A field is nullopt
/// when no controller of the group gives it.
struct GroupSample {
  std::optional<std::uint64_t> memory_bytes;  ///< Memory of all the trees.
  std::optional<std::uint64_t> pids;          ///< Processes and threads of all the trees.
  std::optional<double> cpu_seconds;          ///< CPU time of the group (cgroup v2 cpu.stat).
  /// CPU quota periods in which the group was throttled at its `cpu_cores`.
  std::optional<std::uint64_t> cpu_throttled_periods;
  std::optional<double> cpu_throttled_seconds;  ///< Time the group spent throttled.
  /// Times the group's own memory limit was reached (v2 `memory.events.local` `max`, v1
  /// `memory.failcnt`): the group's limit, not one of a tree inside it.
  std::optional<std::uint64_t> memory_limit_hits;
  /// Times the OOM killer acted on the group's own memory limit (v2 `memory.events.local`
  /// `oom`; v1 has no such counter).
  std::optional<std::uint64_t> memory_oom_events;
  std::optional<std::uint64_t> oom_kills;  ///< Processes the OOM killer killed in the group.
  /// Forks refused at the group's `max_processes` (`pids.events` `max`; kernels before 6.13
  /// count a refusal in the group of the forking task instead).
  std::optional<std::uint64_t> fork_refusals;
  /// Times the group was throttled at its `memory_high` (cgroup v2 `memory.events` `high`).
  std::optional<std::uint64_t> memory_high_events;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 11
#  include <supervisor/detail/header_only_end.hpp>
#endif
