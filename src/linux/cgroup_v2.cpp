// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "cgroup_v2.hpp"

#include "cgroupfs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <limits>
#include <system_error>

#include <fmt/format.h>

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

using namespace cgroupfs;  // NOLINT(google-build-using-namespace): the shared cgroupfs helpers

SUPERVISOR_INLINE constexpr auto max_pid =
    static_cast<std::uint64_t>(std::numeric_limits<int>::max());

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string CgroupV2Mount::self_dir() const {
  return join_normalised(mount_point, self_relative);
}

SUPERVISOR_INLINE std::optional<CgroupV2Mount> parse_cgroup_v2(std::string_view mountinfo,
                                                               std::string_view proc_self_cgroup,
                                                               std::string* why_not) {
  const auto fail = [&](std::string reason) -> std::optional<CgroupV2Mount> {
    if (why_not != nullptr) *why_not = std::move(reason);
    return std::nullopt;
  };

  const std::vector<MountLine> mounts = parse_mounts(mountinfo);
  std::vector<std::size_t> cgroup2;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    if (mounts[i].fstype == "cgroup2") cgroup2.push_back(i);
  }
  if (cgroup2.empty()) return fail("no cgroup2 mount in /proc/self/mountinfo");

  std::optional<std::string> self;
  for (std::string_view rest = proc_self_cgroup; !rest.empty();) {
    const std::string_view line = next_line(rest);
    if (line.substr(0, 3) == "0::") self = std::string(line.substr(3));
  }
  if (!self) {
    return fail(fmt::format(
        "cgroup2 is mounted at {} but /proc/self/cgroup has no \"0::\" line for this process",
        in_quotes(mounts[cgroup2.front()].mount_point)));
  }
  // Outside our cgroup namespace's root the kernel writes the path relative to it ("/../x"); such
  // a group cannot be reached through any mount we can see.
  if (self->empty() || self->front() != '/' || self->find("/..") != std::string::npos) {
    return fail(
        fmt::format("our cgroup2 path {} in /proc/self/cgroup is outside this cgroup "
                    "namespace or malformed",
                    in_quotes(*self)));
  }

  std::vector<std::string> reasons;
  for (const std::size_t index : cgroup2) {
    const MountLine& mount = mounts[index];
    if (const MountLine* hider = hidden_by(mounts, index)) {
      reasons.push_back(fmt::format("cgroup2 at {} is hidden by a later mount at {}",
                                    in_quotes(mount.mount_point), in_quotes(hider->mount_point)));
      continue;
    }
    if (!is_path_prefix(mount.root, *self)) {
      reasons.push_back(fmt::format("cgroup2 at {} shows only {}, which does not hold our group {}",
                                    in_quotes(mount.mount_point), in_quotes(mount.root),
                                    in_quotes(*self)));
      continue;
    }
    if (mount.read_only) {
      reasons.push_back(
          fmt::format("cgroup2 at {} is mounted read-only", in_quotes(mount.mount_point)));
      continue;
    }
    return CgroupV2Mount{mount.mount_point, relative_to_mount(mount, *self)};
  }
  return fail(fmt::format("{}", fmt::join(reasons, "; ")));
}

SUPERVISOR_INLINE std::optional<CgroupV2Mount> find_cgroup_v2(std::string* why_not) {
  std::string mountinfo;
  std::string self_cgroup;
  if (!read_self_cgroup_files(mountinfo, self_cgroup, why_not)) return std::nullopt;
  auto mount = parse_cgroup_v2(mountinfo, self_cgroup, why_not);
  if (!mount || !writable_group(mount->self_dir(), "cgroup2 group", why_not)) return std::nullopt;
  return mount;
}

SUPERVISOR_INLINE std::string cgroup_v2_enabled_controllers(const std::string& dir) {
  std::string text;
  if (read_whole_file(AT_FDCWD, (dir + "/cgroup.controllers").c_str(), text) != 0) return {};
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

SUPERVISOR_INLINE bool cgroup_v2_has_kill(const std::string& dir) {
  struct stat st {};
  return ::stat((dir + "/cgroup.kill").c_str(), &st) == 0;
}

// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE CgroupV2Group CgroupV2Group::create(const std::string& parent_dir,
                                                      const std::string& name, ErrorSink& err) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("create cgroup {} under {}: the name must be one path component",
                         in_quotes(name), in_quotes(parent_dir));
    });
    return {};
  }
  std::string path = join_normalised(parent_dir, name);
  if (::mkdir(path.c_str(), 0755) != 0) {
    err.fail(os_error(errno), [&] { return fmt::format("mkdir {}", in_quotes(path)); });
    return {};
  }
  const int dir_fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir_fd < 0) {
    // The caller gets no object to remove the directory with: it goes here.
    err.fail(os_error(errno), [&] { return fmt::format("open {}", in_quotes(path)); });
    ::rmdir(path.c_str());
    return {};
  }
  return CgroupV2Group(std::move(path), dir_fd);
}

SUPERVISOR_INLINE CgroupV2Group::CgroupV2Group(CgroupV2Group&& other) noexcept
    : path_(std::move(other.path_)),
      dir_fd_(std::exchange(other.dir_fd_, -1)),
      events_fd_(std::exchange(other.events_fd_, -1)),
      exists_(std::exchange(other.exists_, false)) {}

SUPERVISOR_INLINE CgroupV2Group& CgroupV2Group::operator=(CgroupV2Group&& other) noexcept {
  if (this != &other) {
    close_fds();
    path_ = std::move(other.path_);
    dir_fd_ = std::exchange(other.dir_fd_, -1);
    events_fd_ = std::exchange(other.events_fd_, -1);
    exists_ = std::exchange(other.exists_, false);
  }
  return *this;
}

SUPERVISOR_INLINE CgroupV2Group::~CgroupV2Group() { close_fds(); }

SUPERVISOR_INLINE void CgroupV2Group::close_fds() noexcept {
  // close() releases the descriptor even when it fails (EINTR included, on Linux): never retry.
  if (events_fd_ >= 0) ::close(std::exchange(events_fd_, -1));
  close_dir();
}

SUPERVISOR_INLINE void CgroupV2Group::close_dir() noexcept {
  if (dir_fd_ >= 0) ::close(std::exchange(dir_fd_, -1));
}

SUPERVISOR_INLINE int CgroupV2Group::dir(ErrorSink& err) {
  if (dir_fd_ >= 0 || !exists_) {
    if (!exists_) {
      err.fail(errc::internal, [&] {
        return fmt::format("open {}: the group was removed or never made", in_quotes(path_));
      });
    }
    return dir_fd_;
  }
  dir_fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir_fd_ < 0)
    err.fail(os_error(errno), [&] { return fmt::format("open {}", in_quotes(path_)); });
  return dir_fd_;
}

SUPERVISOR_INLINE int CgroupV2Group::events_fd(ErrorSink& err) {
  if (events_fd_ >= 0) return events_fd_;
  const int d = dir(err);
  if (d < 0) return -1;
  events_fd_ = ::openat(d, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (events_fd_ < 0) {
    err.fail(os_error(errno), [&] {
      return fmt::format("open {}", in_quotes(join_normalised(path_, "cgroup.events")));
    });
  }
  return events_fd_;
}

SUPERVISOR_INLINE int CgroupV2Group::write_file(const char* name, std::string_view text,
                                                ErrorSink& err, int tolerated) {
  const auto report = [&](std::error_code ec) {
    err.fail(ec, [&] {
      return fmt::format("write {} to {}", in_quotes(text),
                         in_quotes(join_normalised(path_, name)));
    });
  };
  const int d = dir(err);
  if (d < 0) return EBADF;
  const int fd = ::openat(d, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int e = errno;
    if (e != tolerated) report(os_error(e));
    return e;
  }
  // cgroupfs takes a control write whole or not at all; the error (EBUSY, ESRCH, EINVAL...) is
  // the answer to the write, so it is reported as such.
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int e = n < 0 ? errno : (static_cast<std::size_t>(n) == text.size() ? 0 : EIO);
  ::close(fd);
  if (e != 0 && e != tolerated) report(os_error(e));
  return e;
}

SUPERVISOR_INLINE int CgroupV2Group::read_file(const char* name, std::string& out, ErrorSink& err,
                                               int tolerated) {
  const int d = dir(err);
  if (d < 0) return EBADF;
  const int e = read_whole_file(d, name, out);
  if (e != 0 && e != tolerated) {
    err.fail(os_error(e),
             [&] { return fmt::format("read {}", in_quotes(join_normalised(path_, name))); });
  }
  return e;
}

SUPERVISOR_INLINE std::optional<std::uint64_t> CgroupV2Group::events_field(std::string_view key,
                                                                           ErrorSink& err) {
  // One pread from offset 0: kernfs regenerates the file on a read at 0, the whole file fits in
  // the buffer, and the read is what re-arms the EPOLLPRI notification on events_fd_.
  const int fd = events_fd(err);
  if (fd < 0) return std::nullopt;
  char buf[256];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n < 0) {
    err.fail(os_error(errno), [&] {
      return fmt::format("read {}", in_quotes(join_normalised(path_, "cgroup.events")));
    });
    return std::nullopt;
  }
  return keyed_value(std::string_view(buf, static_cast<std::size_t>(n)), key);
}

SUPERVISOR_INLINE bool CgroupV2Group::populated(ErrorSink& err) {
  return events_field("populated", err).value_or(0) != 0;
}

// Kernels before 5.2 have no "frozen" key (and no freezer): never frozen.
SUPERVISOR_INLINE bool CgroupV2Group::frozen(ErrorSink& err) {
  return events_field("frozen", err).value_or(0) != 0;
}

SUPERVISOR_INLINE CgroupKillMethod CgroupV2Group::kill(ErrorSink& err) {
  if (write_file("cgroup.kill", "1", err, ENOENT) == ENOENT) {
    kill_with_freezer(err);
    return CgroupKillMethod::freeze_kill;
  }
  return CgroupKillMethod::kill_file;
}

SUPERVISOR_INLINE void CgroupV2Group::freeze(bool on, ErrorSink& err) {
  write_file("cgroup.freeze", on ? "1" : "0", err);
}

SUPERVISOR_LOCAL_BEGIN

// SIGKILLs the members of the group at `dir` and of every group below it (cgroup.procs lists a
// group's own members only). Returns how many signals were sent.
SUPERVISOR_INLINE std::size_t kill_members(const std::filesystem::path& dir, ErrorSink& err) {
  std::string text;
  std::size_t sent = 0;
  if (const int e = read_whole_file(AT_FDCWD, (dir / "cgroup.procs").c_str(), text); e != 0) {
    // A child group may vanish under us (its owner removed it): nothing left to kill there.
    if (e != ENOENT) {
      err.fail(os_error(e),
               [&] { return fmt::format("read {}", in_quotes((dir / "cgroup.procs").native())); });
    }
    return sent;
  }
  for (std::string_view rest = text; !rest.empty();) {
    const auto pid = parse_u64(next_line(rest));
    // 0: a member outside our PID namespace, which we cannot signal anyway.
    if (!pid || *pid == 0 || *pid > max_pid) continue;
    if (::kill(static_cast<pid_t>(*pid), SIGKILL) == 0) {
      ++sent;
    } else if (errno != ESRCH) {
      err.fail(os_error(errno),
               [&] { return fmt::format("kill -KILL {} (in {})", *pid, in_quotes(dir.native())); });
    }
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) sent += kill_members(it->path(), err);
  }
  return sent;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void CgroupV2Group::kill_with_freezer(ErrorSink& err,
                                                        std::chrono::milliseconds freeze_bound) {
  if (!exists_) {
    err.fail(errc::internal, [] { return std::string("kill: empty CgroupV2Group"); });
    return;
  }
  // Before 5.2 there is no cgroup.freeze either: then members may fork while we signal them,
  // so several rounds are made instead of one.
  const bool have_freezer = write_file("cgroup.freeze", "1", err, ENOENT) == 0;
  if (err) return;
  bool is_frozen = false;
  if (have_freezer) {
    const auto deadline = std::chrono::steady_clock::now() + freeze_bound;
    for (;;) {
      is_frozen = frozen(err);
      if (is_frozen || err) break;
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd pfd{events_fd(err), POLLPRI, 0};
      if (pfd.fd < 0) break;
      if (::poll(&pfd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
        err.fail(os_error(errno), [&] {
          return fmt::format("poll {}", in_quotes(join_normalised(path_, "cgroup.events")));
        });
        break;
      }
    }
  }
  // A frozen group cannot fork, so one round finds everyone; v2-frozen tasks still die on SIGKILL.
  const int rounds = is_frozen ? 1 : 4;
  for (int round = 0; round < rounds && !err; ++round) {
    if (kill_members(path_, err) == 0) break;
  }
  if (have_freezer) {
    // Thaw even after a failure: a group left frozen would hold its members forever. (Seen on
    // 6.18: when members of a nested group die during the thaw, this group's "frozen" may stay 1
    // for good although cgroup.freeze reads 0; nothing after a kill relies on "frozen".)
    ErrorSink thaw_err{{}, {}, err.keep_context};
    freeze(false, thaw_err);
    if (thaw_err && !err) err = std::move(thaw_err);
  }
}

SUPERVISOR_INLINE std::vector<int> CgroupV2Group::procs(ErrorSink& err) {
  std::vector<int> pids;
  std::string text;
  if (read_file("cgroup.procs", text, err) != 0) return pids;
  for (std::string_view rest = text; !rest.empty();) {
    const auto pid = parse_u64(next_line(rest));
    if (pid && *pid <= max_pid) pids.push_back(static_cast<int>(*pid));
  }
  return pids;
}

SUPERVISOR_INLINE void CgroupV2Group::add_process(int pid, ErrorSink& err) {
  if (pid <= 0) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("move pid {} into {}: not a process id", pid, in_quotes(path_));
    });
    return;
  }
  write_file("cgroup.procs", std::to_string(pid), err);
}

SUPERVISOR_INLINE bool CgroupV2Group::remove(ErrorSink& err) {
  if (!exists_) {
    if (path_.empty()) {
      err.fail(errc::internal, [] { return std::string("rmdir: empty CgroupV2Group"); });
      return false;
    }
    return true;  // removed already
  }
  if (::rmdir(path_.c_str()) != 0) {
    const int e = errno;
    if (e == EBUSY) return false;
    // Already gone counts as removed, so that a retry after a partial failure is harmless.
    if (e != ENOENT) {
      err.fail(os_error(e), [&] { return fmt::format("rmdir {}", in_quotes(path_)); });
      return false;
    }
  }
  close_fds();
  exists_ = false;
  return true;
}

SUPERVISOR_INLINE CgroupStats CgroupV2Group::stats(ErrorSink& err) {
  CgroupStats stats;
  std::string text;
  // ENOENT means "no such controller here" (or an older kernel), which is an answer, not a fault.
  const auto present = [&](const char* name) { return read_file(name, text, err, ENOENT) == 0; };
  if (present("cpu.stat")) {
    stats.cpu_usage_usec = keyed_value(text, "usage_usec");
    stats.cpu_user_usec = keyed_value(text, "user_usec");
    stats.cpu_system_usec = keyed_value(text, "system_usec");
    stats.cpu_nr_throttled = keyed_value(text, "nr_throttled");
    stats.cpu_throttled_usec = keyed_value(text, "throttled_usec");
  }
  if (present("memory.current")) stats.memory_current = parse_u64(text);
  if (present("memory.peak")) stats.memory_peak = parse_u64(text);
  if (present("pids.current")) stats.pids_current = parse_u64(text);
  if (present("pids.events")) stats.pids_max_events = keyed_value(text, "max");
  if (present("memory.events")) {
    stats.oom = keyed_value(text, "oom");
    stats.oom_kill = keyed_value(text, "oom_kill");
    stats.memory_high = keyed_value(text, "high");
  }
  return stats;
}

SUPERVISOR_INLINE CgroupUsage CgroupV2Group::usage(bool memory, ErrorSink& err) {
  CgroupUsage u;
  std::string text;
  if (read_file("cpu.stat", text, err, ENOENT) == 0)
    u.cpu_usage_usec = keyed_value(text, "usage_usec");
  if (memory && read_file("memory.current", text, err, ENOENT) == 0)
    u.memory_current = parse_u64(text);
  return u;
}

}  // namespace supervisor::detail
