// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The supervision loop: one thread, one epoll set, a command queue woken through an eventfd, and
// timers on the steady clock. Everything registered here is touched only by the loop thread.

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/process.hpp>

#include "core/timer_queue.hpp"
#include "linux/limits.hpp"
#include "linux/registry.hpp"
#include "linux/sentinel.hpp"
#include "posix/unique_fd.hpp"

#include "core/run_sync.hpp"

namespace supervisor::detail {

struct ChildState;

// A snapshot of /proc's parent links: ppid -> (pid, pgrp), live processes only.
struct ProcTable {
  std::multimap<pid_t, std::pair<pid_t, pid_t>> by_parent;
  TimePoint taken{};
};

class LoopCore : public std::enable_shared_from_this<LoopCore> {
 public:
  explicit LoopCore(LoopOptions options);
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  // Host side (any thread).
  void start();
  void shutdown();  // stops every child (StopPlan), removes the base group, joins the thread
  void post(std::function<void()> fn);
  // Queues `fn` without waking the loop (a wake-up costs a thread switch, and on a VM an
  // inter-processor interrupt): it runs at the loop's next wake-up for any reason, before that
  // wake-up's events are dispatched. Only for a command that nothing needs sooner, e.g. the
  // installation of watches whose fds are already in the epoll set: their first event wakes the
  // loop, which then installs them before dispatching it.
  void post_unwoken(std::function<void()> fn);
  // Any thread: adds `fd` to the epoll set under a fresh id, whose callback the loop installs
  // with install_watch() (e.g. in a command posted right after). Until then the loop ignores
  // the fd's events; epoll is level-triggered, so none is lost. 0 on failure.
  std::uint64_t reserve_watch(int fd, std::uint32_t events);
  // This process's PID, read once: a spawn needs it (the child checks that its parent is still
  // the host), and a Loop does not survive a fork (its thread stays behind).
  [[nodiscard]] pid_t host_pid() const noexcept { return host_pid_; }
  [[nodiscard]] bool in_loop() const noexcept {
    return std::this_thread::get_id() == loop_id_.load(std::memory_order_acquire);
  }
  // Runs `fn` on the loop and returns its result; inline when already on the loop.
  template <class F>
  auto run_sync(F&& fn) -> std::invoke_result_t<F> {
    return run_sync_on(*this, std::forward<F>(fn));
  }

  // Loop thread only.
  std::uint64_t watch(int fd, std::uint32_t events, std::function<void(std::uint32_t)> cb);
  void install_watch(std::uint64_t id, std::function<void(std::uint32_t)> cb);
  void rewatch(std::uint64_t id, int fd, std::uint32_t events);
  void unwatch(std::uint64_t id, int fd);
  std::uint64_t add_timer(Duration after, std::function<void()> cb);
  void cancel_timer(std::uint64_t id);
  void adopt(std::shared_ptr<ChildState> child);
  void forget(const ChildState* child);

  [[nodiscard]] const LoopInfo& info() const noexcept { return info_; }
  [[nodiscard]] const LoopOptions& options() const noexcept { return options_; }
  std::string next_group_name(char prefix = 'w');
  // An O_RDWR /dev/null for children's null streams (-1 if it could not be opened).
  [[nodiscard]] int null_fd() const noexcept { return null_.get(); }
  Sentinel& sentinel() noexcept { return sentinel_; }
  Registry& registry() noexcept { return registry_; }
  LimitSupport& limit_support() noexcept { return limits_; }
  // Loop thread: the /proc table, rescanned when older than a few milliseconds.
  const ProcTable& proc_table();

  std::atomic<std::uint64_t> stolen_reaps{0};
  std::atomic<std::uint64_t> callback_errors{0};
  // Loop thread: counts the current exception and hands it to the host's handler.
  void report_callback_error(std::string_view where) noexcept;

 private:
  void run();
  void setup_cgroups();
  void run_timers();
  void run_commands();
  void enqueue(std::function<void()> fn, bool wake_loop);

  LoopOptions options_;
  LoopInfo info_;
  bool own_base_ = false;
  std::string cgroup_parent_;  // the host's own cgroup v2 group (the base's parent)
  LimitSupport limits_;
  Sentinel sentinel_;
  Registry registry_;
  ProcTable proc_table_;
  bool proc_table_valid_ = false;  // we created info_.cgroup_base and remove it at shutdown
  UniqueFd epoll_;
  UniqueFd wake_;
  UniqueFd null_;  // O_RDWR /dev/null, shared by every child's null streams
  std::thread thread_;
  std::atomic<std::thread::id> loop_id_{};
  const pid_t host_pid_ = ::getpid();

  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  bool commands_from_loop_ = false;  // (loop) the loop posted to itself: it must not sleep
  bool wake_pending_ = false;        // (mu_) the eventfd was written and the loop has not yet run
  bool stopping_ = false;            // loop thread: shutdown requested; exit once no child is left
  bool quit_ = false;
  bool ended_ = false;  // (mu_) the thread has finished; post() runs inline

  std::atomic<std::uint64_t> next_id_{1};  // any thread
  std::unordered_map<std::uint64_t, std::function<void(std::uint32_t)>> watchers_;
  TimerQueue timers_;
  std::set<std::shared_ptr<ChildState>> children_;
  // Destroyed after each dispatch round, never while one of them runs.
  std::vector<std::function<void(std::uint32_t)>> graveyard_;
  std::vector<std::shared_ptr<ChildState>> graveyard_children_;
  std::atomic<std::uint64_t> group_counter_{0};  // any thread
};

}  // namespace supervisor::detail
