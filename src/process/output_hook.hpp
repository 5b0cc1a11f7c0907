// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <string_view>

#include <supervisor/process_spec.hpp>

namespace supervisor::detail {

// What a pool adds to a worker's line callbacks (its index and incarnation): every complete line
// of a piped stream and the stream it came from, after the spec's own `on_line`. Loop thread.
using OutputHook = std::function<void(StdStream, std::string_view)>;

}  // namespace supervisor::detail
