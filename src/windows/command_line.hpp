// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// argv -> the one command line CreateProcessW takes, and back. Pure and portable (no OS header),
// so the rules are unit-tested on every platform; the windows stage also checks them against
// real children under Wine (tests/unit/windows_argv_wine_test.cpp).
//
// The child splits the line itself, with its C runtime's rules: the ones below are the MSVC
// runtime's since 2008 (Microsoft's "Parsing C++ command-line arguments"), which
// CommandLineToArgvW and older runtimes (msvcrt.dll) agree with on every line this quoting makes.
//
// argv[0], the program name, is split by its own rule: it runs to the first space or tab outside
// double quotes; quotes only group, and backslashes are literal (a path such as `C:\dir\` ends in
// one). So it is written as it is, inside quotes when it is empty or holds a space or tab. A
// program name holding a `"` cannot be written at all (errc::invalid_spec naming
// ProcessSpec.argv[0]): no escape exists for it, and Windows file names cannot contain one.
//
// Every later argument:
// - inside double quotes when it is empty or holds a space or tab (else as it is);
// - a `"` in it is written `\"`;
// - backslashes are literal, except right before a `"`: a run of N backslashes before an
//   embedded quote is written as 2N+1 (N pairs, then the one escaping the quote), and a run
//   at the end of a quoted argument as 2N (so the closing quote stays a delimiter:
//   `C:\dir\` is written `"C:\dir\\"` when it must be quoted, and `C:\dir\` when not).
// Arguments are separated by one space.
//
// Errors, each errc::invalid_spec naming the field: a NUL in an argument (ProcessSpec.argv[i]:
// the line is a NUL-terminated string), invalid UTF-8 (ProcessSpec.argv[i]), an empty argv
// (ProcessSpec.argv), and a line longer than CreateProcessW takes: 32,767 UTF-16 units with its
// terminating NUL (the message gives the limit and the length).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/error.hpp>

namespace supervisor::detail {

// CreateProcessW's limit on lpCommandLine, in UTF-16 units including the terminating NUL.
inline constexpr std::size_t k_command_line_max = 32767;

// The command line for `argv` (UTF-8), in UTF-16 without a terminating NUL (the caller's
// u16string holds one). On error sets `err` and returns an empty string.
[[nodiscard]] std::u16string build_command_line(const std::vector<std::string>& argv,
                                                ErrorSink& err);

// The reference parser: how the MSVC runtime (2008 and later) splits `line` into argv, by the
// rules documented above and by Microsoft; tests check build_command_line against it. A `""`
// inside a quoted part is a literal `"` (the post-2008 rule; the quoting never writes one).
[[nodiscard]] std::vector<std::u16string> parse_command_line(std::u16string_view line);

}  // namespace supervisor::detail
