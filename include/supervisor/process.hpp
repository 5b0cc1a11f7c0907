// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// `Loop` (the supervision thread) and `Process` (one supervised child): the process layer under
/// `Pool`, public for hosts that need a single supervised child.

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/export.hpp>
#include <supervisor/process_spec.hpp>

namespace supervisor {

class Process;
struct ProcessOptions;

namespace detail {
class LoopCore;
struct ChildState;
struct GroupState;
struct GroupAccess;
// The library's own entry (Pool, probes): start on a loop core, reporting the message too.
// `spec_validated`: the caller validated this spec already (a pool, when it started), so a
// restart need not do it again.
Process start_on(const std::shared_ptr<LoopCore>& core, std::shared_ptr<const ProcessSpec> spec,
                 ProcessOptions options, bool spec_validated, std::error_code& ec,
                 std::string& message);
}  // namespace detail

/// How a worker's process tree is contained.
enum class Containment {
  automatic,      ///< A fresh cgroup v2 group when usable, else the process group.
  cgroup,         ///< A fresh cgroup v2 group; starting fails if none is usable.
  process_group,  ///< The child's process group (setsid); escaped descendants are counted.
};

/// Which mechanism started a process.
enum class SpawnPath {
  clone3,       ///< Linux clone3: CLONE_PIDFD (+ CLONE_INTO_CGROUP): the child starts in its group.
  posix_spawn,  ///< posix_spawn + pidfd_open (no PDEATHSIG; a cgroup is joined after the start).
};

[[nodiscard]] SUPERVISOR_API std::string_view to_string(SpawnPath p) noexcept;
[[nodiscard]] SUPERVISOR_API std::string_view to_string(Containment c) noexcept;

/// Options of a Loop.
struct LoopOptions {
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
  /// Forces a spawn path; empty picks clone3 when the kernel has it.
  std::optional<SpawnPath> spawn_path;
  /// Watches exits without pidfds, as on kernels before 5.4 (which lack pidfd_open or
  /// waitid(P_PIDFD)); detected at start, this forces it (tests; seccomp policies that refuse
  /// pidfd calls). Then the loop polls waitid(P_PID, WNOHANG)
  /// for each (1 ms, backing off to 20 ms; reset whenever a signal is sent), signals go by PID
  /// (safe: the PID of an unreaped child cannot be reused) and descendants outside the process
  /// group or cgroup are counted as escaped rather than signalled.
  bool disable_pidfd = false;
  /// A file where the loop records the host and every live worker (pid + start time + cgroup),
  /// mode 0600, never followed through a symlink. Empty: none. On start, leftovers a previous
  /// run of the host recorded are killed (each identity verified first) and their groups
  /// removed; a registry whose host is still running is an error (`errc::already_running`).
  std::string registry_path;
  /// Receives exceptions thrown by host callbacks (`on_exit`, `on_line`), on the loop thread,
  /// with a note saying where. They never take the loop down; each is also counted in
  /// `Loop::callback_errors()`. Must not throw.
  std::function<void(std::exception_ptr, std::string_view where)> error_handler;
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
  /// Where `LoopOptions::host_leaf` moved the host (empty: not moved), and what came of it.
  std::string host_leaf;
  std::string host_leaf_note;
  bool clone3_available = false;
  bool close_range_available = false;
  bool pidfd_available = false;    ///< Exits are watched through pidfds (else: polled by PID).
  std::string pidfd_why_not;       ///< Why not, when they are not.
  bool sentinel_running = false;   ///< The host-death sentinel process is up.
  int swept_processes = 0;         ///< Leftovers of a previous run killed from the registry.
  int swept_groups = 0;            ///< Leftover cgroups removed from the registry.
  int stale_registry_entries = 0;  ///< Registry entries that no longer named our process.
};

/// The supervision loop: exactly one thread (named "sv-loop"), created by the constructor and
/// joined by the destructor, which stops every process still running on it. It owns every pidfd,
/// pipe and cgroup of its processes; strategy hooks and callbacks run on it. Thread-safe.
/// The thread blocks every signal except SIGCHLD, whatever the mask of the thread that made the
/// Loop: the kernel addresses a child's SIGCHLD to the thread that started it, and with SIGCHLD's
/// default disposition drops it there unseen, so the exits of children started on the loop never
/// interrupt or reach the host's threads (nor a signalfd of the host's). A host that installs a
/// SIGCHLD handler sees it run for them, mostly on this thread.
class SUPERVISOR_API Loop {
 public:
  Loop();
  /// Starts the loop thread and the sentinel; sweeps the registry when one is set. Throws
  /// `std::system_error` when the OS refuses (epoll, eventfd) or the registry is unusable.
  explicit Loop(LoopOptions options);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  [[nodiscard]] LoopInfo info() const;
  /// How often a child was reaped by someone else (SIGCHLD ignored, or a `waitpid(-1)`).
  [[nodiscard]] std::uint64_t stolen_reaps() const noexcept;
  /// How many exceptions host callbacks threw (see `LoopOptions::error_handler`).
  [[nodiscard]] std::uint64_t callback_errors() const noexcept;

 private:
  friend class Process;
  friend class Pool;
  friend class ResourceGroup;
  std::shared_ptr<detail::LoopCore> core_;
};

/// Output counters of one piped stream.
struct OutputStats {
  std::uint64_t bytes_read = 0;     ///< Read from the pipe.
  std::uint64_t bytes_dropped = 0;  ///< Evicted from the ring before anyone took them.
  std::uint64_t lines = 0;          ///< Complete lines seen (delivered to `on_line` if set).
};

/// Facts about a running process.
struct ProcessInfo {
  int pid = 0;
  int pgid = 0;
  SpawnPath path = SpawnPath::clone3;
  bool pidfd = true;  ///< Watched and signalled through a pidfd (else polled and signalled by PID).
  Containment containment = Containment::process_group;
  std::string cgroup;   ///< The worker's fresh cgroup directory, when contained by one.
  std::string program;  ///< The resolved executable path.
  /// How each limit set in `ProcessSpec::resources` is enforced (or why it is not).
  std::vector<LimitStatus> limits;
};

/// A point-in-time reading of a worker's resources: the main process from /proc, and the whole
/// tree from its cgroup when it has one. Fields that could not be read keep their defaults.
struct ResourceSample {
  bool alive = false;                      ///< The main process was still there.
  std::uint64_t rss_bytes = 0;             ///< Main process resident set size.
  double cpu_seconds = 0;                  ///< Main process user + system CPU time.
  long threads = 0;                        ///< Main process threads.
  int open_fds = -1;                       ///< Main process open fds (-1 when unreadable).
  char state = '?';                        ///< Main process state letter (R, S, D, Z, T, ...).
  int tree_processes = 0;                  ///< Processes in the worker's cgroup (0 without one).
  std::optional<double> tree_cpu_seconds;  ///< cgroup cpu.stat usage.
  std::optional<std::uint64_t> tree_memory_bytes;  ///< The tree's memory (memory controller).
  std::optional<std::uint64_t> tree_pids;          ///< The tree's tasks (pids controller).
  /// CPU quota periods in which the tree was throttled (cpu controller, with `cpu_cores`).
  std::optional<std::uint64_t> cpu_throttled_periods;
  std::optional<double> cpu_throttled_seconds;  ///< Time the tree spent throttled.
  std::optional<std::uint64_t> oom_kills;       ///< Processes the OOM killer killed (memory_max).
  std::optional<std::uint64_t> fork_refusals;   ///< Forks refused at max_processes.
  /// Times the tree was throttled at `memory_high` (cgroup v2 `memory.events` `high`).
  std::optional<std::uint64_t> memory_high_events;
};

/// A reading of a `ResourceGroup`'s counters: the sum over every tree in it. A field is nullopt
/// when no controller of the group gives it.
struct GroupSample {
  std::optional<std::uint64_t> memory_bytes;  ///< Memory of all the trees.
  std::optional<std::uint64_t> pids;          ///< Processes and threads of all the trees.
  std::optional<double> cpu_seconds;          ///< CPU time of the group (cgroup v2 cpu.stat).
  /// CPU quota periods in which the group was throttled at its `cpu_cores`.
  std::optional<std::uint64_t> cpu_throttled_periods;
  std::optional<double> cpu_throttled_seconds;  ///< Time the group spent throttled.
  /// Times the group's own memory limit was reached (v2 `memory.events.local` `max`, v1
  /// `memory.failcnt`): the group's limit, not one of a tree inside it.
  std::optional<std::uint64_t> memory_limit_hits;
  /// Times the OOM killer acted on the group's own memory limit (v2 `memory.events.local`
  /// `oom`; v1 has no such counter).
  std::optional<std::uint64_t> memory_oom_events;
  std::optional<std::uint64_t> oom_kills;  ///< Processes the OOM killer killed in the group.
  /// Forks refused at the group's `max_processes` (`pids.events` `max`; kernels before 6.13
  /// count a refusal in the group of the forking task instead).
  std::optional<std::uint64_t> fork_refusals;
  /// Times the group was throttled at its `memory_high` (cgroup v2 `memory.events` `high`).
  std::optional<std::uint64_t> memory_high_events;
};

/// Shared limits for several process trees, like a systemd slice: the pool-wide tier of
/// `ResourceLimits` (`PoolOptions::group_resources` makes one per pool). Each process started with
/// `ProcessOptions::group` still gets its own fresh group, created inside this one, so its own
/// limits and counters stay its own while the kernel holds the sum of all of them to the group's
/// limits. Tree-wide limits only (`max_open_files` and `cpu_time` are per process: rejected).
/// Enforced like a spec's resources: a cgroup v2 group below the loop's base when the loop can
/// delegate the controller, else a group in the cgroup v1 hierarchy; `required` mode fails
/// `create` with `errc::controller_unavailable` when neither can. A copyable handle: the groups
/// are removed once the last handle and the last process in it are gone. Thread-safe.
///
/// One difference between the hierarchies: on cgroup v2 a tree is cloned straight into its group,
/// so a start into a group at its `max_processes` fails (EAGAIN); on cgroup v1 the tree joins by
/// migration before exec, which the pids controller never refuses, so it gets in and only its
/// forks are refused.
class SUPERVISOR_API ResourceGroup {
 public:
  ResourceGroup() noexcept;  ///< An empty handle (`valid()` is false): no group.
  /// Creates a group on `loop`. Errors: `errc::invalid_argument` (a bad value or a per-process
  /// limit, naming the field), `errc::controller_unavailable` (required mode), or the kernel's
  /// refusal to create or write a group.
  static ResourceGroup create(Loop& loop, ResourceLimits limits);
  /// \overload
  static ResourceGroup create(Loop& loop, ResourceLimits limits, std::error_code& ec) noexcept;
  /// A group inside this one, on the same loop: its trees are held to its own limits and to
  /// this group's (e.g. one budget for several pools, each with its own share of it). Errors as
  /// for `create`, and `errc::invalid_argument` for an empty handle.
  [[nodiscard]] ResourceGroup create_child(ResourceLimits limits) const;
  /// \overload
  [[nodiscard]] ResourceGroup create_child(ResourceLimits limits,
                                           std::error_code& ec) const noexcept;

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  /// The limits as last set.
  [[nodiscard]] ResourceLimits resources() const;
  /// Its cgroup v2 directory, in which each member's own group is made (empty when the loop
  /// uses no cgroup v2).
  [[nodiscard]] std::string cgroup() const;
  /// How each set limit is enforced, with the file it is written to (or why it is not).
  [[nodiscard]] std::vector<LimitStatus> limits() const;
  /// The group's counters now.
  [[nodiscard]] GroupSample sample() const;
  /// Changes the limits while processes run in the group (limits no longer set are lifted). A
  /// controller the group has no cgroup for yet (none was needed at creation) applies only to
  /// processes started from now on, and `limits()` says so. Errors as for `create`; on cgroup v1
  /// the kernel also refuses (EINVAL) a `cpu_cores` below a member's own.
  void set_resources(const ResourceLimits& limits);
  /// \overload
  void set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept;

 private:
  friend struct detail::GroupAccess;
  explicit ResourceGroup(std::shared_ptr<detail::GroupState> state) noexcept
      : state_(std::move(state)) {}
  std::shared_ptr<detail::GroupState> state_;
};

/// Options for one Process.
struct ProcessOptions {
  Containment containment = Containment::automatic;
  /// A group whose shared limits the process tree is held to as well as to its own (empty: none).
  /// It must belong to the same loop. A group with cgroup v2 limits needs cgroup containment
  /// (`Containment::process_group` is refused with `errc::invalid_argument`).
  ResourceGroup group;
  /// Called on the loop thread once the whole tree is gone and the status is final, before
  /// `wait()` returns to anyone. It must not wait for this process (that would deadlock).
  std::function<void(const ExitStatus&)> on_exit;
};

/// One supervised child process and its tree. Movable, not copyable. Its methods are thread-safe
/// (they talk to the loop); the destructor stops the process with its StopPlan (bounded by it).
class SUPERVISOR_API Process {
 public:
  Process() noexcept;
  ~Process();
  Process(Process&&) noexcept;
  Process& operator=(Process&&) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Validates `spec` and starts it on `loop`. Spawn errors (missing binary, not executable, a
  /// directory, bad ELF, bad cwd, unknown user, E2BIG, ...) come back here, synchronously, with the
  /// errno (system category) and a message naming the program and cwd; nothing is left behind.
  static Process start(Loop& loop, ProcessSpec spec, ProcessOptions options = {});
  /// \overload
  static Process start(Loop& loop, ProcessSpec spec, ProcessOptions options,
                       std::error_code& ec) noexcept;

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  [[nodiscard]] int pid() const noexcept;
  [[nodiscard]] ProcessInfo info() const;
  /// True until the main process has exited and its tree is gone.
  [[nodiscard]] bool running() const;
  /// The final status, once there is one.
  [[nodiscard]] std::optional<ExitStatus> exit_status() const;

  /// Blocks until the process and its tree are gone.
  ExitStatus wait();
  /// Waits at most `timeout`; nullopt if still running.
  std::optional<ExitStatus> wait_for(Duration timeout);

  /// Runs the StopPlan (signals to the tree, waits, final kill) and waits for the end. Idempotent.
  ExitStatus stop();
  /// Starts the StopPlan without waiting.
  void request_stop();
  /// Kills the whole tree at once (cgroup.kill or SIGKILL to the group) and waits.
  ExitStatus kill();
  /// Starts `kill()` without waiting (usable on the loop thread, e.g. from a callback).
  void request_kill();

  /// Sends `s` to the main process only.
  void signal(Signal s);
  /// \overload
  void signal(Signal s, std::error_code& ec) noexcept;

  /// The recent output of a piped stream (at most `OutputOptions::ring_bytes`), without removing
  /// it.
  [[nodiscard]] std::string output(StdStream stream) const;
  /// Removes and returns the buffered output of a piped stream (in backpressure mode this makes
  /// room, and reading resumes).
  std::string take_output(StdStream stream);
  [[nodiscard]] OutputStats output_stats(StdStream stream) const;

  /// Samples the worker's resources now (reads /proc and the cgroup; does not block the loop for
  /// long). A finished process gives `alive == false`.
  [[nodiscard]] ResourceSample sample() const;

  /// Changes the tree's limits while it runs, like `systemctl set-property`: cgroup limits are
  /// rewritten in its groups (v2, or the v1 groups it was started with), rlimits set on its main
  /// process; limits no longer set are lifted. `info().limits` then says how each applies (one
  /// that can only apply from a next start says so: a v1 controller the worker has no group in,
  /// or a raised hard rlimit without CAP_SYS_RESOURCE). Errors: `errc::invalid_spec` (a bad value),
  /// `errc::controller_unavailable` (required mode, a limit that cannot apply now),
  /// `errc::not_running`, or the kernel's refusal.
  void set_resources(const ResourceLimits& limits);
  void set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept;

 private:
  explicit Process(std::shared_ptr<detail::ChildState> state) noexcept;
  friend Process detail::start_on(const std::shared_ptr<detail::LoopCore>&,
                                  std::shared_ptr<const ProcessSpec>, ProcessOptions, bool,
                                  std::error_code&, std::string&);
  void reset() noexcept;
  std::shared_ptr<detail::ChildState> state_;
};

}  // namespace supervisor
