// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// THE interface an OS backend implements: everything the portable process layer above it
// (src/process: Loop, Process, ResourceGroup, the real pool world, the probes) needs from an
// operating system, and nothing of the pool. One backend is linked per build: src/linux (epoll,
// pidfd, clone3, cgroups, /proc, sentinel, registry) over src/posix (spawn preparation,
// posix_spawn, signals); where none exists yet, src/process/no_backend.cpp, whose Loop cannot be
// made (errc::unsupported).
//
// Threads: a backend's objects are used from the loop thread unless a comment says "any
// thread". The loop thread is the one thread of a Loop; the backend may use the portable
// LoopCore's timers, watches and queue (src/process/loop_core.hpp), and calls ChildEvents only
// from that thread, from a turn of the loop of its own: never from inside a call into the backend
// (so the portable side may act on an event at once, e.g. start the next incarnation).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/limits.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/process_info.hpp>
#include <supervisor/process_spec.hpp>

#include "host_end.hpp"
#include "notify_note.hpp"

namespace supervisor::detail {

class LoopCore;

// An OS handle as the loop watches it: a file descriptor on POSIX, a HANDLE on Windows.
using NativeHandle = std::intptr_t;

// What a watch waits for and what it reports (a backend maps these to its own bits).
namespace io {
inline constexpr std::uint32_t readable = 1U << 0;
inline constexpr std::uint32_t writable = 1U << 1;
inline constexpr std::uint32_t priority = 1U << 2;  // e.g. a cgroup.events change
inline constexpr std::uint32_t error = 1U << 3;
inline constexpr std::uint32_t hangup = 1U << 4;
inline constexpr std::uint32_t peer_closed = 1U << 5;
}  // namespace io

struct ReadyEvent {
  std::uint64_t id = 0;  // the id the handle was added with
  std::uint32_t events = 0;
};

// The loop's OS half: waits until watched handles are ready, and can be woken from any thread.
// The portable LoopCore keeps the callbacks, the command queue and the timers.
class Poller {
 public:
  virtual ~Poller() = default;
  // Any thread. Watches `h` for `events`; its readiness comes back under `id` (never 0).
  virtual bool add(NativeHandle h, std::uint32_t events, std::uint64_t id) = 0;
  virtual void modify(NativeHandle h, std::uint32_t events, std::uint64_t id) = 0;
  virtual void remove(NativeHandle h) = 0;
  // Any thread: makes the current or next wait() return.
  virtual void wake() = 0;
  // Loop thread: waits at most `timeout_ms` (-1: no limit, 0: only looks), then appends what is
  // ready to `ready`. A wake-up makes it return without being reported.
  virtual void wait(int timeout_ms, std::vector<ReadyEvent>& ready) = 0;
};

// How a child's main process ended, as the OS reported it.
struct LeaderExit {
  bool observed = true;  // false: someone else reaped it (SIGCHLD ignored, a waitpid(-1))
  int exit_code = -1;    // when it exited
  int signal = 0;        // when a signal killed it (the platform's number)
  bool core_dumped = false;
  bool kill_signal = false;       // that signal is the uncatchable kill
  bool cpu_limit_signal = false;  // that signal is the CPU-time limit's warning (SIGXCPU)
  ResourceUsage usage;
  std::uint32_t native_code = 0;  // Windows: the exit code as reported (ExitStatus::native_code)
};

// What a child's OS half reports to its portable half (ChildCore). Loop thread.
class ChildEvents {
 public:
  virtual ~ChildEvents() = default;
  // The main process ended (it is reaped: its exit is final).
  virtual void on_leader_exit(const LeaderExit& exit) = 0;
  // A piped stream has something to read, or ended: the portable half pulls with read_output.
  virtual void on_output(StdStream stream) = 0;
  // Something changed in the tree (e.g. cgroup.events): look again whether it is empty.
  virtual void on_tree_changed() = 0;
};

// Takes what read_output read (the portable half's OutputBuffer).
class OutputSink {
 public:
  // Returns false when reading should pause (backpressure).
  virtual bool on_chunk(StdStream stream, std::string_view chunk, bool draining) = 0;

 protected:
  ~OutputSink() = default;
};

// One output stream's log file (StdioSpec::Mode::log_file): the loop thread hands it what it
// read from the pipe; it appends, rotating as the spec says. Loop thread only.
class LogFile {
 public:
  virtual ~LogFile() = default;
  virtual void write(std::string_view chunk) = 0;
  // The stream ended: what was held back (an unfinished last line) is written.
  virtual void finish() = 0;
};

// Opens ProcessSpec.`field`'s log file `io` (any thread, before the spawn); null with `err` set
// (naming the field and the path) when it cannot.
std::unique_ptr<LogFile> open_log_file(const StdioSpec& io, std::string_view field, ErrorSink& err);

// Counters of what the kernel did under a tree's limits, read once it is gone.
struct TreeCounters {
  std::uint64_t oom_kills = 0;      // processes the OOM killer killed in the tree
  std::uint64_t fork_refusals = 0;  // forks refused at max_processes
};

// What usage sampling reads of a tree (PoolOptions::usage_sample_period): each figure its
// tree's where the child's own group gives it (`tree_*` set), else its main process's.
struct UsageReading {
  std::uint64_t memory_bytes = 0;
  double cpu_seconds = 0;  // user + system
  bool tree_memory = false;
  bool tree_cpu = false;
};

// The host's ends of what it talks to a child through (null: the spec asks for none).
struct HostEnds {
  std::shared_ptr<HostEnd> input;    // its stdin pipe (StdioSpec::Mode::pipe for `in`)
  std::shared_ptr<HostEnd> channel;  // its channel (ProcessSpec::channel)
};

// The OS half of one child incarnation: its handles (process, pipes, groups), and what can be
// done to its tree. Made by Backend::spawn; owned by the portable half.
class ChildOs {
 public:
  virtual ~ChildOs() = default;

  // The spawning thread, once, right after the spawn: the host's ends of the child's stdin pipe
  // and channel, which the portable half owns from then on (and closes when the tree is gone).
  virtual HostEnds take_ends() { return {}; }

  // Any thread, once, right after the spawn: puts the child's handles into the loop's poller
  // (and its bookkeeping: registry, sentinel). Returns whether the loop must be woken to
  // install() it; otherwise the install may wait for the child's first event.
  virtual bool reserve() = 0;
  // Loop thread, once: from now on `events` hears of the child; it is kept alive for as long as
  // the backend may still report something (the main process may outlive the portable half's
  // interest, e.g. one stuck after its final kill).
  virtual void install(const std::shared_ptr<ChildEvents>& events) = 0;

  // Signals the main process only; an error when it cannot be signalled.
  virtual std::error_code signal_leader(Signal s) = 0;
  // Signals every process of the tree the backend can name.
  virtual void signal_tree(Signal s) = 0;
  // Before the first signal of a stop: notes descendants that left the tree's unit (e.g. the
  // process group), so that the stop reaches them too.
  virtual void prepare_stop() = 0;
  // Processes of the tree besides the main one, now.
  virtual int others_in_tree() = 0;
  // Whether process `pid` (another than the main one) is in the tree now: in its group where
  // there is one, else in its session when it leads one. Where the backend cannot tell: false.
  virtual bool in_tree(int /*pid*/) { return false; }
  // Kills the whole tree at once (the main process too). Returns how many processes it hits
  // that others_in_tree() does not count (escaped descendants it still knows of).
  virtual int kill_tree() = 0;
  // The main process is gone: kills what is left of the tree, counting what it kills when
  // `count` (it was not killed by us already). `empty` is set when the tree is known gone.
  virtual int kill_rest(bool count, bool& empty) = 0;
  // Whether the tree is gone.
  virtual bool tree_empty() = 0;
  // Asks for on_tree_changed() when the tree changes, where the OS can say so; the portable
  // half also polls.
  virtual void watch_tree() = 0;
  // Processes left in the tree when its end could not be confirmed in time.
  virtual int count_left() = 0;
  // Reads what a piped stream holds into `sink`, without blocking; false at its end. Bounded
  // per call while the tree lives (one flooding child cannot starve the loop), larger when
  // `draining` (the tree is gone: take what is left, so no byte is lost).
  virtual bool read_output(StdStream s, bool draining, OutputSink& sink) = 0;
  // Stops watching a stream (pause), or watches it again.
  virtual void pause_output(StdStream s, bool paused) = 0;
  // Closes a stream (its end was read, or the tree is gone).
  virtual void close_output(StdStream s) = 0;
  // What the kernel did under the tree's limits; read only when `reads_limit_counters`.
  virtual TreeCounters counters() = 0;
  // Removes what the tree kept on the host's side (its groups, sentinel entry, registry line).
  virtual void release_tree() = 0;
  // The main process of a child given up as unreaped has finally ended: kill what is left of
  // its tree and release it.
  virtual void abandoned_exit() = 0;
  // New limits for the running tree: sets them where the OS allows it now, lifts those of
  // `previous` that `next` no longer sets, and refills `statuses`.
  virtual void change_limits(const ResourceLimits& previous, const ResourceLimits& next,
                             std::vector<LimitStatus>& statuses, ErrorSink& err) = 0;
  // The tree's resources now (the main process, and the tree where its groups count it);
  // `limit_counters`: also the counters of its limits.
  virtual ResourceSample sample(bool limit_counters) = 0;
  // Its memory and CPU time for usage sampling, in as few reads as the OS allows (it runs once
  // per worker per period); none when the main process cannot be read any more.
  virtual std::optional<UsageReading> usage() { return std::nullopt; }
};

class GroupOs;

// What a child is started with, besides its spec.
struct ChildRequest {
  Containment containment = Containment::automatic;
  std::shared_ptr<GroupOs> group;  // a ResourceGroup of this loop to start it in, or null
  // Another tree's cgroup directory (ProcessInfo::cgroup) to start it in, e.g. that of the
  // worker an exec probe checks: the child joins that tree's group and limits, and is stopped as
  // a process group of its own (it needs process-group containment and no `group`).
  std::string join_cgroup;
  // "NAME=value" entries set in the child's environment after the spec's own (after
  // `env.set`), for this child only: a pool worker's identity, which every spawn of a pool then
  // gets without a copy of the pool's spec.
  std::vector<std::string> extra_env;
};

// A spawn prepared on the calling thread (program resolved, files opened, argv and environment
// built), ready for Backend::spawn.
class SpawnPlan {
 public:
  virtual ~SpawnPlan() = default;
  // Whether Backend::spawn must run on the loop thread (Linux clone3: PR_SET_PDEATHSIG follows
  // the creating thread, and the loop thread lives as long as the children); else any thread.
  [[nodiscard]] virtual bool on_loop_thread() const = 0;
};

// One ResourceGroup's OS half (Linux: a cgroup v2 group and cgroup v1 groups). Thread-safe.
class GroupOs {
 public:
  virtual ~GroupOs() = default;
  [[nodiscard]] virtual ResourceLimits resources() const = 0;
  [[nodiscard]] virtual std::vector<LimitStatus> limits() const = 0;
  [[nodiscard]] virtual std::string cgroup() const = 0;
  [[nodiscard]] virtual GroupSample sample() = 0;
  // New limits (validated already); unset ones are lifted. On error the old ones stay recorded.
  virtual void set(const ResourceLimits& next, ErrorSink& err) = 0;
  // The loop it belongs to (keeps the backend alive as long as the group is).
  std::shared_ptr<LoopCore> core;
};

// A process's state as sampling sees it (for health checks on any worker pid).
struct ProcessSample {
  std::uint64_t rss_bytes = 0;
  double cpu_seconds = 0;  // user + system
  long threads = 0;
  int open_fds = -1;  // -1: unknown
  char state = '?';   // R, S, D, Z (exited, unreaped), T/t (stopped or traced), X ...
};

// The OS side of one Loop.
class Backend {
 public:
  virtual ~Backend() = default;

  [[nodiscard]] virtual Poller& poller() = 0;
  // First thing on the new loop thread: its signal mask, its name.
  virtual void enter_loop_thread() = 0;
  // The loop thread has ended and every child with it: what is left to clean (sentinel,
  // registry, the loop's groups). Host thread.
  virtual void after_loop() = 0;
  // Whether the caller runs in a child that the host forked (without exec) after this backend
  // was made: there the loop thread does not exist, and nothing of the host's may be touched.
  [[nodiscard]] virtual bool forked() const noexcept { return false; }

  // Any thread: resolves and opens what the child needs; errors name the field or the program.
  // It may move out of `request` what the plan keeps (its `extra_env`: a spawn is a hot path).
  virtual std::unique_ptr<SpawnPlan> prepare(std::shared_ptr<const ProcessSpec> spec,
                                             ChildRequest& request, ErrorSink& err) = 0;
  // Makes the child's groups and limits and starts it (on the loop thread when the plan says
  // so), and fills `info`. Spawn errors come back here, and leave nothing behind.
  virtual std::unique_ptr<ChildOs> spawn(SpawnPlan& plan, ProcessInfo& info, ErrorSink& err) = 0;

  // Any thread: a group with `limits` (validated), inside `parent` when not null.
  virtual std::shared_ptr<GroupOs> make_group(const ResourceLimits& limits,
                                              const std::shared_ptr<GroupOs>& parent,
                                              ErrorSink& err) = 0;

  // Any thread: what one live child of `spec`, started with `containment` (inside a group of
  // this loop when `in_group`), holds open on the host's side while it runs (its handles, pipe
  // ends, group files: e.g. "pidfd", "cgroup directory", "stdout pipe"), one name per fd, for
  // the open-file check of a pool (PoolOptions::raise_fd_limit). Where fds are not limited per
  // process (Windows): none.
  [[nodiscard]] virtual std::vector<std::string_view> host_fds(const ProcessSpec& /*spec*/,
                                                               Containment /*containment*/,
                                                               bool /*in_group*/) const {
    return {};
  }

  // Loop thread: an sd_notify channel named after `name` (unique in this process; the backend
  // makes it unique on the machine, and need not reveal more of it than the first part).
  // `on_note` runs on the loop thread for each datagram.
  virtual std::unique_ptr<NotifyChannel> open_notify(const std::string& name,
                                                     std::function<void(const NotifyNote&)> on_note,
                                                     ErrorSink& err) = 0;
};

// Makes the backend of a new loop (host thread, before the loop thread starts) and fills what it
// found in `info`. Throws (std::system_error) when the OS refuses, or errc::unsupported where
// there is no backend.
std::unique_ptr<Backend> make_backend(LoopCore& loop, const LoopOptions& options, LoopInfo& info);

// The platform's number for `s` (what LeaderExit::signal reports).
[[nodiscard]] int native_signal(Signal s) noexcept;

// Samples any process of this machine by pid (health checks); nullopt when there is none.
// `open_fds`: also count its open fds (a directory listing; -1 when not).
[[nodiscard]] std::optional<ProcessSample> sample_process(int pid, bool open_fds = true);

}  // namespace supervisor::detail
