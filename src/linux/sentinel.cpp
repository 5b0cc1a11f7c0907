// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "linux/sentinel.hpp"

#include "linux/clone3.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace supervisor::detail {
namespace {

constexpr int k_max_groups = 8192;

// The sentinel's whole life. A copy of a multi-threaded process: raw system calls only, no heap.
[[noreturn]] SV_NO_SANITIZE void sentinel_main(int read_fd, int kill_fd) {
  // Keep only the pipe and cgroup.kill; nothing of the host's stays open in here.
  for (int fd = 0; fd < 3; ++fd) {
    if (fd != read_fd && fd != kill_fd) syscall(SYS_close, fd);
  }
  const int keep_lo = read_fd < kill_fd ? read_fd : kill_fd;
  const int keep_hi = read_fd < kill_fd ? kill_fd : read_fd;
  if (keep_lo > 3) syscall(SYS_close_range, 3, keep_lo - 1, 0);
  if (keep_hi - keep_lo > 1) syscall(SYS_close_range, keep_lo + 1, keep_hi - 1, 0);
  syscall(SYS_close_range, keep_hi + 1, ~0U, 0);
  // Terminal signals to the host's process group must not take the sentinel out early.
  KernelSigaction ign{reinterpret_cast<void*>(1) /* SIG_IGN */, 0, nullptr, 0};
  syscall(SYS_rt_sigaction, SIGINT, &ign, nullptr, sizeof(std::uint64_t));
  syscall(SYS_rt_sigaction, SIGHUP, &ign, nullptr, sizeof(std::uint64_t));
  syscall(SYS_rt_sigaction, SIGQUIT, &ign, nullptr, sizeof(std::uint64_t));
  syscall(SYS_rt_sigaction, SIGTERM, &ign, nullptr, sizeof(std::uint64_t));
  syscall(SYS_rt_sigaction, SIGPIPE, &ign, nullptr, sizeof(std::uint64_t));
  syscall(SYS_prctl, PR_SET_NAME, "sv-sentinel", 0, 0, 0);

  static int groups[k_max_groups];
  int count = 0;
  int buf[256];
  for (;;) {
    const long n = syscall(SYS_read, read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the host is gone (or stopping)
    for (long i = 0; i < n / static_cast<long>(sizeof(int)); ++i) {
      const int v = buf[i];
      if (v > 0 && count < k_max_groups) {
        groups[count++] = v;
      } else if (v < 0) {
        for (int j = 0; j < count; ++j) {
          if (groups[j] == -v) {
            groups[j] = groups[--count];
            break;
          }
        }
      }
    }
  }
  if (kill_fd >= 0) syscall(SYS_write, kill_fd, "1", 1);
  for (int j = 0; j < count; ++j) syscall(SYS_kill, -groups[j], SIGKILL);
  syscall(SYS_exit_group, 0);
  __builtin_unreachable();
}

SV_NO_SANITIZE long clone_sentinel(CloneArgs& args, int read_fd, int kill_fd) {
  const long r = syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) sentinel_main(read_fd, kill_fd);
  return r;
}

}  // namespace

Sentinel::~Sentinel() { stop(); }

bool Sentinel::start(const std::string& cgroup_base) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return false;
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  UniqueFd kill_fd;
  if (!cgroup_base.empty()) {
    kill_fd.reset(::open((cgroup_base + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC));
  }
  int pidfd = -1;
  CloneArgs args;
  args.flags = k_clone_pidfd;
  args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
  args.exit_signal = 0;  // as for workers: invisible to the host's SIGCHLD and waitpid(-1)
  // The write end is closed in the sentinel by sentinel_main's close_range.
  const long r = clone_sentinel(args, read_end.get(), kill_fd.get());
  if (r < 0) return false;
  pid_ = static_cast<pid_t>(r);
  pidfd_.reset(pidfd);
  ::fcntl(write_end.get(), F_SETFL, ::fcntl(write_end.get(), F_GETFL) | O_NONBLOCK);
  pipe_ = std::move(write_end);
  return true;
}

void Sentinel::send(int value) {
  if (!pipe_) return;
  // Writes of one int are atomic on a pipe. The end is non-blocking: a full pipe would mean the
  // sentinel stopped reading, and blocking the loop on it is not an option.
  [[maybe_unused]] const ssize_t n = ::write(pipe_.get(), &value, sizeof value);
}

void Sentinel::add_group(pid_t pgid) { send(pgid); }
void Sentinel::remove_group(pid_t pgid) { send(-pgid); }

void Sentinel::stop() {
  if (!pipe_) return;
  pipe_.reset();  // EOF: the sentinel runs its kill (on nothing, by now) and exits
  siginfo_t si{};
  while (syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &si, WEXITED | __WALL, nullptr) != 0 &&
         errno == EINTR) {
  }
  pidfd_.reset();
  pid_ = -1;
}

}  // namespace supervisor::detail
