// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The pure half of the Windows job limits (src/windows/job_limit_math.hpp): ResourceLimits'
// values as Job Object values, and limit messages as what the shared exit classification reads.
// Pure, on every platform.
#include <supervisor/limits.hpp>

#include <chrono>
#include <cstdint>

#include "catch_compat.hpp"
#include "job_limit_reason.hpp"
#include "windows/job_limit_math.hpp"
#include "windows/status_map.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;
namespace w = supervisor::detail::win;
namespace sig = supervisor::detail::posix_signal;

using job_test::reason_under;

TEST_CASE("cpu_cores becomes a CpuRate share of all logical processors, 1..10000", "[unit]") {
  CHECK(w::cpu_rate_of(1.0, 4) == 2500);
  CHECK(w::cpu_rate_of(0.5, 2) == 2500);
  CHECK(w::cpu_rate_of(2.0, 2) == 10000);
  CHECK(w::cpu_rate_of(1.5, 8) == 1875);
  CHECK(w::cpu_rate_of(1.0, 3) == 3333);  // rounded to the nearest
  CHECK(w::cpu_rate_of(2.0, 3) == 6667);
  // Clamped: more cores than the machine has is no cap; a sliver is still 1 (0.01%).
  CHECK(w::cpu_rate_of(16.0, 4) == 10000);
  CHECK(w::cpu_rate_of(0.001, 64) == 1);
  CHECK(w::cpu_rate_of(0.001, 1) == 10);
  CHECK(w::cpu_rate_of(1.0, 0) == 10000);  // an unreadable count counts as one processor
}

TEST_CASE("cpu_weight maps to Windows' Weight 1..9 on a log scale around the defaults", "[unit]") {
  CHECK(w::cpu_weight_of(100) == 5);  // the defaults meet
  CHECK(w::cpu_weight_of(1) == 1);
  CHECK(w::cpu_weight_of(3) == 2);
  CHECK(w::cpu_weight_of(10) == 3);
  CHECK(w::cpu_weight_of(32) == 4);
  CHECK(w::cpu_weight_of(50) == 4);
  CHECK(w::cpu_weight_of(200) == 6);
  CHECK(w::cpu_weight_of(316) == 6);
  CHECK(w::cpu_weight_of(1000) == 7);
  CHECK(w::cpu_weight_of(3162) == 8);
  CHECK(w::cpu_weight_of(10000) == 9);
  // Monotonic over the whole range.
  std::uint32_t last = 1;
  for (std::uint32_t v = 1; v <= 10000; ++v) {
    const std::uint32_t got = w::cpu_weight_of(v);
    REQUIRE(got >= last);
    REQUIRE(got <= 9);
    last = got;
  }
}

TEST_CASE("cpu_time becomes 100 ns ticks", "[unit]") {
  CHECK(w::user_time_ticks(std::chrono::seconds(2)) == 20'000'000);
  CHECK(w::user_time_ticks(std::chrono::hours(1)) == 36'000'000'000);
}

TEST_CASE("job messages name the limit they report", "[unit]") {
  using M = w::JobMessage;
  CHECK(w::limit_of_message(M::process_memory_limit) == sv::LimitKind::memory_max);
  CHECK(w::limit_of_message(M::job_memory_limit) == sv::LimitKind::memory_max);
  CHECK(w::limit_of_message(M::active_process_limit) == sv::LimitKind::max_processes);
  CHECK(w::limit_of_message(M::end_of_process_time) == sv::LimitKind::cpu_time);
  CHECK(w::limit_of_message(M::end_of_job_time) == sv::LimitKind::cpu_time);
  for (M m : {M::active_process_zero, M::new_process, M::exit_process, M::abnormal_exit_process,
              M::notification_limit})
    CHECK_FALSE(w::limit_of_message(m));
}

TEST_CASE("memory messages count as OOM kills and make a failed main process an oom_kill",
          "[unit]") {
  w::JobLimitHits hits;
  hits.leader_pid = 40;
  hits.note(w::JobMessage::new_process, 40);
  hits.note(w::JobMessage::process_memory_limit, 41);  // a descendant hit it
  CHECK(hits.counters().oom_kills == 1);
  CHECK_FALSE(hits.leader_memory);
  // The main process was not named: its exit is its own.
  CHECK(reason_under(hits, 1) == sv::ExitReason::exit_code);

  hits.note(w::JobMessage::job_memory_limit, 40);
  CHECK(hits.counters().oom_kills == 2);
  CHECK(hits.leader_memory);
  // It died of the failed allocation (an abort, a crash, an exit code): an OOM kill, as Linux
  // reports one (SIGKILL), the code kept.
  for (std::uint32_t code : {1U, 3U, 0xC0000017U /* STATUS_NO_MEMORY */, 0xC0000005U,
                             0xC0000409U /* fail-fast abort */}) {
    const d::LeaderExit e = hits.leader_exit(code);
    CHECK(e.signal == sig::sigkill);
    CHECK(e.kill_signal);
    CHECK(e.exit_code == -1);
    CHECK(e.native_code == code);
    CHECK(reason_under(hits, code) == sv::ExitReason::oom_kill);
  }
  // A clean exit stays one; so does the library's own stop (its kill, a console break).
  CHECK(reason_under(hits, 0) == sv::ExitReason::success);
  CHECK(hits.leader_exit(d::k_kill_exit_code).native_code == d::k_kill_exit_code);
  CHECK(reason_under(hits, d::k_kill_exit_code, std::nullopt, true, true) ==
        sv::ExitReason::timeout);
  CHECK(hits.leader_exit(0xC000013A).signal == sig::sigint);
}

TEST_CASE("refused processes count as fork refusals", "[unit]") {
  w::JobLimitHits hits;
  hits.leader_pid = 7;
  hits.note(w::JobMessage::active_process_limit, 7);
  hits.note(w::JobMessage::active_process_limit, 7);
  CHECK(hits.counters().fork_refusals == 2);
  CHECK(hits.counters().oom_kills == 0);
  // A refusal is no death: the main process's exit is its own.
  CHECK(reason_under(hits, 0) == sv::ExitReason::success);
  CHECK(reason_under(hits, 2) == sv::ExitReason::exit_code);
}

TEST_CASE("the end of a process's CPU time is a resource_limit exit, as Linux's SIGXCPU",
          "[unit]") {
  w::JobLimitHits hits;
  hits.leader_pid = 9;
  hits.note(w::JobMessage::end_of_process_time, 10);  // another process of the tree
  CHECK_FALSE(hits.leader_cpu_time);
  hits.note(w::JobMessage::end_of_process_time, 9);
  CHECK(hits.cpu_time == 2);
  const d::LeaderExit e = hits.leader_exit(w::k_time_limit_exit_code);
  CHECK(e.signal == sig::sigxcpu);
  CHECK(e.cpu_limit_signal);
  CHECK_FALSE(e.kill_signal);
  CHECK(e.native_code == w::k_time_limit_exit_code);
  CHECK(reason_under(hits, w::k_time_limit_exit_code, std::chrono::seconds(1)) ==
        sv::ExitReason::resource_limit);

  // The job's time limit ends every process, whichever the message names.
  w::JobLimitHits job;
  job.leader_pid = 9;
  job.note(w::JobMessage::end_of_job_time, 0);
  CHECK(job.leader_cpu_time);
  CHECK(reason_under(job, w::k_time_limit_exit_code, std::chrono::seconds(1)) ==
        sv::ExitReason::resource_limit);

  // Without a message the code alone decides: an exit code.
  CHECK(reason_under(w::JobLimitHits{}, w::k_time_limit_exit_code) == sv::ExitReason::exit_code);
}
