// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// `SUPERVISOR_API` marks the symbols the compiled library exports. The library is built with
/// hidden visibility; CMake defines `SUPERVISOR_SHARED` for the library and its users when it is a
/// shared library, and `SUPERVISOR_BUILDING` while compiling the library itself.

#if defined(SUPERVISOR_SHARED)
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
