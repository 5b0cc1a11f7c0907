// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The pool options the integration tests start from: `size` workers of the helper child
// (SUPERVISOR_TEST_CHILD) in mode `args`, tagged `tag` for the leak audit, output dropped, a 2 s
// SIGTERM stop, and restarts after a fixed 10 ms.

#include <supervisor/pool.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace supervisor::testing {

inline PoolOptions pool_for(const std::string& tag, std::vector<std::string> args,
                            std::size_t size) {
  using namespace std::chrono_literals;
  PoolOptions o;
  o.spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag};
  o.spec.argv.insert(o.spec.argv.end(), args.begin(), args.end());
  o.spec.out = StdioSpec::null();
  o.spec.stop.steps = {StopStep{Signal::terminate, 2s, true}};
  o.size = size;
  StandardRestartOptions r;
  r.backoff = BackoffOptions::fixed(10ms);
  o.restart_policy = std::make_shared<StandardRestartPolicy>(r);
  return o;
}

}  // namespace supervisor::testing
