// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The real world a Pool runs in: a Loop, real processes, the backend's groups and sd_notify
// channels. Portable: everything OS-specific is behind process/backend.hpp.
#include "../pool/pool_host.hpp"
#include "access.hpp"
#include "child.hpp"
#include "loop_core.hpp"
#include "resource_group.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

class RealWorker final : public WorkerProcess {
 public:
  explicit RealWorker(Process p) : process_(std::move(p)) {}
  [[nodiscard]] int pid() const override { return process_.pid(); }
  void request_stop() override { process_.request_stop(); }
  void request_kill() override { process_.request_kill(); }
  // On the loop already: the process's own step, without a hop.
  void signal(Signal s, ErrorSink& err) override {
    const auto& state = ProcessAccess::state(process_);
    if (state) state->signal_leader(s, err);
  }
  [[nodiscard]] std::vector<LimitStatus> limits() const override { return process_.info().limits; }
  [[nodiscard]] ResourceSample sample() const override { return process_.sample(); }
  [[nodiscard]] std::optional<WorkerUsage> usage() const override {
    const auto& state = ProcessAccess::state(process_);
    const std::optional<UsageReading> r = state ? state->usage() : std::nullopt;
    if (!r) return std::nullopt;
    WorkerUsage u;
    u.memory_bytes = r->memory_bytes;
    u.memory_scope = r->tree_memory ? UsageScope::tree : UsageScope::process;
    u.cpu_time =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(r->cpu_seconds));
    u.cpu_scope = r->tree_cpu ? UsageScope::tree : UsageScope::process;
    return u;
  }
  [[nodiscard]] std::shared_ptr<const ProcessSpec> spec() const override {
    const auto& state = ProcessAccess::state(process_);
    return state ? state->spec_ptr : nullptr;
  }
  [[nodiscard]] std::string cgroup() const override { return process_.info().cgroup; }
  [[nodiscard]] std::shared_ptr<HostEnd> channel() const override {
    const auto& state = ProcessAccess::state(process_);
    return state ? state->ends.channel : nullptr;
  }
  [[nodiscard]] OutputStats output(StdStream stream) const override {
    return process_.output_stats(stream);
  }
  [[nodiscard]] bool in_tree(int pid) const override {
    const auto& state = ProcessAccess::state(process_);
    return state && state->in_tree(pid);
  }
  void set_resources(const ResourceLimits& limits, ErrorSink& err) override {
    try {
      process_.set_resources(limits);
    } catch (const std::system_error& e) {
      err.fail(e.code(), [&] { return std::string(e.what()); });
    }
  }

 private:
  Process process_;
};

class RealGroup final : public WorkerGroup {
 public:
  explicit RealGroup(ResourceGroup g) : group(std::move(g)) {}
  [[nodiscard]] std::vector<LimitStatus> limits() const override { return group.limits(); }
  [[nodiscard]] GroupSample sample() override { return group.sample(); }
  // Validated by the pool already.
  void set_resources(const ResourceLimits& limits, ErrorSink& err) override {
    GroupAccess::state(group)->set(limits, err);
  }
  ResourceGroup group;
};

class RealHost final : public PoolHost {
 public:
  explicit RealHost(std::shared_ptr<LoopCore> core) : core_(std::move(core)) {}

  [[nodiscard]] TimePoint now() const override { return default_clock().now(); }
  [[nodiscard]] WallTime wall_now() const override { return default_clock().wall_now(); }
  void post(std::function<void()> fn) override { core_->post(std::move(fn)); }
  [[nodiscard]] bool in_loop() const override { return core_->in_loop(); }
  std::uint64_t add_timer(Duration after, std::function<void()> fn) override {
    return core_->add_timer(after, std::move(fn));
  }
  void cancel_timer(std::uint64_t id) override { core_->cancel_timer(id); }
  [[nodiscard]] std::shared_ptr<LoopCore> loop_core() const override { return core_; }

  std::unique_ptr<WorkerProcess> spawn(std::shared_ptr<const ProcessSpec> spec,
                                       std::vector<std::string> extra_env, Containment containment,
                                       WorkerGroup* group,
                                       std::function<void(const ExitStatus&)> on_exit,
                                       OutputHook on_output, ErrorSink& err) override {
    ProcessOptions po;
    po.containment = containment;
    if (group != nullptr) po.group = static_cast<RealGroup*>(group)->group;
    po.on_exit = std::move(on_exit);
    // Validated by the pool when it started (a notify socket added since changes nothing there).
    Process p = start_process(core_, std::move(spec), std::move(po), true, err, {},
                              std::move(extra_env), std::move(on_output));
    if (err) return nullptr;
    return std::make_unique<RealWorker>(std::move(p));
  }

  std::unique_ptr<WorkerGroup> adopt_group(const ResourceGroup& group, ErrorSink& err) override {
    const auto& state = GroupAccess::state(group);
    if (state && state->core != core_) {
      err.fail(errc::invalid_argument, [] {
        return std::string("PoolOptions.group: the ResourceGroup belongs to another Loop");
      });
      return nullptr;
    }
    return std::make_unique<RealGroup>(group);
  }

  std::unique_ptr<WorkerGroup> make_group(const ResourceLimits& limits, const ResourceGroup& parent,
                                          ErrorSink& err) override {
    ResourceGroup g = create_resource_group(core_, limits, parent, err);
    if (err) return nullptr;
    return std::make_unique<RealGroup>(std::move(g));
  }

  std::unique_ptr<NotifyChannel> open_notify(const std::string& name,
                                             std::function<void(const NotifyNote&)> on_note,
                                             ErrorSink& err) override {
    return core_->backend().open_notify(name, std::move(on_note), err);
  }

  [[nodiscard]] std::vector<std::string_view> worker_fds(const ProcessSpec& spec,
                                                         Containment containment,
                                                         bool in_group) const override {
    return core_->backend().host_fds(spec, containment, in_group);
  }

 private:
  std::shared_ptr<LoopCore> core_;  // keeps the loop's state alive as long as the pool needs it
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::shared_ptr<PoolHost> make_real_pool_host(std::shared_ptr<LoopCore> core) {
  return std::make_shared<RealHost>(std::move(core));
}

}  // namespace supervisor::detail
