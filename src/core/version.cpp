// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/version.hpp>

namespace supervisor {

SUPERVISOR_INLINE Version library_version() noexcept { return header_version; }

SUPERVISOR_INLINE const char* library_version_string() noexcept {
  return SUPERVISOR_VERSION_STRING;
}

}  // namespace supervisor
