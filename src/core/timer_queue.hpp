// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Timers ordered by deadline, cancellable by id: the loop's and the fake world's. One thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include <supervisor/clock.hpp>

namespace supervisor::detail {

class TimerQueue {
 public:
  std::uint64_t add(TimePoint at, std::function<void()> fn) {
    const std::uint64_t id = ++next_id_;
    timers_.emplace(id, std::make_pair(at, std::move(fn)));
    order_.emplace(at, id);
    return id;
  }

  void cancel(std::uint64_t id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    order_.erase({it->second.first, id});
    timers_.erase(it);
  }

  [[nodiscard]] std::optional<TimePoint> next_deadline() const {
    if (order_.empty()) return std::nullopt;
    return order_.begin()->first;
  }

  // Removes and returns the earliest timer due at `now`, if any (run it after this returns:
  // it may add or cancel timers).
  std::optional<std::function<void()>> pop_due(TimePoint now) {
    while (!order_.empty() && order_.begin()->first <= now) {
      const std::uint64_t id = order_.begin()->second;
      order_.erase(order_.begin());
      auto it = timers_.find(id);
      if (it == timers_.end()) continue;
      auto fn = std::move(it->second.second);
      timers_.erase(it);
      return fn;
    }
    return std::nullopt;
  }

  void clear() noexcept {
    order_.clear();
    timers_.clear();
  }

 private:
  std::uint64_t next_id_ = 0;
  // By deadline, then id (the order they were added in). Keyed by both, not a multimap of
  // deadlines: a cancel finds its own entry at once, where many timers share one deadline (a
  // ManualClock's, every worker's restart after the same backoff).
  std::set<std::pair<TimePoint, std::uint64_t>> order_;
  std::unordered_map<std::uint64_t, std::pair<TimePoint, std::function<void()>>> timers_;
};

}  // namespace supervisor::detail
