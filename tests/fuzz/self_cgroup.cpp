// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Finding this process's cgroup (src/linux/cgroup_v2.cpp, cgroup_v1.cpp) from the text of
// /proc/self/mountinfo and /proc/self/cgroup: parse_cgroup_v2, and parse_cgroup_v1 for each
// controller the limits use. The input is both files, split at the first NUL byte.
#include <string>

#include "fuzz_check.hpp"
#include "linux/cgroup_v1.hpp"
#include "linux/cgroup_v2.hpp"
#include "linux/cgroupfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace detail = supervisor::detail;
  const std::string_view text = supervisor::fuzz::as_text(data, size);
  const auto nul = text.find('\0');
  const std::string_view mountinfo = text.substr(0, nul);
  const std::string_view self = nul == std::string_view::npos ? "" : text.substr(nul + 1);

  std::string why_not;
  const auto v2 = detail::parse_cgroup_v2(mountinfo, self, &why_not);
  SUPERVISOR_FUZZ_CHECK(v2.has_value() == why_not.empty());  // a refusal always says why
  if (v2) {
    SUPERVISOR_FUZZ_CHECK(!v2->self_relative.empty() && v2->self_relative.front() == '/');
    const std::string dir = v2->self_dir();
    SUPERVISOR_FUZZ_CHECK(dir.find("//") == std::string::npos);
    const std::string mount_point = detail::cgroupfs::join_normalised(v2->mount_point, "");
    SUPERVISOR_FUZZ_CHECK(detail::cgroupfs::is_path_prefix(mount_point, dir));
  }
  for (const char* controller : {"memory", "pids", "cpu"}) {
    why_not.clear();
    const auto v1 = detail::parse_cgroup_v1(mountinfo, self, controller, &why_not);
    SUPERVISOR_FUZZ_CHECK(v1.has_value() == why_not.empty());
    if (v1) {
      SUPERVISOR_FUZZ_CHECK(v1->controller == controller);
      SUPERVISOR_FUZZ_CHECK(!v1->self_relative.empty() && v1->self_relative.front() == '/');
      SUPERVISOR_FUZZ_CHECK(v1->self_dir().find("//") == std::string::npos);
    }
  }
  return 0;
}
