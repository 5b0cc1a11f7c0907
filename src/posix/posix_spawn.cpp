// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "posix_spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <fmt/format.h>

#include <string>
#include <vector>

#include "errno_text.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// The file actions of this thread's last posix_spawn, reused while the next spawn's are the same
// (they are plain fd numbers and a path): building them costs a getrlimit per action, glibc
// checking each fd against RLIMIT_NOFILE, and a pool starts the same layout again and again.
class FileActionsCache {
 public:
  FileActionsCache() = default;
  ~FileActionsCache() {
    if (valid_) posix_spawn_file_actions_destroy(&actions_);
  }
  FileActionsCache(const FileActionsCache&) = delete;
  FileActionsCache& operator=(const FileActionsCache&) = delete;

  // `layout` and `cwd` determine what `build` adds to an empty set of actions; it returns 0 or
  // the error of the first action glibc refused (then `error` is set and nothing is kept).
  template <class Build>
  const posix_spawn_file_actions_t* get(std::vector<int> layout, const std::string& cwd,
                                        Build&& build, int& error) {
    if (valid_ && layout == layout_ && cwd == cwd_) return &actions_;
    if (valid_) posix_spawn_file_actions_destroy(&actions_);
    posix_spawn_file_actions_init(&actions_);
    valid_ = true;
    error = build(&actions_);
    if (error != 0) {
      posix_spawn_file_actions_destroy(&actions_);
      valid_ = false;
      return nullptr;
    }
    layout_ = std::move(layout);
    cwd_ = cwd;
    return &actions_;
  }

 private:
  bool valid_ = false;
  std::vector<int> layout_;
  std::string cwd_;
  posix_spawn_file_actions_t actions_{};
};

SUPERVISOR_INLINE thread_local FileActionsCache t_file_actions;

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE pid_t posix_spawn_prepared(PreparedSpawn& p, ErrorSink& err) {
  auto unsupported = [&](std::string_view what) {
    err.fail(errc::unsupported, [&] {
      return fmt::format("spawn \"{}\": the posix_spawn path cannot {}", p.program, what);
    });
    return -1;
  };
  if (p.set_identity) return unsupported("change identity");
  if (!p.limits.empty()) return unsupported("set resource limits");
  if (p.umask >= 0) return unsupported("set a umask");
  if (p.own_pid_env < p.envp.size()) {
    // WATCHDOG_PID would need the child's pid before it exists: left out, which sd_notify
    // libraries read as "the watchdog is for this process".
    p.envp.erase(p.envp.begin() + static_cast<std::ptrdiff_t>(p.own_pid_env));
    p.own_pid_env = static_cast<std::size_t>(-1);
    p.own_pid_digits = nullptr;
  }
  // A source that an earlier dup2 action would overwrite is moved above every target first.
  std::vector<int> sources;
  std::vector<UniqueFd> moved;
  for (std::size_t i = 0; i < p.fds.size(); ++i) {
    int source = p.fds[i].source;
    bool clobbered = false;
    for (std::size_t j = 0; j < i; ++j) clobbered = clobbered || p.fds[j].target == source;
    if (clobbered) {
      UniqueFd fd(::fcntl(source, F_DUPFD_CLOEXEC, p.max_target + 1));
      if (!fd) {
        const int e = errno;
        err.fail(std::error_code(e, std::system_category()),
                 [&] { return fmt::format("spawn \"{}\": dup: {}", p.program, sys_message(e)); });
        return -1;
      }
      source = fd.get();
      moved.push_back(std::move(fd));
    }
    sources.push_back(source);
  }
  std::vector<int> layout{p.max_target};
  for (std::size_t i = 0; i < p.fds.size(); ++i) {
    layout.push_back(sources[i]);
    layout.push_back(p.fds[i].target);
  }
  const auto build = [&](posix_spawn_file_actions_t* a) {
    int e = 0;
    for (std::size_t i = 0; i < p.fds.size() && e == 0; ++i)
      e = posix_spawn_file_actions_adddup2(a, sources[i], p.fds[i].target);
    for (int fd = 0; fd <= p.max_target && e == 0; ++fd) {
      bool wanted = false;
      for (const auto& m : p.fds) wanted = wanted || m.target == fd;
      if (!wanted) e = posix_spawn_file_actions_addclose(a, fd);
    }
    if (e == 0) e = posix_spawn_file_actions_addclosefrom_np(a, p.max_target + 1);
    if (e == 0 && !p.cwd.empty()) e = posix_spawn_file_actions_addchdir_np(a, p.cwd.c_str());
    return e;
  };
  int actions_error = 0;
  const posix_spawn_file_actions_t* fa =
      t_file_actions.get(std::move(layout), p.cwd, build, actions_error);
  if (fa == nullptr) {
    err.fail(std::error_code(actions_error, std::system_category()), [&] {
      return fmt::format("spawn \"{}\": posix_spawn file actions: {}", p.program,
                         sys_message(actions_error));
    });
    return -1;
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Every disposition back to default. glibc's child walks all signals anyway (it must clear
  // the host's handlers); naming them all here spares the parent one sigaction query per signal.
  // glibc's sigfillset leaves out its internal signals.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (p.new_session) flags = static_cast<short>(flags | POSIX_SPAWN_SETSID);
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, p.program.c_str(), fa, &attr, p.argv.data(), p.envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    // glibc reaps a child whose exec failed before returning the error, which may also be its
    // chdir's.
    explain_exec_failure(p, ExecStage::chdir_or_exec, rc, err);
    return -1;
  }
  return pid;
}

}  // namespace supervisor::detail
