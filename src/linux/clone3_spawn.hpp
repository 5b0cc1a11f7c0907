// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The clone3 spawner: CLONE_PIDFD, CLONE_INTO_CGROUP, exit_signal 0 until execve, and a child
// that reports which of its steps failed (setsid, rlimits, setuid, chdir, execve, ...).

#include <supervisor/error.hpp>

#include "../posix/spawn_prepare.hpp"
#include "spawn.hpp"

namespace supervisor::detail {

// Loop thread. `cgroup_fd` >= 0: the child is born in that cgroup.
void spawn_clone3(PreparedSpawn& p, int cgroup_fd, SpawnResult& out, ErrorSink& err);
// Whether the kernel has clone3 (asked once).
bool clone3_available() noexcept;

}  // namespace supervisor::detail
