// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/exit_status.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>

namespace supervisor {

std::string_view to_string(ExitReason r) noexcept {
  switch (r) {
    case ExitReason::success: return "success";
    case ExitReason::exit_code: return "exit-code";
    case ExitReason::signal: return "signal";
    case ExitReason::core_dump: return "core-dump";
    case ExitReason::timeout: return "timeout";
    case ExitReason::watchdog: return "watchdog";
    case ExitReason::unhealthy: return "unhealthy";
    case ExitReason::oom_kill: return "oom-kill";
    case ExitReason::resource_limit: return "resource-limit";
    case ExitReason::spawn_failed: return "spawn-failed";
    case ExitReason::unknown: return "unknown";
  }
  return "unknown";
}

namespace {

// Signal names for messages. Numbers are the platform's; these are Linux's (and most POSIX
// systems' for the classic ones).
std::string signal_name(int sig) {
#ifdef __linux__
  static constexpr const char* names[] = {
      nullptr,     "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
  if (sig > 0 && sig < 32) return names[sig];
#endif
  return fmt::format("signal {}", sig);
}

}  // namespace

std::string ExitStatus::describe() const {
  std::string out(to_string(reason));
  if (exit_code >= 0) out += fmt::format(" (code {})", exit_code);
  if (signal > 0) {
    out += fmt::format(" ({}{})", signal_name(signal), core_dumped ? ", core dumped" : "");
  }
  const double secs = std::chrono::duration<double>(uptime).count();
  out += fmt::format(" after {:.3f}s", secs);
  if (wall_time_exceeded) {
    out += ", stopped at its wall_time";
  } else if (stop_requested) {
    out += ", stop requested";
  }
  if (oom_kills > 0) out += fmt::format(", {} OOM-killed", oom_kills);
  if (killed_descendants > 0) out += fmt::format(", {} descendants killed", killed_descendants);
  if (escaped_descendants > 0) out += fmt::format(", {} descendants escaped", escaped_descendants);
  if (unreaped) out += ", main process still alive after SIGKILL (left unreaped)";
  return out;
}

}  // namespace supervisor
