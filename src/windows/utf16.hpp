// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// UTF-8 <-> UTF-16, for the Windows backend's wide API calls (CreateProcessW's command line,
// environment block and paths). Pure and portable: std::u16string, no wchar_t (which is 16 bits
// on Windows and 32 elsewhere), so the rules are unit-tested on every platform.
//
// The two directions are not symmetric, on purpose:
// - UTF-8 -> UTF-16 is what the library passes to Windows from a spec. Invalid UTF-8 (a stray
//   continuation byte, a truncated sequence, an overlong form, an encoded surrogate, a value
//   above U+10FFFF) is the spec's error: errc::invalid_spec naming the field and the byte
//   offset, never silently replaced (a replaced byte would start a different program, or set a
//   different variable, than the one asked for).
// - UTF-16 -> UTF-8 is what the library reads back from Windows (a path, a message, a host's
//   variable for a message): Windows itself does not require UTF-16 to be well formed, and the
//   library cannot refuse what the OS holds, so a lone surrogate becomes U+FFFD. Nothing read
//   this way is ever passed back to Windows (the environment block keeps the host's UTF-16
//   entries as they are: src/windows/env_block.hpp).

#include <string>
#include <string_view>

#include <supervisor/error.hpp>

namespace supervisor::detail {

// `s` in UTF-16; on invalid UTF-8 sets `err` (errc::invalid_spec: "`field`: invalid UTF-8 at
// byte N") and returns what was converted before it.
[[nodiscard]] std::u16string utf8_to_utf16(std::string_view s, std::string_view field,
                                           ErrorSink& err);

// `s` in UTF-8; a lone surrogate becomes U+FFFD (EF BF BD). Never fails.
[[nodiscard]] std::string utf16_to_utf8(std::u16string_view s);

}  // namespace supervisor::detail
