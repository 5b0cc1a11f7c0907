// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The exit reason the shared table (src/process/exit_classify.hpp) gives a Windows main process
// under what its job's limit messages said (src/windows/job_limit_math.hpp), built as
// ChildCore::finalize builds its facts. For the Windows limits tests, unit and real.
#include <supervisor/exit_status.hpp>

#include <cstdint>
#include <optional>

#include "process/exit_classify.hpp"
#include "windows/job_limit_math.hpp"

namespace job_test {

inline supervisor::ExitReason reason_under(
    const supervisor::detail::win::JobLimitHits& hits, std::uint32_t code,
    std::optional<supervisor::Duration> cpu_time_limit = std::nullopt, bool stop_requested = false,
    bool final_kill = false) {
  const supervisor::detail::LeaderExit e = hits.leader_exit(code);
  supervisor::detail::ExitFacts f;
  f.exit_code = e.exit_code;
  f.signal = e.signal;
  f.kill_signal = e.kill_signal;
  f.cpu_limit_signal = e.cpu_limit_signal;
  f.oom_kills = hits.counters().oom_kills;
  f.cpu_time_limit = cpu_time_limit;
  f.stop_requested = stop_requested;
  f.final_kill = final_kill;
  return supervisor::detail::classify_exit(f);
}

}  // namespace job_test
