// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What one live child holds open on the host's side, for the open-file check of a pool
// (PoolOptions::raise_fd_limit). Kept next to nothing else on purpose: whoever changes what a
// spawn or a LinuxChild keeps open (linux_backend.cpp, linux_child.*, cgroup_v2.*,
// ../posix/spawn_prepare.cpp) adjusts this list too; tests/integration/fd_limit_test.cpp checks
// it against what live workers hold.
#include "linux_backend.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE std::vector<std::string_view> LinuxBackend::host_fds(const ProcessSpec& spec,
                                                                       Containment containment,
                                                                       bool in_group) const {
  std::vector<std::string_view> fds;
  if (info_.pidfd_available) fds.emplace_back("pidfd");
  // As prepare() decides: automatic means a cgroup of its own where cgroups are usable.
  if (containment == Containment::automatic)
    containment = info_.cgroup_usable ? Containment::cgroup : Containment::process_group;
  // A lean group (nothing read of it but whether it is empty: no limits, no ResourceGroup) keeps
  // no descriptor while it runs (spawn); the others keep their directory for their counters and
  // limit changes. cgroup.events is opened only for a tree that outlives its main process, and
  // the cgroup v1 groups of its limits keep none.
  if (containment == Containment::cgroup && (in_group || !spec.resources.empty()))
    fds.emplace_back("cgroup directory");
  using Mode = StdioSpec::Mode;
  const auto output = [&](const StdioSpec& io, std::string_view pipe, std::string_view file) {
    if (io.mode == Mode::pipe || io.mode == Mode::log_file) fds.push_back(pipe);
    if (io.mode == Mode::log_file) fds.push_back(file);
  };
  output(spec.out, "stdout pipe", "stdout log file");
  output(spec.err, "stderr pipe", "stderr log file");
  if (spec.in.mode == Mode::pipe) fds.emplace_back("stdin pipe");
  if (spec.channel.enabled) fds.emplace_back("channel");
  return fds;
}

}  // namespace supervisor::detail
