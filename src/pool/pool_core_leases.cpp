// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "pool_core.hpp"

#include <algorithm>

#include "../core/duration.hpp"

namespace supervisor::detail {

// ---- what Pool and Lease call (any thread) -------------------------------------------------
SUPERVISOR_INLINE Lease PoolCore::acquire(const AcquireOptions& o, ErrorSink& err) {
  auto self = shared_from_this();
  if (!valid_deadline(o, err)) return {};
  const Duration timeout = o.timeout;
  const Duration deadline = o.deadline;
  // A deadline needs the loop's timer: such a lease never comes from the desk.
  if (Lease fast; deadline == Duration::zero() && desk_acquire(fast)) return fast;
  if (host_->in_loop()) {
    Lease out;
    if (timeout > Duration::zero()) {
      err.fail(std::make_error_code(std::errc::resource_deadlock_would_occur), [] {
        return std::string(
            "Pool::acquire: a blocking acquire on the loop thread would deadlock; use timeout 0");
      });
      return out;
    }
    enqueue(Duration::zero(), deadline, [&](Lease l, std::error_code ec, std::string msg) {
      out = std::move(l);
      if (ec) err.fail(ec, [&] { return msg; });
    });
    return out;
  }
  struct Result {
    Lease lease;
    std::error_code ec;
    std::string msg;
  };
  auto promise = std::make_shared<std::promise<Result>>();
  auto future = promise->get_future();
  host_->post([self, timeout, deadline, promise] {
    self->enqueue(timeout, deadline, [promise](Lease l, std::error_code ec, std::string msg) {
      promise->set_value(Result{std::move(l), ec, std::move(msg)});
    });
  });
  Result r = future.get();
  if (r.ec) err.fail(r.ec, [&] { return r.msg; });
  return std::move(r.lease);
}

SUPERVISOR_INLINE void PoolCore::acquire_async(const AcquireOptions& o,
                                               std::function<void(Lease, std::error_code)> done) {
  auto self = shared_from_this();
  done = guarded_callback(std::move(done), "acquire_async callback");
  ErrorSink err{{}, {}, false};
  const bool valid = valid_deadline(o, err);
  host_->post([self, o, valid, done = std::move(done)]() mutable {
    if (!valid) {
      done(Lease(), errc::invalid_argument);
      return;
    }
    self->enqueue(o.timeout, o.deadline,
                  [done = std::move(done)](Lease l, std::error_code ec, std::string) {
                    done(std::move(l), ec);
                  });
  });
}

SUPERVISOR_INLINE void PoolCore::release(std::size_t worker, std::uint64_t incarnation,
                                         LeaseOutcome outcome, TimePoint acquired, bool fast,
                                         std::shared_ptr<LeaseTicket> ticket) {
  auto self = shared_from_this();
  if (fast && desk_release(worker, incarnation, outcome, acquired)) return;
  host_->post([self, worker, incarnation, outcome, acquired, ticket = std::move(ticket)] {
    self->on_release(worker, incarnation, outcome, acquired, ticket);
  });
}

// ---- the lease desk, host side (any thread) -----------------------------------------------
SUPERVISOR_INLINE bool PoolCore::desk_acquire(Lease& out) {
  if (!desk_.enabled()) return false;
  const TimePoint t = now();
  LeaseDesk::Worker w;
  if (!desk_.take(t, w)) return false;
  out.core_ = shared_from_this();
  out.worker_ = w.index;
  out.incarnation_ = w.incarnation;
  out.pid_ = w.pid;
  out.acquired_ = t;
  out.fast_ = true;
  attach_channel(out, std::move(w.channel));
  return true;
}

SUPERVISOR_INLINE void PoolCore::attach_channel(Lease& lease, std::shared_ptr<HostEnd> end) {
  if (!end) return;
  // One lease holds the worker at a time, and the last one's release moved the generation on.
  lease.channel_ticket_ = end->generation.load(std::memory_order_acquire);
  lease.channel_ = std::move(end);
}

SUPERVISOR_INLINE bool PoolCore::desk_release(std::size_t worker, std::uint64_t incarnation,
                                              LeaseOutcome outcome, TimePoint acquired) {
  switch (desk_.give_back(worker, incarnation, outcome, acquired, now())) {
    case LeaseDesk::Return::not_lent: return false;
    case LeaseDesk::Return::on_desk: return true;
    case LeaseDesk::Return::closed: break;
  }
  auto self = shared_from_this();
  host_->post(
      [self, worker, incarnation, outcome] { self->desk_returned(worker, incarnation, outcome); });
  return true;
}

// ---- the lease desk, loop side ------------------------------------------------------------
// Puts an idle, serving worker on the desk, if the desk is open and nobody waits in the loop.
SUPERVISOR_INLINE void PoolCore::put_on_desk(Slot& slot) {
  if (!desk_.enabled() || desk_.holds(slot.index) || slot.sm.state() != WorkerState::ready ||
      !health_.serving(slot.index) || !waiters_.empty() || slot.retiring)
    return;
  desk_.put(LeaseDesk::Worker{slot.index, slot.sm.incarnation(), pid_of(slot), channel_of(slot)});
}

// Takes a worker back from the desk before the loop changes its state. One that a host thread
// holds a lease on becomes an ordinary `leased` worker (its release then comes to the loop).
SUPERVISOR_INLINE void PoolCore::withdraw(Slot& slot) {
  if (desk_.withdraw(slot.index) && slot.sm.state() == WorkerState::ready)
    move_to(slot, WorkerState::leased, "leased (fast path), taken back by the loop");
}

// Opens the desk when nothing waits in the loop, and puts every idle worker on it. Only when it
// was closed: while it is open, each worker that becomes idle is put on it there and then (by
// become_ready, offer, a release), so a walk over every slot here, on the path of every worker
// that becomes ready, would make a pool's start and restarts quadratic.
SUPERVISOR_INLINE void PoolCore::open_desk() {
  if (!desk_.enabled() || !waiters_.empty() || !running_ || stopping_ || draining_) return;
  if (!desk_.open()) return;
  for (auto& s : slots_) put_on_desk(s);
}

// A host thread gave back a desk lease while the desk was closed, or `broken`: then the loop
// replaces the worker, even if it took the worker back from the desk meanwhile.
SUPERVISOR_INLINE void PoolCore::desk_returned(std::size_t index, std::uint64_t incarnation,
                                               LeaseOutcome outcome) {
  Slot& slot = slots_[index];
  {
    std::lock_guard lock(mu_);
    cv_.notify_all();  // drain() may be waiting for it
  }
  const bool broken = outcome == LeaseOutcome::broken;
  if (broken) ++metrics_.broken_leases;
  if (slot.sm.incarnation() != incarnation) return;
  if (desk_.holds(index)) {
    desk_.returned(index);
  } else if (!broken) {
    return;
  }
  if (broken) restart_now(slot, "lease released broken", false);
  serve_waiters();
  put_on_desk(slot);  // the desk may have opened again meanwhile (open_desk put nothing then)
}

// ---- the loop's leases: FIFO waiters -------------------------------------------------------
// They stay in the core, not the desk: handing a worker to a waiter moves its state machine, and
// a release through the loop decides recycling and retirement, which are the lifecycle's.
SUPERVISOR_INLINE void PoolCore::enqueue(
    Duration timeout, Duration deadline,
    std::function<void(Lease, std::error_code, std::string)> done) {
  if (draining_ && !stopping_) {
    done(Lease(), errc::stopped, "Pool::acquire: the pool is draining");
    return;
  }
  if (!running_ || stopping_) {
    done(Lease(), stopping_ ? errc::stopped : errc::not_running,
         stopping_ ? "Pool::acquire: the pool is stopping"
                   : "Pool::acquire: the pool is not started");
    return;
  }
  if (options_.lease_breaker) {
    bool permitted = true;
    try {
      permitted = options_.lease_breaker->try_acquire(now());
    } catch (...) {
      report_error("lease_breaker");
    }
    if (!permitted) {
      done(Lease(), errc::circuit_open, "Pool::acquire: the lease circuit breaker is open");
      return;
    }
  }
  Waiter w{++next_waiter_, now(), std::move(done)};
  w.deadline = deadline;
  desk_.close();  // its idle workers are the loop's again, for this and any queued waiter
  if (Slot* s = pick_ready(); s && waiters_.empty()) {
    hand_out(*s, w);
    open_desk();
    return;
  }
  if (timeout <= Duration::zero()) {
    time_out(w);
    open_desk();
    return;
  }
  auto self = shared_from_this();
  const std::uint64_t id = w.id;
  w.timer = host_->add_timer(timeout, [self, id] {
    auto it = std::find_if(self->waiters_.begin(), self->waiters_.end(),
                           [&](const Waiter& x) { return x.id == id; });
    if (it == self->waiters_.end()) return;
    Waiter gone = std::move(*it);
    self->waiters_.erase(it);
    self->time_out(gone);
    self->open_desk();
  });
  waiters_.push_back(std::move(w));
}

SUPERVISOR_INLINE void PoolCore::time_out(Waiter& w) {
  ++metrics_.lease_timeouts;
  if (options_.lease_breaker)
    guarded("lease_breaker", [&] { options_.lease_breaker->release(now()); });
  const Duration waited = now() - w.since;
  longest_wait_ = std::max(longest_wait_, waited);
  emit(LeaseTimedOut{waited});
  w.done(Lease(), errc::lease_timeout,
         "Pool::acquire: no worker became ready within " +
             format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(waited)));
}

// The worker that has been ready longest: spreads work across the pool.
SUPERVISOR_INLINE PoolCore::Slot* PoolCore::pick_ready() {
  Slot* best = nullptr;
  for (auto& s : slots_) {
    if (s.sm.state() == WorkerState::ready && health_.serving(s.index) && !desk_.holds(s.index) &&
        (!best || s.sm.since() < best->sm.since()))
      best = &s;
  }
  return best;
}

SUPERVISOR_INLINE void PoolCore::hand_out(Slot& slot, Waiter& w) {
  if (w.timer) host_->cancel_timer(w.timer);
  move_to(slot, WorkerState::leased, fmt::format("lease {}", w.id));
  ++slot.leases;
  ++slot.incarnation_leases;
  ++metrics_.leases;
  const Duration waited = now() - w.since;
  longest_wait_ = std::max(longest_wait_, waited);
  metrics_.lease_wait.observe(std::chrono::duration<double>(waited).count());
  Lease lease;
  lease.core_ = shared_from_this();
  lease.worker_ = slot.index;
  lease.incarnation_ = slot.sm.incarnation();
  lease.pid_ = pid_of(slot);
  lease.acquired_ = now();
  if (w.deadline > Duration::zero()) {
    lease.ticket_ = std::make_shared<LeaseTicket>();
    arm_lease_deadline(slot, w.deadline, lease.ticket_);
  }
  attach_channel(lease, channel_of(slot));
  w.done(std::move(lease), {}, {});
}

SUPERVISOR_INLINE void PoolCore::serve_waiters() {
  while (!waiters_.empty()) {
    Slot* s = pick_ready();
    if (!s) return;
    Waiter w = std::move(waiters_.front());
    waiters_.pop_front();
    hand_out(*s, w);
  }
  open_desk();
}

SUPERVISOR_INLINE void PoolCore::on_release(std::size_t worker, std::uint64_t incarnation,
                                            LeaseOutcome outcome, TimePoint acquired,
                                            const std::shared_ptr<LeaseTicket>& ticket) {
  if (ticket && ticket->expired.load(std::memory_order_relaxed)) return;  // told at its expiry
  const TimePoint t = now();
  if (outcome == LeaseOutcome::broken) ++metrics_.broken_leases;
  metrics_.lease_duration.observe(std::chrono::duration<double>(t - acquired).count());
  if (options_.lease_breaker) {
    guarded("lease_breaker",
            [&] { report_lease(*options_.lease_breaker, outcome, t - acquired, t); });
  }
  if (worker >= slots_.size()) return;
  Slot& slot = slots_[worker];
  // The worker may have died (or been stopped) during the lease: then there is nothing to give
  // back.
  if (slot.sm.incarnation() == incarnation && slot.sm.state() == WorkerState::draining) {
    move_to(slot, WorkerState::stopping,
            slot.recycling ? "lease finished: recycling" : "lease finished: retiring");
    if (slot.worker) slot.worker->request_stop();
    return;
  }
  if (slot.sm.incarnation() != incarnation || slot.sm.state() != WorkerState::leased) return;
  if (outcome == LeaseOutcome::broken) {
    health_.score_lease(slot.index, outcome);
    restart_now(slot, "lease released broken", false);
    serve_waiters();
    return;
  }
  if (options_.recycle.max_leases > 0 && slot.incarnation_leases >= options_.recycle.max_leases) {
    move_to(slot, WorkerState::ready, "released");
    recycle(slot, fmt::format("served {} leases", slot.incarnation_leases));
    serve_waiters();
    return;
  }
  move_to(slot, WorkerState::ready,
          fmt::format("released ({})", outcome == LeaseOutcome::success   ? "success"
                                       : outcome == LeaseOutcome::failure ? "failure"
                                                                          : "slow"));
  health_.score_lease(slot.index, outcome);
  serve_waiters();
  put_on_desk(slot);
}

}  // namespace supervisor::detail
