// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Starting a prepared child on Linux: clone3 on the loop thread (the child born in its cgroup,
// a pidfd from the kernel), or posix_spawn with pidfd_open and a move into its groups after.

#include <sys/types.h>

#include <string>

#include <supervisor/error.hpp>
#include <supervisor/process_info.hpp>

#include "../posix/spawn_prepare.hpp"
#include "../posix/unique_fd.hpp"

namespace supervisor::detail {

struct SpawnResult {
  pid_t pid = -1;
  UniqueFd pidfd;
  SpawnPath path = SpawnPath::clone3;
};

// Starts the prepared child. The clone3 path must run on the long-lived loop thread
// (PR_SET_PDEATHSIG follows the thread that creates the child). `cgroup_fd` >= 0: the child is
// born in that cgroup (clone3) or moved there right after posix_spawn. Exec errors come back
// here; the failed child is reaped.
void spawn_prepared(PreparedSpawn& p, int cgroup_fd, SpawnPath path, SpawnResult& out,
                    ErrorSink& err);

// Joins a child started by posix_spawn to its cgroup (cgroup.procs of the directory fd).
void move_to_cgroup(int cgroup_fd, pid_t pid, ErrorSink& err);
// Reaps a child whose spawn failed (through its pidfd when there is one).
void reap_failed(pid_t pid, int pidfd);

// pidfd_open and waitid(P_PIDFD) both work (Linux 5.4); else `why` says which is missing.
bool pidfd_available(std::string& why);
bool close_range_available() noexcept;

}  // namespace supervisor::detail
