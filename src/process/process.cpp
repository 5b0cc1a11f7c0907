// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The public Process: a handle on a ChildCore, whose calls become commands for the loop.
#include <supervisor/process.hpp>

#include <fmt/format.h>

#include "../core/validate.hpp"
#include "access.hpp"
#include "child.hpp"
#include "fd_limit.hpp"
#include "loop_core.hpp"

namespace supervisor {

using detail::ChildCore;
using detail::ErrorSink;

SUPERVISOR_INLINE Process detail::start_process(const std::shared_ptr<LoopCore>& core,
                                                std::shared_ptr<const ProcessSpec> spec_ptr,
                                                ProcessOptions options, bool spec_validated,
                                                ErrorSink& err, const std::string& join_cgroup,
                                                std::vector<std::string> extra_env,
                                                OutputHook hook) {
  const ProcessSpec& spec = *spec_ptr;
  if (!spec_validated) validate_spec(spec, err);
  if (err) return {};
  ChildRequest request;
  request.containment = options.containment;
  request.group = GroupAccess::state(options.group);
  request.join_cgroup = join_cgroup;
  request.extra_env = std::move(extra_env);
  if (request.group && request.group->core != core) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("start \"{}\": ProcessOptions::group belongs to another Loop",
                         spec.display_name());
    });
    return {};
  }
  // Resolving names, opening files and building argv and the environment happen here, on the
  // calling thread.
  std::unique_ptr<SpawnPlan> plan = core->backend().prepare(spec_ptr, request, err);
  if (err) {
    name_fd_limit(err);
    return {};
  }
  // Log files before the spawn: one that cannot be opened fails the start, with nothing begun.
  std::unique_ptr<LogFile> logs[2];
  if (spec.out.mode == StdioSpec::Mode::log_file) logs[0] = open_log_file(spec.out, "out", err);
  if (!err && spec.err.mode == StdioSpec::Mode::log_file)
    logs[1] = open_log_file(spec.err, "err", err);
  if (err) {
    name_fd_limit(err);
    return {};
  }
  auto state =
      std::make_shared<ChildCore>(core, std::move(spec_ptr), std::move(options), std::move(hook));
  state->out_log = std::move(logs[0]);
  state->err_log = std::move(logs[1]);
  auto start_child = [&] {
    std::unique_ptr<ChildOs> os = core->backend().spawn(*plan, state->info, err);
    if (!err) state->begin(std::move(os));
  };
  // The backend says where the spawn must run; when any thread will do, it runs here, sparing
  // the host a round trip to the loop.
  if (plan->on_loop_thread()) {
    core->run_sync(start_child);
  } else {
    start_child();
  }
  if (err) {
    name_fd_limit(err);  // wherever the backend built the message (its groups, its clone)
    return {};
  }
  return ProcessAccess::make(std::move(state));
}

SUPERVISOR_INLINE Process::Process() noexcept = default;
SUPERVISOR_INLINE Process::Process(std::shared_ptr<ChildCore> state) noexcept
    : state_(std::move(state)) {}
SUPERVISOR_INLINE Process::Process(Process&&) noexcept = default;

// Lets go of the current process: stops it (waiting, within its StopPlan) from a host thread;
// from the loop thread, where waiting would deadlock, only starts the stop.
SUPERVISOR_INLINE void Process::reset() noexcept {
  if (!state_) return;
  try {
    if (state_->loop->in_loop()) {
      state_->request_stop();
    } else {
      stop();
    }
  } catch (...) {
    // Never throws: a destructor and a move assignment call this.
  }
  state_.reset();
}

SUPERVISOR_INLINE Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
  }
  return *this;
}

SUPERVISOR_INLINE Process::~Process() { reset(); }

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE Process start_impl(Loop& loop, ProcessSpec&& spec, ProcessOptions&& options,
                                     ErrorSink& err) {
  return detail::start_process(detail::LoopAccess::core(loop),
                               std::make_shared<const ProcessSpec>(std::move(spec)),
                               std::move(options), false, err);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE Process Process::start(Loop& loop, ProcessSpec spec, ProcessOptions options) {
  return detail::or_throw(
      [&](ErrorSink& err) { return start_impl(loop, std::move(spec), std::move(options), err); });
}

SUPERVISOR_INLINE Process Process::start(Loop& loop, ProcessSpec spec, ProcessOptions options,
                                         std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](ErrorSink& err) {
    return start_impl(loop, std::move(spec), std::move(options), err);
  });
}

SUPERVISOR_INLINE int Process::pid() const noexcept { return state_ ? state_->info.pid : 0; }

SUPERVISOR_INLINE ProcessInfo Process::info() const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);  // set_resources updates `limits`
  return state_->info;
}

SUPERVISOR_INLINE bool Process::running() const {
  if (!state_) return false;
  std::lock_guard lock(state_->mu);
  return !state_->final_status.has_value();
}

SUPERVISOR_INLINE std::optional<ExitStatus> Process::exit_status() const {
  if (!state_) return std::nullopt;
  std::lock_guard lock(state_->mu);
  return state_->final_status;
}

SUPERVISOR_LOCAL_BEGIN

// A blocking call on the loop thread waits for the thread that would end the wait; in a forked
// child of the host there is no loop thread at all.
SUPERVISOR_INLINE void refuse_on_loop(const ChildCore& s, const char* what) {
  if (s.loop->forked()) {
    // Before any lock: one that a thread of the parent held at the fork stays locked here.
    throw_error(errc::not_running,
                fmt::format("Process::{} in a forked child of the host: only the parent's loop "
                            "sees this process end",
                            what));
  }
  if (!s.loop->in_loop()) return;
  {
    std::lock_guard lock(s.mu);
    if (s.final_status) return;  // nothing to wait for
  }
  throw_error(std::make_error_code(std::errc::resource_deadlock_would_occur),
              fmt::format("Process::{} on the loop thread (from a callback) would wait for itself; "
                          "use request_stop/request_kill and ProcessOptions::on_exit there",
                          what));
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE ExitStatus Process::wait() {
  if (!state_) throw_error(errc::not_running, "Process::wait: no process");
  refuse_on_loop(*state_, "wait");
  return *state_->wait_for(std::nullopt);
}

SUPERVISOR_INLINE std::optional<ExitStatus> Process::wait_for(Duration timeout) {
  if (!state_) throw_error(errc::not_running, "Process::wait_for: no process");
  refuse_on_loop(*state_, "wait_for");
  return state_->wait_for(timeout);
}

SUPERVISOR_INLINE void Process::request_stop() {
  if (!state_) return;
  auto s = state_;
  s->loop->post([s] { s->request_stop(); });
}

SUPERVISOR_INLINE ExitStatus Process::stop() {
  if (!state_) throw_error(errc::not_running, "Process::stop: no process");
  refuse_on_loop(*state_, "stop");
  if (auto done = exit_status()) return *done;  // already over: no round trip to the loop
  request_stop();
  return wait();
}

SUPERVISOR_INLINE void Process::request_kill() {
  if (!state_) return;
  auto s = state_;
  s->loop->post([s] { s->kill_now(); });
}

SUPERVISOR_INLINE ExitStatus Process::kill() {
  if (!state_) throw_error(errc::not_running, "Process::kill: no process");
  refuse_on_loop(*state_, "kill");
  request_kill();
  return wait();
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void signal_impl(const std::shared_ptr<ChildCore>& s, Signal sig,
                                   ErrorSink& err) {
  if (!s) {
    err.fail(errc::not_running, [] { return std::string("Process::signal: no process"); });
    return;
  }
  s->loop->run_sync([&] { s->signal_leader(sig, err); });
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void Process::signal(Signal sig) {
  detail::or_throw([&](ErrorSink& err) { signal_impl(state_, sig, err); });
}

SUPERVISOR_INLINE void Process::signal(Signal sig, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](ErrorSink& err) { signal_impl(state_, sig, err); });
}

SUPERVISOR_INLINE std::string Process::output(StdStream stream) const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);
  return state_->buffer(stream).ring();
}

SUPERVISOR_INLINE std::string Process::take_output(StdStream stream) {
  if (!state_) return {};
  std::string taken;
  {
    std::lock_guard lock(state_->mu);
    taken = state_->buffer(stream).take_ring();
  }
  auto s = state_;
  s->loop->post([s, stream] { s->resume_output(stream); });
  return taken;
}

SUPERVISOR_INLINE OutputStats Process::output_stats(StdStream stream) const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);
  return state_->buffer(stream).stats();
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void set_resources_impl(const std::shared_ptr<ChildCore>& s,
                                          const ResourceLimits& limits, ErrorSink& err) {
  if (!s) {
    err.fail(errc::not_running, [] { return std::string("Process::set_resources: no process"); });
    return;
  }
  s->loop->run_sync([&] { s->set_resources(limits, err); });
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void Process::set_resources(const ResourceLimits& limits) {
  detail::or_throw([&](ErrorSink& err) { set_resources_impl(state_, limits, err); });
}

SUPERVISOR_INLINE void Process::set_resources(const ResourceLimits& limits,
                                              std::error_code& ec) noexcept {
  detail::into_code(ec, [&](ErrorSink& err) { set_resources_impl(state_, limits, err); });
}

SUPERVISOR_INLINE ResourceSample Process::sample() const {
  if (!state_) return {};
  auto s = state_;
  return s->loop->run_sync([&] { return s->sample(); });
}

}  // namespace supervisor
