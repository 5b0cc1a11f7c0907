// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The library's ways into the public facades of the process layer (their friends): a Loop's
// core, a Process's child, a ResourceGroup's OS half.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <supervisor/loop.hpp>
#include <supervisor/process.hpp>
#include <supervisor/resource_group.hpp>

namespace supervisor::detail {

class ChildCore;
class GroupOs;
class HostEnd;
class LoopCore;

struct LoopAccess {
  static const std::shared_ptr<LoopCore>& core(const Loop& loop) noexcept { return loop.core_; }
};

// Loop::heartbeat of several loops at once: every command is posted first, then all are waited
// for until one deadline (`timeout` from now), so that stuck loops cost one timeout in all.
std::vector<LoopHeartbeat> heartbeats(const std::vector<const Loop*>& loops, Duration timeout);

struct ProcessAccess {
  static const std::shared_ptr<ChildCore>& state(const Process& p) noexcept { return p.state_; }
  static Process make(std::shared_ptr<ChildCore> s) noexcept { return Process(std::move(s)); }
};

struct ChannelAccess {
  static Channel make(std::shared_ptr<HostEnd> end, std::uint64_t ticket) {
    Channel c;
    c.end_ = std::move(end);
    c.ticket_ = ticket;
    return c;
  }
};

struct GroupAccess {
  static const std::shared_ptr<GroupOs>& state(const ResourceGroup& g) noexcept { return g.state_; }
  static ResourceGroup make(std::shared_ptr<GroupOs> s) noexcept {
    return ResourceGroup(std::move(s));
  }
};

}  // namespace supervisor::detail
