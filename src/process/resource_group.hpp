// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <memory>

#include <supervisor/error.hpp>
#include <supervisor/limits.hpp>
#include <supervisor/resource_group.hpp>

namespace supervisor::detail {

class LoopCore;

// ResourceGroup::create on a loop core (the pool's way in, which has no Loop object): validates
// `limits` and makes the group inside `parent` (empty: none), which must be on the same loop.
ResourceGroup create_resource_group(const std::shared_ptr<LoopCore>& core,
                                    const ResourceLimits& limits, const ResourceGroup& parent,
                                    ErrorSink& err);

}  // namespace supervisor::detail
