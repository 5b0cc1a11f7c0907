// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The registry file (src/linux/registry.cpp): whatever a dead host, a half-written file or a
// planted one holds. The parser is pure; what it keeps must be what a sweep may act on.
#include "linux/registry.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = supervisor::fuzz::as_text(data, size);
  const auto parsed = supervisor::detail::parse_registry(text);
  for (const auto& w : parsed.workers) {
    // Only PIDs a process can have, and a cgroup that is "-" or an absolute path.
    SUPERVISOR_FUZZ_CHECK(w.pid > 0);
    SUPERVISOR_FUZZ_CHECK(w.line >= 1);
    SUPERVISOR_FUZZ_CHECK(w.cgroup == "-" || (!w.cgroup.empty() && w.cgroup.front() == '/'));
    SUPERVISOR_FUZZ_CHECK(w.cgroup.find("/../") == std::string::npos);
  }
  for (const auto& issue : parsed.issues) SUPERVISOR_FUZZ_CHECK(static_cast<bool>(issue.code));
  return 0;
}
