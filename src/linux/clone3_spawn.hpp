// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The clone3 spawner: CLONE_PIDFD, CLONE_INTO_CGROUP, exit_signal 0 until execve, and a child
// that reports which of its steps failed (setsid, rlimits, setuid, chdir, execve, ...); the same
// child through clone(2) where clone3 is missing.

#include <supervisor/error.hpp>

#include "../posix/spawn_prepare.hpp"
#include "spawn.hpp"

namespace supervisor::detail {

// Loop thread. `cgroup_fd` >= 0: the child is born in that cgroup (CLONE_INTO_CGROUP).
void spawn_clone3(PreparedSpawn& p, int cgroup_fd, SpawnResult& out, ErrorSink& err);
// Loop thread. The same child started with clone(2), for kernels without clone3 (or seccomp
// profiles that refuse it): it joins its groups through `p.join_fds` before execve.
void spawn_clone(PreparedSpawn& p, SpawnResult& out, ErrorSink& err);
// Whether the kernel has clone3 (asked once).
bool clone3_available() noexcept;
// Whether clone3 knows CLONE_INTO_CGROUP (Linux 5.7; clone3 came in 5.3). Asked once.
bool clone_into_cgroup_available() noexcept;

}  // namespace supervisor::detail
