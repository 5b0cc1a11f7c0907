// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Reading /proc/PID/stat (private, Linux backend): per-process samples for metrics, and the
/// start time that makes a PID a reuse-safe identity.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <supervisor/export.hpp>

namespace supervisor::detail {

/// The fields of /proc/PID/stat that the supervisor uses (proc(5) numbers them from 1).
struct ProcStat {
  int pid = 0;                         ///< Field 1.
  char state = '?';                    ///< Field 3: R, S, D, Z, T, t, X, I...
  int ppid = 0;                        ///< Field 4.
  int pgrp = 0;                        ///< Field 5.
  int session = 0;                     ///< Field 6.
  std::uint64_t utime_ticks = 0;       ///< Field 14, in clock ticks (sysconf(_SC_CLK_TCK)).
  std::uint64_t stime_ticks = 0;       ///< Field 15, in clock ticks.
  std::uint64_t start_time_ticks = 0;  ///< Field 22: clock ticks after boot.
  long num_threads = 0;                ///< Field 20.
  std::uint64_t rss_pages = 0;         ///< Field 24, in pages.
  std::string comm;                    ///< Field 2, without its parentheses.
};

/// Parses the text of a /proc/PID/stat file. The command name may hold spaces and parentheses,
/// so it runs from the first '(' to the last ')'. Returns nullopt on malformed text.
[[nodiscard]] std::optional<ProcStat> parse_proc_stat(std::string_view text);

/// Reads and parses /proc/`pid`/stat; nullopt when the process does not exist (or was reaped)
/// or the file cannot be read. A zombie still has one (state 'Z').
[[nodiscard]] std::optional<ProcStat> read_proc_stat(int pid);

// sample_process(pid), declared in process/backend.hpp, is defined with these (proc_stat.cpp).

/// Field 22 of /proc/`pid`/stat: when the process started, in clock ticks after boot. (pid, start
/// time) names one process even after the PID is reused. nullopt when it does not exist.
[[nodiscard]] std::optional<std::uint64_t> process_start_time(int pid);

}  // namespace supervisor::detail
