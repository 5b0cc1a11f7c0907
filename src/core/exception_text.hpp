// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <exception>
#include <string>

namespace supervisor::detail {

// What the exception being handled says, for a message naming a host's hook or callback that
// threw. Call only inside a `catch` block.
inline std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

}  // namespace supervisor::detail
