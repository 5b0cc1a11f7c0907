// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "status_map.hpp"

#include <fmt/format.h>

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

struct Win32Row {
  std::uint32_t code;
  const char* name;
  std::errc errc;
};

// Win32 errors (winerror.h) that CreateProcessW and CreateFileW report, and the errno the Linux
// backend reports for the same failure (execve(2), open(2), chdir(2)).
SUPERVISOR_INLINE constexpr Win32Row k_win32_rows[] = {
    {2, "ERROR_FILE_NOT_FOUND", std::errc::no_such_file_or_directory},
    {3, "ERROR_PATH_NOT_FOUND", std::errc::no_such_file_or_directory},
    {4, "ERROR_TOO_MANY_OPEN_FILES", std::errc::too_many_files_open},
    {5, "ERROR_ACCESS_DENIED", std::errc::permission_denied},
    {6, "ERROR_INVALID_HANDLE", std::errc::bad_file_descriptor},
    {8, "ERROR_NOT_ENOUGH_MEMORY", std::errc::not_enough_memory},
    {11, "ERROR_BAD_FORMAT", std::errc::executable_format_error},
    {14, "ERROR_OUTOFMEMORY", std::errc::not_enough_memory},
    {15, "ERROR_INVALID_DRIVE", std::errc::no_such_file_or_directory},
    {19, "ERROR_WRITE_PROTECT", std::errc::read_only_file_system},
    // An executable open for writing elsewhere: Linux's ETXTBSY.
    {32, "ERROR_SHARING_VIOLATION", std::errc::text_file_busy},
    {39, "ERROR_HANDLE_DISK_FULL", std::errc::no_space_on_device},
    {50, "ERROR_NOT_SUPPORTED", std::errc::not_supported},
    {53, "ERROR_BAD_NETPATH", std::errc::no_such_file_or_directory},
    {80, "ERROR_FILE_EXISTS", std::errc::file_exists},
    {87, "ERROR_INVALID_PARAMETER", std::errc::invalid_argument},
    {109, "ERROR_BROKEN_PIPE", std::errc::broken_pipe},
    {112, "ERROR_DISK_FULL", std::errc::no_space_on_device},
    {123, "ERROR_INVALID_NAME", std::errc::invalid_argument},
    // "The specified program cannot be run in Win32 mode" (a 16-bit or DOS program).
    {129, "ERROR_CHILD_NOT_COMPLETE", std::errc::executable_format_error},
    {145, "ERROR_DIR_NOT_EMPTY", std::errc::directory_not_empty},
    {161, "ERROR_BAD_PATHNAME", std::errc::no_such_file_or_directory},
    {183, "ERROR_ALREADY_EXISTS", std::errc::file_exists},
    {191, "ERROR_INVALID_EXE_SIGNATURE", std::errc::executable_format_error},
    {192, "ERROR_EXE_MARKED_INVALID", std::errc::executable_format_error},
    {193, "ERROR_BAD_EXE_FORMAT", std::errc::executable_format_error},
    {206, "ERROR_FILENAME_EXCED_RANGE", std::errc::filename_too_long},
    {216, "ERROR_EXE_MACHINE_TYPE_MISMATCH", std::errc::executable_format_error},
    {232, "ERROR_NO_DATA", std::errc::broken_pipe},
    // lpCurrentDirectory is not a directory (a file): chdir's ENOTDIR.
    {267, "ERROR_DIRECTORY", std::errc::not_a_directory},
    {740, "ERROR_ELEVATION_REQUIRED", std::errc::operation_not_permitted},
    {998, "ERROR_NOACCESS", std::errc::bad_address},
    {1314, "ERROR_PRIVILEGE_NOT_HELD", std::errc::operation_not_permitted},
    {1450, "ERROR_NO_SYSTEM_RESOURCES", std::errc::resource_unavailable_try_again},
    {1455, "ERROR_COMMITMENT_LIMIT", std::errc::not_enough_memory},
    {1921, "ERROR_CANT_RESOLVE_FILENAME", std::errc::too_many_symbolic_link_levels},
};

struct ExitRow {
  std::uint32_t code;
  const char* name;
  int signal;
};

// NTSTATUS values (ntstatus.h) a process ends with when it crashes, and the signal Linux sends
// for the same fault (see the header for the choices).
SUPERVISOR_INLINE constexpr ExitRow k_exit_rows[] = {
    {0x40000015, "STATUS_FATAL_APP_EXIT", posix_signal::sigabrt},
    {0x80000001, "STATUS_GUARD_PAGE_VIOLATION", posix_signal::sigsegv},
    {0x80000002, "STATUS_DATATYPE_MISALIGNMENT", posix_signal::sigbus},
    {0x80000003, "STATUS_BREAKPOINT", posix_signal::sigtrap},
    {0x80000004, "STATUS_SINGLE_STEP", posix_signal::sigtrap},
    {0xC0000005, "STATUS_ACCESS_VIOLATION", posix_signal::sigsegv},
    {0xC0000006, "STATUS_IN_PAGE_ERROR", posix_signal::sigbus},
    {0xC000001D, "STATUS_ILLEGAL_INSTRUCTION", posix_signal::sigill},
    {0xC000008C, "STATUS_ARRAY_BOUNDS_EXCEEDED", posix_signal::sigsegv},
    {0xC000008D, "STATUS_FLOAT_DENORMAL_OPERAND", posix_signal::sigfpe},
    {0xC000008E, "STATUS_FLOAT_DIVIDE_BY_ZERO", posix_signal::sigfpe},
    {0xC000008F, "STATUS_FLOAT_INEXACT_RESULT", posix_signal::sigfpe},
    {0xC0000090, "STATUS_FLOAT_INVALID_OPERATION", posix_signal::sigfpe},
    {0xC0000091, "STATUS_FLOAT_OVERFLOW", posix_signal::sigfpe},
    {0xC0000092, "STATUS_FLOAT_STACK_CHECK", posix_signal::sigfpe},
    {0xC0000093, "STATUS_FLOAT_UNDERFLOW", posix_signal::sigfpe},
    {0xC0000094, "STATUS_INTEGER_DIVIDE_BY_ZERO", posix_signal::sigfpe},
    {0xC0000095, "STATUS_INTEGER_OVERFLOW", posix_signal::sigfpe},
    {0xC0000096, "STATUS_PRIVILEGED_INSTRUCTION", posix_signal::sigill},
    {0xC00000FD, "STATUS_STACK_OVERFLOW", posix_signal::sigsegv},
    {0xC000013A, "STATUS_CONTROL_C_EXIT", posix_signal::sigint},
    {0xC00002B4, "STATUS_FLOAT_MULTIPLE_FAULTS", posix_signal::sigfpe},
    {0xC00002B5, "STATUS_FLOAT_MULTIPLE_TRAPS", posix_signal::sigfpe},
    {0xC0000374, "STATUS_HEAP_CORRUPTION", posix_signal::sigabrt},
    {0xC0000409, "STATUS_STACK_BUFFER_OVERRUN", posix_signal::sigabrt},
    {0xC0000417, "STATUS_INVALID_CRUNTIME_PARAMETER", posix_signal::sigabrt},
    {0xC0000420, "STATUS_ASSERTION_FAILURE", posix_signal::sigabrt},
    {k_kill_exit_code, "the library's kill", posix_signal::sigkill},
};

SUPERVISOR_INLINE const Win32Row* win32_row(std::uint32_t code) noexcept {
  for (const Win32Row& r : k_win32_rows) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

SUPERVISOR_INLINE const ExitRow* exit_row(std::uint32_t code) noexcept {
  for (const ExitRow& r : k_exit_rows) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::optional<std::errc> errc_of_win32(std::uint32_t win32) noexcept {
  const Win32Row* r = win32_row(win32);
  return r != nullptr ? std::optional<std::errc>(r->errc) : std::nullopt;
}

SUPERVISOR_INLINE std::error_code win32_error(std::uint32_t win32,
                                              std::error_code fallback) noexcept {
  const Win32Row* r = win32_row(win32);
  return r != nullptr ? std::make_error_code(r->errc) : fallback;
}

SUPERVISOR_INLINE const char* win32_error_name(std::uint32_t win32) noexcept {
  const Win32Row* r = win32_row(win32);
  return r != nullptr ? r->name : nullptr;
}

SUPERVISOR_INLINE std::string win32_error_note(std::uint32_t win32) {
  const char* name = win32_error_name(win32);
  return name != nullptr ? fmt::format("Win32 error {} {}", win32, name)
                         : fmt::format("Win32 error {}", win32);
}

SUPERVISOR_INLINE int signal_of_exit_code(std::uint32_t code) noexcept {
  const ExitRow* r = exit_row(code);
  return r != nullptr ? r->signal : 0;
}

SUPERVISOR_INLINE const char* exit_code_name(std::uint32_t code) noexcept {
  const ExitRow* r = exit_row(code);
  return r != nullptr ? r->name : nullptr;
}

SUPERVISOR_INLINE LeaderExit leader_exit_of(std::uint32_t code) noexcept {
  LeaderExit e;
  e.native_code = code;
  e.signal = signal_of_exit_code(code);
  e.kill_signal = code == k_kill_exit_code;
  // Not a crash: the exit code, as the int the program passed to exit() (see the header).
  e.exit_code = e.signal == 0 ? static_cast<int>(code) : -1;
  return e;
}

}  // namespace supervisor::detail
