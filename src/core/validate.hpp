// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

#include <string_view>

namespace supervisor::detail {

// The one implementation behind validate(), validation_error() and every spawn.
void validate_spec(const ProcessSpec& spec, ErrorSink& err);

// The limits of a group of trees (`ResourceGroup`, `PoolOptions::group_resources`): the same
// value rules as a spec's resources, and no per-process rlimit. Errors are errc::invalid_argument
// naming `where` and the field.
void validate_group_limits(const ResourceLimits& r, std::string_view where, ErrorSink& err);

}  // namespace supervisor::detail
