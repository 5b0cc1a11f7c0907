// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <sys/epoll.h>

#include <fmt/format.h>

#include "linux/limits.hpp"
#include "linux/loop_core.hpp"
#include "linux/notify_socket.hpp"
#include "pool/pool_host.hpp"

namespace supervisor::detail {
namespace {

class RealWorker final : public WorkerProcess {
 public:
  explicit RealWorker(Process p) : process_(std::move(p)) {}
  [[nodiscard]] int pid() const override { return process_.pid(); }
  void request_stop() override { process_.request_stop(); }
  void request_kill() override { process_.request_kill(); }
  [[nodiscard]] std::vector<LimitStatus> limits() const override { return process_.info().limits; }
  [[nodiscard]] ResourceSample sample() const override { return process_.sample(); }
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
    GroupAccess::state(group)->set(limits, false, err);
  }
  ResourceGroup group;
};

class RealNotify final : public NotifyChannel {
 public:
  RealNotify(std::shared_ptr<LoopCore> core, std::function<void(const NotifyNote&)> on_note)
      : core_(std::move(core)), on_note_(std::move(on_note)) {}
  ~RealNotify() override {
    if (watch_) core_->unwatch(watch_, socket_.fd());
  }
  RealNotify(const RealNotify&) = delete;
  RealNotify& operator=(const RealNotify&) = delete;

  void open(const std::string& name, ErrorSink& err) {
    socket_.open(name, err);
    if (err) return;
    watch_ = core_->watch(socket_.fd(), EPOLLIN, [this](std::uint32_t) {
      for (const NotifyNote& note : socket_.receive()) on_note_(note);
    });
  }
  [[nodiscard]] const std::string& address() const override { return socket_.address(); }

 private:
  std::shared_ptr<LoopCore> core_;
  std::function<void(const NotifyNote&)> on_note_;
  NotifySocket socket_;
  std::uint64_t watch_ = 0;
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
                                       Containment containment, WorkerGroup* group,
                                       std::function<void(const ExitStatus&)> on_exit,
                                       ErrorSink& err) override {
    ProcessOptions po;
    po.containment = containment;
    if (group != nullptr) po.group = static_cast<RealGroup*>(group)->group;
    po.on_exit = std::move(on_exit);
    std::error_code ec;
    std::string message;
    // Validated by the pool when it started (a notify socket added since changes nothing there).
    Process p = start_on(core_, std::move(spec), std::move(po), true, ec, message);
    if (ec) {
      err.fail(ec, [&] { return message; });
      return nullptr;
    }
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
    auto channel = std::make_unique<RealNotify>(core_, std::move(on_note));
    channel->open(
        std::string(name).insert(name.find('/') + 1, fmt::format("{}/", core_->host_pid())), err);
    if (err) return nullptr;
    return channel;
  }

 private:
  std::shared_ptr<LoopCore> core_;  // keeps the loop's state alive as long as the pool needs it
};

}  // namespace

std::shared_ptr<PoolHost> make_real_pool_host(std::shared_ptr<LoopCore> core) {
  return std::make_shared<RealHost>(std::move(core));
}

}  // namespace supervisor::detail
