// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What every fuzz target shares: the input as a string_view, and SUPERVISOR_FUZZ_CHECK, which stops
// the run with a crash (and so a saved reproducer) when a property of a parser's result does not
// hold. Sanitizer reports (ASan, UBSan) and uncaught exceptions are crashes too.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define SUPERVISOR_FUZZ_CHECK(condition)                                                    \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: SUPERVISOR_FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, \
                   #condition);                                                             \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)

namespace supervisor::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Whether `part` is a piece of `whole` (a view into it, or equal to some substring).
inline bool contains(std::string_view whole, std::string_view part) {
  return whole.find(part) != std::string_view::npos;
}

}  // namespace supervisor::fuzz
