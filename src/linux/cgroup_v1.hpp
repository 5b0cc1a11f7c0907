// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The cgroup-v1 layer of the Linux backend (private), for limits on hybrid hosts whose memory,
/// pids and cpu controllers sit on v1 hierarchies. Tree containment stays with cgroup v2 (or the
/// process group): v1 groups here only carry limits and their counters.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/error.hpp>

#include "../posix/unique_fd.hpp"

namespace supervisor::detail {

/// Where the v1 hierarchy of one controller is mounted and where this process sits in it.
struct CgroupV1Hierarchy {
  std::string controller;     ///< e.g. `memory`
  std::string mount_point;    ///< e.g. `/sys/fs/cgroup/memory`
  std::string self_relative;  ///< This process's group relative to the mount, starting with `/`.
  [[nodiscard]] std::string self_dir() const;
};

/// Finds the v1 hierarchy of `controller` and this process's group in it, from the text of
/// /proc/self/mountinfo and /proc/self/cgroup (pure, for tests). nullopt with `why_not` set when
/// there is none usable.
[[nodiscard]] std::optional<CgroupV1Hierarchy> parse_cgroup_v1(std::string_view mountinfo,
                                                               std::string_view proc_self_cgroup,
                                                               std::string_view controller,
                                                               std::string* why_not);

/// `parse_cgroup_v1` on the real files, then checks that our group is writable.
[[nodiscard]] std::optional<CgroupV1Hierarchy> find_cgroup_v1(std::string_view controller,
                                                              std::string* why_not);

/// One group this process created in one v1 hierarchy, e.g. the memory group of one worker
/// incarnation. Move-only; the destructor leaves the directory (call `remove()` once it is empty).
class CgroupV1Group {
 public:
  CgroupV1Group() = default;
  /// Creates `parent_dir/name`; `EEXIST` is an error. On failure reports through `err`.
  [[nodiscard]] static CgroupV1Group create(std::string controller, const std::string& parent_dir,
                                            const std::string& name, ErrorSink& err);

  [[nodiscard]] bool valid() const noexcept { return !path_.empty() && !removed_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& controller() const noexcept { return controller_; }

  /// Writes `text` to the group's file `name`; returns 0 or the errno (reported through `err`).
  int write(const char* name, std::string_view text, ErrorSink& err);
  /// A number file (e.g. `memory.usage_in_bytes`); nullopt when missing or unreadable.
  [[nodiscard]] std::optional<std::uint64_t> number(const char* name) const;
  /// One key of a keyed file (e.g. `oom_kill` in `memory.oom_control`).
  [[nodiscard]] std::optional<std::uint64_t> keyed(const char* name, std::string_view key) const;
  /// A whole file's text ("" when missing or unreadable), for several keys from one read.
  [[nodiscard]] std::string text(const char* name) const;
  /// cgroup.procs opened for writing (`O_WRONLY|O_CLOEXEC`): the child writes "0" to it before
  /// execve to join the group.
  [[nodiscard]] UniqueFd open_procs(ErrorSink& err) const;
  /// Moves process `pid` into the group (after a posix_spawn, which cannot join before exec).
  void add_process(int pid, ErrorSink& err);
  /// Processes in the group.
  [[nodiscard]] std::vector<int> procs() const;
  /// Removes the directory; false with no error while it still has processes (`EBUSY`).
  bool remove(ErrorSink& err);

 private:
  std::string controller_;
  std::string path_;
  bool removed_ = false;
};

}  // namespace supervisor::detail
