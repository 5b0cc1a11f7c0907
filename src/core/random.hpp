// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The library's one pseudo-random source (backoff jitter, recycling spread): SplitMix64
// (Steele, Lea, Flood 2014): tiny, fast and fully specified, so a seed gives the same numbers on
// every standard library (std::uniform_int_distribution is implementation-defined).

#include <cstdint>
#include <limits>

namespace supervisor::detail {

inline std::uint64_t next_random(std::uint64_t& state) noexcept {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, bound], without modulo bias (rejection of the incomplete last block).
inline std::uint64_t uniform_random(std::uint64_t& state, std::uint64_t bound) noexcept {
  constexpr std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
  if (bound == top) return next_random(state);
  const std::uint64_t range = bound + 1;
  const std::uint64_t limit = top - top % range;  // a multiple of range
  std::uint64_t x = next_random(state);
  while (x >= limit) x = next_random(state);
  return x % range;
}

}  // namespace supervisor::detail
