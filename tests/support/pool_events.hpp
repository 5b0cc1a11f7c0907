// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The events of one kind in a pool's history, oldest first, and a count of the workers up (for
// tests).

#include <supervisor/pool.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
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

// How many of a pool's workers are up (ready or leased), counted from its transitions on the
// loop thread, so that no dip is missed between two snapshots; and the fewest since `watch()`.
// Subscribe before the pool starts; the pool must outlive it.
class UpCounter {
 public:
  explicit UpCounter(Pool& pool) : pool_(pool) {
    id_ = pool_.subscribe([this](const PoolEvent& ev) {
      const auto* t = std::get_if<WorkerTransition>(&ev.data);
      if (t == nullptr || is_up(t->from) == is_up(t->to)) return;
      std::lock_guard lock(mu_);
      up_ += is_up(t->to) ? 1 : -1;
      if (watching_) fewest_ = std::min(fewest_, up_);
    });
  }
  ~UpCounter() { pool_.unsubscribe(id_); }
  UpCounter(const UpCounter&) = delete;
  UpCounter& operator=(const UpCounter&) = delete;

  // Starts tracking the fewest from now; returns how many are up now.
  int watch() {
    std::lock_guard lock(mu_);
    watching_ = true;
    fewest_ = up_;
    return up_;
  }
  [[nodiscard]] int fewest() const {
    std::lock_guard lock(mu_);
    return fewest_;
  }

 private:
  static bool is_up(WorkerState s) { return s == WorkerState::ready || s == WorkerState::leased; }

  Pool& pool_;
  std::uint64_t id_ = 0;
  mutable std::mutex mu_;
  int up_ = 0;
  int fewest_ = 0;
  bool watching_ = false;
};

}  // namespace supervisor::testing
