// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 10  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `Process`: one supervised child and its tree, on a `Loop`: the process layer under `Pool`,
/// public for hosts that need a single supervised child. Includes the rest of the process layer
/// (`Loop`, `ResourceGroup`, `ProcessInfo` and the samples).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/export.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/process_info.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/resource_group.hpp>

namespace supervisor {

namespace detail {
class ChildCore;
class HostEnd;
struct ProcessAccess;
struct ChannelAccess;
}  // namespace detail

/// The host's side of a child's channel (`ProcessSpec::channel`): whole messages sent to and
/// received from that one child, from the calling thread (no round trip to the loop). Get one
/// from `Process::channel()` or, in a pool, `Lease::channel()`: a job sent there goes to exactly
/// the leased worker's current incarnation, and nowhere else.
///
/// Every call is thread-safe and never blocks past its timeout (zero: only what is possible now;
/// a year or more: no limit). Errors, all typed:
///   - `errc::timeout`: no message (or no room for one) within the timeout;
///   - `errc::peer_gone`: the child closed its end or ended (a worker that died mid-job), or its
///     incarnation is over (the host's end closes once the child's whole tree is gone);
///   - `errc::invalid_argument`: no channel (a default `Channel`, or the spec's channel is off),
///     a `Channel` of a lease that was released since, an empty message, or one larger than the
///     channel takes (Linux: the socket buffer, about 200 KiB by default; Windows: 64 KiB).
///
/// Replies are not matched to requests: a reply that comes after its `receive` timed out waits
/// in the channel for the next `receive` (of the next lease of that worker). Put a job id in
/// your messages when a timeout may leave one behind (the Python pool example does).
///
/// Copyable and cheap: copies share the same end. Valid while its process runs (and, from a
/// lease, while the lease is held).
class SUPERVISOR_API Channel {
 public:
  Channel() noexcept;
  ~Channel();
  Channel(const Channel&);
  Channel& operator=(const Channel&);
  Channel(Channel&&) noexcept;
  Channel& operator=(Channel&&) noexcept;

  /// Whether there is a channel behind it (it may still have ended since).
  [[nodiscard]] bool valid() const noexcept { return end_ != nullptr; }

  /// Sends one message (not empty), waiting up to `timeout` for room.
  void send(std::string_view message, Duration timeout);
  /// \overload
  void send(std::string_view message, Duration timeout, std::error_code& ec) noexcept;
  /// Receives the next message whole, waiting up to `timeout` for it.
  [[nodiscard]] std::string receive(Duration timeout);
  /// \overload
  std::string receive(Duration timeout, std::error_code& ec) noexcept;
  /// `send`, then `receive`, both within `timeout` in all: one job and its answer.
  [[nodiscard]] std::string request(std::string_view message, Duration timeout);
  /// \overload
  std::string request(std::string_view message, Duration timeout, std::error_code& ec) noexcept;

 private:
  friend struct detail::ChannelAccess;
  std::shared_ptr<detail::HostEnd> end_;
  std::uint64_t ticket_ = 0;  // the lease it belongs to (0: none, a Process's own)
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

  /// Blocks until the process and its tree are gone. The blocking calls (`wait`, `wait_for`,
  /// `stop`, `kill`) made on the loop thread (from a callback) while the process still runs
  /// would wait for the thread that is waiting: they throw
  /// `std::errc::resource_deadlock_would_occur` instead (use `request_stop`/`request_kill` and
  /// `ProcessOptions::on_exit` there).
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

  /// Writes to the child's stdin, when the spec made it a pipe (`in = StdioSpec::pipe()`), from
  /// the calling thread: as much of `data` as the pipe takes within `timeout` (zero: what fits
  /// now, never waiting). Returns how many bytes went; fewer than `data.size()` means the
  /// timeout passed with the pipe full (the child reads slower), which is no error: write the
  /// rest later. Never raises SIGPIPE in the host (the calling thread blocks it for the call).
  /// Errors: `errc::peer_gone` (the child closed its stdin or ended), `errc::invalid_argument`
  /// (stdin is not a pipe, or `close_stdin` closed it), `errc::not_running` (no process). On
  /// Windows a write the timeout cuts short is cancelled, and the count is what the pipe took.
  std::size_t write_stdin(std::string_view data, Duration timeout);
  /// \overload
  std::size_t write_stdin(std::string_view data, Duration timeout, std::error_code& ec) noexcept;
  /// Closes the host's end of the stdin pipe: the child reads end-of-file once it has read what
  /// was written. Idempotent; nothing happens when stdin is not a pipe. A write under way on
  /// another thread keeps the pipe open until it returns (at most its timeout; on Windows it is
  /// woken at once). Also done when the process ends.
  void close_stdin() noexcept;
  /// The channel to the child (`ProcessSpec::channel`); an invalid one when it has none.
  [[nodiscard]] Channel channel() const;

  /// Samples the worker's resources now (on Linux: reads /proc and the cgroup; does not block the
  /// loop for long). A finished process gives `alive == false`.
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
  friend struct detail::ProcessAccess;
  explicit Process(std::shared_ptr<detail::ChildCore> state) noexcept;
  void reset() noexcept;
  std::shared_ptr<detail::ChildCore> state_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 10
#  include <supervisor/detail/header_only_end.hpp>
#endif
