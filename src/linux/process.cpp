// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/process.hpp>

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/validate.hpp"
#include "linux/cgroup_v2.hpp"
#include "linux/child.hpp"
#include "linux/limits.hpp"
#include "linux/loop_core.hpp"
#include "linux/spawn.hpp"

namespace supervisor {

std::string_view to_string(SpawnPath p) noexcept {
  return p == SpawnPath::clone3 ? "clone3" : "posix_spawn";
}

std::string_view to_string(Containment c) noexcept {
  switch (c) {
    case Containment::automatic: return "automatic";
    case Containment::cgroup: return "cgroup";
    case Containment::process_group: return "process-group";
  }
  return "?";
}

// ------------------------------------------------------------------------------------------
// Loop

Loop::Loop() : Loop(LoopOptions{}) {}

Loop::Loop(LoopOptions options) : core_(std::make_shared<detail::LoopCore>(std::move(options))) {
  core_->start();
}

Loop::~Loop() { core_->shutdown(); }

LoopInfo Loop::info() const { return core_->info(); }

std::uint64_t Loop::stolen_reaps() const noexcept {
  return core_->stolen_reaps.load(std::memory_order_relaxed);
}

std::uint64_t Loop::callback_errors() const noexcept {
  return core_->callback_errors.load(std::memory_order_relaxed);
}

// ------------------------------------------------------------------------------------------
// Process

namespace {

using detail::ChildState;
using detail::ErrorSink;

std::shared_ptr<ChildState> start_impl(const std::shared_ptr<detail::LoopCore>& core,
                                       std::shared_ptr<const ProcessSpec> spec_ptr,
                                       ProcessOptions&& options, bool spec_validated,
                                       ErrorSink& err) {
  const ProcessSpec& spec = *spec_ptr;
  if (!spec_validated) detail::validate_spec(spec, err);
  if (err) return nullptr;
  const LoopInfo& li = core->info();
  Containment containment = options.containment;
  if (containment == Containment::automatic)
    containment = li.cgroup_usable ? Containment::cgroup : Containment::process_group;
  // A copy: `options` moves into the child state before the spawn.
  const std::shared_ptr<detail::GroupState> group_state = detail::GroupAccess::state(options.group);
  if (group_state && group_state->core != core) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("start \"{}\": ProcessOptions::group belongs to another Loop",
                         spec.display_name());
    });
    return nullptr;
  }
  if (group_state && group_state->v2 && containment == Containment::process_group) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "start \"{}\": ProcessOptions::group is a cgroup v2 group ({}), which process-group "
          "containment cannot place the tree in",
          spec.display_name(), group_state->v2_dir());
    });
    return nullptr;
  }
  if (containment == Containment::cgroup && !li.cgroup_usable) {
    err.fail(errc::cgroup_unavailable, [&] {
      return fmt::format("start \"{}\": cgroup containment requested, but {}", spec.display_name(),
                         li.cgroup_why_not);
    });
    return nullptr;
  }
  // Opening files, resolving names and building argv/envp happen here, on the calling thread.
  auto prepared = std::make_unique<detail::PreparedSpawn>();
  prepared->shared_null = core->null_fd();
  prepared->use_pidfd = li.pidfd_available;
  prepared->has_close_range = li.close_range_available;
  prepared->parent_pid = core->host_pid();
  detail::prepare_spawn(spec, *prepared, err);
  if (err) return nullptr;
  auto state = std::make_shared<ChildState>(core, std::move(spec_ptr), std::move(options));
  const SpawnPath path = core->options().spawn_path.value_or(SpawnPath::clone3);
  auto start_child = [&]() -> std::shared_ptr<ChildState> {
    std::optional<detail::CgroupV2Group> group;
    // Named only when a group is made: the name costs a format on every start.
    const detail::V1Dirs parent_v1 = group_state ? group_state->v1_dirs() : detail::V1Dirs{};
    const bool needs_group =
        containment == Containment::cgroup || !spec.resources.empty() || !parent_v1.empty();
    const std::string group_name = needs_group ? core->next_group_name() : std::string();
    if (containment == Containment::cgroup) {
      group = detail::CgroupV2Group::create(
          group_state && group_state->v2 ? group_state->v2_dir() : li.cgroup_base, group_name, err);
      if (err) return nullptr;
    }
    const auto drop_group = [&] {
      if (!group) return;
      ErrorSink ignored;
      group->remove(ignored);
    };
    detail::TreeLimits limits;
    detail::apply_limits(core->limit_support(), spec, group ? &*group : nullptr, group_name,
                         parent_v1, *prepared, limits, err);
    if (err) {
      drop_group();
      return nullptr;
    }
    detail::SpawnResult r;
    detail::spawn_prepared(*prepared, group ? group->dir_fd() : -1, path, r, err);
    prepared->join_fds.clear();
    if (err) {
      limits.release();
      drop_group();
      return nullptr;
    }
    state->info.pid = r.pid;
    state->info.pgid = state->spec.new_session ? r.pid : ::getpgid(r.pid);
    state->info.path = r.path;
    state->info.pidfd = static_cast<bool>(r.pidfd);
    state->info.containment = containment;
    state->info.cgroup = group ? group->path() : std::string();
    state->info.program = prepared->program;
    state->info.limits = limits.statuses;
    // The child has its copies; ours close now, so that EOF on the pipes means the tree is done.
    prepared->owned.clear();
    // From any thread: the loop adopts the child without anyone waiting for it.
    state->begin(std::move(r), std::move(group), std::move(limits), std::move(prepared->out_read),
                 std::move(prepared->err_read));
    return state;
  };
  // posix_spawn is safe on any thread and needs no PDEATHSIG: it runs here, sparing the host a
  // round trip. clone3 runs on the loop thread: PR_SET_PDEATHSIG follows the thread that creates
  // the child, and the loop thread lives as long as the children.
  if (path == SpawnPath::posix_spawn || !li.clone3_available) return start_child();
  return core->run_sync(start_child);
}

}  // namespace

Process detail::start_on(const std::shared_ptr<detail::LoopCore>& core,
                         std::shared_ptr<const ProcessSpec> spec, ProcessOptions options,
                         bool spec_validated, std::error_code& ec, std::string& message) {
  ErrorSink err;
  auto state = start_impl(core, std::move(spec), std::move(options), spec_validated, err);
  ec = err.code;
  message = err.context;
  return Process(std::move(state));
}

Process::Process() noexcept = default;
Process::Process(std::shared_ptr<detail::ChildState> state) noexcept : state_(std::move(state)) {}
Process::Process(Process&&) noexcept = default;

// Lets go of the current process: stops it (waiting, within its StopPlan) from a host thread;
// from the loop thread, where waiting would deadlock, only starts the stop.
void Process::reset() noexcept {
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

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
  }
  return *this;
}

Process::~Process() { reset(); }

Process Process::start(Loop& loop, ProcessSpec spec, ProcessOptions options) {
  return detail::or_throw([&](ErrorSink& err) {
    return Process(start_impl(loop.core_, std::make_shared<const ProcessSpec>(std::move(spec)),
                              std::move(options), false, err));
  });
}

Process Process::start(Loop& loop, ProcessSpec spec, ProcessOptions options,
                       std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](ErrorSink& err) {
    return Process(start_impl(loop.core_, std::make_shared<const ProcessSpec>(std::move(spec)),
                              std::move(options), false, err));
  });
}

int Process::pid() const noexcept { return state_ ? state_->info.pid : 0; }

ProcessInfo Process::info() const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);  // set_resources updates `limits`
  return state_->info;
}

bool Process::running() const {
  if (!state_) return false;
  std::lock_guard lock(state_->mu);
  return !state_->final_status.has_value();
}

std::optional<ExitStatus> Process::exit_status() const {
  if (!state_) return std::nullopt;
  std::lock_guard lock(state_->mu);
  return state_->final_status;
}

ExitStatus Process::wait() {
  if (!state_) throw_error(errc::not_running, "Process::wait: no process");
  return *state_->wait_for(std::nullopt);
}

std::optional<ExitStatus> Process::wait_for(Duration timeout) {
  if (!state_) throw_error(errc::not_running, "Process::wait_for: no process");
  return state_->wait_for(timeout);
}

void Process::request_stop() {
  if (!state_) return;
  auto s = state_;
  s->loop->post([s] { s->request_stop(); });
}

ExitStatus Process::stop() {
  if (!state_) throw_error(errc::not_running, "Process::stop: no process");
  if (auto done = exit_status()) return *done;  // already over: no round trip to the loop
  request_stop();
  return wait();
}

void Process::request_kill() {
  if (!state_) return;
  auto s = state_;
  s->loop->post([s] { s->kill_now(); });
}

ExitStatus Process::kill() {
  if (!state_) throw_error(errc::not_running, "Process::kill: no process");
  auto s = state_;
  s->loop->post([s] { s->kill_now(); });
  return wait();
}

namespace {

void signal_impl(const std::shared_ptr<ChildState>& s, Signal sig, ErrorSink& err) {
  if (!s) {
    err.fail(errc::not_running, [] { return std::string("Process::signal: no process"); });
    return;
  }
  s->loop->run_sync([&] { s->signal_leader(detail::native_signal(sig), err); });
}

}  // namespace

void Process::signal(Signal sig) {
  detail::or_throw([&](ErrorSink& err) { signal_impl(state_, sig, err); });
}

void Process::signal(Signal sig, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](ErrorSink& err) { signal_impl(state_, sig, err); });
}

std::string Process::output(StdStream stream) const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);
  return stream == StdStream::err ? state_->err.ring : state_->out.ring;
}

std::string Process::take_output(StdStream stream) {
  if (!state_) return {};
  std::string taken;
  {
    std::lock_guard lock(state_->mu);
    auto& ch = stream == StdStream::err ? state_->err : state_->out;
    taken.swap(ch.ring);
  }
  auto s = state_;
  s->loop->post([s, stream] { s->resume_output(stream); });
  return taken;
}

OutputStats Process::output_stats(StdStream stream) const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);
  return stream == StdStream::err ? state_->err.stats : state_->out.stats;
}

namespace {

void set_resources_impl(const std::shared_ptr<ChildState>& s, const ResourceLimits& limits,
                        ErrorSink& err) {
  if (!s) {
    err.fail(errc::not_running, [] { return std::string("Process::set_resources: no process"); });
    return;
  }
  s->loop->run_sync([&] { s->set_resources(limits, err); });
}

}  // namespace

void Process::set_resources(const ResourceLimits& limits) {
  detail::or_throw([&](ErrorSink& err) { set_resources_impl(state_, limits, err); });
}

void Process::set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](ErrorSink& err) { set_resources_impl(state_, limits, err); });
}

ResourceSample Process::sample() const {
  if (!state_) return {};
  auto s = state_;
  return s->loop->run_sync([&] { return s->sample(); });
}

// ------------------------------------------------------------------------------------------
// ResourceGroup

ResourceGroup detail::create_resource_group(const std::shared_ptr<detail::LoopCore>& core,
                                            const ResourceLimits& limits,
                                            const ResourceGroup& parent, ErrorSink& err) {
  detail::validate_group_limits(limits, "ResourceGroup", err);
  if (err) return {};
  const auto& parent_state = detail::GroupAccess::state(parent);
  if (parent_state && parent_state->core != core) {
    err.fail(errc::invalid_argument,
             [] { return std::string("ResourceGroup: the parent group belongs to another Loop"); });
    return {};
  }
  const LoopInfo& li = core->info();
  auto state =
      detail::make_group(core->limit_support(), li.cgroup_usable ? li.cgroup_base : std::string(),
                         core->next_group_name('g'), limits, parent_state, err);
  if (err) return {};
  state->core = core;
  return detail::GroupAccess::make(std::move(state));
}

ResourceGroup::ResourceGroup() noexcept = default;

ResourceGroup ResourceGroup::create(Loop& loop, ResourceLimits limits) {
  return detail::or_throw(
      [&](ErrorSink& err) { return detail::create_resource_group(loop.core_, limits, {}, err); });
}

ResourceGroup ResourceGroup::create(Loop& loop, ResourceLimits limits,
                                    std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](ErrorSink& err) {
    return detail::create_resource_group(loop.core_, limits, {}, err);
  });
}

namespace {

ResourceGroup child_of(const ResourceGroup& parent,
                       const std::shared_ptr<detail::GroupState>& state,
                       const ResourceLimits& limits, ErrorSink& err) {
  if (!state) {
    err.fail(errc::invalid_argument,
             [] { return std::string("ResourceGroup::create_child: an empty handle"); });
    return {};
  }
  return detail::create_resource_group(state->core, limits, parent, err);
}

}  // namespace

ResourceGroup ResourceGroup::create_child(ResourceLimits limits) const {
  return detail::or_throw([&](ErrorSink& err) { return child_of(*this, state_, limits, err); });
}

ResourceGroup ResourceGroup::create_child(ResourceLimits limits,
                                          std::error_code& ec) const noexcept {
  return detail::into_code(ec,
                           [&](ErrorSink& err) { return child_of(*this, state_, limits, err); });
}

ResourceLimits ResourceGroup::resources() const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);
  return state_->current;
}

std::string ResourceGroup::cgroup() const { return state_ ? state_->v2_dir() : std::string(); }

std::vector<LimitStatus> ResourceGroup::limits() const {
  if (!state_) return {};
  std::lock_guard lock(state_->mu);
  return state_->limits.statuses;
}

GroupSample ResourceGroup::sample() const {
  if (!state_) return {};
  return state_->sample();
}

namespace {

void set_group_impl(const std::shared_ptr<detail::GroupState>& s, const ResourceLimits& limits,
                    ErrorSink& err) {
  if (!s) {
    err.fail(errc::invalid_argument,
             [] { return std::string("ResourceGroup::set_resources: an empty handle"); });
    return;
  }
  detail::validate_group_limits(limits, "ResourceGroup", err);
  if (!err) s->set(limits, false, err);
}

}  // namespace

void ResourceGroup::set_resources(const ResourceLimits& limits) {
  detail::or_throw([&](ErrorSink& err) { set_group_impl(state_, limits, err); });
}

void ResourceGroup::set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](ErrorSink& err) { set_group_impl(state_, limits, err); });
}

}  // namespace supervisor
