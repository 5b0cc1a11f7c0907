// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the built-in checks (process/probes.cpp, and a backend's network I/O) share.

#include <supervisor/health.hpp>

#include <cstdint>
#include <string>

namespace supervisor::detail {

// Whether two probe targets are the same worker incarnation (a cancel is for one).
bool same_worker(const ProbeTarget& a, const ProbeTarget& b);

// The whole request an HttpCheck sends; throws errc::invalid_argument for a path that is not a
// request target.
std::string http_probe_request(const std::string& address, std::uint16_t port,
                               const std::string& path);

}  // namespace supervisor::detail
