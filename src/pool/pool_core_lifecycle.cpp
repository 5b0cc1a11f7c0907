// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "pool_core.hpp"

#include <algorithm>
#include <utility>

#include "../core/duration.hpp"
#include "../process/exit_classify.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE void PoolCore::move_to(Slot& slot, WorkerState to, std::string cause) {
  withdraw(slot);  // the desk lets go of it first
  const WorkerState from = slot.sm.state();
  std::error_code ec;
  WorkerTransition t = slot.sm.transition(to, std::move(cause), now(), ec);
  if (ec) {
    // A bug in this file, never a reason to crash the host: report it and keep the state.
    ++metrics_.invalid_transitions;
    try {
      throw std::system_error(
          ec, fmt::format("worker {}: {} -> {}", slot.index, to_string(from), to_string(to)));
    } catch (...) {
      report_error("state machine");
    }
    return;
  }
  if (to == WorkerState::retired && from != WorkerState::retired) {
    ++retired_slots_;
    if (slot.retiring) --retiring_slots_;
  }
  // Out of its lease (released, stopped, exited): a deadline no longer applies.
  if (slot.lease_ticket && to != WorkerState::leased && to != WorkerState::draining)
    end_lease_deadline(slot);
  if ((from == WorkerState::leased) != (to == WorkerState::leased)) {
    std::lock_guard lock(mu_);
    if (to == WorkerState::leased) {
      ++leased_;
    } else {
      --leased_;
    }
    cv_.notify_all();
  }
  const bool was_up = from == WorkerState::ready || from == WorkerState::leased;
  const bool is_up = to == WorkerState::ready || to == WorkerState::leased;
  if (was_up != is_up) {
    std::lock_guard lock(mu_);
    if (is_up) {
      ++ready_or_leased_;
    } else {
      --ready_or_leased_;
    }
    cv_.notify_all();
  }
  emit(std::move(t));
  if (was_up != is_up || (from == WorkerState::starting && to == WorkerState::exited))
    update_health(from == WorkerState::starting && to == WorkerState::exited);
}

// Starts the process of incarnation `incarnation` of worker `index` (the slot records it in
// spawn()). Its exit and its notes are matched to that incarnation.
SUPERVISOR_INLINE PoolCore::Launch PoolCore::launch(std::size_t index, std::uint64_t incarnation) {
  Launch l;
  std::weak_ptr<PoolCore> weak = weak_from_this();
  auto on_exit = [weak, index, incarnation](const ExitStatus& st) {
    // The host calls this in a turn of the loop of its own (never from inside a call into the
    // host), so it is handled at once: on the restart path, a turn of the loop is a cost.
    if (auto self = weak.lock()) self->on_exit(index, incarnation, st);
  };
  if (uses_notify()) {
    // The channel exists before the worker does: it may say READY=1 at once. Its name is unique
    // in this process; the host makes it unique on the machine.
    l.notify = host_->open_notify(
        fmt::format("supervisor/{}/{}/{}", reinterpret_cast<std::uintptr_t>(this), index,
                    incarnation),
        [weak, index, incarnation](const NotifyNote& note) {
          if (auto self = weak.lock()) self->on_note(index, incarnation, note);
        },
        l.err);
  }
  std::shared_ptr<const ProcessSpec> spec;
  if (!l.err) spec = worker_spec(index, incarnation, l.notify.get(), l.err);
  if (!l.err && options_.pre_start) run_pre_start(index, incarnation, *spec, l.err);
  if (!l.err) {
    l.worker =
        host_->spawn(std::move(spec), identity_vars(index, incarnation), options_.containment,
                     group_.get(), std::move(on_exit), output_hook(index, incarnation), l.err);
  }
  if (!l.err && !l.worker)
    l.err.fail(errc::internal, [] { return std::string("spawn returned no process"); });
  if (l.err) l.notify.reset();
  return l;
}

// Moves `slot` to its next incarnation and starts it, or takes `launched`: that incarnation's
// process, started ahead by on_exit's fast path.
SUPERVISOR_INLINE void PoolCore::spawn(Slot& slot, ErrorSink* first_start_err,
                                       std::optional<Launch> launched, const char* cause) {
  slot.timer = 0;
  if (slot.sm.state() == WorkerState::retired) {
    // A subscriber stopped the pool (or retired the worker) from an event of the exit that led
    // here: a retired slot never starts again, and a process started ahead for it goes.
    if (launched) discard_launch(slot.index, slot.sm.incarnation() + 1, std::move(*launched));
    check_all_retired();
    return;
  }
  const bool first = slot.sm.incarnation() + 1 == slot.first_incarnation;
  move_to(slot, WorkerState::starting, cause ? cause : first ? "start" : "restart");
  if (!first) ++slot.restarts, ++metrics_.restarts;
  const std::size_t index = slot.index;
  const std::uint64_t incarnation = slot.sm.incarnation();
  Launch l = launched ? std::move(*launched) : launch(index, incarnation);
  if (launched) --launched_ahead_;
  slot.notify = std::move(l.notify);
  ErrorSink& err = l.err;
  std::unique_ptr<WorkerProcess> worker = std::move(l.worker);
  if (err) {
    ++metrics_.spawn_failures;
    run_post_stop(index, incarnation, spawn_failed_status());
    emit(SpawnFailed{slot.index, err.code, err.context});
    if (first_start_err) {
      first_start_err->fail(err.code, [&] { return err.context; });
      move_to(slot, WorkerState::exited, "spawn failed");
      return;
    }
    move_to(slot, WorkerState::exited, "spawn failed: " + err.context);
    if (stopping_ || slot.retiring) {
      // Stopped meanwhile (by a subscriber or a hook): nothing is left to decide.
      retire(slot, stopping_ ? "pool stopped" : "retired");
      return;
    }
    slot.recycling = false;
    decide(slot, spawn_failed_status());
    return;
  }
  fold_output(slot);
  slot.worker = std::move(worker);
  slot.spawned_at = now();
  slot.spawned_wall = host_->wall_now();
  if (slot.sm.state() != WorkerState::starting) {
    // A subscriber of the `starting` transition, or a hook, stopped the pool or the worker
    // while it had no process yet (it is `stopping`): the process it now has is asked to stop,
    // and its exit goes the way the stop meant (retired, or started again when recycling).
    emit(WorkerSpawned{slot.index, incarnation, slot.worker->pid()});
    slot.worker->request_stop();
    return;
  }
  health_.renew_score(index);
  slot.incarnation_leases = 0;
  slot.recycling = false;
  if (options_.recycle.max_runtime > Duration::zero()) arm_recycle(slot, recycle_after());
  emit(WorkerSpawned{slot.index, slot.sm.incarnation(), slot.worker->pid()});
  if (slot.sm.state() != WorkerState::starting || slot.sm.incarnation() != incarnation)
    return;  // a subscriber stopped it (its stop request went to this process): no more to start
  if (!options_.spec.resources.empty()) limits_.report_unenforced(index, *slot.worker);
  guarded("restart_policy.on_started",
          [&] { options_.restart_policy->on_started(slot.index, now()); });
  if (slot.notify) {
    slot.watchdog_fired = false;
    arm_watchdog(slot);
  }
  health_.start(index, incarnation, pid_of(slot), slot.worker->spec(), slot.worker->cgroup(),
                checks_of(slot.revision));
  if (options_.readiness.mode == Readiness::Mode::immediate) {
    become_ready(slot, "ready: started");
  } else if (options_.readiness.mode == Readiness::Mode::notify) {
    const Duration timeout = options_.readiness.delay == Duration::zero()
                                 ? Readiness::default_start_timeout
                                 : options_.readiness.delay;
    if (timeout != Duration::max()) {
      auto self = shared_from_this();
      slot.timer = host_->add_timer(timeout, [self, index, incarnation] {
        Slot& s = self->slots_[index];
        s.timer = 0;
        if (s.sm.incarnation() == incarnation && s.sm.state() == WorkerState::starting) {
          s.watchdog_fired = false;
          if (s.worker) s.worker->request_kill();  // no READY=1 in time: a failed start
        }
      });
    }
  } else {
    auto self = shared_from_this();
    slot.timer = host_->add_timer(options_.readiness.delay, [self, index, incarnation] {
      Slot& s = self->slots_[index];
      s.timer = 0;
      if (s.sm.incarnation() == incarnation && s.sm.state() == WorkerState::starting)
        self->become_ready(s, "ready: alive for the readiness delay");
    });
  }
}

SUPERVISOR_INLINE bool PoolCore::uses_notify() const {
  return options_.readiness.mode == Readiness::Mode::notify || options_.watchdog > Duration::zero();
}

SUPERVISOR_INLINE void PoolCore::arm_watchdog(Slot& slot) {
  if (options_.watchdog <= Duration::zero()) return;
  if (slot.watchdog_timer) host_->cancel_timer(slot.watchdog_timer);
  auto self = shared_from_this();
  const std::size_t index = slot.index;
  const std::uint64_t incarnation = slot.sm.incarnation();
  slot.watchdog_timer = host_->add_timer(options_.watchdog, [self, index, incarnation] {
    Slot& s = self->slots_[index];
    s.watchdog_timer = 0;
    if (s.sm.incarnation() != incarnation || !s.notify) return;
    s.watchdog_fired = true;  // its exit will be reported as `watchdog`
    if (s.worker) s.worker->request_kill();
  });
}

SUPERVISOR_INLINE void PoolCore::on_note(std::size_t index, std::uint64_t incarnation,
                                         const NotifyNote& m) {
  Slot& slot = slots_[index];
  if (slot.sm.incarnation() != incarnation || !slot.notify) return;
  // NotifyAccess=main by default: only the worker's main process speaks for it. With
  // notify_access_all, any process of its tree (as systemd's NotifyAccess=all: the unit's
  // cgroup), never one outside it: the socket's name is no secret from local processes.
  if (m.sender != pid_of(slot) &&
      (!options_.notify_access_all || !slot.worker || !slot.worker->in_tree(m.sender))) {
    ++metrics_.ignored_notifications;
    return;
  }
  if (m.has_status && m.status != slot.status) {
    slot.status = m.status;
    emit(WorkerStatusChanged{index, m.status});
  }
  if (m.watchdog && !slot.watchdog_fired) arm_watchdog(slot);
  if (m.ready && slot.sm.state() == WorkerState::starting) {
    if (slot.timer) host_->cancel_timer(slot.timer);
    slot.timer = 0;
    become_ready(slot, "ready: READY=1");
  }
}

// The incarnation is over: its notify socket and watchdog go with it.
SUPERVISOR_INLINE void PoolCore::teardown_incarnation(Slot& slot) {
  health_.stop(slot.index);
  slot.notify.reset();
  if (slot.watchdog_timer) host_->cancel_timer(slot.watchdog_timer);
  slot.watchdog_timer = 0;
  if (slot.recycle_timer) host_->cancel_timer(slot.recycle_timer);
  slot.recycle_timer = 0;
}

// A planned replacement: stop now if idle, after the lease if leased.
SUPERVISOR_INLINE void PoolCore::recycle(Slot& slot, std::string why) {
  if (stopping_ || slot.retiring || slot.recycling) return;
  withdraw(slot);
  switch (slot.sm.state()) {
    case WorkerState::starting:
    case WorkerState::ready:
      slot.recycling = true;
      emit(WorkerRecycled{slot.index, why});
      move_to(slot, WorkerState::stopping, "recycle: " + why);
      if (slot.worker) slot.worker->request_stop();
      break;
    case WorkerState::leased:
      slot.recycling = true;
      emit(WorkerRecycled{slot.index, why});
      move_to(slot, WorkerState::draining, "recycle after the lease: " + why);
      break;
    default: break;
  }
}

SUPERVISOR_INLINE void PoolCore::become_ready(Slot& slot, std::string cause) {
  if (!health_.clear_to_serve(slot.index)) return;
  metrics_.start_to_ready.observe(std::chrono::duration<double>(now() - slot.sm.since()).count());
  move_to(slot, WorkerState::ready, std::move(cause));
  guarded("restart_policy.on_ready", [&] { options_.restart_policy->on_ready(slot.index, now()); });
  if (options_.restart_breaker) {
    guarded("restart_breaker", [&] {
      options_.restart_breaker->on_success(slot.sm.time_in(WorkerState::starting, now()), now());
    });
  }
  health_.clear_out_for_health(slot.index);
  rollouts_.on_ready(slot.index);
  serve_waiters();
  put_on_desk(slot);
}

// Running or starting, and neither retiring nor part of a replacement (see rollouts.hpp).
SUPERVISOR_INLINE bool PoolCore::replaceable(const Slot& s) const {
  return !s.retiring && !rollouts_.involved(s.index) &&
         (s.sm.state() == WorkerState::starting || s.sm.state() == WorkerState::ready ||
          s.sm.state() == WorkerState::leased);
}

SUPERVISOR_INLINE void PoolCore::on_exit(std::size_t index, std::uint64_t incarnation,
                                         ExitStatus st) {
  Slot& slot = slots_[index];
  if (slot.sm.incarnation() != incarnation) {
    forget_discarded(index, incarnation, st);
    return;
  }
  if (slot.timer) host_->cancel_timer(slot.timer);
  slot.timer = 0;
  teardown_incarnation(slot);
  // Our own verdicts outrank what the process layer saw (the exit table's first rows): we
  // stopped it because a check kept failing, or killed it because its heartbeat stopped.
  const bool watchdog = std::exchange(slot.watchdog_fired, false);
  const PoolVerdict verdict = health_.take_stop_verdict(index) ? PoolVerdict::unhealthy
                              : watchdog                       ? PoolVerdict::watchdog
                                                               : PoolVerdict::none;
  st.reason = with_verdict(st.reason, verdict);
  // Before anything can start the next incarnation (the fast path below, a subscriber).
  run_post_stop(index, incarnation, st);
  // Fast path of an immediate restart: the policy decides first, and the replacement starts
  // before the bookkeeping of this exit (events, counters, limiters), which then runs as
  // always; the process is already on its way meanwhile. Only where nothing else decides
  // (no breaker, no stop, retirement, recycling or replacement under way).
  std::optional<RestartDecision> early;
  std::optional<Launch> launched;
  if (!stopping_ && !slot.retiring && !slot.recycling && !rollouts_.replacing(index) &&
      !options_.restart_breaker && emitting_ == 0) {
    early = ask_restart_policy(slot, st);
    if (early->restart && early->delay <= Duration::zero()) {
      launched = launch(index, slot.sm.incarnation() + 1);
      ++launched_ahead_;
    }
  }
  slot.last_exit = st;
  // By reason, per worker; the pool's totals are their sums, plus those of the workers whose
  // slots were reclaimed (PoolMetrics::reclaim). A value outside the enum counts as `unknown`,
  // the name to_string gives it.
  ++slot.exits[std::min(static_cast<std::size_t>(st.reason),
                        static_cast<std::size_t>(ExitReason::unknown))];
  metrics_.worker_uptime.observe(std::chrono::duration<double>(st.uptime).count());
  move_to(slot, WorkerState::exited, "exited: " + st.describe());
  emit(WorkerExited{index, incarnation, st});
  limits_.on_exit(index, incarnation, st);
  if (usage_) usage_->on_exit(index, incarnation, st);
  if (stopping_ || slot.retiring) {
    // A subscriber stopped the pool meanwhile: the process started ahead is not wanted.
    if (launched) discard_launch(index, slot.sm.incarnation() + 1, std::move(*launched));
    retire(slot, stopping_ ? "pool stopped" : "retired");
    return;
  }
  if (slot.recycling) {
    slot.recycling = false;
    spawn(slot, nullptr, std::move(launched));  // planned: no policy, no delay
    return;
  }
  decide(slot, st, std::move(early), std::move(launched));
}

// A process started ahead for an incarnation its slot will never reach (the slot retires, and is
// not reclaimed while this is listed; a reclaimed slot's incarnations go on past it anyway):
// killed now, and waited for like a worker before the pool counts as stopped. It was never
// announced, so its exit is not either.
SUPERVISOR_INLINE void PoolCore::discard_launch(std::size_t index, std::uint64_t incarnation,
                                                Launch l) {
  --launched_ahead_;
  if (!l.worker) {
    run_post_stop(index, incarnation, spawn_failed_status());  // its start failed: over already
    return;
  }
  l.worker->request_kill();
  discarded_.push_back(Discarded{index, incarnation, std::move(l.worker)});
}

SUPERVISOR_INLINE void PoolCore::forget_discarded(std::size_t index, std::uint64_t incarnation,
                                                  const ExitStatus& st) {
  const auto it = std::find_if(discarded_.begin(), discarded_.end(), [&](const Discarded& d) {
    return d.index == index && d.incarnation == incarnation;
  });
  if (it == discarded_.end()) return;
  discarded_.erase(it);
  run_post_stop(index, incarnation, st);
  check_all_retired();
}

SUPERVISOR_INLINE RestartDecision PoolCore::ask_restart_policy(const Slot& slot,
                                                               const ExitStatus& st) {
  try {
    return options_.restart_policy->on_exit(RestartContext{slot.index, st, now()});
  } catch (...) {
    report_error("restart_policy.on_exit");
    return RestartDecision::after(policy_error_restart_delay,
                                  "the restart policy threw; restarting after the default delay");
  }
}

// `early`: the policy's decision, already asked for (and `launched`, the process it started).
SUPERVISOR_INLINE void PoolCore::decide(Slot& slot, const ExitStatus& st,
                                        std::optional<RestartDecision> early,
                                        std::optional<Launch> launched) {
  if (rollouts_.replacing(slot.index)) {
    // A replacement that died before it was ready: the old worker stays.
    rollouts_.abort(slot.index, "it exited before it was ready: " + st.describe());
    return;
  }
  // A failure, though we stopped it: a failing check, or running past wall_time.
  const bool our_verdict = st.reason == ExitReason::unhealthy || st.wall_time_exceeded;
  if (options_.restart_breaker && !st.ok() && (!st.stop_requested || our_verdict)) {
    guarded("restart_breaker", [&] { options_.restart_breaker->on_failure(st.uptime, now()); });
  }
  const RestartDecision d = early ? std::move(*early) : ask_restart_policy(slot, st);
  if (!d.restart) {
    move_to(slot, WorkerState::failed, "gave up: " + d.why);
    emit(WorkerGaveUp{slot.index, d.why});
    on_failed(slot);
    return;
  }
  const Duration delay = std::max(d.delay, Duration::zero());
  std::string cause = "restart in ";  // appended, not formatted: on every restart's path
  append_duration(cause, std::chrono::duration_cast<std::chrono::milliseconds>(delay));
  cause += ": ";
  cause += d.why;
  move_to(slot, WorkerState::backoff, std::move(cause));
  emit(RestartScheduled{slot.index, delay, d.why});
  // Started ahead on on_exit's fast path (zero delay, no breaker), or no wait asked for: not
  // even a turn of the loop.
  if (launched || (delay == Duration::zero() && !options_.restart_breaker && emitting_ == 0)) {
    spawn(slot, nullptr, std::move(launched));
    return;
  }
  schedule_restart(slot, delay);
}

SUPERVISOR_INLINE void PoolCore::schedule_restart(Slot& slot, Duration delay) {
  auto self = shared_from_this();
  const std::size_t index = slot.index;
  slot.timer = host_->add_timer(delay, [self, index] {
    Slot& s = self->slots_[index];
    s.timer = 0;
    if (s.sm.state() != WorkerState::backoff || self->stopping_) return;
    auto& breaker = self->options_.restart_breaker;
    bool permitted = true;
    if (breaker) {
      try {
        permitted = breaker->try_acquire(self->now());
      } catch (...) {
        self->report_error("restart_breaker");
      }
    }
    if (!permitted) {
      // Open: wait in backoff until the breaker may let a trial start through.
      Duration wait = std::chrono::seconds(1);
      try {
        if (auto at = breaker->next_transition_at(self->now()))
          wait = std::max<Duration>(*at - self->now(), std::chrono::milliseconds(1));
      } catch (...) {
        self->report_error("restart_breaker");
      }
      self->schedule_restart(s, wait);
      return;
    }
    self->spawn(s, nullptr);
  });
}

SUPERVISOR_INLINE void PoolCore::retire(Slot& slot, std::string cause) {
  if (slot.timer) host_->cancel_timer(slot.timer);
  slot.timer = 0;
  rollouts_.cancel_deadline(slot.index);
  health_.clear_out_for_health(slot.index);
  if (rollouts_.replacing(slot.index)) rollouts_.abort(slot.index, cause);  // a copy: used below
  if (slot.sm.state() != WorkerState::retired)
    move_to(slot, WorkerState::retired, std::move(cause));
  guarded("restart_policy.forget", [&] { options_.restart_policy->forget(slot.index); });
  if (!stopping_ && !slot.settled && slot.sm.state() == WorkerState::retired) {
    // Reclaimable from the next turn on: callers up this turn's stack may still look at the
    // slot (retire's own caller does) after a part's reaction started a new worker.
    auto self = shared_from_this();
    const std::size_t index = slot.index;
    const std::uint64_t incarnation = slot.sm.incarnation();
    host_->post([self, index, incarnation] {
      Slot& s = self->slots_[index];
      if (s.sm.incarnation() != incarnation || s.sm.state() != WorkerState::retired) return;
      s.settled = true;
      self->settled_slots_.insert(index);
      self->fold_output(s);
      s.worker.reset();  // its process ended; the snapshot shows its last_exit, kept
    });
  }
  check_all_retired();
}

// Nothing refers to the retired slot any more, so a new worker may have it: no timer of its
// own, no channel, no process (its last one ended; a discarded one started ahead is waited for
// first), not on the lease desk, and no part holds it (a replacement, a rollout's list, a probe).
// A lease or posted answer that still names its last incarnation stays harmless: incarnations
// of a reclaimed slot go on from there (add_slot).
SUPERVISOR_INLINE bool PoolCore::reclaimable(const Slot& s) const {
  return s.settled && s.sm.state() == WorkerState::retired && s.timer == 0 &&
         s.recycle_timer == 0 && s.watchdog_timer == 0 && s.lease_timer == 0 && !s.notify &&
         !desk_.holds(s.index) && rollouts_.idle(s.index) && health_.idle(s.index) &&
         std::none_of(discarded_.begin(), discarded_.end(),
                      [&](const Discarded& d) { return d.index == s.index; });
}

SUPERVISOR_INLINE void PoolCore::check_all_retired() {
  if (!stopping_ || !discarded_.empty() || launched_ahead_ > 0 || retired_slots_ != slots_.size())
    return;
  running_ = false;
  {
    std::lock_guard lock(mu_);
    all_retired_ = true;
    cv_.notify_all();
  }
  // stop_async's callers, each from a turn of its own: it may destroy the Pool.
  auto waiters = std::move(stop_waiters_);
  stop_waiters_.clear();
  for (auto& done : waiters) {
    host_->post([self = shared_from_this(), done = std::move(done)] {
      self->guarded("stop_async callback", done);
    });
  }
}

SUPERVISOR_INLINE void PoolCore::schedule_scaling() {
  auto self = shared_from_this();
  scaling_timer_ = host_->add_timer(options_.scaling_period, [self] {
    self->scaling_timer_ = 0;
    if (self->stopping_) return;
    self->evaluate_scaling();
    self->schedule_scaling();
  });
}

SUPERVISOR_INLINE void PoolCore::evaluate_scaling() {
  ScalingInput in;
  in.now = now();
  in.size = live_slots();
  for (const auto& s : slots_) {
    if (s.retiring) continue;
    const bool lent = lent_on_desk(s);
    if (s.sm.state() == WorkerState::leased || lent) ++in.leased;
    if (s.sm.state() == WorkerState::ready && !lent) ++in.ready;
  }
  in.waiting = waiters_.size();
  in.queue_wait = longest_wait_;
  if (!waiters_.empty()) in.queue_wait = std::max(in.queue_wait, in.now - waiters_.front().since);
  longest_wait_ = Duration::zero();
  std::size_t want = in.size;
  try {
    want = options_.scaling->desired_size(in);
  } catch (...) {
    report_error("scaling_policy");
    return;
  }
  want = std::clamp(want, options_.min_size, options_.max_size);
  if (want > in.size && !draining_) {
    // Growth that would run out of fds is not made: the error handler hears why (where
    // "scaling up"), at each period it is asked for.
    ErrorSink fds;
    const std::size_t holding = workers_with_process();
    if (want > holding && !fds_fit(want - holding, "scaling up", fds)) {
      try {
        throw_error(fds.code, fds.context);
      } catch (...) {
        report_error("scaling up");
      }
      return;
    }
  }
  if (want != in.size && !draining_) apply_resize(want);
}

// Neither retired nor retiring. Counted, not looked for: the pool's health asks on every
// worker's ready and exit (with degraded_below).
SUPERVISOR_INLINE std::size_t PoolCore::live_slots() const {
  return slots_.size() - retired_slots_ - retiring_slots_;
}

SUPERVISOR_INLINE void PoolCore::apply_resize(std::size_t size) {
  std::size_t live = live_slots();
  // A failed worker counts as missing: retired first when shrinking, revived otherwise.
  for (std::size_t i = slots_.size(); i-- > 0 && live > size;) {
    Slot& s = slots_[i];
    if (s.sm.state() != WorkerState::failed || s.retiring) continue;
    --live;
    retire_slot(s);
  }
  if (running_) {
    for (auto& s : slots_) {
      if (s.sm.state() == WorkerState::failed && !s.retiring) revive(s, "resize");
    }
  }
  // Grow: a reclaimed retired slot, or a new one at the end (add_slot). A late callback of
  // the reclaimed slot's last incarnation is never mistaken for the new worker's: incarnations
  // go on.
  while (live < size) {
    const std::size_t i = add_slot();
    ++live;
    if (running_) spawn(slots_[i], nullptr);
  }
  // Shrink: the highest-numbered first, idle ones before busy ones.
  for (int pass = 0; pass < 2 && live > size; ++pass) {
    for (std::size_t i = slots_.size(); i-- > 0 && live > size;) {
      Slot& s = slots_[i];
      if (s.retiring || s.sm.state() == WorkerState::retired) continue;
      const bool busy = s.sm.state() == WorkerState::leased || lent_on_desk(s);
      if (busy != (pass == 1)) continue;
      --live;
      retire_slot(s);
    }
  }
  update_health();
}

// Takes a slot out of the pool: at once when it has no process, after its lease otherwise.
SUPERVISOR_INLINE void PoolCore::retire_slot(Slot& s) {
  withdraw(s);
  if (!s.retiring && s.sm.state() != WorkerState::retired) ++retiring_slots_;
  s.retiring = true;
  switch (s.sm.state()) {
    case WorkerState::leased:
      move_to(s, WorkerState::draining, "pool shrinking: finish the lease");
      break;
    case WorkerState::starting:
    case WorkerState::ready:
      move_to(s, WorkerState::stopping, "pool shrinking");
      if (s.worker) s.worker->request_stop();
      break;
    case WorkerState::exited:
    case WorkerState::backoff:
    case WorkerState::failed: retire(s, "pool shrinking"); break;
    case WorkerState::draining:
    case WorkerState::stopping:
    case WorkerState::retired: break;
  }
}

SUPERVISOR_INLINE void PoolCore::begin_drain() {
  draining_ = true;
  desk_.close();
  for (auto& w : waiters_) {
    if (w.timer) host_->cancel_timer(w.timer);
    w.done(Lease(), errc::stopped, "Pool::acquire: the pool is draining");
  }
  waiters_.clear();
}

SUPERVISOR_INLINE void PoolCore::begin_stop() {
  if (stopping_) {
    check_all_retired();
    return;
  }
  stopping_ = true;
  stopped_ = true;
  desk_.close();
  if (scaling_timer_) host_->cancel_timer(scaling_timer_);
  scaling_timer_ = 0;
  limits_.stop();
  if (usage_) usage_->stop();
  for (auto& w : waiters_) {
    if (w.timer) host_->cancel_timer(w.timer);
    w.done(Lease(), errc::stopped, "Pool::acquire: the pool is stopping");
  }
  waiters_.clear();
  for (auto& slot : slots_) {
    switch (slot.sm.state()) {
      case WorkerState::starting:
      case WorkerState::ready:
      case WorkerState::leased:
      case WorkerState::draining:
        move_to(slot, WorkerState::stopping, "pool stopping");
        if (slot.worker) slot.worker->request_stop();
        break;
      case WorkerState::stopping: break;
      case WorkerState::exited:
      case WorkerState::backoff:
      case WorkerState::failed: retire(slot, "pool stopped"); break;
      case WorkerState::retired: break;
    }
  }
  check_all_retired();
}

}  // namespace supervisor::detail
