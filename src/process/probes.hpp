// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the built-in checks (process/probes.cpp, and a backend's network I/O) share.

#include <supervisor/health.hpp>

namespace supervisor::detail {

// Whether two probe targets are the same worker incarnation (a cancel is for one).
bool same_worker(const ProbeTarget& a, const ProbeTarget& b);

}  // namespace supervisor::detail
