// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// ResourceLimits as Job Object limits (src/windows/job_limits.hpp), with real processes
// (tests/support/win_child.cpp): what is set is read back with QueryInformationJobObject, and
// what Windows enforces is asserted. Where Wine accepts a limit but does not enforce it, or sends
// no message for it (detected at run time), the test says so and is reported as skipped.
#include <supervisor/limits.hpp>

#include <windows.h>

#include <chrono>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "job_limit_reason.hpp"
#include "job_test_support.hpp"
#include "windows/job_limits.hpp"
#include "windows/status_map.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;
namespace w = supervisor::detail::win;
using namespace job_test;  // NOLINT(google-build-using-namespace): the shared test helpers

namespace {

constexpr std::uint64_t mib = 1024 * 1024;

JOBOBJECT_EXTENDED_LIMIT_INFORMATION extended_of(HANDLE job) {
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION info{};
  REQUIRE(::QueryInformationJobObject(job, JobObjectExtendedLimitInformation, &info, sizeof info,
                                      nullptr));
  return info;
}

DWORD flags_of(HANDLE job) { return extended_of(job).BasicLimitInformation.LimitFlags; }

// Whether QueryInformationJobObject reads a job's limits back: a job the library made has
// KILL_ON_JOB_CLOSE. Windows does; Wine 8 answers with no flags at all.
bool limits_read_back(HANDLE job) {
  const bool readable = flags_of(job) == JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (wine().empty()) REQUIRE(readable);
  return readable;
}

const char* const no_read_back =
    "QueryInformationJobObject(JobObjectExtendedLimitInformation) reads no limits back (all "
    "flags 0), so the values set cannot be checked";

// apply_job_limits, expected to succeed.
std::vector<sv::LimitStatus> apply(HANDLE job, const sv::ResourceLimits& previous,
                                   const sv::ResourceLimits& next) {
  std::vector<sv::LimitStatus> statuses;
  d::ErrorSink err;
  w::apply_job_limits(job, previous, next, statuses, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  return statuses;
}

std::string describe(const std::vector<sv::LimitStatus>& statuses) {
  std::string s;
  for (const auto& st : statuses) {
    s += std::string(sv::to_string(st.kind)) + " " + std::string(sv::to_string(st.backend)) + ": " +
         st.note + "\n";
  }
  return s;
}

// A child of `args` whose job gets `limits` before it runs (through prepare_job), with the port.
w::JobSpawnResult spawn_limited(const std::wstring& args, const sv::ResourceLimits& limits,
                                std::vector<sv::LimitStatus>& statuses,
                                const w::CompletionPort* port = nullptr, std::uintptr_t key = 1,
                                HANDLE std_out = nullptr) {
  auto r = request(args, port, key);
  r.std_out = std_out;
  r.prepare_job = [&](w::Handle job, d::ErrorSink& err) {
    w::apply_job_limits(job, sv::ResourceLimits{}, limits, statuses, err);
  };
  return spawn(r);
}

// A job's messages into JobLimitHits, as the backend's child keeps them.
w::JobLimitHits hits_of(const std::vector<Message>& got, std::uint32_t leader) {
  w::JobLimitHits hits;
  hits.leader_pid = leader;
  for (const auto& m : got) hits.note(m.what, m.pid);
  return hits;
}

void end(w::JobSpawnResult& s) {
  d::ErrorSink err;
  w::terminate_job(s.job.get(), 1, err);
  REQUIRE(signalled(s.process.get(), guard_ms));
}

}  // namespace

TEST_CASE("job limits are set as read back, KILL_ON_JOB_CLOSE kept, and lifted", "[windows]") {
  auto s = spawn(request(L"sleep 60000"));
  const bool read_back = limits_read_back(s.job.get());

  sv::ResourceLimits first;
  first.memory_max = 64 * mib;
  first.max_processes = 3;
  first.cpu_time = std::chrono::seconds(2);
  first.wall_time = std::chrono::milliseconds(1500);
  const auto statuses = apply(s.job.get(), {}, first);
  INFO(describe(statuses));
  REQUIRE(statuses.size() == 4);
  CHECK(statuses[0].kind == sv::LimitKind::memory_max);
  CHECK(statuses[0].backend == sv::LimitBackend::job_object);
  CHECK(statuses[0].note ==
        "JobMemoryLimit 67108864 bytes + ProcessMemoryLimit (committed memory)");
  CHECK(statuses[1].kind == sv::LimitKind::max_processes);
  CHECK(statuses[1].backend == sv::LimitBackend::job_object);
  CHECK(statuses[1].note == "ActiveProcessLimit 3 (processes; threads are not counted)");
  CHECK(statuses[2].kind == sv::LimitKind::cpu_time);
  CHECK(statuses[2].backend == sv::LimitBackend::job_object);
  CHECK(statuses[2].note == "PerProcessUserTimeLimit 20000000 x 100 ns (each process's user time)");
  CHECK(statuses[3].kind == sv::LimitKind::wall_time);
  CHECK(statuses[3].backend == sv::LimitBackend::loop_timer);
  CHECK(statuses[3].note == "the StopPlan runs 1500 ms after the start");
  CHECK(sv::to_string(sv::LimitBackend::job_object) == "job-object");

  auto info = extended_of(s.job.get());
  if (read_back) {
    CHECK(info.BasicLimitInformation.LimitFlags ==
          (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_JOB_MEMORY |
           JOB_OBJECT_LIMIT_PROCESS_MEMORY | JOB_OBJECT_LIMIT_ACTIVE_PROCESS |
           JOB_OBJECT_LIMIT_PROCESS_TIME));
    CHECK(info.JobMemoryLimit == 64 * mib);
    CHECK(info.ProcessMemoryLimit == 64 * mib);
    CHECK(info.BasicLimitInformation.ActiveProcessLimit == 3);
    CHECK(info.BasicLimitInformation.PerProcessUserTimeLimit.QuadPart == 20'000'000);
  }

  // A change: memory_max and cpu_time lifted, max_processes changed.
  sv::ResourceLimits second;
  second.max_processes = 5;
  const auto changed = apply(s.job.get(), first, second);
  REQUIRE(changed.size() == 1);
  CHECK(changed[0].kind == sv::LimitKind::max_processes);
  CHECK(changed[0].note == "ActiveProcessLimit 5 (processes; threads are not counted)");
  info = extended_of(s.job.get());
  if (read_back) {
    CHECK(info.BasicLimitInformation.LimitFlags ==
          (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_ACTIVE_PROCESS));
    CHECK(info.BasicLimitInformation.ActiveProcessLimit == 5);
  }

  // Everything lifted: only the spawn's flag is left.
  CHECK(apply(s.job.get(), second, {}).empty());
  if (read_back) CHECK(flags_of(s.job.get()) == JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE);
  // And it still works: closing the job's only handle ends the child.
  s.job.reset();
  CHECK(signalled(s.process.get(), guard_ms));
  if (!read_back) SUPERVISOR_SKIP(wine_gap(no_read_back));
}

TEST_CASE("limits Windows has no job limit for are none, and required ones fail untouched",
          "[windows]") {
  auto s = spawn(request(L"sleep 60000"));
  const bool read_back = limits_read_back(s.job.get());
  sv::ResourceLimits r;
  r.memory_max = 32 * mib;
  r.memory_high = 16 * mib;
  r.swap_max = 0;
  r.max_open_files = 100;
  const auto statuses = apply(s.job.get(), {}, r);
  INFO(describe(statuses));
  REQUIRE(statuses.size() == 4);
  CHECK(statuses[0].kind == sv::LimitKind::memory_max);
  CHECK(statuses[0].backend == sv::LimitBackend::job_object);
  CHECK(statuses[1].kind == sv::LimitKind::memory_high);
  CHECK(statuses[1].backend == sv::LimitBackend::none);
  CHECK(statuses[1].note ==
        "Windows has no memory throttling point for a job (memory_max is its only memory limit)");
  CHECK(statuses[2].kind == sv::LimitKind::swap_max);
  CHECK(statuses[2].backend == sv::LimitBackend::none);
  CHECK(statuses[2].note ==
        "Windows has no swap limit for a job (its memory limits count committed memory, page "
        "file included)");
  CHECK(statuses[3].kind == sv::LimitKind::max_open_files);
  CHECK(statuses[3].backend == sv::LimitBackend::none);
  CHECK(statuses[3].note == "Windows has no job limit on a process's open handles");

  // Required: the call fails naming the limit and why, and the job keeps what it had.
  sv::ResourceLimits req;
  req.max_processes = 2;
  req.max_open_files = 100;
  req.enforcement = sv::LimitEnforcement::required;
  std::vector<sv::LimitStatus> out{{sv::LimitKind::cpu_time, sv::LimitBackend::none, "stale"}};
  d::ErrorSink err;
  w::apply_job_limits(s.job.get(), r, req, out, err);
  CHECK(err.code == sv::make_error_code(sv::errc::controller_unavailable));
  CHECK(err.context ==
        "Job Object: ResourceLimits.max_open_files is required but cannot be enforced: Windows "
        "has no job limit on a process's open handles");
  CHECK(out.empty());
  end(s);
  if (!read_back) SUPERVISOR_SKIP(wine_gap(no_read_back));
  const auto info = extended_of(s.job.get());
  CHECK(info.BasicLimitInformation.LimitFlags ==
        (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_JOB_MEMORY |
         JOB_OBJECT_LIMIT_PROCESS_MEMORY));
  CHECK(info.JobMemoryLimit == 32 * mib);
}

TEST_CASE("cpu_cores and cpu_weight set the job's CPU rate control, the hard cap winning",
          "[windows]") {
  auto s = spawn(request(L"sleep 60000"));
  const std::uint32_t cpus = w::logical_processors();
  REQUIRE(cpus >= 1);
  sv::ResourceLimits r;
  r.cpu_cores = 0.5;
  r.cpu_weight = 300;
  std::vector<sv::LimitStatus> statuses;
  d::ErrorSink err;
  w::apply_job_limits(s.job.get(), {}, r, statuses, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  INFO(describe(statuses));
  REQUIRE(statuses.size() == 2);
  CHECK(statuses[1].kind == sv::LimitKind::cpu_weight);
  CHECK(statuses[1].backend == sv::LimitBackend::none);
  CHECK(statuses[1].note ==
        "cpu_cores' hard cap takes the job's CPU rate control, which is either a hard cap or "
        "weight-based, never both");
  CHECK(statuses[0].kind == sv::LimitKind::cpu_cores);
  if (statuses[0].backend == sv::LimitBackend::none && !wine().empty()) {
    const std::string why = statuses[0].note;
    CHECK(why.rfind("this Windows has no CPU rate control for jobs "
                    "(SetInformationJobObject(JobObjectCpuRateControlInformation): Win32 error ",
                    0) == 0);
    // Required, it fails naming the gap.
    r.enforcement = sv::LimitEnforcement::required;
    r.cpu_weight.reset();
    d::ErrorSink req;
    w::apply_job_limits(s.job.get(), {}, r, statuses, req);
    CHECK(req.code == sv::make_error_code(sv::errc::controller_unavailable));
    CHECK(req.context.rfind("Job Object: ResourceLimits.cpu_cores is required but cannot be "
                            "enforced: this Windows has no CPU rate control for jobs",
                            0) == 0);
    end(s);
    SUPERVISOR_SKIP(wine_gap("CPU rate control is refused: " + why));
  }
  const std::uint32_t rate = w::cpu_rate_of(0.5, cpus);
  CHECK(statuses[0].backend == sv::LimitBackend::job_object);
  CHECK(statuses[0].note == "CPU rate control hard cap, CpuRate " + std::to_string(rate) +
                                " of 10000 (0.5 of " + std::to_string(cpus) +
                                " logical processors)");
  JOBOBJECT_CPU_RATE_CONTROL_INFORMATION info{};
  REQUIRE(::QueryInformationJobObject(s.job.get(), JobObjectCpuRateControlInformation, &info,
                                      sizeof info, nullptr));
  CHECK(info.ControlFlags ==
        (JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP));
  CHECK(info.CpuRate == rate);

  // The weight alone, then lifted.
  sv::ResourceLimits weight;
  weight.cpu_weight = 1000;
  const auto st = apply(s.job.get(), r, weight);
  REQUIRE(st.size() == 1);
  CHECK(st[0].backend == sv::LimitBackend::job_object);
  CHECK(st[0].note == "weight-based CPU rate control, Weight 7 of 1..9 (cpu_weight 1000)");
  REQUIRE(::QueryInformationJobObject(s.job.get(), JobObjectCpuRateControlInformation, &info,
                                      sizeof info, nullptr));
  CHECK(info.ControlFlags ==
        (JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_WEIGHT_BASED));
  CHECK(info.Weight == 7);
  CHECK(apply(s.job.get(), weight, {}).empty());
  REQUIRE(::QueryInformationJobObject(s.job.get(), JobObjectCpuRateControlInformation, &info,
                                      sizeof info, nullptr));
  CHECK((info.ControlFlags & JOB_OBJECT_CPU_RATE_CONTROL_ENABLE) == 0);
  // The extended limits were never touched.
  if (limits_read_back(s.job.get()))
    CHECK(flags_of(s.job.get()) == JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE);
  end(s);
}

TEST_CASE("a memory hog fails at memory_max, and its end is an oom_kill", "[windows]") {
  auto port = make_port();
  auto out = make_pipe();
  sv::ResourceLimits r;
  r.memory_max = 64 * mib;
  std::vector<sv::LimitStatus> statuses;
  auto s = spawn_limited(L"alloc 256 0", r, statuses, &port, 3, out.write.get());
  out.write.reset();
  const std::string line = read_line(out.read.get());
  REQUIRE(signalled(s.process.get(), guard_ms));
  const DWORD code = exit_code(s.process.get());
  INFO("child: " << line << ", exit code " << code);
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].backend == sv::LimitBackend::job_object);
  const auto got = collect(port, [](const std::vector<Message>& m) {
    return saw(m, w::JobMessage::active_process_zero);
  });
  INFO("messages: " << describe(got));
  if (code == 0 && !wine().empty())
    SUPERVISOR_SKIP(
        wine_gap("job memory limits are accepted but not enforced (a 256 MiB "
                 "allocation under memory_max 64 MiB succeeds); messages: " +
                 describe(got, false)));
  CHECK(line.rfind("alloc failed at ", 0) == 0);
  CHECK(code == 70);
  CHECK((saw(got, w::JobMessage::process_memory_limit, s.pid) ||
         saw(got, w::JobMessage::job_memory_limit, s.pid)));
  const auto hits = hits_of(got, s.pid);
  CHECK(hits.counters().oom_kills >= 1);
  CHECK(hits.leader_memory);
  CHECK(reason_under(hits, code) == sv::ExitReason::oom_kill);
}

TEST_CASE("a process beyond max_processes is refused and counted as a fork refusal", "[windows]") {
  auto port = make_port();
  auto out = make_pipe();
  sv::ResourceLimits r;
  r.max_processes = 2;
  std::vector<sv::LimitStatus> statuses;
  // The child and one of its own fit; the second of its own is a third process.
  auto s = spawn_limited(L"spawn 2 3000", r, statuses, &port, 4, out.write.get());
  out.write.reset();
  const std::string first = read_line(out.read.get());
  const std::string second = read_line(out.read.get());
  INFO("child: " << first << " / " << second);
  CHECK(first == "started");
  if (second == "started" && !wine().empty()) {
    end(s);
    SUPERVISOR_SKIP(
        wine_gap("the job's active process limit is accepted but not enforced (a "
                 "third process starts under max_processes 2)"));
  }
  CHECK(second.rfind("refused ", 0) == 0);
  d::ErrorSink err;
  w::terminate_job(s.job.get(), 1, err);
  REQUIRE(signalled(s.process.get(), guard_ms));
  const auto got = collect(port, [](const std::vector<Message>& m) {
    return saw(m, w::JobMessage::active_process_limit);
  });
  INFO("messages: " << describe(got));
  CHECK(saw(got, w::JobMessage::active_process_limit));
  const auto hits = hits_of(got, s.pid);
  CHECK(hits.counters().fork_refusals == 1);
  CHECK(hits.counters().oom_kills == 0);
}

TEST_CASE("a process past its cpu_time is ended, and its end is a resource_limit", "[windows]") {
  auto port = make_port();
  sv::ResourceLimits r;
  r.cpu_time = std::chrono::seconds(1);
  std::vector<sv::LimitStatus> statuses;
  auto s = spawn_limited(L"burn 2500", r, statuses, &port, 5);
  REQUIRE(signalled(s.process.get(), guard_ms));
  const DWORD code = exit_code(s.process.get());
  const auto got = collect(port, [](const std::vector<Message>& m) {
    return saw(m, w::JobMessage::active_process_zero);
  });
  INFO("exit code " << code << ", messages: " << describe(got));
  if (code == 0 && !wine().empty())
    SUPERVISOR_SKIP(
        wine_gap("the per-process user time limit is accepted but not enforced (2.5 "
                 "s of user time under cpu_time 1 s); messages: " +
                 describe(got, false)));
  CHECK(code != 0);
  CHECK(saw(got, w::JobMessage::end_of_process_time, s.pid));
  const auto hits = hits_of(got, s.pid);
  CHECK(hits.leader_cpu_time);
  CHECK(reason_under(hits, code, r.cpu_time) == sv::ExitReason::resource_limit);
}

TEST_CASE("a job's usage: CPU time, processes and memory", "[windows]") {
  auto out = make_pipe();
  auto r = request(L"alloc 48 60000");
  r.std_out = out.write.get();
  auto s = spawn(r);
  out.write.reset();
  REQUIRE(read_line(out.read.get()) == "allocated 48");
  d::ErrorSink err;
  auto u = w::read_job_usage(s.job.get(), err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  CHECK(u.active_processes == 1);
  CHECK(u.total_processes == 1);
  const bool memory_counted = u.peak_job_memory >= 48 * mib;
  INFO("peak job memory " << u.peak_job_memory << ", job memory "
                          << (u.job_memory ? std::to_string(*u.job_memory) : "none"));
  if (u.job_memory) CHECK(*u.job_memory >= 48 * mib);
  const bool memory_now = u.job_memory.has_value();
  end(s);

  auto burner = spawn(request(L"burn 400"));
  REQUIRE(signalled(burner.process.get(), guard_ms));
  CHECK(exit_code(burner.process.get()) == 0);
  u = w::read_job_usage(burner.job.get(), err);
  REQUIRE_FALSE(err);
  CHECK(u.active_processes == 0);
  CHECK(u.total_processes == 1);
  INFO("user " << u.user_seconds << " s, kernel " << u.kernel_seconds << " s");
  const bool cpu_counted = u.user_seconds >= 0.4;
  if ((!memory_counted || !cpu_counted) && !wine().empty())
    SUPERVISOR_SKIP(wine_gap(std::string("the job's accounting lacks ") +
                             (!memory_counted ? "its peak memory" : "") +
                             (!memory_counted && !cpu_counted ? " and " : "") +
                             (!cpu_counted ? "its processes' CPU time" : "") +
                             " (zeros), and JobObjectMemoryUsageInformation is " +
                             (memory_now ? "answered" : "refused")));
  CHECK(memory_counted);
  CHECK(cpu_counted);
  CHECK(u.cpu_seconds() >= u.user_seconds);
}

TEST_CASE("a group's job has KILL_ON_JOB_CLOSE and its limits", "[windows]") {
  sv::ResourceLimits limits;
  limits.max_processes = 8;
  limits.memory_high = 16 * mib;
  std::vector<sv::LimitStatus> statuses;
  d::ErrorSink err;
  auto group = w::create_group_job(limits, statuses, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  REQUIRE(group);
  REQUIRE(statuses.size() == 2);
  CHECK(statuses[0].kind == sv::LimitKind::memory_high);
  CHECK(statuses[0].backend == sv::LimitBackend::none);
  CHECK(statuses[1].kind == sv::LimitKind::max_processes);
  CHECK(statuses[1].backend == sv::LimitBackend::job_object);
  // Required and not enforceable: no job.
  limits.enforcement = sv::LimitEnforcement::required;
  d::ErrorSink req;
  CHECK_FALSE(w::create_group_job(limits, statuses, req));
  CHECK(req.code == sv::make_error_code(sv::errc::controller_unavailable));
  const DWORD flags = flags_of(group.get());
  if (flags == 0 && !wine().empty()) SUPERVISOR_SKIP(wine_gap(no_read_back));
  CHECK(flags == (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_ACTIVE_PROCESS));
  CHECK(extended_of(group.get()).BasicLimitInformation.ActiveProcessLimit == 8);
}

TEST_CASE("a child joins a group's job and its own, nested, with either attach path", "[windows]") {
  std::vector<sv::LimitStatus> statuses;
  d::ErrorSink err;
  auto group = w::create_group_job({}, statuses, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  REQUIRE(group);
  CHECK(statuses.empty());

  for (auto use : {w::JobListUse::automatic, w::JobListUse::never}) {
    INFO("attach: " << (use == w::JobListUse::automatic ? "automatic" : "never"));
    auto r1 = request(L"sleep 60000");
    r1.outer_jobs = {group.get()};
    r1.job_list = use;
    auto r2 = r1;
    d::ErrorSink e1;
    auto a = w::spawn_in_job(r1, e1);
    INFO(e1.context);
    if (e1 && !wine().empty())
      SUPERVISOR_SKIP(wine_gap("a process cannot join a second job (nested jobs): " + e1.context));
    REQUIRE_FALSE(e1);
    auto b = spawn(r2);
    CHECK(w::process_in_job(a.process.get(), group.get(), err));
    CHECK(w::process_in_job(a.process.get(), a.job.get(), err));
    CHECK(w::process_in_job(b.process.get(), group.get(), err));
    CHECK(w::process_in_job(b.process.get(), b.job.get(), err));
    CHECK_FALSE(w::process_in_job(a.process.get(), b.job.get(), err));
    REQUIRE_FALSE(err);
    const auto ids = ids_in(group.get());
    CHECK(has(ids, a.pid));
    CHECK(has(ids, b.pid));
    CHECK(ids_in(a.job.get()) == std::vector<std::uint32_t>{a.pid});
    // The group's job ends every tree in it.
    w::terminate_job(group.get(), 6, err);
    REQUIRE_FALSE(err);
    REQUIRE(signalled(a.process.get(), guard_ms));
    REQUIRE(signalled(b.process.get(), guard_ms));
    CHECK(exit_code(a.process.get()) == 6);
    CHECK(exit_code(b.process.get()) == 6);
  }
}

TEST_CASE("a group inside a group: the child is in all three jobs", "[windows]") {
  std::vector<sv::LimitStatus> statuses;
  d::ErrorSink err;
  auto outer = w::create_group_job({}, statuses, err);
  auto inner = w::create_group_job({}, statuses, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  CHECK(statuses.empty());
  auto r = request(L"sleep 60000");
  r.outer_jobs = {outer.get(), inner.get()};
  auto s = spawn(r);
  CHECK(w::process_in_job(s.process.get(), outer.get(), err));
  CHECK(w::process_in_job(s.process.get(), inner.get(), err));
  CHECK(w::process_in_job(s.process.get(), s.job.get(), err));
  REQUIRE_FALSE(err);
  // Closing the outer group's last handle kills the tree (KILL_ON_JOB_CLOSE on the group).
  outer.reset();
  const bool gone = signalled(s.process.get(), wine().empty() ? guard_ms : 10000);
  if (!gone && !wine().empty()) {
    end(s);
    SUPERVISOR_SKIP(
        wine_gap("closing a group's last job handle does not kill the processes of "
                 "the jobs nested in it"));
  }
  CHECK(gone);
}

TEST_CASE("a refused prepare_job fails the spawn with its error and leaves nothing", "[windows]") {
  auto r = request(L"exit 0");
  sv::ResourceLimits limits;
  limits.memory_high = 16 * mib;
  limits.enforcement = sv::LimitEnforcement::required;
  std::vector<sv::LimitStatus> statuses;
  r.prepare_job = [&](w::Handle job, d::ErrorSink& err) {
    w::apply_job_limits(job, {}, limits, statuses, err);
  };
  d::ErrorSink err;
  auto s = w::spawn_in_job(r, err);
  CHECK(err.code == sv::make_error_code(sv::errc::controller_unavailable));
  CHECK(err.context ==
        "Job Object: ResourceLimits.memory_high is required but cannot be enforced: Windows has "
        "no memory throttling point for a job (memory_max is its only memory limit)");
  CHECK_FALSE(s.process);
  CHECK_FALSE(s.job);
}
