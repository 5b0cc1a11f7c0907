// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The contained raw floor: what the default loop promises (a fresh cgroup v2 group for every
// incarnation, the child born in it, watched by a pidfd, the group removed after the exit), done
// with the fewest system calls a careful C programmer would use:
//   spawn: mkdir, open of the directory, clone3(CLONE_PIDFD | CLONE_INTO_CGROUP) vfork-style
//          (CLONE_VM | CLONE_VFORK, on a stack of its own: nothing copied, like posix_spawn)
//          with CLONE_FILES (the child then copies only the descriptors below its /dev/null:
//          close_range(CLOSE_RANGE_UNSHARE), the library's way too, so that neither side pays
//          for the host's thousands of pidfds at each spawn), close of the directory; signals
//          blocked around the clone, as posix_spawn does;
//   child: the plain floor's child (matched_attr in raw_child.hpp, as posix_spawn sets it up):
//          every signal to its default disposition, an empty mask, setsid, stdin/stdout/stderr
//          on /dev/null, execve;
//   exit:  poll on the pidfd, waitid, close, rmdir.
// x86-64 only (the vfork-style clone3 needs a few instructions of assembly, as the library's
// own does); elsewhere `RawCgroupSpawner::supported()` is false and the benchmarks say so.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>

#include "raw_child.hpp"

extern char** environ;  // NOLINT: POSIX

namespace supervisor::bench {

#if defined(__x86_64__) && defined(SYS_clone3)
#  define SV_BENCH_RAW_CGROUP 1
#else
#  define SV_BENCH_RAW_CGROUP 0
#endif

class RawCgroupSpawner {
 public:
  /// Whether this build can run the contained floor.
  static constexpr bool supported() noexcept { return SV_BENCH_RAW_CGROUP != 0; }

  /// Groups go below `parent` (a writable cgroup v2 directory, e.g. a Loop's own base), in a
  /// directory of ours made here and removed by the destructor.
  RawCgroupSpawner(const std::string& parent, const char* program, char* const* argv)
      : base_(parent + "/raw-floor-" + std::to_string(::getpid()) + "-" +
              std::to_string(instances_++)),
        program_(program),
        argv_(argv) {
    if (::mkdir(base_.c_str(), 0755) != 0) fail_errno("raw: mkdir " + base_, errno);
    null_fd_ = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd_ < 0) fail_errno("raw: open /dev/null", errno);
  }
  ~RawCgroupSpawner() {
    ::close(null_fd_);
    ::rmdir(base_.c_str());
  }
  RawCgroupSpawner(const RawCgroupSpawner&) = delete;
  RawCgroupSpawner& operator=(const RawCgroupSpawner&) = delete;

  RawChild spawn() {
#if SV_BENCH_RAW_CGROUP
    std::string group = base_ + "/r" + std::to_string(++counter_);
    if (::mkdir(group.c_str(), 0755) != 0) fail_errno("raw: mkdir " + group, errno);
    const int dir = ::open(group.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
      const int e = errno;
      ::rmdir(group.c_str());
      fail_errno("raw: open " + group, e);
    }
    int pidfd = -1;
    Args args;
    args.flags = clone_vm | clone_vfork | clone_files | clone_pidfd | clone_into_cgroup;
    args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    args.stack = reinterpret_cast<std::uintptr_t>(stack_);
    args.stack_size = sizeof stack_;
    args.cgroup = static_cast<std::uint64_t>(dir);
    sigset_t all;
    sigset_t before;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &before);
    const long pid = clone_on_stack(args, &child_main, this);
    const int e = errno;
    ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
    ::close(dir);
    if (pid < 0) {
      ::rmdir(group.c_str());
      fail_errno("raw: clone3", e);
    }
    return RawChild(static_cast<pid_t>(pid), pidfd, std::move(group));
#else
    fail_errno("raw: the contained floor needs x86-64", ENOSYS);
#endif
  }

 private:
  struct Args {  // the kernel's struct clone_args (version 2)
    std::uint64_t flags = 0, pidfd = 0, child_tid = 0, parent_tid = 0, exit_signal = 0;
    std::uint64_t stack = 0, stack_size = 0, tls = 0, set_tid = 0, set_tid_size = 0, cgroup = 0;
  };
  static constexpr std::uint64_t clone_vm = 0x100;
  static constexpr std::uint64_t clone_files = 0x400;
  static constexpr std::uint64_t clone_pidfd = 0x1000;
  static constexpr std::uint64_t clone_vfork = 0x4000;
  static constexpr std::uint64_t clone_into_cgroup = 0x200000000ULL;

  // In the child, on its own stack, sharing the parent's memory until execve: raw system calls
  // only. Exits 127 if a step fails (the benchmark's child never does).
  [[noreturn]] __attribute__((no_sanitize("address", "thread", "undefined"), noinline)) static void
  child_main(void* arg) {
    const auto* self = static_cast<const RawCgroupSpawner*>(arg);
    struct {
      void* handler = nullptr;  // SIG_DFL
      unsigned long flags = 0;
      void* restorer = nullptr;
      std::uint64_t mask = 0;
    } dfl;
    for (int sig = 1; sig <= 64; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP)
        ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(std::uint64_t));
    }
    const std::uint64_t none = 0;
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none);
    const unsigned close_range_unshare = 1U << 1;
    if (::syscall(SYS_close_range, self->null_fd_ + 1, ~0U, close_range_unshare) == 0 &&
        ::syscall(SYS_setsid) >= 0) {
      for (int fd = 0; fd <= 2; ++fd) ::syscall(SYS_dup2, self->null_fd_, fd);
      ::syscall(SYS_execve, self->program_, self->argv_, environ);
    }
    ::syscall(SYS_exit_group, 127);
    __builtin_unreachable();
  }

#if SV_BENCH_RAW_CGROUP
  // clone3 returns in the child on the new stack, where no frame of ours exists: there it calls
  // fn(arg), which never returns. rax, rcx and r11 are the registers the system call changes.
  __attribute__((no_sanitize("address", "thread", "undefined"), noinline)) static long
  clone_on_stack(Args& args, void (*fn)(void*), void* arg) {
    long ret;
    asm volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "mov %[arg], %%rdi\n\t"
        "xor %%ebp, %%ebp\n\t"
        "call *%[fn]\n\t"
        "ud2\n\t"
        "1:\n\t"
        : "=a"(ret)
        : "a"(SYS_clone3), "D"(&args), "S"(sizeof args), [fn] "r"(fn), [arg] "r"(arg)
        : "rcx", "r11", "memory", "cc");
    if (ret < 0) {
      errno = static_cast<int>(-ret);
      return -1;
    }
    return ret;
  }
#endif

  static inline unsigned instances_ = 0;  // bases are per spawner
  std::string base_;
  const char* program_;
  char* const* argv_;
  int null_fd_ = -1;
  std::uint64_t counter_ = 0;
  alignas(64) unsigned char stack_[16 * 1024]{};  // the child's, until its execve
};

}  // namespace supervisor::bench
