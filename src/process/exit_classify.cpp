// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "exit_classify.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

struct Row {
  ExitRule rule;
  const char* text;
  bool (*applies)(const ExitFacts&) noexcept;
  ExitReason reason;
};

// The cpu_time rlimit: SIGXCPU at the soft limit, or the kernel's SIGKILL at the hard one (then
// the main process's CPU time has reached the limit).
SUPERVISOR_INLINE bool cpu_time_exhausted(const ExitFacts& f) noexcept {
  if (!f.cpu_time_limit) return false;
  return f.cpu_limit_signal || (f.kill_signal && f.cpu_used >= *f.cpu_time_limit);
}

// systemd's Result= vocabulary. Rows in ExitRule order, which is their precedence.
SUPERVISOR_INLINE constexpr Row k_rows[] = {
    {ExitRule::unhealthy_verdict, "the pool stopped it: a check kept failing",
     [](const ExitFacts& f) noexcept { return f.verdict == PoolVerdict::unhealthy; },
     ExitReason::unhealthy},
    {ExitRule::watchdog_verdict, "the pool killed it: its heartbeat stopped",
     [](const ExitFacts& f) noexcept { return f.verdict == PoolVerdict::watchdog; },
     ExitReason::watchdog},
    {ExitRule::not_observed, "its end was not observed (reaped by someone else, or abandoned)",
     [](const ExitFacts& f) noexcept { return !f.observed; }, ExitReason::unknown},
    {ExitRule::exited_zero, "it exited with code 0",
     [](const ExitFacts& f) noexcept { return f.signal == 0 && f.exit_code == 0; },
     ExitReason::success},
    {ExitRule::exited_nonzero, "it exited with a non-zero code",
     [](const ExitFacts& f) noexcept { return f.signal == 0; }, ExitReason::exit_code},
    // The OOM killer's SIGKILL, not ours.
    {ExitRule::oom_killed, "the OOM killer killed it under memory_max",
     [](const ExitFacts& f) noexcept { return f.kill_signal && f.oom_kills > 0 && !f.final_kill; },
     ExitReason::oom_kill},
    {ExitRule::cpu_time, "it ran out of its cpu_time",
     [](const ExitFacts& f) noexcept { return !f.final_kill && cpu_time_exhausted(f); },
     ExitReason::resource_limit},
    {ExitRule::wall_time, "it was stopped at its wall_time",
     [](const ExitFacts& f) noexcept { return f.wall_time_hit; }, ExitReason::resource_limit},
    {ExitRule::stop_timed_out, "it did not stop within its stop plan and was killed",
     [](const ExitFacts& f) noexcept { return f.final_kill && f.stop_requested; },
     ExitReason::timeout},
    // It died of the very signal we asked it to stop with: a clean stop.
    {ExitRule::stop_signal, "it stopped on the stop plan's signal",
     [](const ExitFacts& f) noexcept { return f.stop_requested && f.died_of_stop_signal; },
     ExitReason::success},
    {ExitRule::core_dump, "a signal killed it and it dumped core",
     [](const ExitFacts& f) noexcept { return f.core_dumped; }, ExitReason::core_dump},
    {ExitRule::signal, "a signal killed it", [](const ExitFacts&) noexcept { return true; },
     ExitReason::signal},
};
static_assert(sizeof k_rows / sizeof k_rows[0] == exit_rule_count, "a row for every rule");

SUPERVISOR_INLINE constexpr bool rows_in_order() {
  for (std::size_t i = 0; i < exit_rule_count; ++i) {
    if (static_cast<std::size_t>(k_rows[i].rule) != i) return false;
  }
  return true;
}
static_assert(rows_in_order(), "k_rows follows ExitRule's order");

SUPERVISOR_INLINE const Row& row(ExitRule r) noexcept {
  return k_rows[static_cast<std::size_t>(r)];
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE ExitRule exit_rule_for(const ExitFacts& facts) noexcept {
  for (const Row& r : k_rows) {
    if (r.applies(facts)) return r.rule;
  }
  return ExitRule::signal;  // not reached: the last row always applies
}

SUPERVISOR_INLINE ExitReason reason_of(ExitRule rule) noexcept { return row(rule).reason; }

SUPERVISOR_INLINE const char* describe(ExitRule rule) noexcept {
  return static_cast<std::size_t>(rule) < exit_rule_count ? row(rule).text : "?";
}

SUPERVISOR_INLINE ExitReason classify_exit(const ExitFacts& facts) noexcept {
  return reason_of(exit_rule_for(facts));
}

SUPERVISOR_INLINE ExitReason with_verdict(ExitReason observed, PoolVerdict verdict) noexcept {
  ExitFacts f;
  f.verdict = verdict;
  for (ExitRule r : {ExitRule::unhealthy_verdict, ExitRule::watchdog_verdict}) {
    if (row(r).applies(f)) return row(r).reason;
  }
  return observed;
}

}  // namespace supervisor::detail
