// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "sentinel.hpp"

#include "clone3.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE constexpr int k_max_groups = 8192;

// Everything the sentinel needs, prepared before the clone (the child gets a copy).
struct SentinelPlan {
  int read_fd = -1;             // the pipe: a byte is a clean stop, EOF that the host is gone
  int host_fd = -1;             // a pidfd of the host (readable once it is gone), or -1
  int kill_fd = -1;             // <base>/cgroup.kill, or -1
  int base_fd = -1;             // <base> as a directory, to remove the worker groups in it
  int parent_fd = -1;           // the directory holding <base>, to remove <base> itself
  const int* groups = nullptr;  // shared with the host: k_max_groups slots, 0 = free
  char base_name[256] = {};
};

struct LinuxDirent64 {
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

// Closes every fd except the plan's (a raw close_range between the kept ones).
SUPERVISOR_INLINE SV_NO_SANITIZE void close_all_but(const SentinelPlan& p) {
  constexpr int kept = 5;
  int keep[kept] = {p.read_fd, p.host_fd, p.kill_fd, p.base_fd, p.parent_fd};
  for (int i = 0; i < kept; ++i) {  // tiny insertion sort; -1 entries sort first and are skipped
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      const int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  int next = 0;
  for (int i = 0; i < kept; ++i) {
    if (keep[i] < 0) continue;
    if (keep[i] > next) syscall(SYS_close_range, next, keep[i] - 1, 0);
    next = keep[i] + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
}

// Removes the groups inside the directory `dir_fd` (and, `depth` levels further down, theirs
// first: a ResourceGroup's members sit one level below it, and groups may nest).
SUPERVISOR_INLINE SV_NO_SANITIZE void remove_subgroups(int dir_fd, int depth) {
  alignas(8) char buf[2048];
  syscall(SYS_lseek, dir_fd, 0, 0 /* SEEK_SET */);
  for (;;) {
    const long n = syscall(SYS_getdents64, dir_fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      const auto* d = reinterpret_cast<const LinuxDirent64*>(buf + off);
      if (d->d_type == 4 /* DT_DIR */ && d->d_name[0] != '.') {
        if (depth > 0) {
          const long sub =
              syscall(SYS_openat, dir_fd, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (sub >= 0) {
            remove_subgroups(static_cast<int>(sub), depth - 1);
            syscall(SYS_close, sub);
          }
        }
        syscall(SYS_unlinkat, dir_fd, d->d_name, 0x200 /* AT_REMOVEDIR */);
      }
      off += d->d_reclen;
    }
  }
}

// After the kill: the worker groups empty within milliseconds; remove them and the base, so
// that a dead host leaves no directory behind. Bounded to about two seconds.
SUPERVISOR_INLINE SV_NO_SANITIZE void remove_groups(const SentinelPlan& p) {
  if (p.base_fd < 0 || p.parent_fd < 0) return;
  for (int attempt = 0; attempt < 400; ++attempt) {
    remove_subgroups(p.base_fd, 4);  // ResourceGroups nest (a few levels in practice)
    if (syscall(SYS_unlinkat, p.parent_fd, p.base_name, 0x200) == 0 || errno == ENOENT) return;
    const struct { long sec, nsec; } pause{0, 5'000'000};
    syscall(SYS_nanosleep, &pause, nullptr);
  }
}

// The sentinel's whole life. A copy of a multi-threaded process: raw system calls only, no heap.
[[noreturn]] SUPERVISOR_INLINE SV_NO_SANITIZE void sentinel_main(const SentinelPlan& p) {
  close_all_but(p);
  // Terminal signals to the host's process group must not take the sentinel out early.
  KernelSigaction ign{reinterpret_cast<void*>(1) /* SIG_IGN */, 0, nullptr, 0};
  for (int sig : {SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGPIPE})
    syscall(SYS_rt_sigaction, sig, &ign, nullptr, sizeof(std::uint64_t));
  syscall(SYS_prctl, PR_SET_NAME, "sv-sentinel", 0, 0, 0);

  // The sentinel sleeps, without one wake-up per worker (the host keeps the table of process
  // groups in memory shared with us), until the host is gone or says stop. The host's pidfd is
  // what tells its death: the pipe's EOF alone would never come while a child the host forked
  // without exec holds a copy of its write end. A clean stop writes one byte.
  for (;;) {
    struct pollfd fds[2] = {{p.read_fd, POLLIN, 0}, {p.host_fd, POLLIN, 0}};
    const long n = syscall(SYS_ppoll, fds, p.host_fd >= 0 ? 2UL : 1UL, nullptr, nullptr, 0UL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) break;  // the host is gone (or poll failed: act as if)
    char byte;
    const long r = syscall(SYS_read, p.read_fd, &byte, 1);
    if (r < 0 && errno == EINTR) continue;
    break;  // a byte (stop) or EOF (the host is gone, and no fork kept the pipe)
  }
  if (p.kill_fd >= 0) syscall(SYS_write, p.kill_fd, "1", 1);
  if (p.groups) {
    for (int j = 0; j < k_max_groups; ++j) {
      const int pgid = __atomic_load_n(&p.groups[j], __ATOMIC_ACQUIRE);
      if (pgid > 0) syscall(SYS_kill, -pgid, SIGKILL);
    }
  }
  remove_groups(p);
  syscall(SYS_exit_group, 0);
  __builtin_unreachable();
}

SUPERVISOR_INLINE SV_NO_SANITIZE long clone_sentinel(CloneArgs& args, const SentinelPlan& plan) {
  const long r = syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) sentinel_main(plan);
  return r;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE Sentinel::~Sentinel() {
  stop();
  if (groups_) ::munmap(groups_, sizeof(int) * k_max_groups);
}

SUPERVISOR_INLINE bool Sentinel::start(const std::string& cgroup_base) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return false;
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  UniqueFd kill_fd;
  UniqueFd base_fd;
  UniqueFd parent_fd;
  if (!groups_) {
    void* m = ::mmap(nullptr, sizeof(int) * k_max_groups, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    groups_ = static_cast<int*>(m);
  }
  SentinelPlan plan;
  plan.read_fd = read_end.get();
  plan.groups = groups_;
  if (!cgroup_base.empty()) {
    kill_fd.reset(::open((cgroup_base + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC));
    base_fd.reset(::open(cgroup_base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const auto slash = cgroup_base.rfind('/');
    const std::string name = cgroup_base.substr(slash + 1);
    if (slash != std::string::npos && name.size() < sizeof plan.base_name) {
      parent_fd.reset(
          ::open(cgroup_base.substr(0, slash).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      name.copy(plan.base_name, name.size());
    }
    plan.kill_fd = kill_fd.get();
    plan.base_fd = base_fd.get();
    plan.parent_fd = parent_fd.get();
  }
  // Our own pidfd, for the sentinel to watch (kernels before 5.3 have none: the pipe's EOF is
  // all it has then, and a host's fork that keeps the pipe defeats it there).
  UniqueFd host_fd(static_cast<int>(syscall(SYS_pidfd_open, ::getpid(), 0)));
  plan.host_fd = host_fd.get();
  int pidfd = -1;
  CloneArgs args;
  args.flags = k_clone_pidfd;
  args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
  args.exit_signal = 0;  // as for workers: invisible to the host's SIGCHLD and waitpid(-1)
  // The write end is closed in the sentinel by close_all_but.
  const long r = clone_sentinel(args, plan);
  if (r < 0) return false;
  pid_ = static_cast<pid_t>(r);
  owner_ = ::getpid();
  pidfd_.reset(pidfd);
  pipe_ = std::move(write_end);
  return true;
}

SUPERVISOR_INLINE void Sentinel::add_group(pid_t pgid) {
  std::lock_guard lock(mu_);
  if (!groups_ || pgid <= 0 || slot_of_.count(pgid) != 0) return;
  int slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else if (used_ < k_max_groups) {
    slot = used_++;
  } else {
    return;  // full: the group is still killed by the stop ladder, only not at host death
  }
  slot_of_.emplace(pgid, slot);
  __atomic_store_n(&groups_[slot], pgid, __ATOMIC_RELEASE);
}

SUPERVISOR_INLINE void Sentinel::remove_group(pid_t pgid) {
  std::lock_guard lock(mu_);
  auto it = slot_of_.find(pgid);
  if (it == slot_of_.end()) return;
  __atomic_store_n(&groups_[it->second], 0, __ATOMIC_RELEASE);
  free_.push_back(it->second);
  slot_of_.erase(it);
}

SUPERVISOR_INLINE void Sentinel::stop() {
  if (!pipe_) return;
  if (::getpid() != owner_) {
    // A forked child's copy: the sentinel is the parent's, and goes on guarding it.
    pipe_.reset();
    pidfd_.reset();
    return;
  }
  // One byte: stop now, even if a forked child of the host still holds a copy of the pipe. The
  // sentinel runs its kill (on nothing, by now) and exits.
  [[maybe_unused]] const ssize_t n = ::write(pipe_.get(), "q", 1);
  pipe_.reset();
  siginfo_t si{};
  while (syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &si, WEXITED | __WALL, nullptr) != 0 &&
         errno == EINTR) {
  }
  pidfd_.reset();
  pid_ = -1;
}

}  // namespace supervisor::detail
