// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "loop_core.hpp"

#include <chrono>

#include "child.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE LoopCore::LoopCore(LoopOptions options) : options_(std::move(options)) {
  backend_ = make_backend(*this, options_, info_);
  poller_ = &backend_->poller();
}

SUPERVISOR_INLINE LoopCore::~LoopCore() = default;

SUPERVISOR_INLINE void LoopCore::start() {
  thread_ = std::thread([this] {
    backend_->enter_loop_thread();
    loop_id_.store(std::this_thread::get_id(), std::memory_order_release);
    run();
  });
  while (loop_id_.load(std::memory_order_acquire) == std::thread::id{}) std::this_thread::yield();
}

SUPERVISOR_INLINE void LoopCore::post(std::function<void()> fn) { enqueue(std::move(fn), true); }

SUPERVISOR_INLINE void LoopCore::post_unwoken(std::function<void()> fn) {
  enqueue(std::move(fn), false);
}

SUPERVISOR_INLINE void LoopCore::enqueue(std::function<void()> fn, bool wake_loop) {
  // A forked child has no loop thread: a command would never run, and its waiter never wake.
  // (Checked only off the loop thread: forked() is a system call, and most commands are posted by
  // the loop itself.)
  if (!in_loop() && forked())
    throw_error(errc::not_running,
                "the Loop belongs to the process that forked this one: a forked child cannot use "
                "it (only the parent can)");
  bool wake = false;
  {
    std::unique_lock lock(mu_);
    if (ended_) {
      // The thread is gone and every child with it: nothing can race with this call.
      lock.unlock();
      fn();
      return;
    }
    queue_.push_back(std::move(fn));
    if (in_loop()) {
      // From the loop itself: no wake-up needed, only no sleep before the queue is run.
      commands_from_loop_ = true;
      return;
    }
    if (!wake_loop) return;
    // Only the first command of a batch wakes the loop: it takes the whole queue at once.
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  if (wake) poller_->wake();
}

SUPERVISOR_INLINE std::uint64_t LoopCore::reserve_watch(NativeHandle h, std::uint32_t events) {
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  return poller_->add(h, events, id) ? id : 0;
}

SUPERVISOR_INLINE void LoopCore::install_watch(std::uint64_t id,
                                               std::function<void(std::uint32_t)> cb) {
  if (id != 0) watchers_.emplace(id, std::move(cb));
}

SUPERVISOR_INLINE void LoopCore::shutdown() {
  if (!thread_.joinable()) return;
  post([this] {
    stopping_ = true;
    auto children = children_;  // request_stop may finish and forget a child at once
    for (const auto& [key, c] : children) c->request_stop();
    if (children_.empty()) quit_ = true;
  });
  thread_.join();
  backend_->after_loop();
}

SUPERVISOR_INLINE std::uint64_t LoopCore::watch(NativeHandle h, std::uint32_t events,
                                                std::function<void(std::uint32_t)> cb) {
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  if (!poller_->add(h, events, id)) return 0;
  watchers_.emplace(id, std::move(cb));
  return id;
}

SUPERVISOR_INLINE void LoopCore::rewatch(std::uint64_t id, NativeHandle h, std::uint32_t events) {
  poller_->modify(h, events, id);
}

SUPERVISOR_INLINE void LoopCore::unwatch(std::uint64_t id, NativeHandle h) {
  if (id == 0) return;
  poller_->remove(h);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  // The callback may be the one running right now: destroy it after the dispatch round.
  graveyard_.push_back(std::move(it->second));
  watchers_.erase(it);
}

SUPERVISOR_INLINE std::uint64_t LoopCore::add_timer(Duration after, std::function<void()> cb) {
  return timers_.add(default_clock().now() + after, std::move(cb));
}

SUPERVISOR_INLINE void LoopCore::cancel_timer(std::uint64_t id) { timers_.cancel(id); }

SUPERVISOR_INLINE void LoopCore::report_callback_error(std::string_view where) noexcept {
  callback_errors.fetch_add(1, std::memory_order_relaxed);
  if (!options_.error_handler) return;
  try {
    options_.error_handler(std::current_exception(), where);
  } catch (...) {
    // The handler must not throw; if it does anyway, the loop still goes on.
  }
}

// The loop thread's barrier: an exception that escapes what it runs (a bug, or memory running
// out) is counted and handed to the host's error handler, and the loop goes on. Without it the
// exception would leave the thread's function and std::terminate the host.
template <class F>
void LoopCore::guarded(F&& fn, std::string_view where) noexcept {
  try {
    std::forward<F>(fn)();
  } catch (...) {
    report_callback_error(where);
  }
}

SUPERVISOR_INLINE void LoopCore::adopt(std::shared_ptr<ChildCore> child) {
  const ChildCore* key = child.get();
  children_.emplace(key, std::move(child));
}

SUPERVISOR_INLINE void LoopCore::forget(const ChildCore* child) {
  if (const auto it = children_.find(child); it != children_.end()) {
    graveyard_children_.push_back(std::move(it->second));  // may be the last owner; it runs now
    children_.erase(it);
  }
  if (stopping_ && children_.empty()) quit_ = true;
}

SUPERVISOR_INLINE void LoopCore::run_timers() {
  const TimePoint now = default_clock().now();
  while (auto fn = timers_.pop_due(now)) guarded(*fn, "loop timer");
}

SUPERVISOR_INLINE void LoopCore::run_commands() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mu_);
    wake_pending_ = false;
    commands_from_loop_ = false;
    if (queue_.empty()) return;
    batch.swap(queue_);
  }
  for (auto& fn : batch) guarded(fn, "loop command");
}

SUPERVISOR_INLINE void LoopCore::run() {
  while (!quit_) {
    int timeout_ms = -1;
    if (commands_from_loop_) {
      timeout_ms = 0;  // the loop posted to itself: look at the handles, then run those commands
    } else if (auto next = timers_.next_deadline()) {
      const Duration left = *next - default_clock().now();
      timeout_ms =
          left <= Duration::zero()
              ? 0
              : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    ready_.clear();
    // Consumes a wake-up before the queue is taken: a post() after this wakes the poller again.
    poller_->wait(timeout_ms, ready_);
    // Commands first: a watch reserved by another thread gets its callback before its events.
    run_commands();
    for (const ReadyEvent& ev : ready_) {
      auto it = watchers_.find(ev.id);
      if (it != watchers_.end()) guarded([&] { it->second(ev.events); }, "loop watch");
    }
    run_timers();
    graveyard_.clear();
    graveyard_children_.clear();
  }
  // Commands posted before the end still run, so that their waiters wake; later ones run inline.
  for (;;) {
    std::vector<std::function<void()>> rest;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        ended_ = true;
        break;
      }
      rest.swap(queue_);
    }
    for (auto& fn : rest) guarded(fn, "loop command");
  }
  graveyard_.clear();
  graveyard_children_.clear();
  watchers_.clear();
  timers_.clear();
}

}  // namespace supervisor::detail
