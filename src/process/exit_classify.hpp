// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Why a process ended, decided in one place: the facts a backend observed, what the process
// layer did to the tree (a stop, a final kill, a limit it enforces itself) and the pool's own
// verdicts (a watchdog kill, a failing health check) go through one ordered table
// (exit_classify.cpp) that every backend and the pool share.

#include <cstddef>
#include <cstdint>
#include <optional>

#include <supervisor/clock.hpp>
#include <supervisor/exit_status.hpp>

namespace supervisor::detail {

// Why the pool itself ended a worker, which outranks what the process layer saw.
// A stop for a failing check outranks a watchdog kill that came while it was under way.
enum class PoolVerdict {
  none,
  watchdog,   // killed because its sd_notify heartbeat stopped
  unhealthy,  // stopped because a startup or liveness check kept failing
};

struct ExitFacts {
  // The pool's verdict (`none` from the process layer).
  PoolVerdict verdict = PoolVerdict::none;

  // What the OS said of the main process. `observed` false: reaped by someone else (the host's
  // waitpid(-1), SIGCHLD ignored), or abandoned while it survived its final kill.
  bool observed = true;
  int exit_code = -1;  // when it exited normally
  int signal = 0;      // when killed: its signal (platform number), else 0
  bool core_dumped = false;
  bool kill_signal = false;       // the signal is the uncatchable kill (SIGKILL)
  bool cpu_limit_signal = false;  // the signal is the CPU-time limit's warning (SIGXCPU)

  // What the kernel did under the tree's limits.
  std::uint64_t oom_kills = 0;
  std::optional<Duration> cpu_time_limit;  // ResourceLimits::cpu_time, when set
  Duration cpu_used{};                     // user + system CPU of the main process

  // What the process layer did.
  bool wall_time_hit = false;        // it stopped the tree at ResourceLimits::wall_time
  bool stop_requested = false;       // a stop (or kill) was asked for
  bool final_kill = false;           // it had to kill the tree (the plan ran out, or kill())
  bool died_of_stop_signal = false;  // the signal is one the stop plan sent
};

// The rows of the table, in precedence order (the first that applies decides).
enum class ExitRule {
  unhealthy_verdict,  // pool: stopped by a failing check -> unhealthy
  watchdog_verdict,   // pool: killed for a silent heartbeat -> watchdog
  not_observed,       // reaped by someone else, or abandoned -> unknown
  exited_zero,        // -> success
  exited_nonzero,     // -> exit-code
  oom_killed,         // the OOM killer's SIGKILL under memory_max -> oom-kill
  cpu_time,           // the cpu_time rlimit's SIGXCPU or SIGKILL -> resource-limit
  wall_time,          // stopped at wall_time -> resource-limit (ExitStatus::wall_time_exceeded)
  stop_timed_out,     // the stop plan ran out and the tree was killed -> timeout
  stop_signal,        // died of the signal the stop plan sent -> success
  core_dump,          // -> core-dump
  signal,             // -> signal
};
inline constexpr std::size_t exit_rule_count = static_cast<std::size_t>(ExitRule::signal) + 1;

// The row that decides `facts`, and its reason.
[[nodiscard]] ExitRule exit_rule_for(const ExitFacts& facts) noexcept;
[[nodiscard]] ExitReason reason_of(ExitRule rule) noexcept;
// A short description of the row, for messages and tests.
[[nodiscard]] const char* describe(ExitRule rule) noexcept;

// The reason for `facts`: reason_of(exit_rule_for(facts)).
[[nodiscard]] ExitReason classify_exit(const ExitFacts& facts) noexcept;
// A pool's verdict over the reason the process layer gave: the verdict rows of the same table,
// which outrank every other; without a verdict, `observed` as it is.
[[nodiscard]] ExitReason with_verdict(ExitReason observed, PoolVerdict verdict) noexcept;

}  // namespace supervisor::detail
