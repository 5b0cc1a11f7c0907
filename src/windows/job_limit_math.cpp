// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "job_limit_math.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "status_map.hpp"

namespace supervisor::detail::win {

SUPERVISOR_INLINE std::uint32_t cpu_rate_of(double cores,
                                            std::uint32_t logical_processors) noexcept {
  if (logical_processors == 0) logical_processors = 1;
  const double rate = cores / static_cast<double>(logical_processors) * 10000.0;
  if (!(rate >= 1.0)) return 1;  // NaN too
  if (rate >= 10000.0) return 10000;
  return static_cast<std::uint32_t>(std::lround(rate));
}

SUPERVISOR_INLINE std::uint32_t cpu_weight_of(std::uint32_t cpu_weight) noexcept {
  if (cpu_weight == 0) cpu_weight = 1;
  const double steps = std::round(2.0 * std::log10(static_cast<double>(cpu_weight) / 100.0));
  return static_cast<std::uint32_t>(std::clamp(5.0 + steps, 1.0, 9.0));
}

SUPERVISOR_INLINE std::int64_t user_time_ticks(Duration cpu_time) noexcept {
  const auto ticks = cpu_time.count() / 100;  // Duration is in nanoseconds
  return ticks < 0 ? 0 : static_cast<std::int64_t>(ticks);
}

SUPERVISOR_INLINE std::optional<LimitKind> limit_of_message(JobMessage m) noexcept {
  switch (m) {
    case JobMessage::process_memory_limit:
    case JobMessage::job_memory_limit: return LimitKind::memory_max;
    case JobMessage::active_process_limit: return LimitKind::max_processes;
    case JobMessage::end_of_process_time:
    case JobMessage::end_of_job_time: return LimitKind::cpu_time;
    case JobMessage::active_process_zero:
    case JobMessage::new_process:
    case JobMessage::exit_process:
    case JobMessage::abnormal_exit_process:
    case JobMessage::notification_limit: return std::nullopt;
  }
  return std::nullopt;
}

SUPERVISOR_INLINE void JobLimitHits::note(JobMessage m, std::uint32_t pid) noexcept {
  const std::optional<LimitKind> kind = limit_of_message(m);
  if (!kind) return;
  const bool leader = leader_pid != 0 && pid == leader_pid;
  if (*kind == LimitKind::memory_max) {
    ++memory;
    leader_memory = leader_memory || leader;
  } else if (*kind == LimitKind::max_processes) {
    ++processes;
  } else {  // cpu_time
    ++cpu_time;
    // The job's time limit ends every process of the job, the main one too.
    leader_cpu_time = leader_cpu_time || leader || m == JobMessage::end_of_job_time;
  }
}

SUPERVISOR_INLINE TreeCounters JobLimitHits::counters() const noexcept {
  return TreeCounters{memory, processes};
}

SUPERVISOR_INLINE LeaderExit JobLimitHits::leader_exit(std::uint32_t code) const noexcept {
  LeaderExit e = leader_exit_of(code);
  // Never over a clean exit, nor over the library's own stop (its kill, a console break).
  if (code == 0 || e.signal == posix_signal::sigkill || e.signal == posix_signal::sigint) return e;
  if (leader_cpu_time) {
    e.signal = posix_signal::sigxcpu;
    e.cpu_limit_signal = true;
    e.kill_signal = false;
    e.exit_code = -1;
  } else if (leader_memory) {
    e.signal = posix_signal::sigkill;
    e.kill_signal = true;
    e.exit_code = -1;
  }
  return e;
}

}  // namespace supervisor::detail::win
