// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 7  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `Loop`: the supervision thread that owns every child's OS handles, and its options.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>
#include <supervisor/process_info.hpp>

namespace supervisor {

namespace detail {
class LoopCore;
struct LoopAccess;
}  // namespace detail

/// Options of a Loop that only the Linux backend reads (other backends ignore them).
struct LinuxLoopOptions {
  /// Where worker cgroups are created: a cgroup v2 directory the host may write. Empty: the
  /// library's own group below the host's cgroup, found from /proc/self/mountinfo and
  /// /proc/self/cgroup.
  std::string cgroup_base;
  /// Disables cgroups entirely (tests of the process-group fallback; hosts that must not use them).
  bool disable_cgroups = false;
  /// Does not use cgroup v1 hierarchies for limits (hybrid hosts), only cgroup v2 and rlimits.
  bool disable_cgroup_v1 = false;
  /// cgroup v2 hands controllers (memory, pids, cpu) to child groups only from a group that holds
  /// no process itself (the no-internal-process rule), so a host that lives in its group, as
  /// most services do, cannot pass them to its workers. Set a name here to let the Loop move the
  /// host process (all its threads) into a leaf group of that name below its own group, then
  /// enable the controllers its group offers for the groups below it. Only done when needed (the
  /// controllers are not delegated yet) and only for this process: if another process shares the
  /// group, the move happens but the enabling fails, as `LoopInfo::host_leaf_note` says. The
  /// host stays in the leaf afterwards. Empty (the default): never moved.
  std::string host_leaf;
  /// Forces a spawn path; empty picks clone3 when the kernel has it. posix_spawn (what a kernel
  /// without clone3 gets) starts a child that joins a group (cgroup containment, limits, a
  /// ResourceGroup) with clone(2) instead (`SpawnPath::clone`): posix_spawn could only move it
  /// there after its program started, and what it forked by then would escape.
  std::optional<SpawnPath> spawn_path;
  /// Spawns as on kernels 5.3-5.6, whose clone3 lacks CLONE_INTO_CGROUP (detected at start; this
  /// forces it, for tests): the child writes its pid to its group's cgroup.procs before execve.
  bool disable_clone_into_cgroup = false;
  /// Watches exits without pidfds, as on kernels before 5.4 (which lack pidfd_open or
  /// waitid(P_PIDFD)); detected at start, this forces it (tests; seccomp policies that refuse
  /// pidfd calls). Then the loop polls waitid(P_PID, WNOHANG)
  /// for each (1 ms, backing off to 20 ms; reset whenever a signal is sent), signals go by PID
  /// (safe: the PID of an unreaped child cannot be reused) and descendants outside the process
  /// group or cgroup are counted as escaped rather than signalled.
  bool disable_pidfd = false;
};

/// Options of a Loop.
struct LoopOptions {
  /// A file where the loop records the boot, the host and every live worker (pid + start time +
  /// process group + cgroup), mode 0600. Empty: none. Its directory must be the host's own
  /// (owned by the effective uid, mode 0700; the last component is created so when missing), and
  /// no component of the path may be a symlink; the file must be the host's own and writable by
  /// no one else: else `errc::untrusted` (a symlink: ELOOP). On start, leftovers a previous run
  /// of the host recorded in this boot are killed, each only if it is still the process
  /// recorded and still inside its recorded cgroup (below the host's own bases) or process
  /// group; their groups are removed. Entries that fail a check are counted in
  /// `LoopInfo::refused_registry_entries`, never acted on. A registry locked by another host
  /// (flock on `<file>.lock`), or whose host is still running, is `errc::already_running`.
  std::string registry_path;
  /// Receives exceptions thrown by host callbacks (`on_exit`, `on_line`), and any other that
  /// escapes a command, timer or watch of the loop thread (`where` is then "loop command",
  /// "loop timer" or "loop watch": a library bug, or memory running out), on the loop thread,
  /// with a note saying where. They never take the loop down; each is also counted in
  /// `Loop::callback_errors()`. Must not throw.
  std::function<void(std::exception_ptr, std::string_view where)> error_handler;
  /// What only the Linux backend reads: cgroups, the spawn path, pidfds.
  LinuxLoopOptions on_linux;
};

/// What the loop found about this machine, for logs and tests.
struct LoopInfo {
  bool cgroup_usable = false;
  std::string cgroup_base;     ///< The directory worker groups are created in, when usable.
  std::string cgroup_why_not;  ///< Why cgroups are not used, when they are not.
  /// Controllers worker groups get on cgroup v2 (e.g. `cpu memory pids`; empty: none delegated).
  std::string cgroup_v2_controllers;
  /// cgroup v1 hierarchies usable for limits (e.g. `memory pids cpu` on a hybrid host).
  std::string cgroup_v1_controllers;
  /// Where `LinuxLoopOptions::host_leaf` moved the host (empty: not moved), and what came of it.
  std::string host_leaf;
  std::string host_leaf_note;
  bool clone3_available = false;
  /// clone3 can start a child in its cgroup (CLONE_INTO_CGROUP, Linux 5.7); else, or when
  /// `LinuxLoopOptions::disable_clone_into_cgroup` is set, the child joins it before execve.
  bool clone_into_cgroup_available = false;
  bool close_range_available = false;
  bool pidfd_available = false;    ///< Exits are watched through pidfds (else: polled by PID).
  std::string pidfd_why_not;       ///< Why not, when they are not.
  bool sentinel_running = false;   ///< The host-death sentinel process is up.
  int swept_processes = 0;         ///< Leftovers of a previous run killed from the registry.
  int swept_groups = 0;            ///< Leftover cgroups removed from the registry.
  int stale_registry_entries = 0;  ///< Registry entries that no longer named our process.
  /// Registry entries refused and left alone: malformed, or naming what the sweep may not touch
  /// (the host, its ancestors, PID 1, a process outside its recorded group, a cgroup outside the
  /// host's bases).
  int refused_registry_entries = 0;
  /// Why registry entries were refused or ignored (the first few, separated by "; ").
  std::string registry_notes;
};

/// What `Loop::heartbeat` found: whether the loop thread turns, and how busy it is.
struct LoopHeartbeat {
  /// The loop thread ran a command posted to it within the timeout.
  bool turning = false;
  /// How long that command waited for the loop thread (the timeout when it did not run).
  Duration lag{};
  /// Processes the loop owns now (started and not yet reaped and cleaned up); 0 when it did not
  /// turn.
  std::size_t processes = 0;
};

/// The supervision loop: exactly one thread (named "sv-loop"), created by the constructor and
/// joined by the destructor, which stops every process still running on it. It owns every pidfd,
/// pipe and cgroup of its processes; strategy hooks and callbacks run on it. Thread-safe.
/// The thread blocks every signal except SIGCHLD, whatever the mask of the thread that made the
/// Loop: the kernel addresses a child's SIGCHLD to the thread that started it, and with SIGCHLD's
/// default disposition drops it there unseen, so the exits of children started on the loop never
/// interrupt or reach the host's threads (nor a signalfd of the host's). A host that installs a
/// SIGCHLD handler sees it run for them, mostly on this thread. On Windows there are no signals;
/// besides the loop's thread, Windows' own thread-pool wait thread (shared by the process) posts
/// each child's exit to the loop (`RegisterWaitForSingleObject`).
///
/// A child that the host `fork()`s without exec gets copies of the Loop and of every Pool and
/// Process on it, but not the loop thread: there they are inert. Each call that needs the loop
/// (or waits for it) fails with `errc::not_running`, destructors return at once without touching
/// anything of the parent's (workers, groups, sentinel, registry; the copies' memory goes with
/// the child's exec or exit), and the parent's workers, sentinel and host-death guarantee are
/// unaffected. Only the parent can stop its workers.
class SUPERVISOR_API Loop {
 public:
  Loop();
  /// Starts the loop thread and the sentinel; sweeps the registry when one is set. Throws
  /// `std::system_error` when the OS refuses (epoll, eventfd) or the registry is unusable, and
  /// `errc::unsupported` on a platform without a process backend.
  explicit Loop(LoopOptions options);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  [[nodiscard]] LoopInfo info() const;
  /// How often a child was reaped by someone else (SIGCHLD ignored, or a `waitpid(-1)`).
  [[nodiscard]] std::uint64_t stolen_reaps() const noexcept;
  /// How many exceptions host callbacks threw, or escaped the loop thread's work (see
  /// `LoopOptions::error_handler`).
  [[nodiscard]] std::uint64_t callback_errors() const noexcept;
  /// Posts a no-op command to the loop thread and waits at most `timeout` for it to run: a
  /// loop whose thread is stuck (a host callback that blocks, a deadlock) does not turn. Never
  /// waits longer than `timeout` (the command, if it runs later, finds no one waiting). On the
  /// loop thread itself: turning, at once. In a forked child (see above): not turning. For
  /// liveness checks (`Monitor::liveness`, `/healthz`).
  [[nodiscard]] LoopHeartbeat heartbeat(Duration timeout) const;

 private:
  friend struct detail::LoopAccess;
  std::shared_ptr<detail::LoopCore> core_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 7
#  include <supervisor/detail/header_only_end.hpp>
#endif
