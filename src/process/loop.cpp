// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The public Loop, and the names of the process layer's enums.
#include <supervisor/loop.hpp>

#include "loop_core.hpp"

namespace supervisor {

SUPERVISOR_INLINE std::string_view to_string(SpawnPath p) noexcept {
  switch (p) {
    case SpawnPath::clone3: return "clone3";
    case SpawnPath::posix_spawn: return "posix_spawn";
    case SpawnPath::clone: return "clone";
  }
  return "clone3";
}

SUPERVISOR_INLINE std::string_view to_string(Containment c) noexcept {
  switch (c) {
    case Containment::automatic: return "automatic";
    case Containment::cgroup: return "cgroup";
    case Containment::process_group: return "process-group";
  }
  return "?";
}

SUPERVISOR_INLINE Loop::Loop() : Loop(LoopOptions{}) {}

SUPERVISOR_INLINE Loop::Loop(LoopOptions options)
    : core_(std::make_shared<detail::LoopCore>(std::move(options))) {
  core_->start();
}

SUPERVISOR_INLINE Loop::~Loop() { core_->shutdown(); }

SUPERVISOR_INLINE LoopInfo Loop::info() const { return core_->info(); }

SUPERVISOR_INLINE std::uint64_t Loop::stolen_reaps() const noexcept {
  return core_->stolen_reaps.load(std::memory_order_relaxed);
}

SUPERVISOR_INLINE std::uint64_t Loop::callback_errors() const noexcept {
  return core_->callback_errors.load(std::memory_order_relaxed);
}

}  // namespace supervisor
