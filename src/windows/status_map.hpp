// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What Windows reports, in the library's terms, as tables (status_map.cpp). Pure and portable: the
// Win32 and NTSTATUS values are written out here (no OS header), so the tables are unit-tested on
// every platform.
//
// (a) A Win32 error of a failed CreateProcessW or file open -> the std::errc the Linux backend
//     reports for the same case (std::error_code(errno, system_category()) there, which compares
//     equal to these): a missing program ENOENT, a refused one EACCES, a bad executable ENOEXEC
//     (std::errc::executable_format_error), a bad working directory ENOTDIR / ENOENT, and so on.
//     The Win32 code stays in the message (win32_error_note). CreateProcessW answers
//     ERROR_DIRECTORY (ENOTDIR here) for a working directory that is missing as well as for one
//     that is a file: the backend looks at it (GetFileAttributesW) to report ENOENT for a missing
//     one, as the Linux backend looks after a failed chdir.
// (b) A process's exit code (GetExitCodeProcess) -> LeaderExit, as the Linux backend fills it
//     from waitid: a crash's NTSTATUS (STATUS_ACCESS_VIOLATION, STATUS_STACK_OVERFLOW, ...) is
//     the signal Linux sends for the same fault, with the code kept in `native_code`; the
//     library's own kill (TerminateJobObject / TerminateProcess with k_kill_exit_code) is the
//     uncatchable kill, SIGKILL's analogue; any other code is an exit code.
//
// The signal numbers are the POSIX ones Linux uses (SIGINT 2, SIGILL 4, SIGABRT 6, SIGBUS 7,
// SIGFPE 8, SIGKILL 9, SIGSEGV 11, SIGTRAP 5): the same numbers a Linux host sees for the same
// crash, and the MSVC runtime's own <signal.h> values too, but for SIGABRT, which it calls 22
// and also SIGABRT_COMPAT 6.
//
// Which code is which signal follows the MSVC runtime's own table of exceptions to signals
// (access violation -> SIGSEGV, illegal and privileged instruction -> SIGILL, float and integer
// faults -> SIGFPE), with what the runtime reports by fail-fast (STATUS_STACK_BUFFER_OVERRUN:
// abort() and /GS failures in the Universal CRT, STATUS_FATAL_APP_EXIT, heap corruption, an
// invalid CRT parameter, a failed assertion) as SIGABRT, and a console Ctrl+C / Ctrl+Break
// (STATUS_CONTROL_C_EXIT) as SIGINT.
//
// Exit code 3 stays an exit code, although msvcrt.dll's abort() (mingw's) ends with it: it is
// indistinguishable from exit(3), which is common, and calling every exit(3) a crash would be
// worse than calling an old runtime's abort() an exit code. The Universal CRT's abort() ends
// with STATUS_STACK_BUFFER_OVERRUN (fail-fast), which is SIGABRT here.
//
// Exit codes are 32 bits on Windows: one above INT_MAX that is no crash (exit(-1) gives
// 0xFFFFFFFF, a loader failure STATUS_DLL_NOT_FOUND 0xC0000135) is held in `exit_code` as the
// int the program passed (two's complement: -1), and unsigned in `native_code`.

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "../process/backend.hpp"

namespace supervisor::detail {

// The exit code the library terminates a job or process with (TerminateJobObject,
// TerminateProcess): an NTSTATUS-shaped value with the customer bit set (0xE...), so no
// Microsoft status and no plausible exit() argument is mistaken for it. "SV" and 9, for SIGKILL.
inline constexpr std::uint32_t k_kill_exit_code = 0xE0535609;

// The POSIX signal numbers of the header's comment.
namespace posix_signal {
inline constexpr int sigint = 2;
inline constexpr int sigill = 4;
inline constexpr int sigtrap = 5;
inline constexpr int sigabrt = 6;
inline constexpr int sigbus = 7;
inline constexpr int sigfpe = 8;
inline constexpr int sigkill = 9;
inline constexpr int sigsegv = 11;
inline constexpr int sigxcpu =
    24;  // Linux's number (x86, arm): a job's time limit (job_limit_math.hpp)
}  // namespace posix_signal

// (a) The std::errc of a Win32 error, or nothing for one the table does not know.
[[nodiscard]] std::optional<std::errc> errc_of_win32(std::uint32_t win32) noexcept;
// The error to report: std::make_error_code(errc) when the table knows it, else `fallback`.
[[nodiscard]] std::error_code win32_error(std::uint32_t win32, std::error_code fallback) noexcept;
// The Win32 error's symbolic name ("ERROR_FILE_NOT_FOUND"), or null when the table lacks it.
[[nodiscard]] const char* win32_error_name(std::uint32_t win32) noexcept;
// For messages: "Win32 error 2 ERROR_FILE_NOT_FOUND" (the name when known).
[[nodiscard]] std::string win32_error_note(std::uint32_t win32);

// (b) The signal a crash code stands for, or 0 when `code` is no crash.
[[nodiscard]] int signal_of_exit_code(std::uint32_t code) noexcept;
// The NTSTATUS's name ("STATUS_ACCESS_VIOLATION") for a code of the crash table (or the
// library's kill code), else null.
[[nodiscard]] const char* exit_code_name(std::uint32_t code) noexcept;
// LeaderExit for a process's exit code (observed; no usage figures).
[[nodiscard]] LeaderExit leader_exit_of(std::uint32_t code) noexcept;

}  // namespace supervisor::detail
