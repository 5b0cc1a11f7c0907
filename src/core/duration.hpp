// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Durations in messages: the library's one formatter, so that every message spells a duration
// the same way.

#include <string>

#include <supervisor/clock.hpp>

namespace supervisor::detail {

// Exact, in the largest unit that divides it: "90s", "1500ms", "2min", "250us", "7ns", "0s";
// negative ones with a '-', and "max" / "min" for the extremes. Built without format parsing:
// every restart decision's message has a few of these.
[[nodiscard]] std::string format_duration(Duration d);
// The same, appended to `out` (for messages built by appending, on hot paths).
void append_duration(std::string& out, Duration d);

}  // namespace supervisor::detail
