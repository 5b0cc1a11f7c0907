// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Timers ordered by deadline, cancellable by id: the loop's and the fake world's. One thread.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
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
    auto [lo, hi] = order_.equal_range(it->second.first);
    for (auto o = lo; o != hi; ++o) {
      if (o->second == id) {
        order_.erase(o);
        break;
      }
    }
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
  std::multimap<TimePoint, std::uint64_t> order_;
  std::unordered_map<std::uint64_t, std::pair<TimePoint, std::function<void()>>> timers_;
};

}  // namespace supervisor::detail
