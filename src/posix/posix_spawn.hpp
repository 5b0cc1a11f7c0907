// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Starting a prepared child with posix_spawn (any thread): no identity change, no rlimits and no
// umask (they need code in the child between fork and exec, which only a clone-based spawner
// runs). Private.

#include <sys/types.h>

#include <supervisor/error.hpp>

#include "spawn_prepare.hpp"

namespace supervisor::detail {

// Starts `p`; returns the child's pid, or -1 with the error in `err` (a failed exec was reaped
// already: nothing is left behind). Uses glibc's posix_spawn extensions (setsid, closefrom,
// chdir), so that the child holds exactly `p.fds`.
pid_t posix_spawn_prepared(PreparedSpawn& p, ErrorSink& err);

}  // namespace supervisor::detail
