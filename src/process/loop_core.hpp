// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The supervision loop, portable half: one thread, a command queue, timers on the steady clock,
// the callbacks of watched handles, and the children it owns. Its OS half (the poller, spawning,
// groups) is the Backend (process/backend.hpp). Everything registered here is touched only by
// the loop thread, except where a comment says "any thread".

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/loop.hpp>

#include "../core/run_sync.hpp"
#include "../core/timer_queue.hpp"
#include "backend.hpp"

namespace supervisor::detail {

class ChildCore;

class LoopCore : public std::enable_shared_from_this<LoopCore> {
 public:
  // Makes the backend (which looks at the machine, and may sweep a registry); throws when the OS
  // refuses or there is no backend.
  explicit LoopCore(LoopOptions options);
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  // Host side (any thread).
  void start();
  void shutdown();  // stops every child (StopPlan), joins the thread, lets the backend clean up
  void post(std::function<void()> fn);
  // Queues `fn` without waking the loop (a wake-up costs a thread switch, and on a VM an
  // inter-processor interrupt): it runs at the loop's next wake-up for any reason, before that
  // wake-up's events are dispatched. Only for a command that nothing needs sooner, e.g. the
  // installation of watches whose handles are already in the poller: their first event wakes the
  // loop, which then installs them before dispatching it.
  void post_unwoken(std::function<void()> fn);
  [[nodiscard]] bool in_loop() const noexcept {
    return std::this_thread::get_id() == loop_id_.load(std::memory_order_acquire);
  }
  // Runs `fn` on the loop and returns its result; inline when already on the loop.
  template <class F>
  auto run_sync(F&& fn) -> std::invoke_result_t<F> {
    return run_sync_on(*this, std::forward<F>(fn));
  }
  // Any thread: adds `h` to the poller under a fresh id, whose callback the loop installs with
  // install_watch() (e.g. in a command posted right after). Until then the loop ignores the
  // handle's events; readiness is level-triggered, so none is lost. 0 on failure.
  std::uint64_t reserve_watch(NativeHandle h, std::uint32_t events);

  // Loop thread only.
  std::uint64_t watch(NativeHandle h, std::uint32_t events, std::function<void(std::uint32_t)> cb);
  void install_watch(std::uint64_t id, std::function<void(std::uint32_t)> cb);
  void rewatch(std::uint64_t id, NativeHandle h, std::uint32_t events);
  void unwatch(std::uint64_t id, NativeHandle h);
  std::uint64_t add_timer(Duration after, std::function<void()> cb);
  void cancel_timer(std::uint64_t id);
  void adopt(std::shared_ptr<ChildCore> child);
  void forget(const ChildCore* child);
  // Processes the loop owns (started, not yet reaped and cleaned up).
  [[nodiscard]] std::size_t child_count() const noexcept { return children_.size(); }
  // Counts the current exception and hands it to the host's handler.
  void report_callback_error(std::string_view where) noexcept;

  // Whether this is a forked child of the process that made the loop: see Loop::~Loop.
  [[nodiscard]] bool forked() const noexcept { return backend_->forked(); }

  [[nodiscard]] const LoopInfo& info() const noexcept { return info_; }
  [[nodiscard]] const LoopOptions& options() const noexcept { return options_; }
  [[nodiscard]] Backend& backend() noexcept { return *backend_; }

  std::atomic<std::uint64_t> stolen_reaps{0};
  std::atomic<std::uint64_t> callback_errors{0};

 private:
  void run();
  void run_timers();
  void run_commands();
  void enqueue(std::function<void()> fn, bool wake_loop);
  template <class F>
  void guarded(F&& fn, std::string_view where) noexcept;

  LoopOptions options_;
  LoopInfo info_;
  std::unique_ptr<Backend> backend_;
  Poller* poller_ = nullptr;  // the backend's
  std::thread thread_;
  std::atomic<std::thread::id> loop_id_{};

  std::mutex mu_;
  std::vector<std::function<void()>> queue_;
  bool commands_from_loop_ = false;  // (loop) the loop posted to itself: it must not sleep
  bool wake_pending_ = false;        // (mu_) woken, and the loop has not taken the queue yet
  bool stopping_ = false;            // (loop) shutdown requested; exit once no child is left
  bool quit_ = false;                // (loop)
  bool ended_ = false;               // (mu_) the thread has finished; post() runs inline

  std::atomic<std::uint64_t> next_id_{1};  // any thread; 0 is never a watch
  std::unordered_map<std::uint64_t, std::function<void(std::uint32_t)>> watchers_;
  TimerQueue timers_;
  std::vector<ReadyEvent> ready_;  // (loop) reused by every wait
  // By address: forget() finds a child at once (each exit of a pool of 100,000 workers would
  // otherwise walk them all).
  std::unordered_map<const ChildCore*, std::shared_ptr<ChildCore>> children_;
  // Destroyed after each dispatch round, never while one of them runs.
  std::vector<std::function<void(std::uint32_t)>> graveyard_;
  std::vector<std::shared_ptr<ChildCore>> graveyard_children_;
};

}  // namespace supervisor::detail
