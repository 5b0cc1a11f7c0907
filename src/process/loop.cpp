// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The public Loop, and the names of the process layer's enums.
#include <supervisor/loop.hpp>

#include "process/loop_core.hpp"

namespace supervisor {

std::string_view to_string(SpawnPath p) noexcept {
  return p == SpawnPath::clone3 ? "clone3" : "posix_spawn";
}

std::string_view to_string(Containment c) noexcept {
  switch (c) {
    case Containment::automatic: return "automatic";
    case Containment::cgroup: return "cgroup";
    case Containment::process_group: return "process-group";
  }
  return "?";
}

Loop::Loop() : Loop(LoopOptions{}) {}

Loop::Loop(LoopOptions options) : core_(std::make_shared<detail::LoopCore>(std::move(options))) {
  core_->start();
}

Loop::~Loop() { core_->shutdown(); }

LoopInfo Loop::info() const { return core_->info(); }

std::uint64_t Loop::stolen_reaps() const noexcept {
  return core_->stolen_reaps.load(std::memory_order_relaxed);
}

std::uint64_t Loop::callback_errors() const noexcept {
  return core_->callback_errors.load(std::memory_order_relaxed);
}

}  // namespace supervisor
