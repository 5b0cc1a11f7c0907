// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The pool's core, its control part: lease deadlines, what the host asks of one worker (signal,
// kill, restart, revive), failed workers retried after a cool-down, the pool's health, and
// recycling's spread (jitter, graceful replacement).
#include <algorithm>

#include "../core/duration.hpp"
#include "../core/random.hpp"
#include "../process/fd_limit.hpp"
#include "pool_core.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE bool PoolCore::valid_deadline(const AcquireOptions& o, ErrorSink& err) {
  if (o.deadline >= Duration::zero()) return true;
  err.fail(errc::invalid_argument, [&] {
    return fmt::format("Pool::acquire: AcquireOptions.deadline {} is negative",
                       format_duration(o.deadline));
  });
  return false;
}

// ---- what Pool calls (any thread; run on the loop) ----------------------------------------
SUPERVISOR_INLINE void PoolCore::control(std::size_t worker, WorkerControl what, Signal signal,
                                         ErrorSink& err) {
  auto self = shared_from_this();
  host_->run_sync([&] {
    static constexpr const char* names[] = {"signal_worker", "kill_worker", "restart_worker",
                                            "revive"};
    const char* name = names[static_cast<int>(what)];
    if (!check_control(worker, name, err)) return;
    Slot& slot = slots_[worker];
    const WorkerState state = slot.sm.state();
    const bool has_process = slot.worker && process_runs(state);
    if ((what == WorkerControl::signal || what == WorkerControl::kill) && !has_process) {
      err.fail(errc::not_running, [&] {
        return fmt::format("Pool::{}: worker {} has no process now (state {})", name, worker,
                           to_string(state));
      });
      return;
    }
    switch (what) {
      case WorkerControl::signal: {
        ErrorSink os{{}, {}, err.keep_context};
        slot.worker->signal(signal, os);
        if (os) {
          err.fail(os.code, [&] {
            return fmt::format("Pool::{}: worker {}: {}", name, worker, os.context);
          });
        }
        return;
      }
      case WorkerControl::kill: restart_now(slot, "kill_worker", true); return;
      case WorkerControl::restart: restart_now(slot, "restart_worker", false); return;
      case WorkerControl::revive:
        if (state != WorkerState::failed) {
          err.fail(errc::invalid_argument, [&] {
            return fmt::format("Pool::revive: worker {} is not failed (state {})", worker,
                               to_string(state));
          });
          return;
        }
        revive(slot, "revive");
        return;
    }
  });
}

SUPERVISOR_INLINE std::size_t PoolCore::revive_all(ErrorSink& err) {
  auto self = shared_from_this();
  return host_->run_sync([&]() -> std::size_t {
    if (!check_control(std::nullopt, "revive", err)) return 0;
    std::size_t n = 0;
    for (auto& s : slots_) {
      if (s.sm.state() != WorkerState::failed || s.retiring) continue;
      revive(s, "revive");
      ++n;
    }
    return n;
  });
}

// The pool takes calls on `worker` (none: on all of its workers).
SUPERVISOR_INLINE bool PoolCore::check_control(std::optional<std::size_t> worker, const char* what,
                                               ErrorSink& err) {
  if (stopping_ || !running_) {
    err.fail(stopping_ ? errc::stopped : errc::not_running, [&] {
      return fmt::format("Pool::{}: the pool is {}", what, stopping_ ? "stopped" : "not started");
    });
    return false;
  }
  if (!worker) return true;
  const std::size_t i = *worker;
  if (i >= slots_.size() || slots_[i].retiring || slots_[i].sm.state() == WorkerState::retired) {
    err.fail(errc::unknown_worker, [&] {
      return fmt::format("Pool::{}: no worker {} ({})", what, i,
                         i >= slots_.size() ? "the pool never had it" : "it is retired");
    });
    return false;
  }
  return true;
}

// ---- the open-file limit (loop thread) ----------------------------------------------------
SUPERVISOR_LOCAL_BEGIN
// Room left above the fds counted: the loop's own, a spawn's transient ones (its pipes' child
// ends, the report pipe, the child's copies), probes and logs opened later.
SUPERVISOR_INLINE constexpr std::uint64_t k_fd_margin = 64;
SUPERVISOR_LOCAL_END

// Whether `adding` more live workers fit under RLIMIT_NOFILE with what is open now; else, with
// PoolOptions::raise_fd_limit, the soft limit is raised to what is needed. `what` names the
// call in the message ("Pool::start").
SUPERVISOR_INLINE bool PoolCore::fds_fit(std::size_t adding, const char* what, ErrorSink& err) {
  if (adding == 0) return true;
  const bool in_group = !options_.group_resources.empty() || options_.group.valid();
  std::vector<std::string_view> per =
      host_->worker_fds(options_.spec, options_.containment, in_group);
  if (per.empty()) return true;  // a host without the limit
  if (uses_notify()) per.emplace_back("notify socket");
  const FdLimits limits = read_fd_limits();
  if (!limits.known) return true;
  const std::uint64_t in_use = count_open_fds();
  const std::uint64_t workers_need = std::uint64_t{adding} * per.size();
  const std::uint64_t needed = workers_need + in_use + k_fd_margin;
  if (needed <= limits.soft) return true;
  const bool hard_short = needed > limits.hard;
  if (options_.raise_fd_limit && !hard_short) {
    ErrorSink raised{{}, {}, err.keep_context};
    raise_fd_limit(needed, raised);
    if (!raised) return true;
    err.fail(raised.code, [&] { return fmt::format("{}: {}", what, raised.context); });
    return false;
  }
  err.fail(errc::fd_limit, [&] {
    std::string names;
    for (const std::string_view name : per)
      names += (names.empty() ? "" : ", ") + std::string(name);
    std::string text = fmt::format(
        "{}: the open-file limit is too low: {} {}workers need about {} open files ({} per worker: "
        "{}) and {} are in use, but {}",
        what, adding, running_ ? "more " : "", workers_need, per.size(), names, in_use,
        fd_limits_text(limits));
    if (!hard_short) {
      text += fmt::format(
          ": raise the soft limit (ulimit -n {}), or set PoolOptions::raise_fd_limit", needed);
    } else {
      text += fmt::format(
          ", and the hard limit is too low too: raise it to at least {} (as root: LimitNOFILE= in "
          "a systemd unit, or /etc/security/limits.conf){}",
          needed, options_.raise_fd_limit ? "" : ", then the soft limit");
    }
    return text;
  });
  return false;
}

// Live workers that hold a process now (their fds are open already).
SUPERVISOR_INLINE std::size_t PoolCore::workers_with_process() const {
  std::size_t n = 0;
  for (const auto& s : slots_) {
    if (s.worker && !s.retiring && s.sm.state() != WorkerState::retired) ++n;
  }
  return n;
}

// ---- lease deadlines (loop thread) --------------------------------------------------------
SUPERVISOR_INLINE void PoolCore::arm_lease_deadline(Slot& slot, Duration deadline,
                                                    const std::shared_ptr<LeaseTicket>& t) {
  slot.lease_ticket = t;
  slot.leased_at = now();
  auto self = shared_from_this();
  const std::size_t index = slot.index;
  slot.lease_timer = host_->add_timer(deadline, [self, index, t] {
    Slot& s = self->slots_[index];
    if (s.lease_ticket != t) return;  // that lease ended (end_lease_deadline cancels: a race)
    s.lease_timer = 0;
    self->expire_lease(s);
  });
}

SUPERVISOR_INLINE void PoolCore::end_lease_deadline(Slot& slot) {
  if (slot.lease_timer) host_->cancel_timer(slot.lease_timer);
  slot.lease_timer = 0;
  slot.lease_ticket.reset();
}

// The lease is over its deadline: a failed lease, and its worker (stuck on the job, most
// likely) is stopped and started again. The holder's release then reports nothing more.
SUPERVISOR_INLINE void PoolCore::expire_lease(Slot& slot) {
  const std::shared_ptr<LeaseTicket> ticket = std::move(slot.lease_ticket);
  slot.lease_ticket.reset();
  ticket->expired.store(true, std::memory_order_release);
  const Duration held = now() - slot.leased_at;
  ++metrics_.lease_expirations;
  if (options_.lease_breaker) {
    guarded("lease_breaker",
            [&] { report_lease(*options_.lease_breaker, LeaseOutcome::failure, held, now()); });
  }
  health_.score_lease(slot.index, LeaseOutcome::failure);
  emit(LeaseExpired{slot.index, slot.sm.incarnation(), held});
  // A subscriber may have acted on the worker meanwhile: restart_now looks at it as it is.
  restart_now(slot,
              "lease deadline passed after " +
                  format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(held)),
              false);
}

// ---- one worker, started again at once (loop thread) ----------------------------------------
// A running worker is stopped (`kill`: its tree killed at once; else its StopPlan) and started
// again as soon as it is gone, as a recycled one is: the restart policy is not asked. One with
// no process starts now (a failed one revived). A retiring worker only stops.
SUPERVISOR_INLINE void PoolCore::restart_now(Slot& slot, std::string why, bool kill) {
  withdraw(slot);
  switch (slot.sm.state()) {
    case WorkerState::starting:
    case WorkerState::ready:
    case WorkerState::leased:
    case WorkerState::draining:
      if (!slot.retiring) slot.recycling = true;
      move_to(slot, WorkerState::stopping, std::move(why));
      break;
    case WorkerState::stopping:
      if (!kill && !slot.retiring) slot.recycling = true;
      break;
    case WorkerState::exited:  // between an exit and its decision: never seen by a host call
    case WorkerState::backoff:
    case WorkerState::failed: revive(slot, std::move(why)); return;
    case WorkerState::retired: return;
  }
  if (!slot.worker) return;
  if (kill) {
    slot.worker->request_kill();
  } else {
    slot.worker->request_stop();
  }
}

// Starts a worker with no process now, its restart policy's memory of it gone (budget and
// backoff start again).
SUPERVISOR_INLINE void PoolCore::revive(Slot& slot, std::string why) {
  if (slot.timer) host_->cancel_timer(slot.timer);
  slot.timer = 0;
  guarded("restart_policy.forget", [&] { options_.restart_policy->forget(slot.index); });
  spawn(slot, nullptr, {}, why.c_str());
}

// The restart policy gave up on the worker: with failed_retry_after, it is revived after that.
SUPERVISOR_INLINE void PoolCore::on_failed(Slot& slot) {
  if (options_.failed_retry_after <= Duration::zero() || slot.sm.state() != WorkerState::failed)
    return;
  auto self = shared_from_this();
  const std::size_t index = slot.index;
  const std::uint64_t incarnation = slot.sm.incarnation();
  slot.timer = host_->add_timer(options_.failed_retry_after, [self, index, incarnation] {
    Slot& s = self->slots_[index];
    if (s.sm.incarnation() != incarnation || s.sm.state() != WorkerState::failed ||
        self->stopping_ || s.retiring)
      return;
    s.timer = 0;
    self->revive(s, "failed_retry_after");
  });
}

// ---- the pool's health (loop thread) ------------------------------------------------------
// After the number of workers up (or the size) changed. While the pool starts, only reaching
// `healthy` counts, or a start that failed (the pool may then be down for good): workers still
// starting are not an outage. Kept always (snapshots show it); reported with degraded_below.
SUPERVISOR_INLINE void PoolCore::update_health(bool start_failed) {
  if (!running_ || stopping_) return;
  // Written only here on the loop (move_to), so the loop reads it without `mu_`.
  const std::size_t up = ready_or_leased_;
  // The size only when it matters (not on every restart's path).
  const std::size_t threshold =
      options_.degraded_below > 0 ? std::min(options_.degraded_below, live_slots()) : 0;
  const PoolHealth to = up == 0          ? PoolHealth::down
                        : up < threshold ? PoolHealth::degraded
                                         : PoolHealth::healthy;
  if (to == pool_health_ ||
      (pool_health_ == PoolHealth::starting && to != PoolHealth::healthy && !start_failed))
    return;
  const PoolHealth from = pool_health_;
  pool_health_ = to;
  // Events only when asked for: a pool of one worker would send two on every restart.
  if (options_.degraded_below > 0) emit(PoolHealthChanged{from, to, up, live_slots()});
}

// ---- recycling's spread (loop thread) -----------------------------------------------------
// This incarnation's runtime: max_runtime, less a random part of up to max_runtime_jitter.
SUPERVISOR_INLINE Duration PoolCore::recycle_after() {
  const RecycleOptions& r = options_.recycle;
  if (r.max_runtime_jitter <= Duration::zero()) return r.max_runtime;
  const auto off =
      uniform_random(recycle_random_, static_cast<std::uint64_t>(r.max_runtime_jitter.count()));
  return r.max_runtime - Duration(static_cast<Duration::rep>(off));
}

SUPERVISOR_INLINE void PoolCore::arm_recycle(Slot& slot, Duration after) {
  auto self = shared_from_this();
  const std::size_t index = slot.index;
  const std::uint64_t incarnation = slot.sm.incarnation();
  slot.recycle_timer = host_->add_timer(after, [self, index, incarnation] {
    Slot& s = self->slots_[index];
    s.recycle_timer = 0;
    if (s.sm.incarnation() != incarnation) return;
    if (self->options_.recycle.graceful) {
      self->recycle_gracefully(index, incarnation);
    } else {
      self->recycle(s, "reached its maximum runtime");
    }
  });
}

// Replacement first, as Pool::replace: the old worker serves until the new one is ready. When
// it cannot be replaced now, or its replacement fails, it is tried again after the timeout.
SUPERVISOR_INLINE void PoolCore::recycle_gracefully(std::size_t index, std::uint64_t incarnation) {
  Slot& slot = slots_[index];
  if (stopping_ || slot.retiring || slot.recycling) return;
  const Duration retry = options_.recycle.graceful_ready_timeout;
  if (!replaceable(slot)) {
    arm_recycle(slot, retry);
    return;
  }
  emit(WorkerRecycled{index, "reached its maximum runtime (graceful)"});
  auto self = shared_from_this();
  rollouts_.start_replacement(
      index, retry, false, [self, index, incarnation, retry](bool replaced, std::error_code) {
        Slot& s = self->slots_[index];
        if (replaced || self->stopping_ || s.retiring || s.sm.incarnation() != incarnation ||
            s.recycle_timer != 0 || !self->replaceable(s))
          return;
        self->arm_recycle(s, retry);
      });
}

}  // namespace supervisor::detail
