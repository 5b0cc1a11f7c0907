// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

#include "../posix/errno_text.hpp"
#include "../posix/unique_fd.hpp"
#include "proc_stat.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE bool read_text(int fd, std::string& out) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

SUPERVISOR_INLINE bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Kills `pid` only if it is still the process that started at `start`: the pidfd pins the
// identity, and the start time is checked again after it was taken.
SUPERVISOR_INLINE bool kill_verified(pid_t pid, std::uint64_t start) {
  if (process_start_time(pid) != start) return false;
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd || process_start_time(pid) != start) return false;
  return syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) == 0;
}

// Kills and removes a leftover worker group, but only one that looks like ours: a directory
// inside a "supervisor-*" base, directly or inside ResourceGroups' "g<N>" there (nested up to
// four deep), holding cgroup.kill.
SUPERVISOR_INLINE bool sweep_group(const std::string& dir) {
  const auto parent_of = [](const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
  };
  const auto name_of = [](const std::string& path) { return path.substr(path.rfind('/') + 1); };
  std::vector<std::string> middle;  // the ResourceGroups' directories, innermost first
  std::string base = parent_of(dir);
  while (!base.empty() && name_of(base).rfind("supervisor-", 0) != 0) {
    const std::string n = name_of(base);
    if (middle.size() == 4 || n.size() < 2 || n[0] != 'g' ||
        n.find_first_not_of("0123456789", 1) != std::string::npos)
      return false;
    middle.push_back(base);
    base = parent_of(base);
  }
  if (base.empty()) return false;
  UniqueFd kill_fd(::open((dir + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!kill_fd) return false;
  [[maybe_unused]] const ssize_t n = ::write(kill_fd.get(), "1", 1);
  // rmdir succeeds once the group is empty; the kill completes within milliseconds.
  for (int i = 0; i < 200; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) {
      // The ResourceGroup and base too, once their last group is gone (EBUSY otherwise).
      for (const auto& m : middle) ::rmdir(m.c_str());
      ::rmdir(base.c_str());
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void Registry::open(const std::string& path, SweepResult& swept, ErrorSink& err) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd && errno != ENOENT) {
    const int e = errno;
    err.fail(std::error_code(e, std::system_category()), [&] {
      return fmt::format("registry \"{}\": {}{}", path, sys_message(e),
                         e == ELOOP ? " (a symlink: refused)" : "");
    });
    return;
  }
  if (fd) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      err.fail(errc::invalid_argument,
               [&] { return fmt::format("registry \"{}\": not a regular file", path); });
      return;
    }
    std::string text;
    read_text(fd.get(), text);
    std::istringstream in(text);
    std::string kind;
    struct Leftover {
      pid_t pid;
      std::uint64_t start;
      std::string cgroup;
    };
    std::vector<Leftover> leftovers;
    while (in >> kind) {
      if (kind == "host") {
        pid_t pid = 0;
        std::uint64_t start = 0;
        in >> pid >> start;
        if (pid != ::getpid() && process_start_time(pid) == start) {
          err.fail(errc::already_running, [&] {
            return fmt::format("registry \"{}\": in use by a running host (pid {})", path, pid);
          });
          return;
        }
      } else if (kind == "worker") {
        Leftover l{};
        in >> l.pid >> l.start >> l.cgroup;
        leftovers.push_back(l);
      } else {
        std::string rest;
        std::getline(in, rest);
      }
    }
    for (const auto& l : leftovers) {
      if (kill_verified(l.pid, l.start)) {
        ++swept.processes_killed;
      } else {
        ++swept.stale_entries;
      }
      if (l.cgroup != "-" && sweep_group(l.cgroup)) ++swept.groups_removed;
    }
  }
  path_ = path;
  host_start_ = process_start_time(::getpid()).value_or(0);
  write();
}

SUPERVISOR_INLINE void Registry::add(pid_t pid, const std::string& cgroup) {
  if (!enabled()) return;
  std::lock_guard lock(mu_);
  workers_[pid] = Entry{process_start_time(pid).value_or(0), cgroup.empty() ? "-" : cgroup};
  write();
}

SUPERVISOR_INLINE void Registry::remove(pid_t pid) {
  if (!enabled()) return;
  std::lock_guard lock(mu_);
  workers_.erase(pid);
  write();
}

SUPERVISOR_INLINE void Registry::close() {
  if (!enabled()) return;
  ::unlink(path_.c_str());
  path_.clear();
}

// Replaces the file atomically: a fresh 0600 temp file (O_EXCL, O_NOFOLLOW), then rename().
SUPERVISOR_INLINE void Registry::write() {
  std::string text = fmt::format("supervisor-registry 1\nhost {} {}\n", ::getpid(), host_start_);
  for (const auto& [pid, e] : workers_)
    text += fmt::format("worker {} {} {}\n", pid, e.start, e.cgroup);
  const std::string tmp = fmt::format("{}.{}.tmp", path_, ::getpid());
  ::unlink(tmp.c_str());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return;
  if (write_all(fd.get(), text)) {
    ::rename(tmp.c_str(), path_.c_str());
  } else {
    ::unlink(tmp.c_str());
  }
}

}  // namespace supervisor::detail
