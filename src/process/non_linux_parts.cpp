// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What every backend but Linux's shares (src/process/no_backend.cpp, src/windows): the signal
// numbers (POSIX's), and no open-file limit (Windows has none per process; POSIX hosts other
// than Linux have no backend yet).
#include <supervisor/limits.hpp>

#include <fmt/format.h>

#include "backend.hpp"
#include "fd_limit.hpp"

namespace supervisor::detail {

// POSIX's numbers, so that messages and tests read the same everywhere.
SUPERVISOR_INLINE int native_signal(Signal s) noexcept {
  switch (s) {
    case Signal::hangup: return 1;
    case Signal::interrupt: return 2;
    case Signal::quit: return 3;
    case Signal::kill: return 9;
    case Signal::user1: return 10;
    case Signal::user2: return 12;
    case Signal::terminate: return 15;
    case Signal::cont: return 18;
  }
  return 15;
}

SUPERVISOR_INLINE FdLimits read_fd_limits() noexcept { return {}; }

SUPERVISOR_INLINE std::size_t count_open_fds() noexcept { return 0; }

SUPERVISOR_INLINE std::uint64_t raise_fd_limit(std::uint64_t needed, ErrorSink& /*err*/) {
  return needed;
}

SUPERVISOR_INLINE std::string fd_limits_text(const FdLimits& /*limits*/) {
  return "no open-file limit";
}

}  // namespace supervisor::detail

namespace supervisor {

SUPERVISOR_INLINE std::uint64_t raise_fd_limit(std::size_t needed) { return needed; }

SUPERVISOR_INLINE std::uint64_t raise_fd_limit(std::size_t needed, std::error_code& ec) noexcept {
  ec.clear();
  return needed;
}

}  // namespace supervisor
