// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "unique_handle.hpp"

#include <windows.h>

#include <supervisor/export.hpp>

namespace supervisor::detail::win {

SUPERVISOR_INLINE void close_handle(Handle h) noexcept {
  if (handle_set(h)) ::CloseHandle(h);
}

}  // namespace supervisor::detail::win
