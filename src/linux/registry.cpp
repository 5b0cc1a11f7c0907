// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "registry.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <limits>
#include <thread>
#include <vector>

#include "../posix/errno_text.hpp"
#include "cgroupfs.hpp"
#include "proc_stat.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// A registry larger than this is not ours (ours holds one short line per worker).
constexpr std::size_t registry_max_bytes = std::size_t{4} << 20;
constexpr std::size_t registry_max_notes = 4;

SUPERVISOR_INLINE int read_bounded(int fd, std::string& out, std::size_t limit) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) return EFBIG;
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

// A PID or process group: positive, and within pid_t (the kernel's limit is far lower).
SUPERVISOR_INLINE bool registry_pid(std::int64_t value) {
  return value > 0 && value <= std::numeric_limits<std::int32_t>::max();
}

template <class T>
SUPERVISOR_INLINE bool registry_number(std::string_view text, T& value) {
  if (text.empty() || text[0] == '+' || text[0] == '-') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

// An absolute path whose components are all plain names (no empty, "." or ".." one).
SUPERVISOR_INLINE bool plain_absolute_path(std::string_view path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  for (std::string_view rest = path.substr(1); !rest.empty();) {
    const auto slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
  }
  return path.find('\0') == std::string_view::npos;
}

SUPERVISOR_INLINE std::vector<std::string_view> registry_fields(std::string_view line,
                                                                std::size_t max_fields) {
  // Single spaces separate fields; the last field takes the rest of the line (a cgroup path may
  // hold spaces).
  std::vector<std::string_view> fields;
  while (fields.size() + 1 < max_fields) {
    const auto space = line.find(' ');
    if (space == std::string_view::npos) break;
    fields.push_back(line.substr(0, space));
    line.remove_prefix(space + 1);
  }
  fields.push_back(line);
  return fields;
}

// openat2() with RESOLVE_NO_SYMLINKS exists from kernel 5.6; -1: unknown yet, 0: no, 1: yes.
SUPERVISOR_INLINE std::atomic<int>& openat2_state() {
  static std::atomic<int> state{-1};
  return state;
}

// Opens `path` (relative to `dir_fd`) without following a symlink at any component: ELOOP when
// one is a symlink. `beneath`: `path` may not leave `dir_fd` (".." and absolute paths refused).
SUPERVISOR_INLINE int open_no_symlinks(int dir_fd, const std::string& path, int flags,
                                       bool beneath) {
  flags |= O_CLOEXEC;
  if (openat2_state().load(std::memory_order_relaxed) != 0) {
    // Without O_NOFOLLOW: RESOLVE_NO_SYMLINKS refuses a symlink last component with ELOOP, where
    // O_NOFOLLOW | O_DIRECTORY would say ENOTDIR.
    open_how how{};
    how.flags = static_cast<unsigned>(flags);
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    if (beneath) how.resolve |= RESOLVE_BENEATH;
    const long fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) {
      openat2_state().store(1, std::memory_order_relaxed);
      return static_cast<int>(fd);
    }
    // ENOSYS: an older kernel; EPERM: a seccomp filter that refuses the call.
    openat2_state().store(0, std::memory_order_relaxed);
  }
  // Component by component: each directory opened with O_NOFOLLOW, so a symlink anywhere fails.
  flags |= O_NOFOLLOW;
  UniqueFd cur;
  int at = dir_fd;
  std::string_view rest = path;
  if (!rest.empty() && rest[0] == '/') {
    if (beneath) {
      errno = EXDEV;
      return -1;
    }
    cur.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur) return -1;
    at = cur.get();
  }
  for (;;) {
    while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
    const auto slash = rest.find('/');
    std::string part(rest.substr(0, slash));
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash);
    while (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
    if (part.empty()) part.push_back('.');  // not `= "."`: GCC 12 -O2 reports a false -Wrestrict
    if (beneath && part == "..") {
      errno = EXDEV;
      return -1;
    }
    struct stat st {};
    if (::fstatat(at, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      errno = ELOOP;
      return -1;
    }
    if (rest.empty()) return ::openat(at, part.c_str(), flags);
    UniqueFd next(::openat(at, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -1;
    cur = std::move(next);
    at = cur.get();
  }
}

SUPERVISOR_INLINE std::string read_boot_id() {
  std::string text;
  if (cgroupfs::read_whole_file(AT_FDCWD, "/proc/sys/kernel/random/boot_id", text) != 0) return {};
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

SUPERVISOR_INLINE bool is_number_name(std::string_view name, std::string_view prefix) {
  return name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix &&
         name.find_first_not_of("0123456789", prefix.size()) == std::string_view::npos;
}

// A worker's group, opened from one of the roots down, one directory at a time.
struct OpenedGroup {
  std::vector<UniqueFd> fds;       // the root, then each directory below it, the group last
  std::vector<std::string> names;  // the directories below the root
  std::string base;                // the "supervisor-<pid>-<n>" base, when below v2_root
};

// Opens the group `dir` that an entry of a registry written by host `host_pid` names, only if it
// is one of ours: below v2_root in the base "supervisor-<host_pid>-<n>" (not one this process
// uses), or below custom_base; then ResourceGroups' "g<N>" (at most four), then "w<N>". Every
// directory is opened without following symlinks, and the root must be cgroup2.
SUPERVISOR_INLINE bool open_swept_group(const SweepRoots& roots, const std::string& dir,
                                        std::int64_t host_pid, OpenedGroup& out, std::string& why) {
  const bool v2 = !roots.v2_root.empty() && cgroupfs::is_path_prefix(roots.v2_root, dir) &&
                  dir != roots.v2_root;
  const bool custom = !v2 && !roots.custom_base.empty() &&
                      cgroupfs::is_path_prefix(roots.custom_base, dir) && dir != roots.custom_base;
  if (!v2 && !custom) {
    why = fmt::format("cgroup \"{}\" is not below the host's own cgroup bases", dir);
    return false;
  }
  if (!roots.self_dir.empty() && cgroupfs::is_path_prefix(dir, roots.self_dir)) {
    why = fmt::format("cgroup \"{}\" holds the host itself", dir);
    return false;
  }
  const std::string& root = v2 ? roots.v2_root : roots.custom_base;
  std::string_view rest = std::string_view(dir).substr(root == "/" ? 1 : root.size() + 1);
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    out.names.emplace_back(rest.substr(0, slash));
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
  }
  std::size_t first = 0;
  if (v2) {
    const std::string prefix = fmt::format("supervisor-{}-", host_pid);
    out.base = root + "/" + out.names[0];
    if (!is_number_name(out.names[0], prefix)) {
      why = fmt::format("cgroup \"{}\" is not in a base of the recorded host (pid {})", dir,
                        host_pid);
      return false;
    }
    if (cgroupfs::is_live_base(out.base)) {
      why = fmt::format("cgroup \"{}\" is in a base this process uses", dir);
      return false;
    }
    first = 1;
  }
  const std::size_t middle = out.names.size() - first - 1;
  bool shape = middle <= 4 && first < out.names.size() && is_number_name(out.names.back(), "w");
  for (std::size_t i = first; shape && i + 1 < out.names.size(); ++i)
    shape = is_number_name(out.names[i], "g");
  if (!shape) {
    why = fmt::format("cgroup \"{}\" is not shaped like a worker's group", dir);
    return false;
  }
  out.fds.emplace_back(open_no_symlinks(AT_FDCWD, root, O_RDONLY | O_DIRECTORY, false));
  struct statfs fs {};
  if (!out.fds.back() || ::fstatfs(out.fds.back().get(), &fs) != 0 ||
      fs.f_type != CGROUP2_SUPER_MAGIC) {
    why = fmt::format("cgroup root \"{}\" is not a cgroup2 directory", root);
    return false;
  }
  for (const auto& name : out.names) {
    out.fds.emplace_back(
        open_no_symlinks(out.fds.back().get(), name, O_RDONLY | O_DIRECTORY, true));
    if (!out.fds.back()) {
      const int e = errno;
      why = fmt::format("cgroup \"{}\": {}", dir, sys_message(e));
      return false;
    }
  }
  return true;
}

SUPERVISOR_INLINE bool group_lists(int group_fd, std::int64_t pid) {
  std::string procs;
  if (cgroupfs::read_whole_file(group_fd, "cgroup.procs", procs) != 0) return false;
  for (std::string_view rest = procs; !rest.empty();) {
    std::int64_t member = 0;
    if (registry_number(cgroupfs::next_line(rest), member) && member == pid) return true;
  }
  return false;
}

// Kills what is left in an opened group and removes it, then the directories above it that
// are empty now (up to, not including, the root).
SUPERVISOR_INLINE bool kill_and_remove(OpenedGroup& g) {
  // Never a group holding the host or PID 1 (the checks above make that impossible for groups
  // the host made; this one costs a read).
  if (group_lists(g.fds.back().get(), ::getpid()) || group_lists(g.fds.back().get(), 1))
    return false;
  UniqueFd kill_fd(::openat(g.fds.back().get(), "cgroup.kill", O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!kill_fd) return false;
  [[maybe_unused]] const ssize_t n = ::write(kill_fd.get(), "1", 1);
  // The group can be removed once empty; the kill completes within milliseconds.
  const std::size_t leaf = g.names.size() - 1;
  for (int i = 0; i < 200; ++i) {
    if (::unlinkat(g.fds[leaf].get(), g.names[leaf].c_str(), AT_REMOVEDIR) == 0 ||
        errno == ENOENT) {
      // The ResourceGroups and the base too, once their last group is gone (EBUSY otherwise).
      for (std::size_t k = leaf; k-- > 0;) {
        if (::unlinkat(g.fds[k].get(), g.names[k].c_str(), AT_REMOVEDIR) != 0) break;
      }
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Kills `pid` only if it is still the process that started at `start`: the pidfd pins the
// identity, and the start time is checked again after it was taken.
SUPERVISOR_INLINE bool kill_verified(pid_t pid, std::uint64_t start) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd || process_start_time(pid) != start) return false;
  return syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) == 0;
}

SUPERVISOR_INLINE void add_note(SweepResult& swept, const std::string& note) {
  if (std::count(swept.notes.begin(), swept.notes.end(), ';') + 1 >
      static_cast<std::ptrdiff_t>(registry_max_notes))
    return;
  swept.notes += swept.notes.empty() ? note : "; " + note;
}

SUPERVISOR_INLINE void refuse_entry(SweepResult& swept, const std::string& note) {
  ++swept.refused_entries;
  add_note(swept, note);
}

SUPERVISOR_INLINE std::string mode_text(mode_t mode) {
  return fmt::format("{:04o}", mode & 07777U);
}

// The host and the processes it descends from (a worker of a previous run is never one of them).
SUPERVISOR_INLINE std::vector<std::int64_t> host_and_ancestors() {
  std::vector<std::int64_t> chain{::getpid()};
  for (int hops = 0; hops < 64 && chain.back() > 1; ++hops) {
    const auto st = read_proc_stat(static_cast<int>(chain.back()));
    if (!st || st->ppid <= 0) break;
    chain.push_back(st->ppid);
  }
  return chain;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE RegistryText parse_registry(std::string_view text) {
  RegistryText r;
  const auto issue = [&](std::size_t line, std::string message) {
    r.issues.push_back(
        RegistryIssue{line, make_error_code(errc::invalid_argument), std::move(message)});
  };
  std::size_t line_no = 0;
  const std::string_view header = cgroupfs::next_line(text);
  line_no = 1;
  const auto head = registry_fields(header, 2);
  if (head.size() != 2 || head[0] != "supervisor-registry" ||
      !registry_number(head[1], r.version) ||
      (r.version != 1 && r.version != registry_format_version)) {
    issue(1, fmt::format("not a supervisor registry of version 1 or {} (header \"{}\")",
                         registry_format_version, header.substr(0, 64)));
    r.unusable = true;
    return r;
  }
  while (!text.empty()) {
    const std::string_view line = cgroupfs::next_line(text);
    ++line_no;
    if (line.empty()) continue;
    const auto kind = line.substr(0, line.find(' '));
    if (kind == "boot" && r.version >= 2) {
      const auto f = registry_fields(line, 2);
      if (f.size() != 2 || f[1].empty() || f[1].size() > 64 ||
          f[1].find_first_not_of("0123456789abcdef-") != std::string_view::npos) {
        issue(line_no, "boot: not a boot id");
      } else if (!r.boot_id.empty()) {
        issue(line_no, "boot: a second boot id");
      } else {
        r.boot_id = f[1];
      }
    } else if (kind == "host") {
      const auto f = registry_fields(line, 3);
      std::int64_t pid = 0;
      std::uint64_t start = 0;
      if (f.size() != 3 || !registry_number(f[1], pid) || !registry_number(f[2], start) ||
          !registry_pid(pid)) {
        issue(line_no, "host: expected \"host <pid> <start-ticks>\"");
      } else if (r.has_host) {
        issue(line_no, "host: a second host");
      } else {
        r.has_host = true;
        r.host_pid = pid;
        r.host_start = start;
      }
    } else if (kind == "worker") {
      RegistryWorker w;
      w.line = line_no;
      const std::size_t fields = r.version >= 2 ? 5 : 4;
      const auto f = registry_fields(line, fields);
      bool ok = f.size() == fields && registry_number(f[1], w.pid) &&
                registry_number(f[2], w.start) && registry_pid(w.pid);
      if (ok && r.version >= 2) ok = registry_number(f[3], w.pgid) && registry_pid(w.pgid);
      if (ok) {
        w.cgroup = f.back();
        ok = w.cgroup == "-" || plain_absolute_path(w.cgroup);
      }
      if (!ok) {
        issue(line_no, r.version >= 2
                           ? "worker: expected \"worker <pid> <start-ticks> <pgid> <cgroup>\" "
                             "with an absolute cgroup path of plain names, or -"
                           : "worker: expected \"worker <pid> <start-ticks> <cgroup>\"");
      } else {
        r.workers.push_back(std::move(w));
      }
    } else {
      issue(line_no, fmt::format("unknown entry \"{}\"", kind.substr(0, 32)));
    }
  }
  if (r.version >= 2 && r.boot_id.empty() && (!r.workers.empty() || r.has_host))
    issue(0, "no boot id");
  return r;
}

SUPERVISOR_INLINE void Registry::open(const std::string& path, const SweepRoots& roots,
                                      SweepResult& swept, ErrorSink& err) {
  const auto fail_os = [&](int e, const std::string& what) {
    err.fail(std::error_code(e, std::system_category()), [&] {
      return fmt::format("registry \"{}\": {}: {}{}", path, what, sys_message(e),
                         e == ELOOP ? " (a symlink: refused)" : "");
    });
  };
  const auto slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? std::string(".") : path.substr(0, slash == 0 ? 1 : slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("LoopOptions::registry_path \"{}\": not a file name", path);
    });
    return;
  }

  // The directory: the last component is made (0700) when missing; then it must be ours.
  UniqueFd dir_fd(open_no_symlinks(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, false));
  if (!dir_fd && errno == ENOENT && dir != "." && dir != "/") {
    const auto up = dir.rfind('/');
    const std::string parent =
        up == std::string::npos ? std::string(".") : dir.substr(0, up == 0 ? 1 : up);
    const std::string leaf = up == std::string::npos ? dir : dir.substr(up + 1);
    UniqueFd parent_fd(open_no_symlinks(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY, false));
    if (parent_fd && (::mkdirat(parent_fd.get(), leaf.c_str(), 0700) == 0 || errno == EEXIST)) {
      dir_fd.reset(open_no_symlinks(parent_fd.get(), leaf, O_RDONLY | O_DIRECTORY, true));
    }
  }
  if (!dir_fd) {
    fail_os(errno, fmt::format("directory \"{}\"", dir));
    return;
  }
  struct stat st {};
  if (::fstat(dir_fd.get(), &st) != 0) {
    fail_os(errno, fmt::format("directory \"{}\"", dir));
    return;
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    err.fail(errc::untrusted, [&] {
      return fmt::format(
          "registry \"{}\": directory \"{}\" is owned by uid {} with mode {}; it must be the "
          "host's own (uid {}) with mode 0700",
          path, dir, st.st_uid, mode_text(st.st_mode), ::geteuid());
    });
    return;
  }

  // The lock: held for the registry's life. A closing host unlinks it while it holds it, so
  // the file locked must still be the one the name points to.
  const std::string lock_name = name + ".lock";
  UniqueFd lock;
  for (int attempt = 0;; ++attempt) {
    lock.reset(::openat(dir_fd.get(), lock_name.c_str(),
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600));
    if (!lock) {
      fail_os(errno, fmt::format("lock \"{}\"", lock_name));
      return;
    }
    if (::fstat(lock.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
      err.fail(errc::untrusted, [&] {
        return fmt::format("registry \"{}\": lock \"{}\" is not a regular file of uid {}", path,
                           lock_name, ::geteuid());
      });
      return;
    }
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      if (e == EWOULDBLOCK) {
        err.fail(errc::already_running, [&] {
          return fmt::format("registry \"{}\": locked by another running host", path);
        });
      } else {
        fail_os(e, fmt::format("flock \"{}\"", lock_name));
      }
      return;
    }
    struct stat named {};
    if (::fstatat(dir_fd.get(), lock_name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        named.st_dev == st.st_dev && named.st_ino == st.st_ino)
      break;
    if (attempt == 100) {
      err.fail(errc::already_running,
               [&] { return fmt::format("registry \"{}\": the lock keeps being replaced", path); });
      return;
    }
  }

  // The file: it must be one the host wrote.
  UniqueFd fd(::openat(dir_fd.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd && errno != ENOENT) {
    fail_os(errno, "open");
    return;
  }
  const std::string boot = read_boot_id();
  if (fd) {
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      err.fail(errc::untrusted,
               [&] { return fmt::format("registry \"{}\": not a regular file", path); });
      return;
    }
    if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0 || st.st_nlink != 1) {
      err.fail(errc::untrusted, [&] {
        return fmt::format(
            "registry \"{}\": owned by uid {} with mode {} and {} link(s); it must be the host's "
            "own (uid {}), writable by no group or other user, with one link",
            path, st.st_uid, mode_text(st.st_mode), st.st_nlink, ::geteuid());
      });
      return;
    }
    std::string text;
    if (const int e = read_bounded(fd.get(), text, registry_max_bytes); e != 0) {
      fail_os(e, "read");
      return;
    }
    const RegistryText parsed = parse_registry(text);
    if (parsed.unusable) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("registry \"{}\": line 1: {}", path, parsed.issues.front().message);
      });
      return;
    }
    for (const auto& i : parsed.issues) {
      if (i.line == 0) continue;
      refuse_entry(swept, fmt::format("line {}: {}", i.line, i.message));
    }
    bool trusted_boot = true;
    if (parsed.version < 2 || parsed.boot_id.empty() || boot.empty() || parsed.boot_id != boot) {
      trusted_boot = false;
      if (!parsed.workers.empty()) {
        add_note(swept, parsed.version < 2 ? "a version 1 registry (no boot id): entries ignored"
                                           : fmt::format("boot id \"{}\" is not this boot's: "
                                                         "entries ignored",
                                                         parsed.boot_id));
      }
      swept.stale_entries += static_cast<int>(parsed.workers.size());
    }
    // Only in this boot: start times count from boot, so an early process of a new boot can
    // carry the PID and start time of an old host.
    if (trusted_boot && parsed.has_host && parsed.host_pid != ::getpid() &&
        process_start_time(static_cast<int>(parsed.host_pid)) == parsed.host_start) {
      err.fail(errc::already_running, [&] {
        return fmt::format("registry \"{}\": in use by a running host (pid {})", path,
                           parsed.host_pid);
      });
      return;
    }
    if (trusted_boot && !parsed.has_host && !parsed.workers.empty()) {
      refuse_entry(swept, "no host entry: workers ignored");
      swept.refused_entries += static_cast<int>(parsed.workers.size()) - 1;
      trusted_boot = false;
    }
    const std::vector<std::int64_t> ancestors = host_and_ancestors();
    const bool owner_gone = parsed.host_pid == ::getpid() ||
                            (::kill(static_cast<pid_t>(parsed.host_pid), 0) != 0 && errno == ESRCH);
    for (const auto& w : trusted_boot ? parsed.workers : std::vector<RegistryWorker>{}) {
      const auto where = [&] { return fmt::format("line {}: worker {}", w.line, w.pid); };
      if (w.pid <= 1 || std::find(ancestors.begin(), ancestors.end(), w.pid) != ancestors.end()) {
        refuse_entry(swept,
                     fmt::format("{}: the host, its ancestors and PID 1 are never swept", where()));
        continue;
      }
      const auto pid = static_cast<pid_t>(w.pid);
      const auto now = read_proc_stat(pid);
      const bool same = now && now->start_time_ticks == w.start && now->state != 'Z';
      if (w.cgroup == "-") {
        if (!same) {
          ++swept.stale_entries;
          continue;
        }
        if (w.pgid == ::getpgrp() || w.pgid == 1 || now->pgrp != w.pgid) {
          refuse_entry(swept, fmt::format("{}: not in its recorded process group {} (in {})",
                                          where(), w.pgid, now->pgrp));
          continue;
        }
        if (kill_verified(pid, w.start)) {
          ++swept.processes_killed;
        } else {
          ++swept.stale_entries;
        }
        continue;
      }
      OpenedGroup group;
      std::string why;
      if (!open_swept_group(roots, w.cgroup, parsed.host_pid, group, why)) {
        if (same) {
          refuse_entry(swept, fmt::format("{}: {}", where(), why));
        } else {
          ++swept.stale_entries;  // gone, and so is its group (or it was never ours)
        }
        continue;
      }
      if (same && !group_lists(group.fds.back().get(), w.pid)) {
        refuse_entry(swept,
                     fmt::format("{}: not inside its recorded cgroup \"{}\"", where(), w.cgroup));
        continue;
      }
      if (!same) {
        // The worker is gone; what is left in its group are its descendants, but only while the
        // group's owner is gone too: a live process with the recorded host's PID (reused) may
        // be a host that made a base of the same name, and a custom base is shared by name.
        ++swept.stale_entries;
        if (!group.base.empty() && owner_gone && kill_and_remove(group)) ++swept.groups_removed;
        continue;
      }
      if (kill_verified(pid, w.start)) {
        ++swept.processes_killed;
      } else {
        ++swept.stale_entries;
      }
      if (kill_and_remove(group)) ++swept.groups_removed;
    }
  }
  path_ = path;
  name_ = name;
  dir_ = std::move(dir_fd);
  lock_ = std::move(lock);
  boot_id_ = boot;
  host_start_ = process_start_time(::getpid()).value_or(0);
  write();
}

SUPERVISOR_INLINE void Registry::add(pid_t pid, pid_t pgid, const std::string& cgroup) {
  if (!enabled()) return;
  std::lock_guard lock(mu_);
  workers_[pid] = Entry{process_start_time(pid).value_or(0), pgid, cgroup.empty() ? "-" : cgroup};
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
  ::unlinkat(dir_.get(), name_.c_str(), 0);
  // Unlinked while still locked: a host waiting for it sees the name point elsewhere and retries.
  ::unlinkat(dir_.get(), (name_ + ".lock").c_str(), 0);
  lock_.reset();
  dir_.reset();
  path_.clear();
}

// Replaces the file atomically: a fresh 0600 temp file (O_EXCL, O_NOFOLLOW), then rename(),
// both inside the directory opened at start.
SUPERVISOR_INLINE void Registry::write() {
  std::string text = fmt::format("supervisor-registry {}\nboot {}\nhost {} {}\n",
                                 registry_format_version, boot_id_, ::getpid(), host_start_);
  for (const auto& [pid, e] : workers_)
    text += fmt::format("worker {} {} {} {}\n", pid, e.start, e.pgid, e.cgroup);
  const std::string tmp = fmt::format("{}.{}.tmp", name_, ::getpid());
  ::unlinkat(dir_.get(), tmp.c_str(), 0);
  UniqueFd fd(::openat(dir_.get(), tmp.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return;
  if (write_all(fd.get(), text)) {
    ::renameat(dir_.get(), tmp.c_str(), dir_.get(), name_.c_str());
  } else {
    ::unlinkat(dir_.get(), tmp.c_str(), 0);
  }
}

}  // namespace supervisor::detail
