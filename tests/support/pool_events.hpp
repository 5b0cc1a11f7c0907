// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The events of one kind in a pool's history, oldest first (for tests).

#include <supervisor/pool.hpp>

#include <variant>
#include <vector>

namespace supervisor::testing {

template <class T>
std::vector<T> events_of(const std::vector<PoolEvent>& history) {
  std::vector<T> out;
  for (const auto& e : history) {
    if (const T* v = std::get_if<T>(&e.data)) out.push_back(*v);
  }
  return out;
}

template <class T>
std::vector<T> events_of(const Pool& pool) {
  return events_of<T>(pool.history());
}

}  // namespace supervisor::testing
