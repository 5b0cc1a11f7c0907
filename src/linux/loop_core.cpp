// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "linux/loop_core.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <system_error>

#include "linux/cgroup_v2.hpp"
#include "linux/cgroupfs.hpp"
#include "linux/child.hpp"
#include "linux/proc_stat.hpp"
#include "linux/spawn.hpp"

namespace supervisor::detail {

namespace {
int remove_stale_bases(const std::string& dir);
}  // namespace

LoopCore::LoopCore(LoopOptions options) : options_(std::move(options)) {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw_error(std::error_code(errno, std::system_category()), "Loop: epoll_create1");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) throw_error(std::error_code(errno, std::system_category()), "Loop: eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // id 0 is the wake-up fd
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0)
    throw_error(std::error_code(errno, std::system_category()), "Loop: epoll_ctl(eventfd)");
  null_.reset(::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));  // -1: each spawn opens one
  info_.clone3_available = clone3_available();
  if (options_.disable_pidfd) {
    info_.pidfd_why_not = "disabled by LoopOptions::disable_pidfd";
  } else {
    info_.pidfd_available = pidfd_available(info_.pidfd_why_not);
  }
  info_.close_range_available = close_range_available();
  if (!options_.registry_path.empty()) {
    // Before anything of ours exists: sweep what a previous run of the host left behind.
    SweepResult swept;
    or_throw([&](ErrorSink& err) { registry_.open(options_.registry_path, swept, err); });
    info_.swept_processes = swept.processes_killed;
    info_.swept_groups = swept.groups_removed;
    info_.stale_registry_entries = swept.stale_entries;
  }
  setup_cgroups();
  limits_.detect(options_, info_.cgroup_usable ? info_.cgroup_base : std::string(), cgroup_parent_,
                 info_.cgroup_why_not);
  for (const auto& dir : limits_.v1_self_dirs()) info_.swept_groups += remove_stale_bases(dir);
  info_.cgroup_v2_controllers = limits_.v2_summary();
  info_.cgroup_v1_controllers = limits_.v1_summary();
  info_.sentinel_running = sentinel_.start(info_.cgroup_usable ? info_.cgroup_base : std::string());
}

LoopCore::~LoopCore() = default;

namespace {

// Empty "supervisor-<pid>-<n>" bases left by hosts that died before cleaning up (e.g. killed
// while their sentinel was gone too). Only empty groups of dead PIDs are removed; nothing is
// signalled here (a populated leftover is the registry's job, which verifies identities).
int remove_stale_bases(const std::string& dir) {
  int removed = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  std::vector<std::string> bases;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("supervisor-", 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + 11, nullptr, 10);
    if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH))
      bases.push_back(dir + "/" + name);
  }
  ::closedir(d);
  for (const auto& base : bases) {
    // A group still populated stays (EBUSY): killing is the registry's job.
    if (cgroupfs::remove_empty_groups(base)) ++removed;
  }
  return removed;
}

}  // namespace

std::string LoopCore::next_group_name(char prefix) {
  // Never reused within this host process: a killed group must not be entered again.
  return fmt::format("{}{}", prefix, ++group_counter_);
}

void LoopCore::setup_cgroups() {
  if (options_.disable_cgroups) {
    info_.cgroup_why_not = "disabled by LoopOptions::disable_cgroups";
    return;
  }
  std::string base = options_.cgroup_base;
  if (!base.empty()) {
    const auto slash = base.find_last_of('/');
    cgroup_parent_ =
        slash == std::string::npos || slash == 0 ? std::string("/") : base.substr(0, slash);
  } else {
    std::string why;
    auto mount = find_cgroup_v2(&why);
    if (!mount) {
      info_.cgroup_why_not = why;
      return;
    }
    info_.swept_groups += remove_stale_bases(mount->self_dir());
    cgroup_parent_ = mount->self_dir();
    if (!options_.host_leaf.empty()) {
      info_.host_leaf =
          delegate_from_leaf(mount->self_dir(), options_.host_leaf, info_.host_leaf_note);
    }
    // Our own directory below the host's group, unique per Loop instance.
    static std::atomic<unsigned> instance{0};
    base = fmt::format("{}/supervisor-{}-{}", mount->self_dir(), ::getpid(), ++instance);
    if (::mkdir(base.c_str(), 0755) != 0) {
      info_.cgroup_why_not =
          fmt::format("mkdir \"{}\": {}", base, std::system_category().message(errno));
      return;
    }
    own_base_ = true;
  }
  if (!cgroup_v2_has_kill(base) && ::access((base + "/cgroup.procs").c_str(), W_OK) != 0) {
    info_.cgroup_why_not = fmt::format("\"{}\" is not a writable cgroup v2 group", base);
    if (own_base_) ::rmdir(base.c_str());
    own_base_ = false;
    return;
  }
  info_.cgroup_usable = true;
  info_.cgroup_base = base;
}

void LoopCore::start() {
  thread_ = std::thread([this] {
    // Block every signal but SIGCHLD on our own thread (never the host's threads): the host's
    // handlers of other signals never run here. SIGCHLD stays open because the kernel sends a
    // child's SIGCHLD to the thread that started it, and drops it at once only if that thread
    // does not block it and its disposition is the default: were it blocked here, every exit of
    // a worker would interrupt one of the host's threads (which then discards the signal), or
    // wake a host's signalfd. A host that installs a SIGCHLD handler sees it run here for our
    // children, where the signal is addressed. The clone3 path blocks it around the clone.
    // SIG_SETMASK, not SIG_BLOCK: a thread inherits its creator's mask, and a host that blocks
    // SIGCHLD in its threads (to read it from a signalfd) must not have it blocked here too.
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGCHLD);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    pthread_setname_np(pthread_self(), "sv-loop");
    loop_id_.store(std::this_thread::get_id(), std::memory_order_release);
    run();
  });
  while (loop_id_.load(std::memory_order_acquire) == std::thread::id{}) std::this_thread::yield();
}

void LoopCore::post(std::function<void()> fn) { enqueue(std::move(fn), true); }

void LoopCore::post_unwoken(std::function<void()> fn) { enqueue(std::move(fn), false); }

void LoopCore::enqueue(std::function<void()> fn, bool wake_loop) {
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
  if (wake) {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the loop will wake anyway.
    [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
  }
}

std::uint64_t LoopCore::reserve_watch(int fd, std::uint32_t events) {
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) == 0 ? id : 0;
}

void LoopCore::install_watch(std::uint64_t id, std::function<void(std::uint32_t)> cb) {
  if (id != 0) watchers_.emplace(id, std::move(cb));
}

void LoopCore::shutdown() {
  if (!thread_.joinable()) return;
  post([this] {
    stopping_ = true;
    auto children = children_;  // request_stop may finish and forget a child at once
    for (const auto& c : children) c->request_stop();
    if (children_.empty()) quit_ = true;
  });
  thread_.join();
  sentinel_.stop();
  registry_.close();
  // Groups a ResourceGroup handle still names are empty now: they go with the base.
  if (own_base_) cgroupfs::remove_empty_groups(info_.cgroup_base);
  limits_.remove_v1_bases();
}

std::uint64_t LoopCore::watch(int fd, std::uint32_t events, std::function<void(std::uint32_t)> cb) {
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return 0;
  watchers_.emplace(id, std::move(cb));
  return id;
}

void LoopCore::rewatch(std::uint64_t id, int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void LoopCore::unwatch(std::uint64_t id, int fd) {
  if (id == 0) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  // The callback may be the one running right now: destroy it after the dispatch round.
  graveyard_.push_back(std::move(it->second));
  watchers_.erase(it);
}

std::uint64_t LoopCore::add_timer(Duration after, std::function<void()> cb) {
  return timers_.add(default_clock().now() + after, std::move(cb));
}

void LoopCore::cancel_timer(std::uint64_t id) { timers_.cancel(id); }

const ProcTable& LoopCore::proc_table() {
  const TimePoint now = default_clock().now();
  if (proc_table_valid_ && now - proc_table_.taken < std::chrono::milliseconds(5))
    return proc_table_;
  proc_table_.by_parent.clear();
  proc_table_.taken = now;
  proc_table_valid_ = true;
  DIR* d = ::opendir("/proc");
  if (!d) return proc_table_;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int pid = std::atoi(e->d_name);
    if (auto st = read_proc_stat(pid); st && st->state != 'Z')
      proc_table_.by_parent.emplace(st->ppid, std::make_pair(pid, st->pgrp));
  }
  ::closedir(d);
  return proc_table_;
}

void LoopCore::report_callback_error(std::string_view where) noexcept {
  callback_errors.fetch_add(1, std::memory_order_relaxed);
  if (!options_.error_handler) return;
  try {
    options_.error_handler(std::current_exception(), where);
  } catch (...) {
    // The handler must not throw; if it does anyway, the loop still goes on.
  }
}

void LoopCore::adopt(std::shared_ptr<ChildState> child) { children_.insert(std::move(child)); }

void LoopCore::forget(const ChildState* child) {
  for (auto it = children_.begin(); it != children_.end(); ++it) {
    if (it->get() == child) {
      graveyard_children_.push_back(*it);  // may be the last owner; it is running right now
      children_.erase(it);
      break;
    }
  }
  if (stopping_ && children_.empty()) quit_ = true;
}

void LoopCore::run_timers() {
  const TimePoint now = default_clock().now();
  while (auto fn = timers_.pop_due(now)) (*fn)();
}

void LoopCore::run_commands() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(mu_);
    wake_pending_ = false;
    commands_from_loop_ = false;
    if (queue_.empty()) return;
    batch.swap(queue_);
  }
  for (auto& fn : batch) fn();
}

void LoopCore::run() {
  epoll_event events[64];
  while (!quit_) {
    int timeout_ms = -1;
    if (commands_from_loop_) {
      timeout_ms = 0;  // the loop posted to itself: look at the fds, then run those commands
    } else if (auto next = timers_.next_deadline()) {
      const Duration left = *next - default_clock().now();
      timeout_ms =
          left <= Duration::zero()
              ? 0
              : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    const int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == 0) {
        // Before taking the queue: a post() after this read writes the eventfd again.
        std::uint64_t count = 0;
        [[maybe_unused]] const ssize_t r = ::read(wake_.get(), &count, sizeof count);
      }
    }
    // Commands first: a watch reserved by another thread gets its callback before its events.
    run_commands();
    for (int i = 0; i < n; ++i) {
      const std::uint64_t id = events[i].data.u64;
      if (id == 0) continue;
      auto it = watchers_.find(id);
      if (it != watchers_.end()) it->second(events[i].events);
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
    for (auto& fn : rest) fn();
  }
  graveyard_.clear();
  graveyard_children_.clear();
  watchers_.clear();
  timers_.clear();
}

}  // namespace supervisor::detail
