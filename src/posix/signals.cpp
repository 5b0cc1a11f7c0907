// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The portable Signal names as POSIX numbers (process/backend.hpp's native_signal).
#include <signal.h>

#include "../process/backend.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE int native_signal(Signal s) noexcept {
  switch (s) {
    case Signal::hangup: return SIGHUP;
    case Signal::interrupt: return SIGINT;
    case Signal::quit: return SIGQUIT;
    case Signal::kill: return SIGKILL;
    case Signal::user1: return SIGUSR1;
    case Signal::user2: return SIGUSR2;
    case Signal::terminate: return SIGTERM;
    case Signal::cont: return SIGCONT;
  }
  return SIGTERM;
}

}  // namespace supervisor::detail
