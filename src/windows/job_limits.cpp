// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
//
// Job Object limits, accounting and group jobs.
//
// The contract is Windows' (8 and later: CPU rate control, nested jobs; 10 for the current job
// memory): tests/windows/job_limits_test.cpp asserts it in full there, and names each Wine gap
// in a skip.
//
// WINE 8.0 (Debian 12), as the tests found it:
//   supported
//   - SetInformationJobObject(JobObjectExtendedLimitInformation) is accepted with every flag set
//     here (memory, active process, process time), and KILL_ON_JOB_CLOSE keeps working after it.
//   - Nested jobs: a process spawned with a job list {group, own} (or made suspended and
//     assigned to both in turn) is in both jobs (IsProcessInJob, each job's process id list);
//     {outer group, inner group, own} puts it in all three; TerminateJobObject on the group ends
//     every tree in it; closing the outer group's last handle kills them.
//   - JobObjectBasicAccountingInformation: active and total processes.
//   gaps
//   - QueryInformationJobObject(JobObjectExtendedLimitInformation) answers with no limits at all
//     (every flag 0, every value 0), whatever was set. So the read-modify-write of the limits
//     cannot learn the spawn's KILL_ON_JOB_CLOSE from it: the flag is set on every write (every
//     job the library makes has it), or a write would turn it off.
//   - None of the limits is enforced: a 256 MiB allocation under a 64 MiB memory_max succeeds, a
//     third process starts under max_processes 2, 2.5 s of user time run under cpu_time 1 s; and
//     no limit message comes to the port.
//   - JobObjectCpuRateControlInformation is refused (ERROR_INVALID_PARAMETER): cpu_cores and
//     cpu_weight are reported `none` with that reason (or errc::controller_unavailable when
//     required), as on a Windows before 8.
//   - JobObjectBasicAndIoAccountingInformation is refused (ERROR_INVALID_FUNCTION): the basic
//     accounting is read instead; its CPU times are 0, as are the peak memory figures, and
//     JobObjectMemoryUsageInformation is not answered.
#include "job_limits.hpp"

#include <windows.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <system_error>

#include <supervisor/export.hpp>

#include "status_map.hpp"

namespace supervisor::detail::win {

SUPERVISOR_LOCAL_BEGIN

// The limit flags this module owns; every other flag of the job (KILL_ON_JOB_CLOSE above all) is
// kept as it is.
SUPERVISOR_INLINE constexpr DWORD k_owned_flags =
    JOB_OBJECT_LIMIT_JOB_MEMORY | JOB_OBJECT_LIMIT_PROCESS_MEMORY |
    JOB_OBJECT_LIMIT_ACTIVE_PROCESS | JOB_OBJECT_LIMIT_PROCESS_TIME;

// JobObjectMemoryUsageInformation (Windows 10 and later, not in mingw-w64's headers): the job's
// committed memory now and its peak.
SUPERVISOR_INLINE constexpr int k_memory_usage_class = 28;
struct MemoryUsageInformation {
  ULONG64 job_memory;
  ULONG64 peak_job_memory_used;
};

// The error of a refused job call: status_map's std::errc where it knows the Win32 code, else the
// code itself; the message names what was being set and the Win32 error.
SUPERVISOR_INLINE void fail_job_call(ErrorSink& err, std::string_view call, std::string_view what) {
  const DWORD code = ::GetLastError();
  err.fail(win32_error(code, std::error_code(static_cast<int>(code), std::system_category())),
           [&] { return fmt::format("{} for {}: {}", call, what, win32_error_note(code)); });
}

// A refusal of CPU rate control that means "not on this Windows" (before Windows 8 the class is
// unknown; Wine does not implement it) rather than a bad value: our values are in range.
SUPERVISOR_INLINE bool rate_control_missing(DWORD code) noexcept {
  return code == ERROR_NOT_SUPPORTED || code == ERROR_CALL_NOT_IMPLEMENTED ||
         code == ERROR_INVALID_PARAMETER || code == ERROR_INVALID_FUNCTION;
}

SUPERVISOR_INLINE double seconds_of(const LARGE_INTEGER& ticks) noexcept {
  return static_cast<double>(ticks.QuadPart) / 1e7;
}

// One apply_job_limits call.
class JobLimits {
 public:
  JobLimits(Handle job, const ResourceLimits& previous, const ResourceLimits& next,
            std::vector<LimitStatus>& statuses, ErrorSink& err)
      : job_(job), prev_(previous), next_(next), out_(statuses), err_(err) {}

  void run() {
    out_.clear();
    // What Windows has no job limit for is known before anything is touched: a required one
    // fails the call with the job unchanged.
    if (!check_unenforceable()) return;
    if (!set_extended()) return;
    if (!set_cpu_rate()) return;
    collect();
  }

 private:
  struct Unenforced {
    LimitKind kind;
    std::string why;
  };

  bool cpu_weight_shadowed() const { return next_.cpu_weight && next_.cpu_cores; }

  bool check_unenforceable() {
    if (next_.memory_high)
      unenforced_.push_back(
          {LimitKind::memory_high,
           "Windows has no memory throttling point for a job (memory_max is its only memory "
           "limit)"});
    if (next_.swap_max)
      unenforced_.push_back(
          {LimitKind::swap_max,
           "Windows has no swap limit for a job (its memory limits count committed memory, page "
           "file included)"});
    if (cpu_weight_shadowed())
      unenforced_.push_back(
          {LimitKind::cpu_weight,
           "cpu_cores' hard cap takes the job's CPU rate control, which is either a hard cap or "
           "weight-based, never both"});
    if (next_.max_open_files)
      unenforced_.push_back(
          {LimitKind::max_open_files, "Windows has no job limit on a process's open handles"});
    for (const Unenforced& u : unenforced_)
      if (!required_ok(u.kind, u.why)) return false;
    return true;
  }

  // False with errc::controller_unavailable when `kind` is required.
  bool required_ok(LimitKind kind, const std::string& why) {
    if (next_.enforcement != LimitEnforcement::required) return true;
    err_.fail(errc::controller_unavailable, [&] {
      return fmt::format("Job Object: ResourceLimits.{} is required but cannot be enforced: {}",
                         to_string(kind), why);
    });
    return false;
  }

  bool set_extended() {
    const bool touches = next_.memory_max || next_.max_processes || next_.cpu_time ||
                         prev_.memory_max || prev_.max_processes || prev_.cpu_time;
    if (!touches) return true;
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION info{};
    if (!::QueryInformationJobObject(job_, JobObjectExtendedLimitInformation, &info, sizeof info,
                                     nullptr)) {
      fail_job_call(err_, "QueryInformationJobObject(JobObjectExtendedLimitInformation)",
                    extended_what());
      return false;
    }
    DWORD& flags = info.BasicLimitInformation.LimitFlags;
    // Every job the library makes kills its processes when its last handle closes: the flag is
    // set here again rather than trusted to the read-back, which Wine answers with no flags at
    // all (and a write without the flag would turn it off).
    flags = (flags & ~k_owned_flags) | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (next_.memory_max) {
      const auto bytes = static_cast<SIZE_T>(
          std::min<std::uint64_t>(*next_.memory_max, std::numeric_limits<SIZE_T>::max()));
      flags |= JOB_OBJECT_LIMIT_JOB_MEMORY | JOB_OBJECT_LIMIT_PROCESS_MEMORY;
      info.JobMemoryLimit = bytes;
      info.ProcessMemoryLimit = bytes;
    }
    if (next_.max_processes) {
      flags |= JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
      info.BasicLimitInformation.ActiveProcessLimit = static_cast<DWORD>(
          std::min<std::uint64_t>(*next_.max_processes, std::numeric_limits<DWORD>::max()));
    }
    if (next_.cpu_time) {
      flags |= JOB_OBJECT_LIMIT_PROCESS_TIME;
      info.BasicLimitInformation.PerProcessUserTimeLimit.QuadPart =
          user_time_ticks(*next_.cpu_time);
    }
    if (!::SetInformationJobObject(job_, JobObjectExtendedLimitInformation, &info, sizeof info)) {
      fail_job_call(err_, "SetInformationJobObject(JobObjectExtendedLimitInformation)",
                    extended_what());
      return false;
    }
    return true;
  }

  // The limits an extended-limit call sets or lifts, for its error message.
  std::string extended_what() const {
    std::string s;
    auto add = [&](std::string part) { s += (s.empty() ? "" : ", ") + std::move(part); };
    if (next_.memory_max)
      add(fmt::format("memory_max {}", *next_.memory_max));
    else if (prev_.memory_max)
      add("lifting memory_max");
    if (next_.max_processes)
      add(fmt::format("max_processes {}", *next_.max_processes));
    else if (prev_.max_processes)
      add("lifting max_processes");
    if (next_.cpu_time)
      add(fmt::format("cpu_time {} ticks of 100 ns", user_time_ticks(*next_.cpu_time)));
    else if (prev_.cpu_time)
      add("lifting cpu_time");
    return s;
  }

  bool set_cpu_rate() {
    const bool touches = next_.cpu_cores || next_.cpu_weight || prev_.cpu_cores || prev_.cpu_weight;
    if (!touches) return true;
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION info{};
    std::string what;
    if (next_.cpu_cores) {
      info.ControlFlags = JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP;
      info.CpuRate = cpu_rate_of(*next_.cpu_cores, logical_processors());
      what = fmt::format("cpu_cores {} (CpuRate {})", *next_.cpu_cores, info.CpuRate);
    } else if (next_.cpu_weight) {
      info.ControlFlags =
          JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_WEIGHT_BASED;
      info.Weight = cpu_weight_of(*next_.cpu_weight);
      what = fmt::format("cpu_weight {} (Weight {})", *next_.cpu_weight, info.Weight);
    } else {
      what = prev_.cpu_cores ? "lifting cpu_cores" : "lifting cpu_weight";  // ControlFlags 0
    }
    if (::SetInformationJobObject(job_, JobObjectCpuRateControlInformation, &info, sizeof info))
      return true;
    const DWORD code = ::GetLastError();
    const bool setting = next_.cpu_cores || next_.cpu_weight;
    if (!rate_control_missing(code) || !setting) {
      // Lifting a rate control this Windows does not have (it could not have been set) is done.
      if (!setting && rate_control_missing(code)) return true;
      ::SetLastError(code);
      fail_job_call(err_, "SetInformationJobObject(JobObjectCpuRateControlInformation)", what);
      return false;
    }
    const LimitKind kind = next_.cpu_cores ? LimitKind::cpu_cores : LimitKind::cpu_weight;
    std::string why = fmt::format(
        "this Windows has no CPU rate control for jobs "
        "(SetInformationJobObject(JobObjectCpuRateControlInformation): {})",
        win32_error_note(code));
    if (!required_ok(kind, why)) return false;
    unenforced_.push_back({kind, std::move(why)});
    return true;
  }

  // The statuses, in ResourceLimits' field order.
  void collect() {
    auto none = [&](LimitKind kind) {
      for (const Unenforced& u : unenforced_) {
        if (u.kind == kind) {
          out_.push_back({kind, LimitBackend::none, u.why});
          return true;
        }
      }
      return false;
    };
    auto job = [&](LimitKind kind, std::string note) {
      if (!none(kind)) out_.push_back({kind, LimitBackend::job_object, std::move(note)});
    };
    if (next_.memory_max)
      job(LimitKind::memory_max,
          fmt::format("JobMemoryLimit {} bytes + ProcessMemoryLimit (committed memory)",
                      *next_.memory_max));
    if (next_.memory_high) none(LimitKind::memory_high);
    if (next_.swap_max) none(LimitKind::swap_max);
    if (next_.cpu_cores)
      job(LimitKind::cpu_cores,
          fmt::format("CPU rate control hard cap, CpuRate {} of 10000 ({} of {} logical "
                      "processors)",
                      cpu_rate_of(*next_.cpu_cores, logical_processors()), *next_.cpu_cores,
                      logical_processors()));
    if (next_.cpu_weight)
      job(LimitKind::cpu_weight,
          fmt::format("weight-based CPU rate control, Weight {} of 1..9 (cpu_weight {})",
                      cpu_weight_of(*next_.cpu_weight), *next_.cpu_weight));
    if (next_.max_processes)
      job(LimitKind::max_processes,
          fmt::format("ActiveProcessLimit {} (processes; threads are not counted)",
                      *next_.max_processes));
    if (next_.max_open_files) none(LimitKind::max_open_files);
    if (next_.cpu_time)
      job(LimitKind::cpu_time,
          fmt::format("PerProcessUserTimeLimit {} x 100 ns (each process's user time)",
                      user_time_ticks(*next_.cpu_time)));
    if (next_.wall_time)
      out_.push_back(
          {LimitKind::wall_time, LimitBackend::loop_timer,
           fmt::format(
               "the StopPlan runs {} ms after the start",
               std::chrono::duration_cast<std::chrono::milliseconds>(*next_.wall_time).count())});
  }

  Handle job_;
  const ResourceLimits& prev_;
  const ResourceLimits& next_;
  std::vector<LimitStatus>& out_;
  ErrorSink& err_;
  std::vector<Unenforced> unenforced_;
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void apply_job_limits(Handle job, const ResourceLimits& previous,
                                        const ResourceLimits& next,
                                        std::vector<LimitStatus>& statuses, ErrorSink& err) {
  JobLimits(job, previous, next, statuses, err).run();
}

SUPERVISOR_INLINE std::uint32_t logical_processors() noexcept {
  const DWORD n = ::GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  return n == 0 ? 1 : static_cast<std::uint32_t>(n);
}

SUPERVISOR_INLINE JobUsage read_job_usage(Handle job, ErrorSink& err) {
  JobUsage u;
  // The basic accounting alone where the one with I/O figures is refused (Wine refuses it).
  JOBOBJECT_BASIC_AND_IO_ACCOUNTING_INFORMATION acct{};
  if (!::QueryInformationJobObject(job, JobObjectBasicAndIoAccountingInformation, &acct,
                                   sizeof acct, nullptr) &&
      !::QueryInformationJobObject(job, JobObjectBasicAccountingInformation, &acct.BasicInfo,
                                   sizeof acct.BasicInfo, nullptr)) {
    fail_job_call(err, "QueryInformationJobObject(JobObjectBasicAccountingInformation)",
                  "the job's usage");
    return {};
  }
  u.user_seconds = seconds_of(acct.BasicInfo.TotalUserTime);
  u.kernel_seconds = seconds_of(acct.BasicInfo.TotalKernelTime);
  u.active_processes = acct.BasicInfo.ActiveProcesses;
  u.total_processes = acct.BasicInfo.TotalProcesses;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION ext{};
  if (::QueryInformationJobObject(job, JobObjectExtendedLimitInformation, &ext, sizeof ext,
                                  nullptr)) {
    u.peak_job_memory = ext.PeakJobMemoryUsed;
    u.peak_process_memory = ext.PeakProcessMemoryUsed;
  }
  MemoryUsageInformation mem{};
  if (::QueryInformationJobObject(job, static_cast<JOBOBJECTINFOCLASS>(k_memory_usage_class), &mem,
                                  sizeof mem, nullptr))
    u.job_memory = mem.job_memory;
  return u;
}

SUPERVISOR_INLINE UniqueHandle create_group_job(const ResourceLimits& limits,
                                                std::vector<LimitStatus>& statuses,
                                                ErrorSink& err) {
  UniqueHandle job(::CreateJobObjectW(nullptr, nullptr));
  if (!job) {
    fail_job_call(err, "CreateJobObjectW", "a ResourceGroup's job");
    return {};
  }
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION info{};
  info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!::SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &info,
                                 sizeof info)) {
    fail_job_call(err, "SetInformationJobObject(KILL_ON_JOB_CLOSE)", "a ResourceGroup's job");
    return {};
  }
  apply_job_limits(job.get(), ResourceLimits{}, limits, statuses, err);
  if (err) return {};
  return job;
}

}  // namespace supervisor::detail::win
