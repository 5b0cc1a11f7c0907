// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "cgroup_v1.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include <fmt/format.h>

#include "cgroupfs.hpp"

namespace supervisor::detail {

using namespace cgroupfs;  // NOLINT(google-build-using-namespace): the shared cgroupfs helpers

SUPERVISOR_INLINE std::string CgroupV1Hierarchy::self_dir() const {
  return join_normalised(mount_point, self_relative);
}

SUPERVISOR_INLINE std::optional<CgroupV1Hierarchy> parse_cgroup_v1(
    std::string_view mountinfo, std::string_view proc_self_cgroup, std::string_view controller,
    std::string* why_not) {
  const auto fail = [&](std::string reason) -> std::optional<CgroupV1Hierarchy> {
    if (why_not != nullptr) *why_not = std::move(reason);
    return std::nullopt;
  };
  const std::vector<MountLine> mounts = parse_mounts(mountinfo);
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < mounts.size() && !found; ++i) {
    if (mounts[i].fstype == "cgroup" && has_option(mounts[i].super_options, controller)) found = i;
  }
  if (!found) return fail(fmt::format("no cgroup v1 hierarchy has the {} controller", controller));
  const MountLine& mount = mounts[*found];
  if (const MountLine* hider = hidden_by(mounts, *found)) {
    return fail(fmt::format("the cgroup v1 {} hierarchy at {} is hidden by a later mount at {}",
                            controller, in_quotes(mount.mount_point),
                            in_quotes(hider->mount_point)));
  }
  if (mount.read_only) {
    return fail(fmt::format("the cgroup v1 {} hierarchy at {} is mounted read-only", controller,
                            in_quotes(mount.mount_point)));
  }
  // /proc/self/cgroup: "id:controller,controller:/path" per v1 hierarchy.
  std::optional<std::string> self;
  for (std::string_view rest = proc_self_cgroup; !rest.empty();) {
    const std::string_view line = next_line(rest);
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    if (has_option(line.substr(first + 1, second - first - 1), controller))
      self = std::string(line.substr(second + 1));
  }
  if (!self) {
    return fail(fmt::format("/proc/self/cgroup has no line for the {} controller", controller));
  }
  if (self->empty() || self->front() != '/' || self->find("/..") != std::string::npos ||
      !is_path_prefix(mount.root, *self)) {
    return fail(fmt::format("our {} group {} is not reachable through the mount at {}", controller,
                            in_quotes(*self), in_quotes(mount.mount_point)));
  }
  return CgroupV1Hierarchy{std::string(controller), mount.mount_point,
                           relative_to_mount(mount, *self)};
}

SUPERVISOR_INLINE std::optional<CgroupV1Hierarchy> find_cgroup_v1(std::string_view controller,
                                                                  std::string* why_not) {
  std::string mountinfo;
  std::string self_cgroup;
  if (!read_self_cgroup_files(mountinfo, self_cgroup, why_not)) return std::nullopt;
  auto h = parse_cgroup_v1(mountinfo, self_cgroup, controller, why_not);
  const std::string what = fmt::format("the cgroup v1 {} group", controller);
  if (!h || !writable_group(h->self_dir(), what, why_not)) return std::nullopt;
  return h;
}

SUPERVISOR_INLINE CgroupV1Group CgroupV1Group::create(std::string controller,
                                                      const std::string& parent_dir,
                                                      const std::string& name, ErrorSink& err) {
  CgroupV1Group g;
  const std::string path = join_normalised(parent_dir, name);
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("create cgroup {}: the name must be one path component", in_quotes(path));
    });
    return g;
  }
  if (::mkdir(path.c_str(), 0755) != 0) {
    err.fail(os_error(errno), [&] { return fmt::format("mkdir {}", in_quotes(path)); });
    return g;
  }
  g.controller_ = std::move(controller);
  g.path_ = path;
  return g;
}

SUPERVISOR_INLINE int CgroupV1Group::write(const char* name, std::string_view text,
                                           ErrorSink& err) {
  const std::string file = join_normalised(path_, name);
  const int e = write_file(file, text);
  if (e != 0) {
    err.fail(os_error(e), [&] { return fmt::format("write \"{}\" to {}", text, in_quotes(file)); });
  }
  return e;
}

SUPERVISOR_INLINE std::optional<std::uint64_t> CgroupV1Group::number(const char* name) const {
  std::string text;
  if (read_whole_file(AT_FDCWD, join_normalised(path_, name).c_str(), text) != 0)
    return std::nullopt;
  return parse_u64(text);
}

SUPERVISOR_INLINE std::optional<std::uint64_t> CgroupV1Group::keyed(const char* name,
                                                                    std::string_view key) const {
  return keyed_value(text(name), key);
}

SUPERVISOR_INLINE std::string CgroupV1Group::text(const char* name) const {
  std::string out;
  if (read_whole_file(AT_FDCWD, join_normalised(path_, name).c_str(), out) != 0) out.clear();
  return out;
}

SUPERVISOR_INLINE UniqueFd CgroupV1Group::open_procs(ErrorSink& err) const {
  const std::string file = join_normalised(path_, "cgroup.procs");
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) err.fail(os_error(errno), [&] { return fmt::format("open {}", in_quotes(file)); });
  return fd;
}

SUPERVISOR_INLINE void CgroupV1Group::add_process(int pid, ErrorSink& err) {
  write("cgroup.procs", std::to_string(pid), err);
}

SUPERVISOR_INLINE std::vector<int> CgroupV1Group::procs() const {
  std::vector<int> pids;
  std::string text;
  if (read_whole_file(AT_FDCWD, join_normalised(path_, "cgroup.procs").c_str(), text) != 0)
    return pids;
  for (std::string_view rest = text; !rest.empty();) {
    const auto pid = parse_u64(next_line(rest));
    if (pid && *pid <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
      pids.push_back(static_cast<int>(*pid));
  }
  return pids;
}

SUPERVISOR_INLINE bool CgroupV1Group::remove(ErrorSink& err) {
  if (path_.empty() || removed_) return true;
  if (::rmdir(path_.c_str()) != 0) {
    const int e = errno;
    if (e == EBUSY) return false;
    if (e != ENOENT) {
      err.fail(os_error(e), [&] { return fmt::format("rmdir {}", in_quotes(path_)); });
      return false;
    }
  }
  removed_ = true;
  return true;
}

}  // namespace supervisor::detail
