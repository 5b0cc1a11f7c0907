// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Graceful replacement (a new worker that `replaces` an old one starts first; the old one is
// retired once the new one is ready, or kept if it never is) and rolling restarts (a few
// replacements, or in-place restarts, at a time), which also move workers onto a new revision of
// the spec for Pool::update (pool_core_update.cpp).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include <supervisor/pool.hpp>

#include "part.hpp"
#include "pool_host.hpp"

namespace supervisor::detail {

class Rollouts {
 public:
  // What rollouts ask of the pool's core, besides PartCore's (same contract; e.g. a spawn that
  // fails at once aborts its replacement, a new slot comes back through add_slot, and retiring
  // a replacement aborts it).
  class Core : public PartCore {
   public:
    // A slot for a new worker, not started yet (a new one at the end, or a reclaimed one); its
    // index.
    virtual std::size_t add_slot() = 0;
    // Starts the slot's next incarnation (a failure goes through the restart policy).
    virtual void spawn(std::size_t worker) = 0;
    // Takes the slot out of the pool (after its lease, if leased), unless it is on its way out.
    virtual void retire_worker(std::size_t worker) = 0;
    // Stops the worker as planned (after its lease) and starts it again at once.
    virtual void recycle(std::size_t worker, std::string why) = 0;
    // The revision of the spec the slot's process runs (or its next one will), and a change of
    // it for the slot's next process (a failed worker is started again on it at once).
    [[nodiscard]] virtual std::uint64_t revision(std::size_t worker) const = 0;
    virtual void adopt(std::size_t worker, std::uint64_t revision) = 0;
    // Pool::update's figures now (events and snapshots).
    [[nodiscard]] virtual RolloutStatus rollout_status() const = 0;

   protected:
    ~Core() = default;
  };

  Rollouts(Core& core, const CoreAnchor& anchor, PoolHost& host)
      : core_(core), anchor_(anchor), host_(host) {}

  // A worker starts in slot `worker` (a new one at the end, or a reclaimed one): fresh state.
  void add_slot(std::size_t worker) {
    if (worker >= slots_.size()) slots_.resize(worker + 1);
    slots_[worker] = SlotRollout{};
  }
  // Nothing here refers to the slot: no replacement pairs it, no deadline or callback waits on
  // it, and the rollout under way does not list it (its slot may be reclaimed).
  [[nodiscard]] bool idle(std::size_t worker) const;
  // The slot is a replacement that is not ready yet.
  [[nodiscard]] bool replacing(std::size_t worker) const {
    return slots_[worker].replaces.has_value();
  }
  // The slot replaces another, or is being replaced.
  [[nodiscard]] bool involved(std::size_t worker) const {
    return slots_[worker].replaces || slots_[worker].replaced_by;
  }

  // `done` (may be empty) hears the outcome; the caller has made it safe to call.
  void start_replacement(std::size_t old_index, Duration ready_timeout, bool rollout_member,
                         std::function<void(bool, std::error_code)> done);
  // `revision` (Pool::update): roll the workers not on it onto it, each counted once ready for
  // `min_ready`; 0: restart every worker on the revision it has.
  void start_rollout(const RollingRestart& o,
                     std::function<void(RolloutResult, std::error_code)> done,
                     std::uint64_t revision = 0, Duration min_ready = {});
  [[nodiscard]] bool rollout_running() const { return rollout_.has_value(); }
  // The worker became ready: a replacement is finished, an in-place restart done.
  void on_ready(std::size_t worker);
  // The replacement is given up (it died, timed out, or was retired); the old worker stays.
  void abort(std::size_t worker, std::string why);
  // The slot retires: its ready deadline no longer matters.
  void cancel_deadline(std::size_t worker);

 private:
  // Per slot.
  struct SlotRollout {
    // Graceful replacement: a new slot (`replaces` set) starts while the old (`replaced_by`)
    // serves.
    std::optional<std::size_t> replaces;
    std::optional<std::size_t> replaced_by;
    std::uint64_t deadline_timer = 0;                 // the new one's ready deadline
    std::function<void(bool, std::error_code)> done;  // on the new slot
    bool rollout_member = false;       // its replacement (or in-place restart) is the rollout's
    bool restarting_in_place = false;  // rollout: stopped to start again; done once ready
    std::uint64_t settle_timer = 0;    // ready; counts once it stays so for min_ready
  };
  struct Rollout {
    RollingRestart options;
    std::deque<std::size_t> todo;
    std::size_t surging = 0;     // graceful replacements in flight
    std::size_t restarting = 0;  // in-place restarts in flight
    RolloutResult result;
    std::function<void(RolloutResult, std::error_code)> done;
    std::uint64_t revision = 0;  // Pool::update's target (0: a rolling restart)
    Duration min_ready{};
  };

  std::size_t unpair(std::size_t fresh);
  void conclude(std::size_t fresh, std::size_t old_index, bool ok, const std::string& why);
  void finish_replacement(std::size_t fresh);
  void pump();
  void step(bool surge, bool ok, std::string why, std::size_t worker = 0);
  void restart_in_place(std::size_t worker, Duration ready_timeout);
  void settled(std::size_t worker);
  [[nodiscard]] bool outside_pairs() const;
  void cancel_settle(std::size_t worker);

  Core& core_;                // fixed at construction
  const CoreAnchor& anchor_;  // fixed at construction
  PoolHost& host_;            // fixed at construction: the core's
  // A deque: growing never moves an entry, so a reference held up the stack stays valid.
  std::deque<SlotRollout> slots_;   // (loop) by worker index
  std::optional<Rollout> rollout_;  // (loop) the one under way
};

}  // namespace supervisor::detail
