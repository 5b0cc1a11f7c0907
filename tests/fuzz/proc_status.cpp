// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// /proc/PID/status "Name:\tvalue" lines. The library reads none (it samples /proc/PID/stat); the
// tests' leak audit does (tests/support/leak_audit.hpp: Threads, and the helper child's fields),
// and the "Name:" line holds what the process called itself.
#include <string>

#include "fuzz_check.hpp"
#include "leak_audit.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = supervisor::fuzz::as_text(data, size);
  for (const std::string_view name : {"Name", "Threads", "PPid", "VmRSS", "SigBlk"}) {
    const auto value = supervisor::testing::leak_detail::status_field(text, name);
    if (!value) continue;
    // One line's value, found after "Name:" in the text.
    SUPERVISOR_FUZZ_CHECK(value->find('\n') == std::string::npos);
    SUPERVISOR_FUZZ_CHECK(supervisor::fuzz::contains(text, std::string(name) + ":"));
    SUPERVISOR_FUZZ_CHECK(supervisor::fuzz::contains(text, *value));
  }
  return 0;
}
