// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// `SUPERVISOR_API` marks the symbols the compiled library exports. The library is built with
/// hidden visibility; CMake defines `SUPERVISOR_SHARED` for the library and its users when it is a
/// shared library, and `SUPERVISOR_BUILDING` while compiling the library itself.
///
/// `SUPERVISOR_HEADER_ONLY` (the `supervisor::header_only` target defines it) makes the library
/// header-only, the way `FMT_HEADER_ONLY` does for fmt: every public header then brings the
/// implementation along (`supervisor/detail/header_only.hpp`), compiled inline into the program,
/// and no library is linked.

#if defined(SUPERVISOR_HEADER_ONLY)
#  define SUPERVISOR_API
#elif defined(SUPERVISOR_SHARED)
#  if defined(_WIN32)
#    if defined(SUPERVISOR_BUILDING)
#      define SUPERVISOR_API __declspec(dllexport)
#    else
#      define SUPERVISOR_API __declspec(dllimport)
#    endif
#  else
#    define SUPERVISOR_API __attribute__((visibility("default")))
#  endif
#else
#  define SUPERVISOR_API
#endif

// For the implementation files (src/): every definition outside a class is SUPERVISOR_INLINE,
// and a file's own helpers sit between SUPERVISOR_LOCAL_BEGIN and SUPERVISOR_LOCAL_END. Compiled
// into the library they are plain definitions in an anonymous namespace; header-only, where every
// translation unit that includes the library compiles them, they are inline, and the helpers sit
// in an inline namespace, so that each definition is one and the same entity in all of them.
// The optional components (supervisor::json, supervisor::http, supervisor::prometheus) are
// libraries of their own: each header defines its SUPERVISOR_<NAME>_API from these two, by whether
// SUPERVISOR_BUILDING_<NAME> is defined (only while that component itself is compiled).
#if defined(SUPERVISOR_SHARED) && defined(_WIN32)
#  define SUPERVISOR_COMPONENT_EXPORT __declspec(dllexport)
#  define SUPERVISOR_COMPONENT_IMPORT __declspec(dllimport)
#elif defined(SUPERVISOR_SHARED)
#  define SUPERVISOR_COMPONENT_EXPORT __attribute__((visibility("default")))
#  define SUPERVISOR_COMPONENT_IMPORT __attribute__((visibility("default")))
#else
#  define SUPERVISOR_COMPONENT_EXPORT
#  define SUPERVISOR_COMPONENT_IMPORT
#endif

#if defined(SUPERVISOR_HEADER_ONLY)
#  define SUPERVISOR_INLINE inline
#  define SUPERVISOR_LOCAL_BEGIN inline namespace local {
#else
#  define SUPERVISOR_INLINE
#  define SUPERVISOR_LOCAL_BEGIN namespace {
#endif
#define SUPERVISOR_LOCAL_END }
