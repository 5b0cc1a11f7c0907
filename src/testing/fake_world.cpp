// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/testing.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string_view>

#include "../process/backend.hpp"
#include "../process/exit_classify.hpp"
#include "fake_host.hpp"

namespace supervisor {
namespace detail {
SUPERVISOR_LOCAL_BEGIN

class FakeWorker final : public WorkerProcess {
 public:
  FakeWorker(std::weak_ptr<FakeHost> host, int pid) : host_(std::move(host)), pid_(pid) {}
  [[nodiscard]] int pid() const override { return pid_; }
  void request_stop() override {
    if (auto h = host_.lock()) h->on_stop_request(pid_);
  }
  void request_kill() override {
    if (auto h = host_.lock()) h->on_kill_request(pid_);
  }
  [[nodiscard]] std::shared_ptr<const ProcessSpec> spec() const override {
    const auto h = host_.lock();
    if (!h) return nullptr;
    const auto it = h->procs_.find(pid_);
    return it == h->procs_.end() ? nullptr : it->second.spec;
  }
  void signal(Signal s, ErrorSink&) override {
    if (auto h = host_.lock()) h->on_signal(pid_, s);
  }
  [[nodiscard]] OutputStats output(StdStream stream) const override {
    const auto h = host_.lock();
    if (!h) return {};
    const auto it = h->procs_.find(pid_);
    if (it == h->procs_.end() || stream == StdStream::in) return {};
    const auto& buffer = it->second.buffers[stream == StdStream::err ? 1 : 0];
    return buffer ? buffer->stats() : OutputStats{};
  }
  [[nodiscard]] ResourceSample sample() const override {
    ResourceSample s;
    const auto h = host_.lock();
    if (!h) return s;
    const auto it = h->procs_.find(pid_);
    if (it == h->procs_.end() || !it->second.alive) return s;
    s.alive = true;
    s.tree_memory_bytes = it->second.memory_bytes;
    s.tree_cpu_seconds = it->second.cpu_seconds;
    return s;
  }
  // What set_usage set, as the tree's figures.
  [[nodiscard]] std::optional<WorkerUsage> usage() const override {
    const ResourceSample s = sample();
    if (!s.alive) return std::nullopt;
    WorkerUsage u;
    u.memory_bytes = s.tree_memory_bytes.value_or(0);
    u.memory_scope = UsageScope::tree;
    u.cpu_time = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>(s.tree_cpu_seconds.value_or(0)));
    u.cpu_scope = UsageScope::tree;
    return u;
  }

 private:
  std::weak_ptr<FakeHost> host_;
  int pid_;
};

class FakeNotify final : public NotifyChannel {
 public:
  FakeNotify(std::weak_ptr<FakeHost> host, std::string address)
      : host_(std::move(host)), address_(std::move(address)) {}
  ~FakeNotify() override {
    if (auto h = host_.lock()) h->channels_.erase(address_);
  }
  FakeNotify(const FakeNotify&) = delete;
  FakeNotify& operator=(const FakeNotify&) = delete;
  [[nodiscard]] const std::string& address() const override { return address_; }

 private:
  std::weak_ptr<FakeHost> host_;
  std::string address_;
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE FakeHost::FakeHost(TimePoint start) : clock_(start) {}
SUPERVISOR_INLINE FakeHost::~FakeHost() = default;

SUPERVISOR_INLINE std::uint64_t FakeHost::add_timer(Duration after, std::function<void()> fn) {
  return timers_.add(clock_.now() + std::max(after, Duration::zero()), std::move(fn));
}

SUPERVISOR_INLINE void FakeHost::cancel_timer(std::uint64_t id) { timers_.cancel(id); }

SUPERVISOR_INLINE bool FakeHost::pump() {
  bool did = false;
  for (;;) {
    if (!queue_.empty()) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
      did = true;
    } else if (auto timer = timers_.pop_due(clock_.now())) {
      (*timer)();
      did = true;
    } else {
      return did;
    }
  }
}

SUPERVISOR_INLINE void FakeHost::advance(Duration d) {
  const TimePoint target = clock_.now() + std::max(d, Duration::zero());
  pump();
  for (auto next = timers_.next_deadline(); next && *next <= target;
       next = timers_.next_deadline()) {
    clock_.set(std::max(clock_.now(), *next));
    pump();
  }
  clock_.set(target);
  pump();
}

SUPERVISOR_INLINE void FakeHost::clear() noexcept {
  queue_.clear();
  timers_.clear();
  channels_.clear();
  for (auto& [pid, p] : procs_) p.on_exit = nullptr;
}

SUPERVISOR_LOCAL_BEGIN

// A fake world enforces no limit: every one says so, as a host without cgroups would.
SUPERVISOR_INLINE std::vector<LimitStatus> unenforced(const ResourceLimits& r) {
  std::vector<LimitStatus> out;
  const auto add = [&](bool set, LimitKind kind) {
    if (set) out.push_back({kind, LimitBackend::none, "testing::FakeWorld enforces no limit"});
  };
  add(r.memory_max.has_value(), LimitKind::memory_max);
  add(r.memory_high.has_value(), LimitKind::memory_high);
  add(r.swap_max.has_value(), LimitKind::swap_max);
  add(r.cpu_cores.has_value(), LimitKind::cpu_cores);
  add(r.cpu_weight.has_value(), LimitKind::cpu_weight);
  add(r.max_processes.has_value(), LimitKind::max_processes);
  return out;
}

class FakeGroup final : public WorkerGroup {
 public:
  explicit FakeGroup(const ResourceLimits& r) : limits_(unenforced(r)) {}
  [[nodiscard]] std::vector<LimitStatus> limits() const override { return limits_; }
  [[nodiscard]] GroupSample sample() override { return {}; }
  void set_resources(const ResourceLimits& r, ErrorSink&) override { limits_ = unenforced(r); }

 private:
  std::vector<LimitStatus> limits_;
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::unique_ptr<WorkerGroup> FakeHost::adopt_group(const ResourceGroup&,
                                                                     ErrorSink& err) {
  err.fail(errc::invalid_argument, [] {
    return std::string(
        "PoolOptions.group: a ResourceGroup belongs to a real Loop, not to a testing::FakeWorld");
  });
  return nullptr;
}

SUPERVISOR_INLINE std::unique_ptr<WorkerGroup> FakeHost::make_group(const ResourceLimits& limits,
                                                                    const ResourceGroup& parent,
                                                                    ErrorSink& err) {
  if (parent.valid()) return adopt_group(parent, err);
  if (limits.enforcement == LimitEnforcement::required && !limits.empty()) {
    err.fail(errc::controller_unavailable, [] {
      return std::string(
          "PoolOptions.group_resources: required, but testing::FakeWorld enforces no limit");
    });
    return nullptr;
  }
  return std::make_unique<FakeGroup>(limits);
}

SUPERVISOR_INLINE std::unique_ptr<WorkerProcess> FakeHost::spawn(
    std::shared_ptr<const ProcessSpec> spec, std::vector<std::string> extra_env, Containment,
    WorkerGroup*, std::function<void(const ExitStatus&)> on_exit, OutputHook on_output,
    ErrorSink& err) {
  if (fail_spawns_ > 0) {
    --fail_spawns_;
    err.fail(fail_error_, [&] {
      return fmt::format("spawn \"{}\": {} (fake)", spec->display_name(), fail_error_.message());
    });
    return nullptr;
  }
  const int pid = next_pid_++;
  const auto wall_time = spec->resources.wall_time;
  Proc& proc =
      procs_.emplace(pid, Proc{std::move(spec), std::move(on_exit), clock_.now()}).first->second;
  proc.extra_env = std::move(extra_env);
  proc.on_output = std::move(on_output);
  if (wall_time) {
    proc.wall_timer = add_timer(*wall_time, [this, pid] {
      auto it = procs_.find(pid);
      if (it == procs_.end() || !it->second.alive) return;
      it->second.wall_timer = 0;
      it->second.wall_time_hit = true;
      on_stop_request(pid);
    });
  }
  ++spawned_;
  return std::make_unique<FakeWorker>(weak_from_this(), pid);
}

// As the real process layer reads a pipe: through an OutputBuffer (counts, the ring, lines cut
// at max_line), stderr merged into stdout when the spec says so; a stream that is not piped is
// not read. No log file is written.
SUPERVISOR_INLINE void FakeHost::output(int pid, StdStream stream, std::string_view text) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive || stream == StdStream::in) return;
  Proc& p = it->second;
  const ProcessSpec& spec = *p.spec;
  if (stream == StdStream::err && spec.err.mode == StdioSpec::Mode::same_as_out)
    stream = StdStream::out;
  const bool err = stream == StdStream::err;
  const StdioSpec& io = err ? spec.err : spec.out;
  if (!io.piped()) return;
  auto& buffer = p.buffers[err ? 1 : 0];
  if (!buffer) buffer = std::make_unique<OutputBuffer>(spec.output, err, true);
  std::vector<std::string> lines;
  buffer->take(text, false, lines);
  const OutputHook hook = p.on_output;  // a callback may end the process
  const auto spec_ptr = p.spec;
  for (const auto& l : lines) {
    if (io.on_line) io.on_line(l);
    if (hook) hook(stream, l);
  }
}

SUPERVISOR_INLINE std::unique_ptr<NotifyChannel> FakeHost::open_notify(
    const std::string& name, std::function<void(const NotifyNote&)> on_note, ErrorSink&) {
  const std::string address = "@" + name;
  channels_[address] = std::move(on_note);
  return std::make_unique<FakeNotify>(weak_from_this(), address);
}

SUPERVISOR_INLINE void FakeHost::end_with(int pid, ExitFacts facts) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive) return;
  const Proc& p = it->second;
  facts.stop_requested = facts.stop_requested || p.stop_requested;
  facts.wall_time_hit = p.wall_time_hit;
  // Classified as the real process layer classifies: by the one table.
  const ExitRule rule = exit_rule_for(facts);
  ExitStatus status;
  status.reason = reason_of(rule);
  status.exit_code = facts.exit_code;
  status.signal = facts.signal;
  status.wall_time_exceeded = rule == ExitRule::wall_time;
  end(pid, status);
}

SUPERVISOR_INLINE void FakeHost::end(int pid, ExitStatus status) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive) return;
  Proc& p = it->second;
  p.alive = false;
  if (p.stop_timer) cancel_timer(p.stop_timer);
  if (p.wall_timer) cancel_timer(p.wall_timer);
  status.uptime = clock_.now() - p.started;
  status.stop_requested = status.stop_requested || p.stop_requested;
  // As on the real loop: the exit is reported in a later turn, once the tree is gone.
  post([fn = p.on_exit, status] {
    if (fn) fn(status);
  });
}

SUPERVISOR_INLINE void FakeHost::on_stop_request(int pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive || it->second.stop_requested) return;
  Proc& p = it->second;
  p.stop_requested = true;
  if (stop_behavior_ == testing::StopBehavior::exit_on_term && !p.spec->stop.steps.empty()) {
    // It dies of the first rung's signal, as the real stop of a plain worker ends.
    ExitFacts f;
    f.signal = native_signal(p.spec->stop.steps.front().signal);
    f.kill_signal = f.signal == native_signal(Signal::kill);
    f.died_of_stop_signal = true;
    end_with(pid, f);
    return;
  }
  // Ignores the signals: the plan's final kill comes after every rung's wait.
  Duration total{};
  for (const auto& step : p.spec->stop.steps) total += step.wait;
  p.stop_timer = add_timer(total, [this, pid] { on_kill_request(pid); });
}

SUPERVISOR_INLINE void FakeHost::on_signal(int pid, Signal s) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive) return;
  it->second.signals.push_back(s);
  if (s != Signal::kill) return;  // the others are only recorded
  ExitFacts f;                    // killed by a signal the pool did not send as a stop
  f.signal = native_signal(Signal::kill);
  f.kill_signal = true;
  end_with(pid, f);
}

SUPERVISOR_INLINE void FakeHost::on_kill_request(int pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive) return;
  it->second.stop_requested = true;
  ExitFacts f;  // the final kill of its stop plan, as the real loop makes it
  f.signal = native_signal(Signal::kill);
  f.kill_signal = true;
  f.final_kill = true;
  end_with(pid, f);
}

}  // namespace detail

namespace testing {

SUPERVISOR_INLINE FakeWorld::FakeWorld(TimePoint start)
    : host_(std::make_shared<detail::FakeHost>(start)) {}

SUPERVISOR_INLINE FakeWorld::~FakeWorld() { host_->clear(); }

SUPERVISOR_INLINE ManualClock& FakeWorld::clock() noexcept { return host_->clock_; }
SUPERVISOR_INLINE void FakeWorld::run_pending() { host_->pump(); }
SUPERVISOR_INLINE void FakeWorld::advance(Duration d) { host_->advance(d); }

SUPERVISOR_INLINE std::vector<int> FakeWorld::live_pids() const {
  std::vector<int> out;
  for (const auto& [pid, p] : host_->procs_) {
    if (p.alive) out.push_back(pid);
  }
  return out;
}

SUPERVISOR_INLINE std::size_t FakeWorld::spawn_count() const noexcept { return host_->spawned_; }

SUPERVISOR_INLINE const ProcessSpec* FakeWorld::spec_of(int pid) const {
  auto it = host_->procs_.find(pid);
  return it == host_->procs_.end() ? nullptr : it->second.spec.get();
}

SUPERVISOR_INLINE std::map<std::string, std::string> FakeWorld::env_of(int pid) const {
  std::map<std::string, std::string> env;
  auto it = host_->procs_.find(pid);
  if (it == host_->procs_.end()) return env;
  env = it->second.spec->env.set;
  for (const auto& kv : it->second.extra_env) {
    const auto eq = kv.find('=');
    env[kv.substr(0, eq)] = eq == std::string::npos ? std::string() : kv.substr(eq + 1);
  }
  return env;
}

SUPERVISOR_INLINE bool FakeWorld::stop_requested(int pid) const {
  auto it = host_->procs_.find(pid);
  return it != host_->procs_.end() && it->second.stop_requested;
}

SUPERVISOR_INLINE void FakeWorld::exit(int pid, ExitStatus status) {
  host_->end(pid, std::move(status));
  host_->pump();
}

SUPERVISOR_INLINE void FakeWorld::exit_code(int pid, int code) {
  detail::ExitFacts f;
  f.exit_code = code;
  host_->end_with(pid, f);
  host_->pump();
}

SUPERVISOR_INLINE void FakeWorld::kill(int pid, int signal) {
  detail::ExitFacts f;  // a signal from outside: not one the stop plan sent
  f.signal = signal;
  f.kill_signal = signal == detail::native_signal(Signal::kill);
  host_->end_with(pid, f);
  host_->pump();
}

SUPERVISOR_INLINE std::vector<Signal> FakeWorld::signals(int pid) const {
  auto it = host_->procs_.find(pid);
  return it == host_->procs_.end() ? std::vector<Signal>{} : it->second.signals;
}

SUPERVISOR_INLINE void FakeWorld::set_stop_behavior(StopBehavior behavior) noexcept {
  host_->stop_behavior_ = behavior;
}

SUPERVISOR_INLINE void FakeWorld::fail_next_spawns(int count, std::error_code error) {
  host_->fail_spawns_ = count;
  host_->fail_error_ = error;
}

SUPERVISOR_INLINE void FakeWorld::notify(int pid, std::string_view datagram, int sender) {
  const ProcessSpec* spec = spec_of(pid);
  if (!spec) return;
  auto env = spec->env.set.find("NOTIFY_SOCKET");
  if (env == spec->env.set.end()) return;
  auto channel = host_->channels_.find(env->second);
  if (channel == host_->channels_.end()) return;
  auto deliver = channel->second;  // the callback may close the channel
  deliver(detail::parse_notify(datagram, sender != 0 ? sender : pid));
  host_->pump();
}

SUPERVISOR_INLINE void FakeWorld::output(int pid, StdStream stream, std::string_view text) {
  host_->output(pid, stream, text);
}

SUPERVISOR_INLINE void FakeWorld::set_usage(int pid, std::uint64_t memory_bytes,
                                            double cpu_seconds) {
  auto it = host_->procs_.find(pid);
  if (it == host_->procs_.end()) return;
  it->second.memory_bytes = memory_bytes;
  it->second.cpu_seconds = cpu_seconds;
}

}  // namespace testing
}  // namespace supervisor
