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

#include <cerrno>
#include <string>
#include <system_error>
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
  RawChild(pid_t pid, int pidfd) noexcept : pid_(pid), pidfd_(pidfd) {}
  RawChild(RawChild&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)), pidfd_(std::exchange(o.pidfd_, -1)) {}
  RawChild& operator=(RawChild&& o) noexcept {
    if (this != &o) {
      discard();
      pid_ = std::exchange(o.pid_, -1);
      pidfd_ = std::exchange(o.pidfd_, -1);
    }
    return *this;
  }
  RawChild(const RawChild&) = delete;
  RawChild& operator=(const RawChild&) = delete;
  ~RawChild() { discard(); }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  // Waits until it has exited: poll on the pidfd (as an event loop would), then waitid.
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
  }

  pid_t pid_ = -1;
  int pidfd_ = -1;
};

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

}  // namespace supervisor::bench
