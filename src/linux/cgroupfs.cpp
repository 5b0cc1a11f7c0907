// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "cgroupfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include <fmt/format.h>

namespace supervisor::detail {

namespace cgroupfs {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::mutex& own_bases_mutex() {
  static std::mutex mu;
  return mu;
}

// (own_bases_mutex)
SUPERVISOR_INLINE std::set<std::string>& own_bases() {
  static std::set<std::string> bases;
  return bases;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::error_code os_error(int e) { return {e, std::system_category()}; }

SUPERVISOR_INLINE std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto octal = [&](std::size_t at) { return field[at] >= '0' && field[at] <= '7'; };
    if (field[i] == '\\' && i + 3 < field.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      const int value = (field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0');
      if (value <= 0377) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

SUPERVISOR_INLINE std::string_view next_line(std::string_view& text) {
  const auto end = text.find('\n');
  const std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

SUPERVISOR_INLINE std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const auto end = line.find(' ');
    if (end != 0) fields.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end + 1);
  }
  return fields;
}

SUPERVISOR_INLINE std::optional<std::uint64_t> parse_u64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The value of `key` in a flat keyed file ("key value" lines: cgroup.events, cpu.stat,
// memory.events).
SUPERVISOR_INLINE std::optional<std::uint64_t> keyed_value(std::string_view text,
                                                           std::string_view key) {
  while (!text.empty()) {
    const std::string_view line = next_line(text);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ') {
      return parse_u64(line.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

// Reads a whole file into `out`; returns 0 or the errno. cgroupfs and procfs files are generated
// on the first read, so a small file arrives at once, but cgroup.procs and mountinfo can span
// many pages: read until EOF.
SUPERVISOR_INLINE int read_whole_file(int dir_fd, const char* name, std::string& out) {
  out.clear();
  const int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno;
  char chunk[4096];
  int result = 0;
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      out.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      result = errno;
      break;
    }
  }
  ::close(fd);
  return result;
}

SUPERVISOR_INLINE bool remove_empty_groups(const std::string& dir, int depth) {
  if (depth > 0) {
    if (DIR* d = ::opendir(dir.c_str())) {
      std::vector<std::string> children;
      while (const dirent* e = ::readdir(d)) {
        if (e->d_type == DT_DIR && std::strcmp(e->d_name, ".") != 0 &&
            std::strcmp(e->d_name, "..") != 0)
          children.push_back(dir + "/" + e->d_name);
      }
      ::closedir(d);
      for (const auto& c : children) remove_empty_groups(c, depth - 1);
    }
  }
  return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

// Joins two paths and collapses doubled slashes; keeps "." and ".." (cgroupfs has no links, and
// the kernel never writes them in the paths we join).
SUPERVISOR_INLINE std::string join_normalised(std::string_view a, std::string_view b) {
  std::string joined;
  joined.reserve(a.size() + b.size() + 1);
  for (const std::string_view part : {a, std::string_view("/"), b}) {
    for (const char c : part) {
      if (c == '/' && !joined.empty() && joined.back() == '/') continue;
      joined.push_back(c);
    }
  }
  if (joined.size() > 1 && joined.back() == '/') joined.pop_back();
  return joined;
}

SUPERVISOR_INLINE bool is_path_prefix(std::string_view dir, std::string_view path) {
  if (dir == "/") return true;
  return path.substr(0, dir.size()) == dir &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

SUPERVISOR_INLINE bool has_option(std::string_view options, std::string_view name) {
  while (!options.empty()) {
    const auto end = options.find(',');
    if (options.substr(0, end) == name) return true;
    options.remove_prefix(end == std::string_view::npos ? options.size() : end + 1);
  }
  return false;
}

// Fields: id parent major:minor root mount-point options [optional fields...] - fstype source
// super-options. The optional fields vary in number, so the " - " separator is searched for.
SUPERVISOR_INLINE std::optional<MountLine> parse_mount_line(std::string_view line) {
  const std::vector<std::string_view> fields = split_spaces(line);
  std::size_t dash = 6;
  while (dash < fields.size() && fields[dash] != "-") ++dash;
  if (dash + 1 >= fields.size()) return std::nullopt;
  MountLine mount;
  mount.root = unescape_mountinfo(fields[3]);
  mount.mount_point = unescape_mountinfo(fields[4]);
  mount.fstype = fields[dash + 1];
  if (dash + 3 < fields.size()) mount.super_options = fields[dash + 3];
  mount.read_only = has_option(fields[5], "ro") ||
                    (dash + 3 < fields.size() && has_option(fields[dash + 3], "ro"));
  return mount;
}

SUPERVISOR_INLINE std::string in_quotes(std::string_view s) { return fmt::format("\"{}\"", s); }

SUPERVISOR_INLINE int write_file(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno;
  const int e = ::write(fd, text.data(), text.size()) < 0 ? errno : 0;
  ::close(fd);
  return e;
}

SUPERVISOR_INLINE std::vector<MountLine> parse_mounts(std::string_view mountinfo) {
  std::vector<MountLine> mounts;
  for (std::string_view rest = mountinfo; !rest.empty();) {
    if (auto mount = parse_mount_line(next_line(rest))) mounts.push_back(std::move(*mount));
  }
  return mounts;
}

SUPERVISOR_INLINE const MountLine* hidden_by(const std::vector<MountLine>& mounts,
                                             std::size_t index) {
  const MountLine* hider = nullptr;
  for (std::size_t later = index + 1; later < mounts.size(); ++later) {
    if (is_path_prefix(mounts[later].mount_point, mounts[index].mount_point))
      hider = &mounts[later];
  }
  return hider;
}

SUPERVISOR_INLINE std::string relative_to_mount(const MountLine& mount, const std::string& self) {
  // (Built with append rather than `= "/"`: GCC 12 at -O2 reports a false -Wrestrict there.)
  std::string relative;
  if (mount.root != "/")
    relative.append(self, mount.root.size());
  else
    relative.append(self);
  if (relative.empty()) relative.push_back('/');
  return relative;
}

SUPERVISOR_INLINE bool read_self_cgroup_files(std::string& mountinfo, std::string& self_cgroup,
                                              std::string* why_not) {
  const char* unread = nullptr;
  int e = read_whole_file(AT_FDCWD, "/proc/self/mountinfo", mountinfo);
  if (e != 0) {
    unread = "/proc/self/mountinfo";
  } else if ((e = read_whole_file(AT_FDCWD, "/proc/self/cgroup", self_cgroup)) != 0) {
    unread = "/proc/self/cgroup";
  }
  if (unread == nullptr) return true;
  if (why_not != nullptr) *why_not = fmt::format("read {}: {}", unread, os_error(e).message());
  return false;
}

SUPERVISOR_INLINE bool writable_group(const std::string& dir, std::string_view what,
                                      std::string* why_not) {
  // AT_EACCESS: the effective uid is the one that will mkdir.
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK, AT_EACCESS) == 0) return true;
  const std::error_code ec = os_error(errno);
  if (why_not != nullptr) {
    *why_not = fmt::format("{} {} is not writable by uid {}: {}", what, in_quotes(dir), ::geteuid(),
                           ec.message());
  }
  return false;
}

SUPERVISOR_INLINE std::string create_own_base(const std::string& parent,
                                              std::atomic<unsigned>& instance, int& reclaimed,
                                              int& error) {
  std::lock_guard lock(own_bases_mutex());
  error = 0;
  // A bounded number of names: each populated leftover in the way costs one.
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::string base = fmt::format("{}/supervisor-{}-{}", parent, ::getpid(), ++instance);
    if (::mkdir(base.c_str(), 0755) == 0) {
      own_bases().insert(base);
      return base;
    }
    error = errno;
    if (error != EEXIST) return {};
    // Not made by this process (the instance number is new), yet named after our PID: its
    // maker is gone. Reclaimed when empty; a populated one stays for the registry's sweep.
    if (remove_empty_groups(base)) {
      ++reclaimed;
      if (::mkdir(base.c_str(), 0755) == 0) {
        own_bases().insert(base);
        return base;
      }
      error = errno;
      if (error != EEXIST) return {};
    }
  }
  return {};
}

SUPERVISOR_INLINE bool release_own_base(const std::string& dir) {
  std::lock_guard lock(own_bases_mutex());
  own_bases().erase(dir);
  return remove_empty_groups(dir);
}

SUPERVISOR_INLINE bool is_live_base(const std::string& dir) {
  std::lock_guard lock(own_bases_mutex());
  return own_bases().count(dir) != 0;
}

SUPERVISOR_INLINE int remove_stale_bases(const std::string& parent) {
  std::lock_guard lock(own_bases_mutex());
  int removed = 0;
  DIR* d = ::opendir(parent.c_str());
  if (!d) return 0;
  std::vector<std::string> bases;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("supervisor-", 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + 11, nullptr, 10);
    const std::string dir = parent + "/" + name;
    if (pid <= 0 || (pid == ::getpid() ? own_bases().count(dir) == 0
                                       : ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH))
      bases.push_back(dir);
  }
  ::closedir(d);
  for (const auto& base : bases) {
    // A group still populated stays (EBUSY): killing is the registry's job.
    if (remove_empty_groups(base)) ++removed;
  }
  return removed;
}

}  // namespace cgroupfs
}  // namespace supervisor::detail
