// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the parts of a pool (health runner, rollouts, limit watch) share: the core they live in,
// and the rule that user code never unwinds through the pool.

#include <memory>
#include <string_view>

namespace supervisor::detail {

class PoolCore;

// A part's timers and posted answers hold the core alive through it, exactly as the core's own
// do (the part is a member of the core, so `this` stays valid as long as they hold it).
using CoreAnchor = std::enable_shared_from_this<PoolCore>;

// Runs user code (a strategy, a check, a limiter): whatever it throws goes to
// `reporter.report_error(where)`, and the caller's bookkeeping goes on as if it had returned.
template <class Reporter, class F>
void guarded(Reporter& reporter, std::string_view where, F&& f) {
  try {
    f();
  } catch (...) {
    reporter.report_error(where);
  }
}

}  // namespace supervisor::detail
