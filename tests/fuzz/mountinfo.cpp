// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// /proc/self/mountinfo (src/linux/cgroupfs.cpp): parse_mounts, parse_mount_line, the octal
// escapes of unescape_mountinfo, and hidden_by. Paths in it are whatever anyone mounted on.
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "linux/cgroupfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cgroupfs = supervisor::detail::cgroupfs;
  const std::string_view text = supervisor::fuzz::as_text(data, size);

  // An escape turns four bytes into one; nothing else changes size.
  const std::string unescaped = cgroupfs::unescape_mountinfo(text);
  SUPERVISOR_FUZZ_CHECK(unescaped.size() <= text.size());
  SUPERVISOR_FUZZ_CHECK((text.size() - unescaped.size()) % 3 == 0);
  if (text.find('\\') == std::string_view::npos) SUPERVISOR_FUZZ_CHECK(unescaped == text);

  const std::vector<cgroupfs::MountLine> mounts = cgroupfs::parse_mounts(text);
  SUPERVISOR_FUZZ_CHECK(mounts.size() <= text.size() / 8 + 1);
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const cgroupfs::MountLine& mount = mounts[i];
    SUPERVISOR_FUZZ_CHECK(!mount.fstype.empty());
    SUPERVISOR_FUZZ_CHECK(supervisor::fuzz::contains(text, mount.fstype));
    SUPERVISOR_FUZZ_CHECK(mount.root.size() <= text.size() &&
                          mount.mount_point.size() <= text.size());
    if (const cgroupfs::MountLine* hider = cgroupfs::hidden_by(mounts, i)) {
      SUPERVISOR_FUZZ_CHECK(hider > &mounts[i] && hider <= &mounts.back());
      SUPERVISOR_FUZZ_CHECK(cgroupfs::is_path_prefix(hider->mount_point, mount.mount_point));
    }
  }
  return 0;
}
