// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Resource limits of a worker's tree, as the kernel enforces them: cgroup v2 controllers where
/// they are delegated, cgroup v1 hierarchies on hybrid hosts, rlimits in the child before exec.
/// OS-neutral: no OS header is included.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

/// One kind of limit, as named in messages and events.
enum class LimitKind {
  memory_max,      ///< Hard memory ceiling of the tree: above it the kernel's OOM killer acts.
  memory_high,     ///< Memory throttling point of the tree (reclaim pressure, no kill).
  swap_max,        ///< Swap the tree may use.
  cpu_cores,       ///< CPU bandwidth quota of the tree, in cores (0.5: half of one core).
  cpu_weight,      ///< CPU share against siblings, 1..10000 (100: the default share).
  max_processes,   ///< Processes and threads in the tree (fork refused above it).
  max_open_files,  ///< Open fds per process (RLIMIT_NOFILE).
  cpu_time,        ///< CPU time per process (RLIMIT_CPU: SIGXCPU, then SIGKILL).
};

/// `memory_max`, `cpu_cores`, ...: the field name in `ResourceLimits`.
[[nodiscard]] SUPERVISOR_API std::string_view to_string(LimitKind k) noexcept;

/// What happens when a limit cannot be enforced by the kernel on this host.
enum class LimitEnforcement {
  /// Start anyway; `ProcessInfo::limits` says which limits are not enforced and why (a Pool also
  /// says so in an event).
  best_effort,
  /// Fail the start with `errc::controller_unavailable`, naming the limit, the missing controller
  /// and how to make it available.
  required,
};

/// Limits of one worker's tree. Every limit is off unless set. Validated with the spec; each
/// invalid value gets an `errc::invalid_spec` error naming the field and the value.
struct ResourceLimits {
  std::optional<std::uint64_t> memory_max;      ///< Bytes (at least 1 MiB).
  std::optional<std::uint64_t> memory_high;     ///< Bytes (at least 1 MiB; at most memory_max).
  std::optional<std::uint64_t> swap_max;        ///< Bytes (0: no swap).
  std::optional<double> cpu_cores;              ///< More than 0 (at least 0.001 core).
  std::optional<std::uint32_t> cpu_weight;      ///< 1..10000.
  std::optional<std::uint64_t> max_processes;   ///< At least 1.
  std::optional<std::uint64_t> max_open_files;  ///< At least 3 (stdin, stdout, stderr).
  std::optional<Duration> cpu_time;             ///< At least 1 s (whole seconds).
  LimitEnforcement enforcement = LimitEnforcement::best_effort;

  /// Whether no limit is set.
  [[nodiscard]] bool empty() const noexcept {
    return !memory_max && !memory_high && !swap_max && !cpu_cores && !cpu_weight &&
           !max_processes && !max_open_files && !cpu_time;
  }
};

/// How the kernel enforces a limit for one process tree.
enum class LimitBackend {
  none,       ///< Not enforced: see `LimitStatus::note`.
  cgroup_v2,  ///< A controller file in the worker's own cgroup v2 group.
  cgroup_v1,  ///< A controller file in the worker's own group of a cgroup v1 hierarchy.
  rlimit,     ///< A setrlimit in the child before exec (per process, not per tree).
};

/// `none`, `cgroup-v2`, `cgroup-v1`, `rlimit`.
[[nodiscard]] SUPERVISOR_API std::string_view to_string(LimitBackend b) noexcept;

/// How one set limit is enforced for a started process.
struct LimitStatus {
  LimitKind kind = LimitKind::memory_max;
  LimitBackend backend = LimitBackend::none;
  /// Where (e.g. `/sys/fs/cgroup/memory/.../w-3/memory.limit_in_bytes`), or, for `none`, why
  /// not and how to make it possible.
  std::string note;
};

}  // namespace supervisor
