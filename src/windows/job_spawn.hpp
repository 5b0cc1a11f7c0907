// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Starting a program inside a fresh Job Object, so that it never runs outside it, and what the
// job's completion port reports. The findings about Wine are at the top of job_spawn.cpp.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/error.hpp>

#include "unique_handle.hpp"

namespace supervisor::detail::win {

// How the child came into its job (to be reported in ProcessInfo, as the Linux path reports
// clone3 or posix_spawn).
enum class JobAttach {
  // PROC_THREAD_ATTRIBUTE_JOB_LIST: CreateProcessW itself puts the process into the job, before
  // its first instruction.
  job_list,
  // CREATE_SUSPENDED + AssignProcessToJobObject + ResumeThread: where the attribute is missing
  // (before Windows 10, or refused). The program still runs no instruction outside its job.
  assign_suspended,
};

[[nodiscard]] std::string_view to_string(JobAttach a) noexcept;

// What the job-list attribute may be used for.
enum class JobListUse {
  automatic,  // try it, fall back to assign_suspended when it is refused
  never,      // assign_suspended only (tests of the fallback; a host that knows better)
};

// A spawn's inputs, all ready (quoted, converted, resolved): nothing here parses.
struct JobSpawnRequest {
  std::wstring program;       // the executable's full path (lpApplicationName)
  std::wstring command_line;  // the whole command line, argv[0] included, already quoted
  // A CREATE_UNICODE_ENVIRONMENT block ("A=b\0C=d\0\0"); empty: the host's environment.
  std::wstring environment;
  std::wstring cwd;  // empty: the host's
  // The handles the child gets as its stdin, stdout and stderr (null: none). Any handles of the
  // host: the spawn duplicates them as inheritable for the call only, and the child inherits
  // exactly these duplicates and nothing else (PROC_THREAD_ATTRIBUTE_HANDLE_LIST).
  Handle std_in = nullptr;
  Handle std_out = nullptr;
  Handle std_err = nullptr;
  // The port the job reports to (JobObjectAssociateCompletionPortInformation), and the key its
  // messages come with. No port: no messages.
  Handle completion_port = nullptr;
  std::uintptr_t completion_key = 0;
  JobListUse job_list = JobListUse::automatic;
  // Jobs the child joins before its own, outermost first: those of the ResourceGroups around it
  // (job_limits.hpp, create_group_job). Its own job then nests inside the last of them, and the
  // limits of each hold. They stay the caller's; empty: its own job only.
  std::vector<Handle> outer_jobs;
  // Called with the new job before the child is made (its limits: apply_job_limits), so that the
  // program never runs without them. An error it records fails the spawn with its message.
  std::function<void(Handle job, ErrorSink& err)> prepare_job;
  // More handles the child inherits, beside the std handles (e.g. its end of the channel): each
  // duplicated as inheritable for the call only, as the std handles are, and listed in
  // PROC_THREAD_ATTRIBUTE_HANDLE_LIST. A duplicate's value is the child's handle value, known
  // only here: when `variable` is set, the child's environment announces it as
  // `variable=<value, decimal>` (in `environment`, or the host's when that is empty).
  struct Inherited {
    Handle handle = nullptr;
    std::wstring variable;
  };
  std::vector<Inherited> extra_inherit;
};

struct JobSpawnResult {
  UniqueHandle process;  // the process handle: the pidfd analogue (its pid cannot be reused)
  // The job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: the tree dies when its last handle closes, so
  // only the host may hold it (it is not inheritable).
  UniqueHandle job;
  std::uint32_t pid = 0;
  JobAttach attach = JobAttach::job_list;
};

// Creates the job and starts the program in it, the main thread's handle closed. On failure
// `err` holds the GetLastError() code (system_category) and a message naming the step and the
// program, and nothing is left behind: no job, no handle, no process (a child already made is
// terminated).
JobSpawnResult spawn_in_job(const JobSpawnRequest& request, ErrorSink& err);

// A job's messages on its completion port (Completion::bytes): the values of JOB_OBJECT_MSG_*.
enum class JobMessage : std::uint32_t {
  end_of_job_time = 1,
  end_of_process_time = 2,
  active_process_limit = 3,
  active_process_zero = 4,
  new_process = 6,
  exit_process = 7,
  abnormal_exit_process = 8,
  process_memory_limit = 9,
  job_memory_limit = 10,
  notification_limit = 11,
};

[[nodiscard]] std::string_view to_string(JobMessage m) noexcept;

// The ids of the processes in `job` now; `err` set when it cannot be read.
std::vector<std::uint32_t> job_process_ids(Handle job, ErrorSink& err);

// Whether `process` is in `job` (IsProcessInJob); false with `err` set when it cannot tell.
bool process_in_job(Handle process, Handle job, ErrorSink& err);

// Kills every process of `job` with `exit_code` (TerminateJobObject); `err` set on failure.
void terminate_job(Handle job, std::uint32_t exit_code, ErrorSink& err);

// Whether this process runs under Wine (ntdll exports wine_get_version), and its version ("8.0");
// empty on Windows. Wine lacks parts of the job API: see job_spawn.cpp.
[[nodiscard]] std::string wine_version();

}  // namespace supervisor::detail::win
