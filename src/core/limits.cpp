// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/limits.hpp>

namespace supervisor {

SUPERVISOR_INLINE std::string_view to_string(LimitKind k) noexcept {
  switch (k) {
    case LimitKind::memory_max: return "memory_max";
    case LimitKind::memory_high: return "memory_high";
    case LimitKind::swap_max: return "swap_max";
    case LimitKind::cpu_cores: return "cpu_cores";
    case LimitKind::cpu_weight: return "cpu_weight";
    case LimitKind::max_processes: return "max_processes";
    case LimitKind::max_open_files: return "max_open_files";
    case LimitKind::cpu_time: return "cpu_time";
    case LimitKind::wall_time: return "wall_time";
  }
  return "?";
}

SUPERVISOR_INLINE std::string_view to_string(LimitBackend b) noexcept {
  switch (b) {
    case LimitBackend::none: return "none";
    case LimitBackend::cgroup_v2: return "cgroup-v2";
    case LimitBackend::cgroup_v1: return "cgroup-v1";
    case LimitBackend::rlimit: return "rlimit";
    case LimitBackend::loop_timer: return "loop-timer";
    case LimitBackend::job_object: return "job-object";
  }
  return "?";
}

}  // namespace supervisor
