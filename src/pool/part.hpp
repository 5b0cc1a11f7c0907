// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the parts of a pool (health runner, rollouts, limit watch) share: the core they live in,
// and the rule that user code never unwinds through the pool.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <supervisor/pool.hpp>
#include <supervisor/worker_state.hpp>

namespace supervisor::detail {

class PoolCore;

// What every part may ask of the pool's core; each part's own `Core` adds what it may do.
// Loop thread only, both ways: the core calls a part from the loop, and the part calls back from
// there. A call acts at once, inside the caller's turn: it may emit events, whose subscribers may
// act on the pool, so it may come back into the part that made it (become_ready asks the health
// runner clear_to_serve again; a spawn that fails at once aborts its replacement). A part makes
// each call with its own state settled, and looks again at what it needs afterwards. Its timers
// and posted answers come later, each from a turn of the loop of its own, holding the core.
class PartCore {
 public:
  virtual void emit(PoolEventData data) = 0;
  // Counts the exception being handled and hands it to the error handler (never throws).
  virtual void report_error(std::string_view where) noexcept = 0;
  [[nodiscard]] virtual bool stopping() const = 0;
  [[nodiscard]] virtual bool running() const = 0;
  [[nodiscard]] virtual std::size_t slot_count() const = 0;
  [[nodiscard]] virtual std::uint64_t incarnation(std::size_t worker) const = 0;
  [[nodiscard]] virtual WorkerState state(std::size_t worker) const = 0;
  // Running or starting, and neither retiring nor part of a replacement.
  [[nodiscard]] virtual bool replaceable(std::size_t worker) const = 0;

 protected:
  ~PartCore() = default;
};

// Whether a worker in state `s` has a process running (starting to stopping).
[[nodiscard]] constexpr bool process_runs(WorkerState s) noexcept {
  return s == WorkerState::starting || s == WorkerState::ready || s == WorkerState::leased ||
         s == WorkerState::draining || s == WorkerState::stopping;
}

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
