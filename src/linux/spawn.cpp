// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <string>

#include "../posix/errno_text.hpp"
#include "../posix/posix_spawn.hpp"
#include "clone3_spawn.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// posix_spawn, then what Linux adds: a pidfd. Only for a child that joins no group (posix_spawn
// could move it there only after its program started).
SUPERVISOR_INLINE void spawn_posix(PreparedSpawn& p, SpawnResult& out, ErrorSink& err) {
  const pid_t pid = posix_spawn_prepared(p, err);
  if (err) return;
  UniqueFd pidfd;
  if (p.use_pidfd) {
    pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
      const int e = errno;
      ::kill(pid, SIGKILL);  // ours and unreaped: the PID cannot have been reused
      reap_failed(pid, -1);
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("spawn \"{}\": pidfd_open: {} (needs Linux 5.3)", p.program,
                           sys_message(e));
      });
      return;
    }
  }
  out.pid = pid;
  out.pidfd = std::move(pidfd);
  out.path = SpawnPath::posix_spawn;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void reap_failed(pid_t pid, int pidfd) {
  siginfo_t info{};
  if (pidfd >= 0) {
    while (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | __WALL, nullptr) != 0 &&
           errno == EINTR) {
    }
  } else {
    while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
  }
}
SUPERVISOR_INLINE void spawn_prepared(PreparedSpawn& p, int cgroup_fd, SpawnPath path,
                                      bool into_cgroup, SpawnResult& out, ErrorSink& err) {
  const bool use_clone3 = path == SpawnPath::clone3 && clone3_available();
  if (use_clone3 && (cgroup_fd < 0 || into_cgroup)) {
    spawn_clone3(p, cgroup_fd, out, err);  // the default: born in its group
    return;
  }
  if (cgroup_fd >= 0) {
    // No CLONE_INTO_CGROUP: the child writes itself to the group's cgroup.procs before execve,
    // like the cgroup v1 groups of its limits.
    UniqueFd procs(::openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
    if (!procs) {
      const int e = errno;
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("spawn \"{}\": open its cgroup's cgroup.procs: {}", p.program,
                           sys_message(e));
      });
      return;
    }
    p.join_fds.push_back(std::move(procs));
  }
  if (use_clone3) {
    spawn_clone3(p, -1, out, err);
  } else if (!p.join_fds.empty() || path == SpawnPath::clone) {
    spawn_clone(p, out, err);
  } else {
    spawn_posix(p, out, err);
  }
}

SUPERVISOR_INLINE bool pidfd_available(std::string& why) {
  UniqueFd self(static_cast<int>(syscall(SYS_pidfd_open, ::getpid(), 0)));
  if (!self) {
    why = fmt::format("pidfd_open: {} (needs Linux 5.3)", sys_message(errno));
    return false;
  }
  // Not our child: ECHILD where waitid knows P_PIDFD, EINVAL where it does not.
  siginfo_t si{};
  if (syscall(SYS_waitid, P_PIDFD, self.get(), &si, WEXITED | WNOHANG, nullptr) != 0 &&
      errno == EINVAL) {
    why = "waitid(P_PIDFD): not supported (needs Linux 5.4)";
    return false;
  }
  return true;
}

SUPERVISOR_INLINE bool close_range_available() noexcept {
  // Closing an empty range above every possible fd is harmless and tells whether the call exists.
  return syscall(SYS_close_range, ~0U - 1, ~0U, 0) == 0 || errno != ENOSYS;
}

}  // namespace supervisor::detail
