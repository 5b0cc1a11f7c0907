// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The raw floor's child handle, shared by the benchmarks: posix_spawn'd, watched by a pidfd.

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/eventfd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace supervisor::bench {

[[noreturn]] inline void fail_errno(const std::string& what, int e) {
  throw std::system_error(e, std::system_category(), what);
}

// One raw child. Whatever is still running when it goes out of scope is killed and reaped, so
// that no exit path leaves a process behind.
class RawChild {
 public:
  RawChild() = default;
  RawChild(pid_t pid, int pidfd, std::string group = {}) noexcept
      : pid_(pid), pidfd_(pidfd), group_(std::move(group)) {}
  RawChild(RawChild&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)),
        pidfd_(std::exchange(o.pidfd_, -1)),
        group_(std::move(o.group_)) {
    o.group_.clear();
  }
  RawChild& operator=(RawChild&& o) noexcept {
    if (this != &o) {
      discard();
      pid_ = std::exchange(o.pid_, -1);
      pidfd_ = std::exchange(o.pidfd_, -1);
      group_ = std::move(o.group_);
      o.group_.clear();
    }
    return *this;
  }
  RawChild(const RawChild&) = delete;
  RawChild& operator=(const RawChild&) = delete;
  ~RawChild() { discard(); }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] int pidfd() const noexcept { return pidfd_; }

  // Waits until it has exited: poll on the pidfd (as an event loop would), then waitid; a
  // contained child's group is removed after it (one rmdir: the group of a reaped child with
  // no other member is empty; EBUSY would mean something of its tree is still alive).
  void reap(bool poll_first) {
    if (poll_first) {
      pollfd pfd{pidfd_, POLLIN, 0};
      while (::poll(&pfd, 1, -1) < 0) {
        if (errno != EINTR) fail_errno("raw: poll(pidfd)", errno);
      }
    }
    siginfo_t si{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &si, WEXITED) != 0) {
      if (errno != EINTR) fail_errno("raw: waitid(P_PIDFD)", errno);
    }
    ::close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
    if (!group_.empty() && ::rmdir(std::exchange(group_, {}).c_str()) != 0)
      fail_errno("raw: rmdir of a reaped child's cgroup", errno);
  }

 private:
  void discard() noexcept {
    if (pidfd_ < 0) return;
    ::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
    siginfo_t si{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_), &si, WEXITED) != 0 && errno == EINTR) {
    }
    ::close(pidfd_);
    pidfd_ = -1;
    pid_ = -1;
    if (!group_.empty()) ::rmdir(std::exchange(group_, {}).c_str());
  }

  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::string group_;  // a contained child's cgroup directory, removed after the reap
};

// The child setup the library gives every worker on its posix_spawn path, for a raw floor that
// starts the same child: a session of its own (POSIX_SPAWN_SETSID: the tree can be killed as a
// process group, and a terminal's signals to the host's group miss it), every signal back to its
// default disposition (an ignored SIGPIPE would survive execve) and an empty signal mask.
inline void matched_attr(posix_spawnattr_t& attr) {
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

// posix_spawn + pidfd_open: the raw floor's way to start a child.
inline RawChild spawn_raw(const char* path, const posix_spawn_file_actions_t* actions,
                          const posix_spawnattr_t* attr, char* const argv[]) {
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, path, actions, attr, argv, environ);
  if (rc != 0) fail_errno(std::string("raw: posix_spawn ") + path, rc);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int e = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    fail_errno("raw: pidfd_open", e);
  }
  return RawChild(pid, pidfd);
}

// A raw one-child supervisor on a thread of its own, as every supervisor runs: asleep in poll()
// on the child's pidfd until the child dies, then waitid and the replacement's spawn. The killer
// is another thread (the bench's), as it is in production (an OOM kill, a crash, an operator), so
// that the floor pays the same wake-up of a sleeping thread as the library's loop does.
class RawWatcher {
 public:
  explicit RawWatcher(std::function<RawChild()> spawn) : spawn_(std::move(spawn)) {
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (stop_fd_ < 0) fail_errno("raw: eventfd", errno);
    child_ = spawn_();
    thread_ = std::thread([this] { run(); });
  }
  ~RawWatcher() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
    ::close(stop_fd_);
  }
  RawWatcher(const RawWatcher&) = delete;
  RawWatcher& operator=(const RawWatcher&) = delete;

  // SIGKILLs the current child from this thread; returns the microseconds until the watcher had
  // started its replacement.
  double kill_and_wait_replaced() {
    std::unique_lock lock(mu_);
    const std::uint64_t gen = generation_;
    const auto t0 = std::chrono::steady_clock::now();
    if (::kill(child_.pid(), SIGKILL) != 0) fail_errno("raw: kill", errno);
    cv_.wait(lock, [&] { return generation_ != gen || !error_.empty(); });
    if (!error_.empty()) throw std::runtime_error(error_);
    return std::chrono::duration<double, std::micro>(replaced_at_ - t0).count();
  }

 private:
  void run() {
    for (;;) {
      int pidfd;
      {
        std::lock_guard lock(mu_);
        pidfd = child_.pidfd();
      }
      pollfd fds[2] = {{pidfd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;  // EINTR
      if (fds[1].revents != 0) return;       // ~RawWatcher: the child dies with child_
      std::lock_guard lock(mu_);
      try {
        child_.reap(false);
        child_ = spawn_();
        replaced_at_ = std::chrono::steady_clock::now();
        ++generation_;
      } catch (const std::exception& e) {
        error_ = e.what();
      }
      cv_.notify_all();
      if (!error_.empty()) return;
    }
  }

  std::function<RawChild()> spawn_;
  int stop_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  RawChild child_;  // (mu_)
  std::uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point replaced_at_{};
  std::string error_;
  std::thread thread_;
};

}  // namespace supervisor::bench
