// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Reading cgroupfs and procfs text, shared by the cgroup v2 and v1 layers (private).

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/export.hpp>

namespace supervisor::detail::cgroupfs {

std::error_code os_error(int e);
// The next line of `text` (without its newline), removed from `text`.
std::string_view next_line(std::string_view& text);
std::vector<std::string_view> split_spaces(std::string_view line);
// A decimal number, trailing newline and spaces allowed; nullopt for anything else.
std::optional<std::uint64_t> parse_u64(std::string_view text);
// The value of `key` in a flat keyed file ("key value" lines: cgroup.events, cpu.stat,
// memory.events, memory.oom_control, pids.events).
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);
// Reads a whole file into `out`; returns 0 or the errno.
int read_whole_file(int dir_fd, const char* name, std::string& out);
// Writes `text` to an existing (cgroupfs) file in one write(2); returns 0 or the errno.
int write_file(const std::string& path, std::string_view text);
// Removes the (cgroupfs) directory `dir` and the groups below it, deepest first, at most
// `depth` levels down; a group that still has a process stays (EBUSY), and so do its parents.
// Never follows a symlink. Returns whether `dir` is gone (also when it was already missing).
bool remove_empty_groups(const std::string& dir, int depth = 6);

// The bases of this process: "supervisor-<pid>-<n>" directories made in a host's own cgroup (v2,
// or v1 for limits), one per Loop (per hierarchy). A name carries the PID of the process that
// made it, so one with our PID that this process does not use was left by a dead host that had
// our PID (usual in containers, where hosts have small PIDs): it is reclaimed when empty.
// Creation, release and the stale sweep are serialised process-wide, so that the sweep of one
// Loop never removes the base another Loop just made.
//
// Makes a fresh base in `parent`, numbered from `instance`: a stale empty one in the way is
// removed (counted in `reclaimed`), a populated one skipped (never signalled here: that is the
// registry's job). Returns the path, or empty with `error` set to the errno.
std::string create_own_base(const std::string& parent, std::atomic<unsigned>& instance,
                            int& reclaimed, int& error);
// Forgets a base of ours; removes it and its groups when they are empty. Returns whether gone.
bool release_own_base(const std::string& dir);
// Whether `dir` is a base a Loop of this process uses.
bool is_live_base(const std::string& dir);
// Removes the empty bases in `parent` left by hosts that are gone: a PID that does not exist, or
// ours on a base this process does not use. Returns how many were removed.
int remove_stale_bases(const std::string& parent);

// Joins two paths and collapses doubled slashes.
std::string join_normalised(std::string_view a, std::string_view b);
// Whether `path` is `dir` or below it.
bool is_path_prefix(std::string_view dir, std::string_view path);
// Whether the comma-separated `options` contain `name`.
bool has_option(std::string_view options, std::string_view name);
std::string in_quotes(std::string_view s);

// Decodes the octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash) that
// the kernel writes in /proc/self/mountinfo paths. Other text is copied unchanged.
std::string unescape_mountinfo(std::string_view field);
// One line of /proc/self/mountinfo; the views point into the line's text.
struct MountLine {
  std::string root;
  std::string mount_point;
  std::string_view fstype;
  std::string_view super_options;  // e.g. "rw,memory" for a cgroup v1 mount
  bool read_only = false;
};
std::optional<MountLine> parse_mount_line(std::string_view line);
// Every line of a mountinfo text, in order.
std::vector<MountLine> parse_mounts(std::string_view mountinfo);
// The later mount (on the same directory or one of its parents) that hides `mounts[index]`, if
// any (e.g. a tmpfs mounted over /sys/fs/cgroup after the hierarchy was).
const MountLine* hidden_by(const std::vector<MountLine>& mounts, std::size_t index);
// `self` (a group path from /proc/self/cgroup, below `mount.root`) relative to the mount.
std::string relative_to_mount(const MountLine& mount, const std::string& self);
// Reads /proc/self/mountinfo and /proc/self/cgroup; false with `why_not` set on failure.
bool read_self_cgroup_files(std::string& mountinfo, std::string& self_cgroup, std::string* why_not);
// Whether the effective uid may create groups in `dir`; else false with `why_not` set, saying
// `what` (e.g. `cgroup2 group`) is not writable.
bool writable_group(const std::string& dir, std::string_view what, std::string* why_not);

}  // namespace supervisor::detail::cgroupfs
