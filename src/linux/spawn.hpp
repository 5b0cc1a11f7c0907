// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Starting a prepared child on Linux: clone3 on the loop thread (the child born in its cgroup,
// a pidfd from the kernel), clone(2) where clone3 is missing, or posix_spawn with pidfd_open
// for a child that joins no group.

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

// Starts the prepared child, which never runs an instruction of its program outside its groups
// (`cgroup_fd` >= 0: a cgroup v2 group; `p.join_fds`: cgroup v1 ones): clone3, born in the
// cgroup with CLONE_INTO_CGROUP when `into_cgroup` (the kernel has it and it is not disabled);
// else the child joins through cgroup.procs before execve, started by clone3, or by clone(2)
// where clone3 is missing or `path` is not clone3. posix_spawn only for a child without groups
// when `path` asks for it. Runs on the long-lived loop thread unless it is posix_spawn
// (PR_SET_PDEATHSIG follows the thread that creates the child). Exec errors come back here; the
// failed child is reaped.
void spawn_prepared(PreparedSpawn& p, int cgroup_fd, SpawnPath path, bool into_cgroup,
                    SpawnResult& out, ErrorSink& err);

// Reaps a child whose spawn failed (through its pidfd when there is one).
void reap_failed(pid_t pid, int pidfd);

// pidfd_open and waitid(P_PIDFD) both work (Linux 5.4); else `why` says which is missing.
bool pidfd_available(std::string& why);
bool close_range_available() noexcept;

}  // namespace supervisor::detail
