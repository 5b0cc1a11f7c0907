// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// A pool for a testing::FakeWorld: `size` workers of a program never executed, restarted after
// a fixed 100 ms.

#include <chrono>
#include <cstddef>
#include <memory>

#include <supervisor/pool.hpp>

namespace supervisor::testing {

inline PoolOptions fake_pool(std::size_t size) {
  using namespace std::chrono_literals;
  PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = size;
  StandardRestartOptions r;
  r.backoff = BackoffOptions::fixed(100ms);
  o.restart_policy = std::make_shared<StandardRestartPolicy>(r);
  return o;
}

}  // namespace supervisor::testing
