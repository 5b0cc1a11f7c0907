// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The persisted registry of live workers: one text file that names the boot, the host and every
// worker. If the host dies without its sentinel finishing the job (e.g. the machine's OOM killer
// took both), the next start of the host sweeps what the file names.
//
// Nothing in the file is trusted as it is: a planted file must never make a (root) host kill.
// - The file lives in a directory the host owns: mode 0700 (no group or other bit), owner the
//   effective uid, checked with fstat on the opened directory, opened without following a symlink
//   at any component (openat2 RESOLVE_NO_SYMLINKS, else component by component with O_NOFOLLOW).
//   The last component is created (0700) when missing.
// - The file itself: a regular file with one link, owned by the effective uid, writable by no
//   group or other; the host writes it 0600, replacing it atomically (temp file, rename).
// - `<file>.lock`, flock()ed for the registry's life: two hosts never share a registry.
// - Entries carry the boot id (/proc/sys/kernel/random/boot_id); after a reboot every entry is
//   stale and ignored. Version 1 files (no boot id) are read, their entries ignored.
// - A worker is signalled only when it is not the host, one of its ancestors or PID 1, still the
//   process that started at the recorded time, and still inside what the entry recorded: its
//   cgroup (which must lie below the host's own cgroup bases, opened component by component
//   without following symlinks, in a base named after the recorded host) or, without one, its
//   process group (which must not be the host's). A gone worker's group is swept only while the
//   recorded host is gone too (its PID free, or ours): a live process with that PID may be a host
//   that made a base of the same name.
// A refused file is a typed error; a refused entry is counted and reported, never a kill.
//
// Format, version 2 (one entry a line, fields separated by one space):
//   supervisor-registry 2
//   boot <boot id>
//   host <pid> <start-ticks>
//   worker <pid> <start-ticks> <pgid> <cgroup directory (may hold spaces) or ->
// <start-ticks>: field 22 of /proc/<pid>/stat. The cgroup directory is absolute, with no empty,
// "." or ".." component.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/error.hpp>

#include <supervisor/export.hpp>

#include "../posix/unique_fd.hpp"

namespace supervisor::detail {

inline constexpr int registry_format_version = 2;

// The registry's text, parsed (pure: no file, no process is looked at; a fuzz target calls it).
struct RegistryWorker {
  std::int64_t pid = 0;
  std::uint64_t start = 0;
  std::int64_t pgid = 0;
  std::string cgroup;  // "-": none
  std::size_t line = 0;
};
struct RegistryIssue {
  std::size_t line = 0;  // 1-based; 0: the file as a whole
  std::error_code code;
  std::string message;
};
struct RegistryText {
  int version = 0;
  std::string boot_id;  // empty in version 1
  bool has_host = false;
  std::int64_t host_pid = 0;
  std::uint64_t host_start = 0;
  std::vector<RegistryWorker> workers;
  // Lines refused (skipped). With `unusable` set, the file as a whole is refused (bad header).
  std::vector<RegistryIssue> issues;
  bool unusable = false;
};
[[nodiscard]] RegistryText parse_registry(std::string_view text);

struct SweepResult {
  int processes_killed = 0;  // verified leftovers SIGKILLed
  int groups_removed = 0;    // leftover cgroups killed and removed
  int stale_entries = 0;     // entries whose process was gone, or from another boot (not touched)
  int refused_entries = 0;   // entries refused: malformed, or naming what they may not (untouched)
  std::string notes;         // why entries were refused or ignored (the first few)
};

// Where the sweep may touch cgroups: below `v2_root` (the host's own cgroup v2 group, where the
// "supervisor-<pid>-<n>" bases live) and below `custom_base` (LinuxLoopOptions::cgroup_base).
// `self_dir`: the host's own group, never touched.
struct SweepRoots {
  std::string v2_root;
  std::string custom_base;
  std::string self_dir;
};

class Registry {
 public:
  // Opens (and sweeps) the registry at `path`. Errors: an untrusted directory or file
  // (errc::untrusted; a symlink: ELOOP), a malformed header (errc::invalid_argument), or a
  // registry locked by another host, or whose host is still alive (errc::already_running).
  void open(const std::string& path, const SweepRoots& roots, SweepResult& swept, ErrorSink& err);
  // Any thread (the posix_spawn path records a child on the thread that started it).
  void add(pid_t pid, pid_t pgid, const std::string& cgroup);
  void remove(pid_t pid);
  // Removes the file and its lock: a clean stop leaves nothing to sweep.
  void close();
  [[nodiscard]] bool enabled() const noexcept { return static_cast<bool>(dir_); }

 private:
  void write();
  struct Entry {
    std::uint64_t start = 0;
    pid_t pgid = 0;
    std::string cgroup;
  };
  std::string path_;
  std::string name_;  // the file's name in dir_
  UniqueFd dir_;
  UniqueFd lock_;
  std::string boot_id_;
  std::uint64_t host_start_ = 0;
  std::mutex mu_;  // add/remove/write
  std::map<pid_t, Entry> workers_;
};

}  // namespace supervisor::detail
