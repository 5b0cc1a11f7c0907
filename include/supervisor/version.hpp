// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 18  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// The one source of the library's version. CMake parses the three defines below; keep their
/// spelling (`#define SUPERVISOR_VERSION_<PART> <number>`) when bumping.

#define SUPERVISOR_VERSION_MAJOR 0
#define SUPERVISOR_VERSION_MINOR 1
#define SUPERVISOR_VERSION_PATCH 0

/// The version as one comparable number: major * 10000 + minor * 100 + patch (fmt's convention).
#define SUPERVISOR_VERSION \
  (SUPERVISOR_VERSION_MAJOR * 10000 + SUPERVISOR_VERSION_MINOR * 100 + SUPERVISOR_VERSION_PATCH)

#define SUPERVISOR_DETAIL_STR2(x) #x
#define SUPERVISOR_DETAIL_STR(x) SUPERVISOR_DETAIL_STR2(x)

/// The version as text, e.g. "0.1.0".
#define SUPERVISOR_VERSION_STRING                                                \
  SUPERVISOR_DETAIL_STR(SUPERVISOR_VERSION_MAJOR)                                \
  "." SUPERVISOR_DETAIL_STR(SUPERVISOR_VERSION_MINOR) "." SUPERVISOR_DETAIL_STR( \
      SUPERVISOR_VERSION_PATCH)

#include <supervisor/export.hpp>

namespace supervisor {

/// A version triple. Thread-safe: a plain value.
struct Version {
  int major = 0;  ///< Incompatible API changes (while 0, minor plays that role).
  int minor = 0;  ///< Added features.
  int patch = 0;  ///< Fixes.

  /// The same encoding as `SUPERVISOR_VERSION`.
  [[nodiscard]] constexpr int number() const noexcept {
    return major * 10000 + minor * 100 + patch;
  }
  friend constexpr bool operator==(const Version&, const Version&) noexcept = default;
};

/// The version of the headers this translation unit was compiled against.
inline constexpr Version header_version{SUPERVISOR_VERSION_MAJOR, SUPERVISOR_VERSION_MINOR,
                                        SUPERVISOR_VERSION_PATCH};

/// The version of the compiled library actually linked (differs from `header_version` only when
/// headers and binary were mixed up). Thread-safe.
[[nodiscard]] SUPERVISOR_API Version library_version() noexcept;

/// The linked library's version as text, e.g. "0.1.0". Thread-safe; the pointer is static.
[[nodiscard]] SUPERVISOR_API const char* library_version_string() noexcept;

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 18
#  include <supervisor/detail/header_only_end.hpp>
#endif
