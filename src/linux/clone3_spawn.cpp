// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "clone3_spawn.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>

#include "../posix/errno_text.hpp"
#include "clone3.hpp"
#include "spawn.hpp"

// vfork-style clone3 needs a few instructions of assembly per architecture: x86-64 has them.
// SUPERVISOR_FORK_CLONE3 forces the portable fork-style clone3 (to build and test that path).
#if defined(__x86_64__) && !defined(SUPERVISOR_FORK_CLONE3)
#  define SV_VFORK_CLONE3 1
#else
#  define SV_VFORK_CLONE3 0
#endif

namespace supervisor::detail {

// ------------------------------------------------------------------------------------------
// The child side of clone3. Runs in a copy of a multi-threaded process before execve: only raw
// system calls, no allocation, no locks, no sanitizer runtime (it was copied mid-flight).

SUPERVISOR_LOCAL_BEGIN

enum ChildStep : int {
  step_signals = 1,
  step_join_cgroup,
  step_session,
  step_deathsig,
  step_parent_gone,
  step_limits,
  step_umask,
  step_fds,
  step_groups,
  step_gid,
  step_uid,
  step_chdir,
  step_exec,
};

SUPERVISOR_INLINE const char* step_name(int step) {
  switch (step) {
    case step_signals: return "reset signals";
    case step_join_cgroup: return "join its cgroups (cgroup.procs)";
    case step_session: return "setsid";
    case step_deathsig: return "prctl(PR_SET_PDEATHSIG)";
    case step_parent_gone: return "host exited during spawn";
    case step_limits: return "setrlimit";
    case step_umask: return "umask";
    case step_fds: return "set up fds";
    case step_groups: return "setgroups";
    case step_gid: return "setgid";
    case step_uid: return "setuid";
    case step_chdir: return "chdir";
    case step_exec: return "execve";
    default: return "spawn";
  }
}

struct ChildReport {
  int step;
  int error;
};

// Where a failing child tells the parent what went wrong: memory it shares with the parent (the
// vfork-style clone, which the parent reads once the child is gone), or a pipe (the fork-style
// one, whose memory is a copy).
struct ChildSink {
  int fd = -1;
  ChildReport* shared = nullptr;
  // Born with CLONE_FILES: the child uses the host's descriptor table until step 2 gives it a
  // table of its own holding only the descriptors it keeps (nothing before that step changes
  // the table).
  bool shares_fd_table = false;
};

[[noreturn]] SUPERVISOR_INLINE SV_NO_SANITIZE void child_fail(ChildSink sink, int step, int error) {
  if (sink.shared) {
    sink.shared->step = step;
    sink.shared->error = error;
  } else {
    ChildReport r{step, error};
    syscall(SYS_write, sink.fd, &r, sizeof r);
  }
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

[[noreturn]] SUPERVISOR_INLINE SV_NO_SANITIZE void child_main(const PreparedSpawn& p,
                                                              ChildSink report_fd) {
  long r = 0;
  // 1. Dispositions back to default (an ignored SIGPIPE would survive execve), before any signal
  //    is unblocked: spawn_clone3 blocks them all for the clone, and the child inherited that.
  KernelSigaction dfl{nullptr, 0, nullptr, 0};
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(std::uint64_t));
  }
  // Into the groups that carry its limits, before anything of the worker's program runs.
  for (const auto& fd : p.join_fds) {
    if (syscall(SYS_write, fd.get(), "0", 1) != 1) child_fail(report_fd, step_join_cgroup, errno);
  }
  if (p.new_session && syscall(SYS_setsid) < 0) child_fail(report_fd, step_session, errno);
  for (const auto& l : p.limits) {
    struct {
      std::uint64_t cur, max;
    } lim{l.soft, l.hard};
    if (syscall(SYS_prlimit64, 0, l.resource, &lim, nullptr) != 0)
      child_fail(report_fd, step_limits, errno);
  }
  if (p.umask >= 0) syscall(SYS_umask, p.umask);

  // 2. fds: move the report pipe and every source below the floor above all targets (a source
  //    at or above it is never a target: no dup2 below can overwrite it), then place the
  //    sources, then close everything else (whatever other host threads opened without
  //    O_CLOEXEC too).
  if (report_fd.shares_fd_table) {
    // A table of its own, copied from the host's only below one above the highest descriptor
    // it keeps (close_range's CLOSE_RANGE_UNSHARE): a host with thousands of descriptors (a
    // pidfd per worker) would otherwise have every one of them copied into each child at the
    // clone and closed again at execve. unshare(2) copies them all, should the flag be refused.
    int keep_below = report_fd.fd + 1;
    for (const auto& m : p.fds) keep_below = m.source + 1 > keep_below ? m.source + 1 : keep_below;
    if (syscall(SYS_close_range, keep_below, ~0U, k_close_range_unshare) != 0 &&
        syscall(SYS_unshare, k_clone_files) != 0)
      child_fail(report_fd, step_fds, errno);
  }
  const int floor = p.max_target + 1;
  if (report_fd.fd >= 0) {
    r = syscall(SYS_fcntl, report_fd.fd, F_DUPFD_CLOEXEC, floor);
    if (r < 0) child_fail(report_fd, step_fds, errno);
    report_fd.fd = static_cast<int>(r);
  }
  int moved[64];
  const std::size_t count = p.fds.size() < 64 ? p.fds.size() : 64;
  if (p.fds.size() > 64) child_fail(report_fd, step_fds, EMFILE);
  for (std::size_t i = 0; i < count; ++i) {
    moved[i] = p.fds[i].source;
    if (moved[i] >= floor) continue;
    r = syscall(SYS_fcntl, p.fds[i].source, F_DUPFD_CLOEXEC, floor);
    if (r < 0) child_fail(report_fd, step_fds, errno);
    moved[i] = static_cast<int>(r);
  }
  for (std::size_t i = 0; i < count; ++i) {
    // dup2 clears FD_CLOEXEC on the target: exactly the fds we mean to pass survive execve.
    if (syscall(SYS_dup2, moved[i], p.fds[i].target) < 0) child_fail(report_fd, step_fds, errno);
  }
  for (int fd = 0; fd < floor; ++fd) {
    bool wanted = false;
    for (std::size_t i = 0; i < count; ++i) wanted = wanted || p.fds[i].target == fd;
    if (!wanted) syscall(SYS_close, fd);
  }
  // Everything from `floor` up except the report pipe (it is O_CLOEXEC and closes at execve).
  const int keep = report_fd.fd;
  const bool closed = keep < 0
                          ? syscall(SYS_close_range, floor, ~0U, 0) == 0
                          : (keep == floor || syscall(SYS_close_range, floor, keep - 1, 0) == 0) &&
                                syscall(SYS_close_range, keep + 1, ~0U, 0) == 0;
  if (!closed) {
    for (int fd = floor; fd < p.close_limit; ++fd) {
      if (fd != keep) syscall(SYS_close, fd);
    }
  }

  // 3. identity, then cwd (the target user may be the only one allowed into it).
  if (p.set_identity) {
    if (syscall(SYS_setgroups, p.groups.size(), p.groups.data()) != 0)
      child_fail(report_fd, step_groups, errno);
    if (syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) child_fail(report_fd, step_gid, errno);
    if (syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) child_fail(report_fd, step_uid, errno);
  }
  // After the identity change: the kernel clears the parent-death signal whenever credentials
  // change, so set before it, it would be gone by execve.
  if (p.die_with_host) {
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
      child_fail(report_fd, step_deathsig, errno);
    // The parent may have died between the clone and prctl: then nobody would ever kill us.
    if (syscall(SYS_getppid) != p.parent_pid) child_fail(report_fd, step_parent_gone, ESRCH);
  }
  if (!p.cwd.empty() && syscall(SYS_chdir, p.cwd.c_str()) != 0)
    child_fail(report_fd, step_chdir, errno);

  if (p.own_pid_digits != nullptr) {
    // WATCHDOG_PID: our pid is known only here. The room holds 20 digits, more than any pid has.
    long pid = syscall(SYS_getpid);
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + pid % 10);
      pid /= 10;
    } while (pid > 0 && n < 20);
    for (int i = 0; i < n; ++i) p.own_pid_digits[i] = digits[n - 1 - i];
    p.own_pid_digits[n] = '\0';
  }
  std::uint64_t empty_mask = 0;
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty_mask, nullptr, sizeof empty_mask) != 0)
    child_fail(report_fd, step_signals, errno);
  syscall(SYS_execve, p.program.c_str(), p.argv.data(), p.envp.data());
  child_fail(report_fd, step_exec, errno);
}

#if SV_VFORK_CLONE3
// vfork-style clone3 (CLONE_VM | CLONE_VFORK): the child borrows the parent's memory and runs on
// a stack of its own until execve, while the parent thread waits; nothing is copied, so the cost
// does not grow with the host's size. clone3 returns in the child on the new stack, where no C++
// frame exists: the child side is a few instructions that call `fn(arg)`, which never returns.
// Registers other than rax, rcx and r11 survive the system call, in the parent and in the child.
// The raw system call fails with -errno in rax and leaves errno alone: the failure is returned
// as libc's syscall() does (-1, errno set), or the caller reads a stale errno (0: a "success"
// with no child, whose pid -1 a later kill(2) would take for every process).
SUPERVISOR_INLINE SV_NO_SANITIZE long clone3_on_stack(CloneArgs& args, void (*fn)(void*),
                                                      void* arg) {
  long ret;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "mov %[arg], %%rdi\n\t"  // the child, on its new stack
      "mov %[fn], %%rax\n\t"
      "xor %%ebp, %%ebp\n\t"  // an outermost frame
      "call *%%rax\n\t"
      "ud2\n\t"  // fn never returns
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

// What a child started on a stack of its own (vfork-style clone3, or clone(2)) runs.
struct StackChild {
  const PreparedSpawn* p;
  ChildSink sink;
};

[[noreturn]] SUPERVISOR_INLINE SV_NO_SANITIZE void stack_child_entry(void* arg) {
  const auto* c = static_cast<const StackChild*>(arg);
  child_main(*c->p, c->sink);
}

// The same for glibc's clone(3), which wants an int-returning function.
SUPERVISOR_INLINE SV_NO_SANITIZE int clone_child_entry(void* arg) { stack_child_entry(arg); }

// Fork-style clone3: the child runs on a copy of the parent's memory. Calls clone3; in the child,
// never returns. The child resumes inside this frame, so it is kept free of instrumentation too.
SUPERVISOR_INLINE SV_NO_SANITIZE long clone3_and_exec(const PreparedSpawn& p, CloneArgs& args,
                                                      int report_fd) {
  long r = syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) child_main(p, ChildSink{report_fd, nullptr, (args.flags & k_clone_files) != 0});
  return r;
}

SUPERVISOR_INLINE std::atomic<int> g_clone3_state{0};             // 0 unknown, 1 yes, -1 no
SUPERVISOR_INLINE std::atomic<int> g_clone_into_cgroup_state{0};  // the same

// The message of a child that failed before its chdir and execve, at `step`.
SUPERVISOR_INLINE std::string step_failure(const PreparedSpawn& p, int step, int e) {
  return fmt::format("spawn \"{}\": {}: {} (cwd \"{}\")", p.program, step_name(step),
                     sys_message(e), shown_cwd(p.cwd));
}

// The child's stack when it runs on one of its own: a buffer in the parent's frame, which the
// parent cannot touch while it waits for the child's execve. child_main needs well under 4 KiB.
SUPERVISOR_INLINE constexpr std::size_t k_child_stack_bytes = 32 * 1024;

// Creates the child and returns once it has called execve or failed (then `rep` says at which
// step): with clone3 (`cgroup_fd` >= 0: CLONE_INTO_CGROUP) or with clone(2). Returns its pid, or
// -1 and the error in `error` when no child was made.
//
// The child shares the host's memory (nothing copied: the cost does not grow with the host)
// unless it changes its identity: the kernel marks a memory map non-dumpable when the
// credentials of a task using it change, and a shared one is the host's own (no core dump, no
// debugger for the rest of its life). Such a child gets a copy, like fork, and reports through a
// pipe. So does a clone(2) child under ThreadSanitizer (SV_TSAN says why).
SUPERVISOR_INLINE long create_child(const PreparedSpawn& p, bool use_clone3, int cgroup_fd,
                                    int& pidfd, ChildReport& rep, int& error) {
  const bool shared = !p.set_identity && (use_clone3 ? SV_VFORK_CLONE3 : !SV_TSAN);
  UniqueFd report_r;
  UniqueFd report_w;
  if (!shared) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
      error = errno;
      return -1;
    }
    report_r.reset(report[0]);
    report_w.reset(report[1]);
  }
  // With close_range(2) (Linux 5.9, as its CLOSE_RANGE_UNSHARE), a vfork-style clone3 child
  // starts on the host's descriptor table and takes only what it keeps (child_main, step 2).
  // Only vfork-style: the loop thread, which owns every descriptor the child keeps, waits until
  // the child has its own table (a fork-style child runs beside it, and the spawn goes on to
  // close its copies of the child's ends at once).
  const bool share_fds = use_clone3 && shared && SV_VFORK_CLONE3 && p.has_close_range;
  StackChild child{
      &p, shared ? ChildSink{-1, &rep, share_fds} : ChildSink{report_w.get(), nullptr, share_fds}};
  long r = -1;
  {
    // The child starts with every signal blocked, until its step 1 has reset the host's handlers
    // (the loop thread leaves SIGCHLD open, LoopCore::start says why).
    sigset_t all;
    sigset_t before;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &before);
    alignas(64) unsigned char stack[k_child_stack_bytes];
    if (use_clone3) {
      CloneArgs args;
      args.flags = (p.use_pidfd ? k_clone_pidfd : 0) | (cgroup_fd >= 0 ? k_clone_into_cgroup : 0) |
                   (share_fds ? k_clone_files : 0);
      args.pidfd = p.use_pidfd ? reinterpret_cast<std::uintptr_t>(&pidfd) : 0;
      // exit_signal 0 until execve: a child that fails before exec sends the host no SIGCHLD
      // and cannot be reaped by the host's waitpid(-1). execve resets it to SIGCHLD (the kernel
      // does so on every exec), so a running worker can still be reaped by a host that ignores
      // SIGCHLD or calls waitpid(-1); the loop then reports the exit as `unknown` and counts it.
      args.exit_signal = 0;
      args.cgroup = cgroup_fd >= 0 ? static_cast<std::uint64_t>(cgroup_fd) : 0;
#if SV_VFORK_CLONE3
      if (shared) {
        args.flags |= k_clone_vm | k_clone_vfork;
        args.stack = reinterpret_cast<std::uintptr_t>(stack);
        args.stack_size = sizeof stack;
        r = clone3_on_stack(args, stack_child_entry, &child);
      } else {
        r = clone3_and_exec(p, args, report_w.get());
      }
#else
      r = clone3_and_exec(p, args, report_w.get());
#endif
    } else {
      // clone(2) through glibc, which sets the child up on `stack` on every architecture. Exit
      // signal 0 until execve, as above; CLONE_VFORK: back here once it has called execve.
      const int flags = static_cast<int>(k_clone_vfork | (shared ? k_clone_vm : 0) |
                                         (p.use_pidfd ? k_clone_pidfd : 0));
      r = ::clone(clone_child_entry, stack + sizeof stack, flags, &child, &pidfd);
    }
    error = errno;
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
  }
  if (r < 0) return -1;
  if (!shared) {
    report_w.reset();
    ssize_t n;
    do {
      n = ::read(report_r.get(), &rep, sizeof rep);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof rep)) rep = ChildReport{0, 0};  // EOF: execve worked
  }
  return r;
}

SUPERVISOR_INLINE void spawn_child(PreparedSpawn& p, bool use_clone3, int cgroup_fd,
                                   SpawnResult& out, ErrorSink& err) {
  int pidfd = -1;
  ChildReport rep{0, 0};
  int error = 0;
  const long r = create_child(p, use_clone3, cgroup_fd, pidfd, rep, error);
  if (r < 0) {
    err.fail(std::error_code(error, std::system_category()), [&] {
      return fmt::format("spawn \"{}\": {}: {}", p.program, use_clone3 ? "clone3" : "clone",
                         sys_message(error));
    });
    return;
  }
  UniqueFd pidfd_owner(pidfd);
  if (rep.step != 0) {
    reap_failed(static_cast<pid_t>(r), pidfd_owner.get());
    if (rep.step == step_exec || rep.step == step_chdir) {
      explain_exec_failure(p, rep.step == step_exec ? ExecStage::exec : ExecStage::chdir, rep.error,
                           err);
    } else {
      err.fail(std::error_code(rep.error, std::system_category()),
               [&] { return step_failure(p, rep.step, rep.error); });
    }
    return;
  }
  out.pid = static_cast<pid_t>(r);
  out.pidfd = std::move(pidfd_owner);
  out.path = use_clone3 ? SpawnPath::clone3 : SpawnPath::clone;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void spawn_clone3(PreparedSpawn& p, int cgroup_fd, SpawnResult& out,
                                    ErrorSink& err) {
  spawn_child(p, true, cgroup_fd, out, err);
}

SUPERVISOR_INLINE void spawn_clone(PreparedSpawn& p, SpawnResult& out, ErrorSink& err) {
  spawn_child(p, false, -1, out, err);
}

SUPERVISOR_INLINE bool clone3_available() noexcept {
  int state = g_clone3_state.load(std::memory_order_acquire);
  if (state == 0) {
    // clone3 with an invalid size fails with EINVAL where it exists and ENOSYS where it does not
    // (older kernels, valgrind, seccomp profiles that refuse it): nothing is created either way.
    const long r = syscall(SYS_clone3, nullptr, 0);
    state = (r < 0 && errno == ENOSYS) ? -1 : 1;
    g_clone3_state.store(state, std::memory_order_release);
  }
  return state > 0;
}

SUPERVISOR_INLINE bool clone_into_cgroup_available() noexcept {
  int state = g_clone_into_cgroup_state.load(std::memory_order_acquire);
  if (state == 0) {
    state = -1;
    if (clone3_available()) {
      // CLONE_INTO_CGROUP with a cgroup fd no process can have open (fs.nr_open stays below
      // INT_MAX): EBADF where the kernel knows the flag (5.7), EINVAL or E2BIG where it does not
      // (5.3-5.6). Any other failure (EAGAIN, ENOMEM) also reads as "no": the fallback is as safe,
      // only slower. The kernel gives up before the task would ever run.
      CloneArgs args;
      args.flags = k_clone_into_cgroup;
      args.exit_signal = 0;
      args.cgroup = 0x7fffffff;
      const long r = syscall(SYS_clone3, &args, sizeof args);
      const int e = errno;
      if (r == 0) syscall(SYS_exit_group, 0);  // unreachable: a child made after all ends here
      if (r > 0) reap_failed(static_cast<pid_t>(r), -1);
      if (r < 0 && e == EBADF) state = 1;
    }
    g_clone_into_cgroup_state.store(state, std::memory_order_release);
  }
  return state > 0;
}

}  // namespace supervisor::detail
