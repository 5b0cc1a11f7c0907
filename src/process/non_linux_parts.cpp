// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What every backend but Linux's shares (src/process/no_backend.cpp, src/windows): the signal
// numbers (POSIX's).
#include <fmt/format.h>

#include "backend.hpp"

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

}  // namespace supervisor::detail
