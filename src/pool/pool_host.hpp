// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What a Pool needs from the world: an executor (its loop), timers on its clock, processes and
// sd_notify channels. The real host is a Loop with real processes; `testing::FakeWorld` is an
// in-memory host on a ManualClock, on which the very same PoolCore runs deterministically.

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_spec.hpp>

#include "../core/run_sync.hpp"
#include "../process/host_end.hpp"
#include "../process/notify_note.hpp"
#include "../process/output_hook.hpp"

namespace supervisor::detail {

// One incarnation of a worker, as the pool drives it. Loop thread only.
class WorkerProcess {
 public:
  virtual ~WorkerProcess() = default;
  [[nodiscard]] virtual int pid() const = 0;
  virtual void request_stop() = 0;  // its StopPlan; the exit comes through on_exit
  virtual void request_kill() = 0;  // the whole tree, now
  // Sends `s` to its main process (Pool::signal_worker); the OS's refusal goes to `err`.
  virtual void signal(Signal s, ErrorSink& err) = 0;
  // How each limit of the spec's resources is enforced for this process.
  [[nodiscard]] virtual std::vector<LimitStatus> limits() const { return {}; }
  // Its resources now (loop thread).
  [[nodiscard]] virtual ResourceSample sample() const { return {}; }
  // Its memory and CPU time now, for usage sampling (PoolOptions::usage_sample_period): only
  // `memory_bytes`, `memory_scope`, `cpu_time` and `cpu_scope` are filled. None once its process
  // ended, or where the host cannot read it. Loop thread; cheap (a read or two of the OS).
  [[nodiscard]] virtual std::optional<WorkerUsage> usage() const { return std::nullopt; }
  // New limits for the running tree (loop thread).
  virtual void set_resources(const ResourceLimits& /*limits*/, ErrorSink& /*err*/) {}
  // Whether `pid` is this process or one of its tree (its group, or the session it leads).
  [[nodiscard]] virtual bool in_tree(int pid) const { return pid == this->pid(); }
  // The spec it was started with (null where unknown) and its cgroup directory (empty: none).
  [[nodiscard]] virtual std::shared_ptr<const ProcessSpec> spec() const { return nullptr; }
  [[nodiscard]] virtual std::string cgroup() const { return {}; }
  // The host's end of its channel (ProcessSpec::channel), or null.
  [[nodiscard]] virtual std::shared_ptr<HostEnd> channel() const { return nullptr; }
  // What it read from a piped stream so far (any thread).
  [[nodiscard]] virtual OutputStats output(StdStream /*stream*/) const { return {}; }
};

// The group all of a pool's workers share: its own (`PoolOptions::group_resources`), or the
// host's (`PoolOptions::group`). Loop thread only.
class WorkerGroup {
 public:
  virtual ~WorkerGroup() = default;
  [[nodiscard]] virtual std::vector<LimitStatus> limits() const = 0;
  [[nodiscard]] virtual GroupSample sample() = 0;
  virtual void set_resources(const ResourceLimits& limits, ErrorSink& err) = 0;
};

class PoolHost {
 public:
  virtual ~PoolHost() = default;

  [[nodiscard]] virtual TimePoint now() const = 0;
  [[nodiscard]] virtual WallTime wall_now() const = 0;
  virtual void post(std::function<void()> fn) = 0;
  [[nodiscard]] virtual bool in_loop() const = 0;
  virtual std::uint64_t add_timer(Duration after, std::function<void()> fn) = 0;
  virtual void cancel_timer(std::uint64_t id) = 0;
  // Starts a process (inside `group` when not null: one this host made); on success `on_exit`
  // is called later (loop thread) exactly once, from a turn of the loop of its own: never from
  // inside a call into this host, so the pool may act on it at once (restart, spawn).
  // `extra_env`: "NAME=value" entries its environment gets after the spec's (ChildRequest's).
  // `on_output` (may be empty): called on the loop thread with every complete line of its piped
  // streams and the stream it came from (stderr's lines as `out` when err is `same_as_out`),
  // after the spec's own `on_line`.
  virtual std::unique_ptr<WorkerProcess> spawn(std::shared_ptr<const ProcessSpec> spec,
                                               std::vector<std::string> extra_env,
                                               Containment containment, WorkerGroup* group,
                                               std::function<void(const ExitStatus&)> on_exit,
                                               OutputHook on_output, ErrorSink& err) = 0;
  // A group for all of a pool's workers, with shared limits (inside `parent` when it is valid).
  virtual std::unique_ptr<WorkerGroup> make_group(const ResourceLimits& limits,
                                                  const ResourceGroup& parent, ErrorSink& err) = 0;
  // The host's own group (`PoolOptions::group`), for a pool's workers to live in.
  virtual std::unique_ptr<WorkerGroup> adopt_group(const ResourceGroup& group, ErrorSink& err) = 0;
  // An sd_notify channel. `name` (e.g. `supervisor/<pool>/<worker>/<incarnation>`) is unique
  // within this process only; the host makes it unique across processes (the real host puts
  // only its first part on the wire, with a random part: `supervisor/<random>`; the fake keeps
  // it as it is).
  virtual std::unique_ptr<NotifyChannel> open_notify(const std::string& name,
                                                     std::function<void(const NotifyNote&)> on_note,
                                                     ErrorSink& err) = 0;
  // What one live worker of `spec` holds open on the host's side (inside the pool's group when
  // `in_group`), one name per fd (Backend::host_fds), for the pool's open-file check; none where
  // that does not apply (the fake world, Windows). Any thread.
  [[nodiscard]] virtual std::vector<std::string_view> worker_fds(const ProcessSpec& /*spec*/,
                                                                 Containment /*containment*/,
                                                                 bool /*in_group*/) const {
    return {};
  }
  // The real loop, for built-in probes that watch sockets or run processes (null: a fake).
  [[nodiscard]] virtual std::shared_ptr<class LoopCore> loop_core() const { return nullptr; }
  // For hosts whose loop is the caller's own thread (the fake): runs what is due without moving
  // the clock; false when nothing was left to do. Real hosts never need it.
  virtual bool pump() { return false; }

  // Runs `fn` on the loop and returns its result; inline when already there.
  template <class F>
  auto run_sync(F&& fn) -> std::invoke_result_t<F> {
    return run_sync_on(*this, std::forward<F>(fn));
  }
};

// The real host: a Loop and real processes.
std::shared_ptr<PoolHost> make_real_pool_host(std::shared_ptr<class LoopCore> core);

}  // namespace supervisor::detail
