// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The subscribers of an event stream (a pool's, a group's), copy-on-write: an emitter walks the
// set it took with current() while a subscriber it calls may (un)subscribe. Not thread-safe: the
// loop thread's.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace supervisor::detail {

template <class Event>
class SubscriberSet {
 public:
  using Map = std::map<std::uint64_t, std::function<void(const Event&)>>;

  std::uint64_t add(std::function<void(const Event&)> fn) {
    const std::uint64_t id = ++next_;
    auto next = std::make_shared<Map>(*map_);
    next->emplace(id, std::move(fn));
    map_ = std::move(next);
    return id;
  }
  void remove(std::uint64_t id) {
    auto next = std::make_shared<Map>(*map_);
    next->erase(id);
    map_ = std::move(next);
  }
  // Lets go of every subscriber (an emitter walking an older set still calls its own).
  void clear() { map_ = std::make_shared<const Map>(); }
  // The set now, unchanged by later add/remove: walk this one.
  [[nodiscard]] std::shared_ptr<const Map> current() const { return map_; }

 private:
  std::shared_ptr<const Map> map_ = std::make_shared<const Map>();
  std::uint64_t next_ = 0;
};

}  // namespace supervisor::detail
