// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// /proc/PID/stat (src/linux/proc_stat.cpp): the command name in it is the process's own choice
// (prctl PR_SET_NAME, or its file name), spaces and parentheses included.
#include "linux/proc_stat.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = supervisor::fuzz::as_text(data, size);
  const auto stat = supervisor::detail::parse_proc_stat(text);
  if (stat) {
    // The name runs from the first '(' to the last ')': shorter than the text, and inside it.
    SUPERVISOR_FUZZ_CHECK(stat->comm.size() + 2 < text.size());
    SUPERVISOR_FUZZ_CHECK(supervisor::fuzz::contains(text, "(" + stat->comm + ")"));
    SUPERVISOR_FUZZ_CHECK(stat->state != ' ' && stat->state != '\n');
  }
  return 0;
}
