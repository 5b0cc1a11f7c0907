// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/exit_status.hpp>

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <string>
#include <string_view>

namespace supervisor {

static_assert(static_cast<std::size_t>(ExitReason::unknown) + 1 == exit_reason_count,
              "exit_reason_count must follow ExitReason");

SUPERVISOR_INLINE std::string_view to_string(ExitReason r) noexcept {
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

SUPERVISOR_LOCAL_BEGIN

// Signal names for messages. Numbers are the platform's; these are Linux's (and most POSIX
// systems' for the classic ones). On Windows, `signal` holds these same numbers for a crash
// (src/windows/status_map.hpp).
SUPERVISOR_INLINE std::string signal_name(int sig) {
#if defined(__linux__) || defined(_WIN32)
  static constexpr const char* names[] = {
      nullptr,     "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
  if (sig > 0 && sig < 32) return names[sig];
#endif
  return fmt::format("signal {}", sig);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void append_int(std::string& out, long long v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// e.g. 0xC0000005: how Windows writes an NTSTATUS.
SUPERVISOR_INLINE void append_hex(std::string& out, std::uint32_t v) {
  static constexpr char digits[] = "0123456789ABCDEF";
  out += "0x";
  for (int shift = 28; shift >= 0; shift -= 4) out += digits[(v >> shift) & 0xFU];
}

SUPERVISOR_LOCAL_END

// Built by appending: a pool describes every exit on its restart path, so no format parsing and
// no floating-point formatting here.
SUPERVISOR_INLINE std::string ExitStatus::describe() const {
  std::string out;
  out.reserve(64);
  out += to_string(reason);
  if (exit_code >= 0) {
    out += " (code ";
    append_int(out, exit_code);
    out += ')';
  } else if (signal == 0 && native_code != 0) {
    out += " (code ";  // Windows: above INT_MAX, e.g. exit(-1)
    append_hex(out, native_code);
    out += ')';
  }
  if (signal > 0) {
    out += " (";
    out += signal_name(signal);
    if (native_code != 0) {
      out += ", ";  // Windows: the NTSTATUS the crash ended with
      append_hex(out, native_code);
    }
    if (core_dumped) out += ", core dumped";
    out += ')';
  }
  // Uptime in seconds with three decimals, rounded to the nearest millisecond.
  const auto ms = std::chrono::round<std::chrono::milliseconds>(uptime).count();
  const long long abs_ms = ms < 0 ? -ms : ms;
  out += ms < 0 ? " after -" : " after ";
  append_int(out, abs_ms / 1000);
  out += '.';
  const long long frac = abs_ms % 1000;
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
  out += 's';
  if (wall_time_exceeded) {
    out += ", stopped at its wall_time";
  } else if (stop_requested) {
    out += ", stop requested";
  }
  const auto count = [&](long long n, std::string_view what) {
    if (n <= 0) return;
    out += ", ";
    append_int(out, n);
    out += what;
  };
  count(static_cast<long long>(oom_kills), " OOM-killed");
  count(killed_descendants, " descendants killed");
  count(escaped_descendants, " descendants escaped");
  if (unreaped) out += ", main process still alive after SIGKILL (left unreaped)";
  return out;
}

}  // namespace supervisor
