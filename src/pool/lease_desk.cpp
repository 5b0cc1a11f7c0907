// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "lease_desk.hpp"

#include <utility>

namespace supervisor::detail {

SUPERVISOR_INLINE void report_lease(CircuitBreaker& breaker, LeaseOutcome outcome, Duration elapsed,
                                    TimePoint t) {
  switch (outcome) {
    case LeaseOutcome::failure:
    case LeaseOutcome::broken: breaker.on_failure(elapsed, t); return;
    case LeaseOutcome::slow: breaker.on_slow(elapsed, t); return;
    case LeaseOutcome::success: breaker.on_success(elapsed, t); return;
  }
}

SUPERVISOR_INLINE bool LeaseDesk::take(TimePoint t, Worker& out) {
  std::lock_guard lock(desk_mu_);
  if (!open_ || free_.empty()) return false;
  if (breaker_) {
    bool permitted = true;
    try {
      permitted = breaker_->try_acquire(t);
    } catch (...) {
      permitted = true;  // counted as an error on the loop's next use of the breaker
    }
    if (!permitted) return false;  // the loop answers circuit_open
  }
  out = free_.front();
  free_at_.erase(out.index);
  free_.pop_front();
  taken_.emplace(out.index, out);
  ++leases_;
  ++leases_by_worker_[out.index];
  wait_.observe(0.0);
  return true;
}

SUPERVISOR_INLINE LeaseDesk::Return LeaseDesk::give_back(std::size_t worker,
                                                         std::uint64_t incarnation,
                                                         LeaseOutcome outcome, TimePoint acquired,
                                                         TimePoint t) {
  std::unique_lock lock(desk_mu_);
  auto it = taken_.find(worker);
  if (it == taken_.end() || it->second.incarnation != incarnation) return Return::not_lent;
  const Worker w = it->second;
  taken_.erase(it);
  duration_.observe(std::chrono::duration<double>(t - acquired).count());
  // A broken worker goes back to the loop, which replaces it.
  const bool back_on_desk = open_ && outcome != LeaseOutcome::broken;
  if (back_on_desk) free_at_[w.index] = free_.insert(free_.end(), w);
  lock.unlock();
  if (breaker_) {
    try {
      report_lease(*breaker_, outcome, t - acquired, t);
    } catch (...) {
    }
  }
  return back_on_desk ? Return::on_desk : Return::closed;
}

SUPERVISOR_INLINE bool LeaseDesk::none_lent() {
  std::lock_guard lock(desk_mu_);
  return taken_.empty();
}

SUPERVISOR_INLINE LeaseDesk::Figures LeaseDesk::figures() {
  Figures f;
  std::lock_guard lock(desk_mu_);
  for (const auto& [index, w] : taken_) f.lent.emplace(index, w.incarnation);
  f.leases_by_worker = leases_by_worker_;
  f.leases = leases_;
  f.wait = wait_;
  f.duration = duration_;
  return f;
}

SUPERVISOR_INLINE void LeaseDesk::Figures::describe(bool on_desk, WorkerSnapshot& w) const {
  if (auto c = leases_by_worker.find(w.index); c != leases_by_worker.end()) w.leases += c->second;
  if (auto l = lent.find(w.index);
      l != lent.end() && on_desk && l->second == w.incarnation && w.state == WorkerState::ready) {
    w.state = WorkerState::leased;
  }
}

SUPERVISOR_INLINE void LeaseDesk::add_slot(std::size_t index) {
  if (index >= on_desk_.size()) on_desk_.resize(index + 1, false);
  on_desk_[index] = false;
  std::lock_guard lock(desk_mu_);
  leases_by_worker_.erase(index);
}

SUPERVISOR_INLINE void LeaseDesk::put(const Worker& w) {
  std::lock_guard lock(desk_mu_);
  if (!open_) return;
  free_at_[w.index] = free_.insert(free_.end(), w);
  on_desk_[w.index] = true;
}

SUPERVISOR_INLINE bool LeaseDesk::withdraw(std::size_t index) {
  if (!on_desk_[index]) return false;
  on_desk_[index] = false;
  std::lock_guard lock(desk_mu_);
  if (auto it = free_at_.find(index); it != free_at_.end()) {
    free_.erase(it->second);
    free_at_.erase(it);
    return false;
  }
  return taken_.erase(index) > 0;
}

SUPERVISOR_INLINE void LeaseDesk::close() {
  if (!enabled_) return;
  std::lock_guard lock(desk_mu_);
  open_ = false;
  for (const auto& w : free_) on_desk_[w.index] = false;
  free_.clear();
  free_at_.clear();
}

SUPERVISOR_INLINE bool LeaseDesk::open() {
  std::lock_guard lock(desk_mu_);
  return !std::exchange(open_, true);
}

SUPERVISOR_INLINE bool LeaseDesk::lent(std::size_t index, std::uint64_t incarnation) {
  if (!on_desk_[index]) return false;
  std::lock_guard lock(desk_mu_);
  auto it = taken_.find(index);
  return it != taken_.end() && it->second.incarnation == incarnation;
}

}  // namespace supervisor::detail
