// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// A SupervisionGroup's events as short lines, for tests that check their order.

#include <supervisor/supervision_group.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace supervisor::testing {

// One event as a short line: "starting a", "started a", "died b", "restarting b: a b c", ...
inline std::string group_event_line(const GroupEventData& data) {
  return std::visit(
      [](const auto& d) -> std::string {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, MemberStarting>) return "starting " + d.name;
        if constexpr (std::is_same_v<T, MemberStarted>) return "started " + d.name;
        if constexpr (std::is_same_v<T, MemberStartFailed>) return "start failed " + d.name;
        if constexpr (std::is_same_v<T, MemberDied>) return "died " + d.name;
        if constexpr (std::is_same_v<T, MemberStopping>) return "stopping " + d.name;
        if constexpr (std::is_same_v<T, MemberStopped>) return "stopped " + d.name;
        if constexpr (std::is_same_v<T, GroupRestarting>) {
          std::string line = "restarting " + d.name + ":";
          for (const auto& m : d.members) line += " " + m;
          return line;
        }
        if constexpr (std::is_same_v<T, GroupEscalated>) return "escalated " + d.name;
        if constexpr (std::is_same_v<T, GroupStopped>) return "group stopped";
        return "?";
      },
      data);
}

// The group's events as lines, oldest first, from the `from`-th on.
inline std::vector<std::string> story(const SupervisionGroup& group, std::size_t from = 0) {
  std::vector<std::string> out;
  for (const auto& e : group.history()) out.push_back(group_event_line(e.data));
  out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(std::min(from, out.size())));
  return out;
}

}  // namespace supervisor::testing
