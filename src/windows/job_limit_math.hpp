// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The pure half of the Windows limits (job_limits.hpp): how ResourceLimits' values become Job
// Object values, and how the job's limit messages become what the portable exit classification
// reads (TreeCounters, LeaderExit). No OS header: unit-tested on every platform.
//
// cpu_cores -> CPU rate control with a hard cap. CpuRate is the share of ALL the machine's
//   logical processors, in 1/10000: cores / logical_processors * 10000, rounded to the nearest,
//   clamped to 1..10000 (more cores than the machine has is no cap at all, 10000).
// cpu_weight -> weight-based CPU rate control. cgroup's cpu.weight is 1..10000 with 100 the
//   default, and what counts is the ratio of two weights; Windows' Weight is 1..9 with 5 the
//   default. The mapping is logarithmic around the defaults: one Windows step is a factor of
//   sqrt(10) (about 3.16) in cgroup weight, so 100 -> 5, 316 -> 6, 1000 -> 7, 3162 -> 8,
//   10000 -> 9, and 32 -> 4, 10 -> 3, 3 -> 2, 1 -> 1:
//   Weight = 5 + round(2 * log10(cpu_weight / 100)), clamped to 1..9.
// cpu_time -> PerProcessUserTimeLimit in 100 ns ticks.
//
// Limit messages (the job's completion port), and what they mean for an exit:
//   PROCESS_MEMORY_LIMIT, JOB_MEMORY_LIMIT -> memory_max. Windows does not kill at the limit: the
//     allocation that would pass it fails, and the process usually dies of that (a C++
//     bad_alloc ending in abort(), STATUS_NO_MEMORY, an exit(1) after a null malloc). A main
//     process that a memory message named and that then ends with any code but 0 is reported as
//     Linux reports an OOM kill: SIGKILL (kill_signal), its own code kept in native_code; the
//     counters say oom_kills = the number of memory messages. So the exit's reason is oom_kill,
//     exactly as on Linux.
//   ACTIVE_PROCESS_LIMIT -> max_processes: a process the limit refused (CreateProcess fails in
//     its parent): counted as a fork refusal.
//   END_OF_PROCESS_TIME -> cpu_time: Windows terminated the process at its user-time limit
//     (with ERROR_NOT_ENOUGH_QUOTA, 1816, as its exit code, which the job-time limit documents
//     and processes killed at the per-process limit are reported to end with). A main process
//     named by it is reported as Linux reports the cpu_time rlimit's end: SIGXCPU
//     (cpu_limit_signal), the code kept in native_code; the exit's reason is resource_limit.
//   END_OF_JOB_TIME -> cpu_time (the job's total user time; the library sets no such limit, a
//     job made by someone else may): every process of the job was terminated.
// Windows documents these messages as not guaranteed to arrive; where one is lost the exit is
// classified by its code alone (an exit code, or a crash's signal), as any other.

#include <cstdint>
#include <optional>

#include <supervisor/limits.hpp>

#include "../process/backend.hpp"
#include "job_spawn.hpp"

namespace supervisor::detail::win {

// CPU rate control's CpuRate for `cores` on a machine of `logical_processors`: 1..10000.
[[nodiscard]] std::uint32_t cpu_rate_of(double cores, std::uint32_t logical_processors) noexcept;
// CPU rate control's Weight (1..9) for a cgroup-style cpu_weight (1..10000; 100 the default).
[[nodiscard]] std::uint32_t cpu_weight_of(std::uint32_t cpu_weight) noexcept;
// PerProcessUserTimeLimit's 100 ns ticks for a cpu_time limit (saturating).
[[nodiscard]] std::int64_t user_time_ticks(Duration cpu_time) noexcept;

// The limit a job message reports hitting; none for the other messages.
[[nodiscard]] std::optional<LimitKind> limit_of_message(JobMessage m) noexcept;

// ERROR_NOT_ENOUGH_QUOTA: the exit code of a process Windows ends at a job's time limit.
inline constexpr std::uint32_t k_time_limit_exit_code = 1816;

// What a job's limit messages said, kept by the backend's child from its job's completion port
// (loop thread; not thread-safe). Set `leader_pid` once the main process is known.
struct JobLimitHits {
  std::uint32_t leader_pid = 0;
  std::uint64_t memory = 0;      // PROCESS_MEMORY_LIMIT and JOB_MEMORY_LIMIT messages
  std::uint64_t processes = 0;   // ACTIVE_PROCESS_LIMIT messages: processes refused
  std::uint64_t cpu_time = 0;    // END_OF_PROCESS_TIME and END_OF_JOB_TIME messages
  bool leader_memory = false;    // a memory message named the main process
  bool leader_cpu_time = false;  // the main process was ended at a time limit

  // One message of the job's port (`pid`: the packet's lpOverlapped, the process it names).
  void note(JobMessage m, std::uint32_t pid) noexcept;
  // For ChildOs::counters(): memory hits as oom_kills, refused processes as fork_refusals.
  [[nodiscard]] TreeCounters counters() const noexcept;
  // The main process's LeaderExit for its exit code (status_map's leader_exit_of), with what
  // the messages said of it: killed at its memory limit (SIGKILL, as an OOM kill) or at its
  // cpu_time (SIGXCPU). See the header comment. An exit code 0 is never turned into a kill.
  [[nodiscard]] LeaderExit leader_exit(std::uint32_t code) const noexcept;
};

}  // namespace supervisor::detail::win
