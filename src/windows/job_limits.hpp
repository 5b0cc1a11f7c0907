// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// ResourceLimits as Job Object limits (issue 16, item 4), a job's accounting, and ResourceGroup
// jobs. The pure mappings and the classification of limit messages are in job_limit_math.hpp
// (included here); what Wine does with all of it is at the top of job_limits.cpp.
//
//   memory_max     JOB_OBJECT_LIMIT_JOB_MEMORY (the tree's committed memory) and
//                  JOB_OBJECT_LIMIT_PROCESS_MEMORY (each process's), both at memory_max
//   cpu_cores      CPU rate control, ENABLE | HARD_CAP, CpuRate of all logical processors
//   cpu_weight     CPU rate control, ENABLE | WEIGHT_BASED, Weight 1..9; with cpu_cores the
//                  hard cap wins (one rate control per job) and cpu_weight is reported `none`
//   max_processes  JOB_OBJECT_LIMIT_ACTIVE_PROCESS (processes; Linux's pids.max counts threads)
//   cpu_time       JOB_OBJECT_LIMIT_PROCESS_TIME (each process's user time; RLIMIT_CPU counts
//                  system time too)
//   wall_time      LimitBackend::loop_timer: the portable side's timer, nothing to set here
//   memory_high, swap_max, max_open_files: LimitBackend::none (Windows has no such job limit)
//
// The extended limits are read, changed and written back, so the flags the spawn set
// (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE) stay.

#include <cstdint>
#include <optional>
#include <vector>

#include <supervisor/error.hpp>
#include <supervisor/limits.hpp>

#include "job_limit_math.hpp"
#include "unique_handle.hpp"

namespace supervisor::detail::win {

// Sets `next` (validated) on `job`, lifting what `previous` set and `next` does not (a new job:
// `previous` empty), and refills `statuses` with one LimitStatus per limit `next` sets, in
// ResourceLimits' field order. Errors:
//  - `next.enforcement == required` and a limit Windows cannot enforce (memory_high, swap_max,
//    max_open_files, cpu_weight beside cpu_cores, CPU rate control missing on this Windows):
//    errc::controller_unavailable naming the limit and why, and nothing is changed (the CPU rate
//    control's absence is found only when it is set: then the memory, process and time limits
//    are already set);
//  - a refused QueryInformationJobObject / SetInformationJobObject: the Win32 error as
//    status_map maps it (else system_category), with a message naming the limits and the Win32
//    error.
void apply_job_limits(Handle job, const ResourceLimits& previous, const ResourceLimits& next,
                      std::vector<LimitStatus>& statuses, ErrorSink& err);

// The logical processors CpuRate is a share of (every processor group's).
[[nodiscard]] std::uint32_t logical_processors() noexcept;

// A job's accounting: for ChildOs::sample()/usage() and ResourceGroup samples.
struct JobUsage {
  double user_seconds = 0;    // of every process the job has had, ended ones included
  double kernel_seconds = 0;  // likewise
  std::uint32_t active_processes = 0;
  std::uint32_t total_processes = 0;      // every process the job has had
  std::uint64_t peak_job_memory = 0;      // committed memory, bytes
  std::uint64_t peak_process_memory = 0;  // of the biggest process
  // The job's committed memory now: JobObjectMemoryUsageInformation (Windows 10 and later);
  // none where Windows (or Wine) does not answer it.
  std::optional<std::uint64_t> job_memory;
  [[nodiscard]] double cpu_seconds() const noexcept { return user_seconds + kernel_seconds; }
};

// Reads `job`'s accounting; `err` set (and nothing read) when the basic accounting cannot be.
[[nodiscard]] JobUsage read_job_usage(Handle job, ErrorSink& err);

// A ResourceGroup's job: not inheritable, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE (only the host holds
// it: the group's trees die with the host, as each worker's own job makes them), with `limits`
// set by apply_job_limits (`statuses` filled). Empty with `err` set on failure.
//
// How a child joins it: JobSpawnRequest::outer_jobs = the jobs of the groups around the child,
// outermost first (a group inside a group: {outer group's job, inner group's job}); the spawn
// puts the child into each of them and then into its own job, which nests its job inside the
// group's (Windows 8 and later: nested jobs; the limits of every job of the chain hold, the most
// restrictive wins). A job becomes a child of another only through a process joining both, so
// there is nothing to do at the group's creation for a parent group: its job comes first in
// outer_jobs.
[[nodiscard]] UniqueHandle create_group_job(const ResourceLimits& limits,
                                            std::vector<LimitStatus>& statuses, ErrorSink& err);

}  // namespace supervisor::detail::win
