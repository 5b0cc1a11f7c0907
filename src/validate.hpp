// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

namespace supervisor::detail {

// The one implementation behind validate(), validation_error() and every spawn.
void validate_spec(const ProcessSpec& spec, ErrorSink& err);

}  // namespace supervisor::detail
