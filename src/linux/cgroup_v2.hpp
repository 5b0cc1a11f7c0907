// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// The cgroup-v2 layer of the Linux backend (private): finding the unified hierarchy, and one
/// RAII object per worker group. Works on hosts where cgroup2 has no controllers at all (hybrid
/// setups): cgroup.kill, cgroup.freeze, cgroup.events, cgroup.procs and cpu.stat need none.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <supervisor/error.hpp>

namespace supervisor::detail {

/// Where the unified hierarchy is mounted and where this process sits in it.
struct CgroupV2Mount {
  /// The mount point, unescaped (mountinfo writes a space as `\040`), e.g. `/sys/fs/cgroup`.
  std::string mount_point;
  /// This process's group relative to `mount_point`, starting with `/` (e.g. `/` or
  /// `/system.slice/x.service`): the `0::` path of /proc/self/cgroup, less the mount's root when
  /// the hierarchy is mounted from a subdirectory.
  std::string self_relative;

  /// `mount_point` joined with `self_relative`, without doubled or trailing slashes.
  [[nodiscard]] std::string self_dir() const;
};

/// Finds the cgroup2 mount holding this process's group from the text of /proc/self/mountinfo
/// and /proc/self/cgroup. Pure (touches no file), so that the parsing is testable. On failure
/// returns nullopt and, if `why_not` is not null, stores a sentence saying why.
[[nodiscard]] std::optional<CgroupV2Mount> parse_cgroup_v2(std::string_view mountinfo,
                                                           std::string_view proc_self_cgroup,
                                                           std::string* why_not);

/// `parse_cgroup_v2` on the real files, then checks that our group's directory is writable by
/// this process. On failure returns nullopt and, if `why_not` is not null, stores why, e.g.
/// `cgroup2 group "/sys/fs/cgroup" is not writable by uid 1000: Permission denied`.
[[nodiscard]] std::optional<CgroupV2Mount> find_cgroup_v2(std::string* why_not);

/// The controllers available in the group at `dir` (its cgroup.controllers: names separated by
/// spaces, e.g. `cpu memory pids`), without the trailing newline. Empty when there are none, and
/// also when the file cannot be read.
[[nodiscard]] std::string cgroup_v2_enabled_controllers(const std::string& dir);

/// Whether the group at `dir` has cgroup.kill (kernel 5.14 and later). Ask about a non-root
/// group: the root group has neither cgroup.kill nor cgroup.freeze nor cgroup.events on any
/// kernel, so this returns false for it.
[[nodiscard]] bool cgroup_v2_has_kill(const std::string& dir);

/// Counters of a group. A field is nullopt when its file does not exist (no controller, or an
/// older kernel), never because of an error.
struct CgroupStats {
  std::optional<std::uint64_t> cpu_usage_usec;   ///< cpu.stat usage_usec (needs no controller).
  std::optional<std::uint64_t> cpu_user_usec;    ///< cpu.stat user_usec.
  std::optional<std::uint64_t> cpu_system_usec;  ///< cpu.stat system_usec.
  std::optional<std::uint64_t> memory_current;   ///< memory.current, bytes.
  std::optional<std::uint64_t> memory_peak;      ///< memory.peak, bytes (kernel 5.19 and later).
  std::optional<std::uint64_t> pids_current;     ///< pids.current.
  std::optional<std::uint64_t> oom_kill;  ///< memory.events oom_kill: processes the OOM killer hit.
  std::optional<std::uint64_t> oom;       ///< memory.events oom: times the limit was hit.
  std::optional<std::uint64_t> memory_high;       ///< memory.events high: throttled at memory.high.
  std::optional<std::uint64_t> cpu_nr_throttled;  ///< cpu.stat nr_throttled (cpu controller).
  std::optional<std::uint64_t> cpu_throttled_usec;  ///< cpu.stat throttled_usec.
  std::optional<std::uint64_t> pids_max_events;     ///< pids.events max: forks refused.
};

/// What usage sampling reads of a group (see `CgroupV2Group::usage`); nullopt where the file
/// does not exist.
struct CgroupUsage {
  std::optional<std::uint64_t> cpu_usage_usec;  ///< cpu.stat usage_usec.
  std::optional<std::uint64_t> memory_current;  ///< memory.current, bytes.
};

/// How `CgroupV2Group::kill` did its work.
enum class CgroupKillMethod {
  kill_file,    ///< One write to cgroup.kill (kernel 5.14 and later): race-free.
  freeze_kill,  ///< No cgroup.kill: froze the group, SIGKILLed each member, thawed it.
};

/// One cgroup-v2 group that this process created and owns, e.g. for one worker incarnation.
/// Move-only; a moved-from or default-constructed object is empty (`valid()` is false) and its
/// destructor does nothing. The destructor closes the descriptors but leaves the directory: only
/// the owner knows when the group is empty, so it calls `remove()` itself. Not thread-safe: use
/// each object from one thread at a time.
///
/// Descriptors are opened when first needed and kept: the directory's by `create` (the clone
/// needs it) until `close_dir`, cgroup.events by the first `events_fd`, `populated` or `frozen`.
/// A group that nothing reads holds no descriptor at all once its owner has called `close_dir`,
/// so that a host with thousands of workers spends one descriptor on each (its pidfd).
class CgroupV2Group {
 public:
  /// An empty object.
  CgroupV2Group() noexcept = default;
  /// Creates the group `parent_dir/name` (mode 0755) and opens its directory. The group must not
  /// exist yet: `EEXIST` is an error, because a group that was ever cgroup.kill-ed must not be
  /// reused (on some kernels clone3(CLONE_INTO_CGROUP) into it yields a child SIGKILLed at
  /// birth). On failure reports through `err`, leaves no directory behind and returns an empty
  /// object.
  [[nodiscard]] static CgroupV2Group create(const std::string& parent_dir, const std::string& name,
                                            ErrorSink& err);

  CgroupV2Group(CgroupV2Group&& other) noexcept;
  CgroupV2Group& operator=(CgroupV2Group&& other) noexcept;
  CgroupV2Group(const CgroupV2Group&) = delete;
  CgroupV2Group& operator=(const CgroupV2Group&) = delete;
  ~CgroupV2Group();

  /// Whether this object holds a group (created, not yet removed).
  [[nodiscard]] bool valid() const noexcept { return exists_; }
  /// The group's directory, e.g. `/sys/fs/cgroup/w-3`. Kept after `remove()`, for messages.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The group directory (`O_RDONLY|O_DIRECTORY|O_CLOEXEC`): the `cgroup` field of
  /// `clone_args` for `CLONE_INTO_CGROUP`. -1 when empty or closed by `close_dir`.
  [[nodiscard]] int dir_fd() const noexcept { return dir_fd_; }
  /// Closes the directory's descriptor (the clone has used it); reads and writes of the group's
  /// files open it again.
  void close_dir() noexcept;
  /// cgroup.events (`O_RDONLY|O_CLOEXEC`), opened on the first call. epoll reports `EPOLLPRI`
  /// (with `EPOLLERR`) when `populated` or `frozen` changes; the notification stays pending until
  /// the file is read again, so call `populated()` or `frozen()` after each one. -1 when empty or
  /// when it cannot be opened (then `err` says why).
  [[nodiscard]] int events_fd(ErrorSink& err);
  /// The descriptor `events_fd` opened, or -1: for unwatching it without opening one.
  [[nodiscard]] int open_events_fd() const noexcept { return events_fd_; }

  /// `populated` from cgroup.events: whether any process is alive in the group or below it.
  [[nodiscard]] bool populated(ErrorSink& err);
  /// `frozen` from cgroup.events: whether a freeze requested with `freeze(true)` has completed.
  /// Not a reliable "thawed" signal: on 6.18 it was seen stuck at 1 after a thaw during which
  /// members of a nested group died.
  [[nodiscard]] bool frozen(ErrorSink& err);

  /// SIGKILLs every process in the group and below it, through cgroup.kill when the kernel has
  /// it, otherwise through `kill_with_freezer`. Returns without waiting for them to die: wait
  /// for `populated` to become false (on `events_fd()`), then reap the direct children. That
  /// takes well under a millisecond for a settled process, but a process still inside execve
  /// dies only when the exec finishes (up to ~20 ms was seen). Put no process into a group after
  /// killing it: create a fresh one.
  CgroupKillMethod kill(ErrorSink& err);
  /// The fallback of `kill` for kernels without cgroup.kill (before 5.14): freezes the group so
  /// that nobody can fork, waits up to `freeze_bound` for the freeze to complete, SIGKILLs each
  /// process listed in the cgroup.procs of the group and of the groups below it, and thaws.
  /// Without cgroup.freeze (before 5.2) it makes up to four rounds of SIGKILLs instead. Public
  /// so that tests can run it on newer kernels.
  void kill_with_freezer(ErrorSink& err,
                         std::chrono::milliseconds freeze_bound = std::chrono::milliseconds{1000});
  /// Writes cgroup.freeze: `true` stops every process in the group, `false` resumes them. The
  /// freeze completes asynchronously; `frozen()` tells when.
  void freeze(bool on, ErrorSink& err);
  /// The processes in the group itself (not its descendants), from cgroup.procs, as PIDs of
  /// this process's PID namespace; a member outside that namespace is listed as 0.
  [[nodiscard]] std::vector<int> procs(ErrorSink& err);
  /// Moves process `pid` into the group (writes cgroup.procs). For spawning without clone3:
  /// the child is in our group until then.
  void add_process(int pid, ErrorSink& err);
  /// Removes the directory. Returns false, with no error, while the group still has a process or
  /// a child group (both give `EBUSY`), so that the caller retries after `populated` went false;
  /// reaping is not needed first, since a zombie has already left its group. So it also answers
  /// "is the tree gone?" in one system call, where nothing else is to be read of the group. On
  /// success closes the descriptors (the object becomes empty; `path()` stays). An already
  /// missing directory counts as removed.
  bool remove(ErrorSink& err);
  /// Writes a controller file of the group (e.g. `memory.max`); returns 0 or the errno, which is
  /// also reported through `err`.
  int set(const char* name, std::string_view text, ErrorSink& err) {
    return write_file(name, text, err);
  }
  /// Reads the group's counters (see `CgroupStats`).
  [[nodiscard]] CgroupStats stats(ErrorSink& err);
  /// Only cpu.stat and, when `memory`, memory.current: one or two reads, for sampling on a
  /// period (`stats` reads six files).
  [[nodiscard]] CgroupUsage usage(bool memory, ErrorSink& err);

 private:
  CgroupV2Group(std::string path, int dir_fd) noexcept
      : path_(std::move(path)), dir_fd_(dir_fd), exists_(true) {}

  void close_fds() noexcept;
  // The directory's descriptor, opened again if `close_dir` closed it; -1 (reported) on failure.
  int dir(ErrorSink& err);
  [[nodiscard]] std::optional<std::uint64_t> events_field(std::string_view key, ErrorSink& err);
  // Writes `text` to the file `name` in the group; returns the errno (0 on success) and reports
  // through `err` unless the errno is `tolerated`.
  int write_file(const char* name, std::string_view text, ErrorSink& err, int tolerated = 0);
  // Reads the file `name` in the group into `out`; same errno convention as write_file.
  int read_file(const char* name, std::string& out, ErrorSink& err, int tolerated = 0);

  std::string path_;
  int dir_fd_ = -1;
  int events_fd_ = -1;
  bool exists_ = false;
};

}  // namespace supervisor::detail
