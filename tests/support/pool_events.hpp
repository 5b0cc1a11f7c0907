// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The events of one kind in a pool's history, oldest first (for tests).

#include <supervisor/pool.hpp>

#include <variant>
#include <vector>

namespace supervisor::testing {

template <class T>
std::vector<T> events_of(const Pool& pool) {
  std::vector<T> out;
  for (const auto& e : pool.history()) {
    if (const T* v = std::get_if<T>(&e.data)) out.push_back(*v);
  }
  return out;
}

}  // namespace supervisor::testing
