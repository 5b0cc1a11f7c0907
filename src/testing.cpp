// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/testing.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string_view>

#include "fake_host.hpp"

namespace supervisor {
namespace detail {
namespace {

constexpr int k_sigkill = 9;

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

// The same parse as the real socket's, on text.
NotifyNote parse_note(std::string_view text, int sender) {
  NotifyNote n;
  n.sender = sender;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line == "READY=1") n.ready = true;
    if (line == "WATCHDOG=1") n.watchdog = true;
    if (line.substr(0, 7) == "STATUS=") {
      n.has_status = true;
      n.status = std::string(line.substr(7));
    }
    start = end + 1;
  }
  return n;
}

}  // namespace

FakeHost::FakeHost(TimePoint start) : clock_(start) {}
FakeHost::~FakeHost() = default;

std::uint64_t FakeHost::add_timer(Duration after, std::function<void()> fn) {
  const std::uint64_t id = ++next_timer_;
  const TimePoint at = clock_.now() + std::max(after, Duration::zero());
  timers_.emplace(id, std::make_pair(at, std::move(fn)));
  timer_order_.emplace(at, id);
  return id;
}

void FakeHost::cancel_timer(std::uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto [lo, hi] = timer_order_.equal_range(it->second.first);
  for (auto o = lo; o != hi; ++o) {
    if (o->second == id) {
      timer_order_.erase(o);
      break;
    }
  }
  timers_.erase(it);
}

bool FakeHost::pump() {
  bool did = false;
  for (;;) {
    if (!queue_.empty()) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
      did = true;
      continue;
    }
    if (!timer_order_.empty() && timer_order_.begin()->first <= clock_.now()) {
      const std::uint64_t id = timer_order_.begin()->second;
      timer_order_.erase(timer_order_.begin());
      auto it = timers_.find(id);
      if (it == timers_.end()) continue;
      auto fn = std::move(it->second.second);
      timers_.erase(it);
      fn();
      did = true;
      continue;
    }
    return did;
  }
}

void FakeHost::advance(Duration d) {
  const TimePoint target = clock_.now() + std::max(d, Duration::zero());
  pump();
  while (!timer_order_.empty() && timer_order_.begin()->first <= target) {
    clock_.set(std::max(clock_.now(), timer_order_.begin()->first));
    pump();
  }
  clock_.set(target);
  pump();
}

void FakeHost::clear() noexcept {
  queue_.clear();
  timers_.clear();
  timer_order_.clear();
  channels_.clear();
  for (auto& [pid, p] : procs_) p.on_exit = nullptr;
}

std::unique_ptr<WorkerProcess> FakeHost::spawn(const ProcessSpec& spec, Containment,
                                               std::function<void(const ExitStatus&)> on_exit,
                                               ErrorSink& err) {
  if (fail_spawns_ > 0) {
    --fail_spawns_;
    err.fail(fail_error_, [&] {
      return fmt::format("spawn \"{}\": {} (fake)", spec.display_name(), fail_error_.message());
    });
    return nullptr;
  }
  const int pid = next_pid_++;
  procs_.emplace(pid, Proc{spec, std::move(on_exit), clock_.now()});
  ++spawned_;
  return std::make_unique<FakeWorker>(weak_from_this(), pid);
}

std::unique_ptr<NotifyChannel> FakeHost::open_notify(const std::string& name,
                                                     std::function<void(const NotifyNote&)> on_note,
                                                     ErrorSink&) {
  const std::string address = "@" + name;
  channels_[address] = std::move(on_note);
  return std::make_unique<FakeNotify>(weak_from_this(), address);
}

void FakeHost::end(int pid, ExitStatus status) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive) return;
  Proc& p = it->second;
  p.alive = false;
  if (p.stop_timer) cancel_timer(p.stop_timer);
  status.uptime = clock_.now() - p.started;
  status.stop_requested = status.stop_requested || p.stop_requested;
  // As on the real loop: the exit is reported in a later turn, once the tree is gone.
  post([fn = p.on_exit, status] {
    if (fn) fn(status);
  });
}

void FakeHost::on_stop_request(int pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive || it->second.stop_requested) return;
  Proc& p = it->second;
  p.stop_requested = true;
  if (stop_behavior_ == testing::StopBehavior::exit_on_term && !p.spec.stop.steps.empty()) {
    ExitStatus st;
    st.signal = 15;  // the first rung's signal, as the real stop of a plain worker ends
    st.reason = ExitReason::success;
    end(pid, st);
    return;
  }
  // Ignores the signals: the plan's final kill comes after every rung's wait.
  Duration total{};
  for (const auto& step : p.spec.stop.steps) total += step.wait;
  p.stop_timer = add_timer(total, [this, pid] { on_kill_request(pid); });
}

void FakeHost::on_kill_request(int pid) {
  auto it = procs_.find(pid);
  if (it == procs_.end() || !it->second.alive) return;
  it->second.stop_requested = true;
  ExitStatus st;
  st.signal = k_sigkill;
  st.reason = ExitReason::timeout;  // what the real loop reports for a kill it had to make
  end(pid, st);
}

}  // namespace detail

namespace testing {

FakeWorld::FakeWorld(TimePoint start) : host_(std::make_shared<detail::FakeHost>(start)) {}

FakeWorld::~FakeWorld() { host_->clear(); }

ManualClock& FakeWorld::clock() noexcept { return host_->clock_; }
void FakeWorld::run_pending() { host_->pump(); }
void FakeWorld::advance(Duration d) { host_->advance(d); }

std::vector<int> FakeWorld::live_pids() const {
  std::vector<int> out;
  for (const auto& [pid, p] : host_->procs_) {
    if (p.alive) out.push_back(pid);
  }
  return out;
}

std::size_t FakeWorld::spawn_count() const noexcept { return host_->spawned_; }

const ProcessSpec* FakeWorld::spec_of(int pid) const {
  auto it = host_->procs_.find(pid);
  return it == host_->procs_.end() ? nullptr : &it->second.spec;
}

bool FakeWorld::stop_requested(int pid) const {
  auto it = host_->procs_.find(pid);
  return it != host_->procs_.end() && it->second.stop_requested;
}

void FakeWorld::exit(int pid, ExitStatus status) {
  host_->end(pid, std::move(status));
  host_->pump();
}

void FakeWorld::exit_code(int pid, int code) {
  ExitStatus st;
  st.exit_code = code;
  st.reason = code == 0 ? ExitReason::success : ExitReason::exit_code;
  exit(pid, st);
}

void FakeWorld::kill(int pid, int signal) {
  ExitStatus st;
  st.signal = signal;
  st.reason = ExitReason::signal;
  exit(pid, st);
}

void FakeWorld::set_stop_behavior(StopBehavior behavior) noexcept {
  host_->stop_behavior_ = behavior;
}

void FakeWorld::fail_next_spawns(int count, std::error_code error) {
  host_->fail_spawns_ = count;
  host_->fail_error_ = error;
}

void FakeWorld::notify(int pid, std::string_view datagram, int sender) {
  const ProcessSpec* spec = spec_of(pid);
  if (!spec) return;
  auto env = spec->env.set.find("NOTIFY_SOCKET");
  if (env == spec->env.set.end()) return;
  auto channel = host_->channels_.find(env->second);
  if (channel == host_->channels_.end()) return;
  auto deliver = channel->second;  // the callback may close the channel
  deliver(detail::parse_note(datagram, sender != 0 ? sender : pid));
  host_->pump();
}

}  // namespace testing
}  // namespace supervisor
