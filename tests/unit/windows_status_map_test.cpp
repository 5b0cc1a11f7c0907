// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What Windows reports, in the library's terms (src/windows/status_map.hpp): Win32 spawn errors
// as the errno values Linux reports, and exit codes as the crash reasons Linux reports for
// signals. Pure, on every platform.
#include <supervisor/exit_status.hpp>

#include <cstdint>
#include <string>
#include <system_error>

#include "catch_compat.hpp"
#include "process/exit_classify.hpp"
#include "windows/status_map.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;
namespace sig = supervisor::detail::posix_signal;

namespace {

// The reason the shared table gives a Windows exit, as the process layer would ask it.
sv::ExitReason reason_of(std::uint32_t code, bool stop_requested = false, bool final_kill = false) {
  const sv::detail::LeaderExit e = d::leader_exit_of(code);
  d::ExitFacts f;
  f.exit_code = e.exit_code;
  f.signal = e.signal;
  f.kill_signal = e.kill_signal;
  f.stop_requested = stop_requested;
  f.final_kill = final_kill;
  return d::classify_exit(f);
}

}  // namespace

TEST_CASE("Windows spawn errors: the errno Linux reports for the same failure", "[unit][windows]") {
  struct Row {
    std::uint32_t win32;
    std::errc linux_errno;
  };
  const Row rows[] = {
      {2, std::errc::no_such_file_or_directory},  // ERROR_FILE_NOT_FOUND: no such program
      {3, std::errc::no_such_file_or_directory},  // ERROR_PATH_NOT_FOUND: nor its folder / cwd
      {5, std::errc::permission_denied},          // ERROR_ACCESS_DENIED
      {193, std::errc::executable_format_error},  // ERROR_BAD_EXE_FORMAT: ENOEXEC
      {216, std::errc::executable_format_error},  // ERROR_EXE_MACHINE_TYPE_MISMATCH
      {267, std::errc::not_a_directory},          // ERROR_DIRECTORY: the cwd is a file
      {206, std::errc::filename_too_long},        // ERROR_FILENAME_EXCED_RANGE
      {32, std::errc::text_file_busy},            // ERROR_SHARING_VIOLATION: ETXTBSY
      {8, std::errc::not_enough_memory},
  };
  for (const Row& r : rows) {
    INFO("Win32 error " << r.win32);
    REQUIRE(d::errc_of_win32(r.win32).has_value());
    CHECK(*d::errc_of_win32(r.win32) == r.linux_errno);
    const std::error_code ec = d::win32_error(r.win32, sv::errc::spawn_failed);
    CHECK(ec == r.linux_errno);
    // What the Linux backend reports (errno in the system category) is the same condition.
    CHECK(ec.default_error_condition() ==
          std::make_error_code(r.linux_errno).default_error_condition());
  }
  CHECK(d::win32_error_note(2) == "Win32 error 2 ERROR_FILE_NOT_FOUND");
  CHECK(d::win32_error_note(193) == "Win32 error 193 ERROR_BAD_EXE_FORMAT");
  // One the table does not know: the caller's fallback, and the number in the message.
  CHECK_FALSE(d::errc_of_win32(1234567).has_value());
  CHECK(d::win32_error(1234567, sv::errc::spawn_failed) == sv::errc::spawn_failed);
  CHECK(d::win32_error_name(1234567) == nullptr);
  CHECK(d::win32_error_note(1234567) == "Win32 error 1234567");
}

TEST_CASE("Windows exit codes: crash codes are the signals Linux reports, the code kept",
          "[unit][windows]") {
  struct Row {
    std::uint32_t code;
    int signal;
  };
  const Row rows[] = {
      {0xC0000005, sig::sigsegv},  // STATUS_ACCESS_VIOLATION
      {0xC00000FD, sig::sigsegv},  // STATUS_STACK_OVERFLOW
      {0xC000001D, sig::sigill},   // STATUS_ILLEGAL_INSTRUCTION
      {0xC0000096, sig::sigill},   // STATUS_PRIVILEGED_INSTRUCTION
      {0xC0000094, sig::sigfpe},   // STATUS_INTEGER_DIVIDE_BY_ZERO
      {0xC000008E, sig::sigfpe},   // STATUS_FLOAT_DIVIDE_BY_ZERO
      {0xC0000090, sig::sigfpe},   // STATUS_FLOAT_INVALID_OPERATION
      {0xC0000374, sig::sigabrt},  // STATUS_HEAP_CORRUPTION
      {0xC0000409, sig::sigabrt},  // STATUS_STACK_BUFFER_OVERRUN: fail-fast, the UCRT's abort()
      {0xC000013A, sig::sigint},   // STATUS_CONTROL_C_EXIT
      {0xC0000006, sig::sigbus},   // STATUS_IN_PAGE_ERROR
      {0x80000003, sig::sigtrap},  // STATUS_BREAKPOINT
  };
  for (const Row& r : rows) {
    INFO("exit code " << r.code);
    const d::LeaderExit e = d::leader_exit_of(r.code);
    CHECK(e.observed);
    CHECK(e.signal == r.signal);
    CHECK(e.exit_code == -1);
    CHECK_FALSE(e.kill_signal);
    CHECK_FALSE(e.core_dumped);
    CHECK(e.native_code == r.code);
    CHECK(d::exit_code_name(r.code) != nullptr);
    CHECK(reason_of(r.code) == sv::ExitReason::signal);
  }
  CHECK(std::string(d::exit_code_name(0xC0000005)) == "STATUS_ACCESS_VIOLATION");
  // The POSIX numbers, as Linux has them.
  CHECK(sig::sigsegv == 11);
  CHECK(sig::sigabrt == 6);
  CHECK(sig::sigkill == 9);
}

TEST_CASE("Windows exit codes: other codes are exit codes, whatever their size",
          "[unit][windows]") {
  CHECK(reason_of(0) == sv::ExitReason::success);
  CHECK(reason_of(1) == sv::ExitReason::exit_code);
  // msvcrt's abort() ends with 3: indistinguishable from exit(3), so an exit code (see the header).
  CHECK(d::leader_exit_of(3).exit_code == 3);
  CHECK(reason_of(3) == sv::ExitReason::exit_code);
  // exit(-1): 0xFFFFFFFF, the int the program passed, and the code whole.
  const d::LeaderExit minus_one = d::leader_exit_of(0xFFFFFFFF);
  CHECK(minus_one.exit_code == -1);
  CHECK(minus_one.signal == 0);
  CHECK(minus_one.native_code == 0xFFFFFFFFU);
  CHECK(reason_of(0xFFFFFFFF) == sv::ExitReason::exit_code);
  // A loader failure (STATUS_DLL_NOT_FOUND) is no crash of the program: an exit code.
  CHECK(d::leader_exit_of(0xC0000135).signal == 0);
  CHECK(reason_of(0xC0000135) == sv::ExitReason::exit_code);
}

TEST_CASE("Windows exit codes: the library's own kill is SIGKILL's analogue", "[unit][windows]") {
  const d::LeaderExit e = d::leader_exit_of(d::k_kill_exit_code);
  CHECK(e.kill_signal);
  CHECK(e.signal == sig::sigkill);
  CHECK(e.exit_code == -1);
  // As on Linux: a stop that ran out and killed -> timeout; a kill with no stop -> signal.
  CHECK(reason_of(d::k_kill_exit_code, true, true) == sv::ExitReason::timeout);
  CHECK(reason_of(d::k_kill_exit_code) == sv::ExitReason::signal);
}

TEST_CASE("Windows exit codes: describe() names the signal and keeps the code", "[unit][windows]") {
  sv::ExitStatus s;
  s.reason = sv::ExitReason::signal;
  s.signal = sig::sigsegv;
  s.native_code = 0xC0000005;
  CHECK(s.describe() == "signal (SIGSEGV, 0xC0000005) after 0.000s");
  sv::ExitStatus minus_one;
  minus_one.reason = sv::ExitReason::exit_code;
  minus_one.exit_code = -1;
  minus_one.native_code = 0xFFFFFFFF;
  CHECK(minus_one.describe() == "exit-code (code 0xFFFFFFFF) after 0.000s");
  // Without a native code (every POSIX status), nothing changes.
  sv::ExitStatus posix;
  posix.reason = sv::ExitReason::signal;
  posix.signal = 11;
  CHECK(posix.describe() == "signal (SIGSEGV) after 0.000s");
}
