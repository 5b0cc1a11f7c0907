// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// One include for the tests, whichever Catch2 is installed: v3 (split headers, SKIP) or v2.13
// (Debian 12's single header). The build links Catch2WithMain for v3 and compiles catch_main.cpp
// for v2.

#if __has_include(<catch2/catch_test_macros.hpp>)
#  include <catch2/catch_approx.hpp>
#  include <catch2/catch_test_macros.hpp>
#  include <catch2/matchers/catch_matchers_string.hpp>
#  define SUPERVISOR_CATCH3 1
using Catch::Approx;  // v2 spells it without the namespace
#else
#  include <catch2/catch.hpp>
#  define SUPERVISOR_CATCH3 0
#endif

#include <cstdio>
#include <string_view>

inline void supervisor_print_skip(std::string_view reason) {
  std::printf("SUPERVISOR-SKIP: %.*s\n", static_cast<int>(reason.size()), reason.data());
  std::fflush(stdout);
}

// A test that cannot run here (a capability the machine lacks) must say so and be reported as
// skipped, never as passed. The marker line is matched by CTest's SKIP_REGULAR_EXPRESSION; under
// Catch2 v3 SKIP() also makes the run exit with the skip code.
#if SUPERVISOR_CATCH3
#  define SUPERVISOR_SKIP(reason)    \
    do {                             \
      supervisor_print_skip(reason); \
      SKIP(reason);                  \
    } while (false)
#else
#  define SUPERVISOR_SKIP(reason)    \
    do {                             \
      supervisor_print_skip(reason); \
      WARN("SKIPPED: " << (reason)); \
      return;                        \
    } while (false)
#endif
