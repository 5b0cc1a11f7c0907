// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The cgroup files the limits and the group samples read (src/linux/cgroup_v2.cpp stats(),
// cgroup_v1.cpp, limits.cpp): flat keyed files through keyed_value (memory.events[.local],
// cpu.stat, pids.events, cgroup.events, v1 memory.oom_control), number files through parse_u64
// (memory.current, memory.peak, pids.current, v1 memory.usage_in_bytes, memory.failcnt),
// cgroup.procs (one PID a line, as procs() reads it), and the controller lists split_spaces
// splits (cgroup.controllers, cgroup.subtree_control).
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fuzz_check.hpp"
#include "linux/cgroupfs.hpp"

namespace {

// The text parse_u64 accepted: digits, then only newlines and spaces.
bool plain_number(std::string_view text, std::uint64_t value) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  return text == fmt::format("{}", value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cgroupfs = supervisor::detail::cgroupfs;
  const std::string_view text = supervisor::fuzz::as_text(data, size);

  if (const auto value = cgroupfs::parse_u64(text))
    SUPERVISOR_FUZZ_CHECK(plain_number(text, *value));

  for (const std::string_view key :
       {"populated", "frozen", "low", "high", "max", "oom", "oom_kill", "oom_group_kill",
        "usage_usec", "user_usec", "system_usec", "nr_periods", "nr_throttled", "throttled_usec",
        "throttled_time", "under_oom"}) {
    if (const auto value = cgroupfs::keyed_value(text, key)) {
      SUPERVISOR_FUZZ_CHECK(supervisor::fuzz::contains(text, std::string(key) + " "));
    }
  }

  std::vector<std::uint64_t> pids;
  for (std::string_view rest = text; !rest.empty();) {
    const std::string_view line = cgroupfs::next_line(rest);
    SUPERVISOR_FUZZ_CHECK(line.find('\n') == std::string_view::npos);
    if (const auto pid = cgroupfs::parse_u64(line)) pids.push_back(*pid);
  }
  SUPERVISOR_FUZZ_CHECK(pids.size() <= text.size() / 2 + 1);

  for (const std::string_view word : cgroupfs::split_spaces(text)) {
    SUPERVISOR_FUZZ_CHECK(!word.empty() && word.find(' ') == std::string_view::npos);
    SUPERVISOR_FUZZ_CHECK(word.data() >= text.data() &&
                          word.data() + word.size() <= text.data() + text.size());
  }
  return 0;
}
