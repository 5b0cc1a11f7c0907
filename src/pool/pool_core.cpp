// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "pool_core.hpp"

#include "../core/validate.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE PoolCore::PoolCore(std::shared_ptr<PoolHost> host, PoolOptions options)
    : host_(std::move(host)),
      options_(std::move(options)),
      desk_(options_.lease_fast_path && options_.recycle.max_leases == 0 &&
                !options_.health_score.enabled,
            options_.lease_breaker.get()),
      health_(*this, *this, *host_, options_),
      rollouts_(*this, *this, *host_),
      limits_(*this, *this, *host_, options_) {
  if (!options_.restart_policy) options_.restart_policy = std::make_shared<StandardRestartPolicy>();
  shared_spec_ = std::make_shared<const ProcessSpec>(options_.spec);
  target_checks_ = std::make_shared<const std::vector<HealthCheck>>(options_.health_checks);
  recycle_random_ = options_.recycle.seed;
  if (options_.usage_sample_period > Duration::zero())
    usage_.emplace(*this, *this, *host_, options_.usage_sample_period);
  for (std::size_t i = 0; i < options_.size; ++i) add_slot();
}

// ---- what Pool calls ----------------------------------------------------------------------
SUPERVISOR_INLINE void PoolCore::attach_breakers() {
  auto weak = weak_from_this();
  auto hook = [weak](const char* name, CircuitBreaker& b) {
    b.set_listener([weak, name](const BreakerTransition& t) {
      if (auto self = weak.lock()) {
        // The breaker may call this from a host thread (a lease released there): hop over.
        self->host_->post([self, name, t] { self->emit(BreakerChanged{name, t}); });
      }
    });
  };
  if (options_.restart_breaker) hook("restart", *options_.restart_breaker);
  if (options_.lease_breaker) hook("lease", *options_.lease_breaker);
}

SUPERVISOR_INLINE void PoolCore::start(ErrorSink& err) {
  auto self = shared_from_this();
  host_->run_sync([&] {
    if (running_ || stopped_) {
      err.fail(running_ ? errc::already_running : errc::stopped, [&] {
        return std::string(running_ ? "Pool::start: already started"
                                    : "Pool::start: the pool was stopped");
      });
      return;
    }
    // Before anything is made: a pool that cannot hold its workers' fds starts none of them.
    if (!fds_fit(slots_.size(), "Pool::start", err)) return;
    if (!options_.group_resources.empty()) {
      group_ = host_->make_group(options_.group_resources, options_.group, err);
      if (err) return;
      group_owned_ = true;
      limits_.own_group(group_.get());
      limits_.report_group_unenforced();
    } else if (options_.group.valid()) {
      group_ = host_->adopt_group(options_.group, err);  // the host's: its limits are its own
      if (err) return;
    }
    running_ = true;
    for (auto& slot : slots_) {
      spawn(slot, &err);
      if (err) break;
    }
    if (!err && options_.scaling) schedule_scaling();
    if (!err) limits_.ensure_watch();
    if (!err) limits_.start_limiters();
    if (!err && usage_) usage_->start();
    if (!err) open_desk();
  });
  if (err) stop();  // a misconfigured pool leaves nothing running
}

SUPERVISOR_INLINE void PoolCore::stop() {
  auto self = shared_from_this();
  if (host_->in_loop()) {
    // The caller is the loop (a fake world's test thread): stop, and run what that causes.
    begin_stop();
    while (!retired() && host_->pump()) {
    }
    return;
  }
  host_->post([self] { self->begin_stop(); });
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return all_retired_; });
}

SUPERVISOR_INLINE void PoolCore::stop_async(std::function<void()> done) {
  auto self = shared_from_this();
  host_->post([self, done = std::move(done)]() mutable {
    if (done) self->stop_waiters_.push_back(std::move(done));
    self->begin_stop();  // check_all_retired hands the waiters their answer
  });
}

SUPERVISOR_INLINE bool PoolCore::drain(Duration timeout) {
  auto self = shared_from_this();
  host_->run_sync([self] { self->begin_drain(); });
  auto idle = [&] { return leased_ == 0 && desk_.none_lent(); };  // under mu_
  if (host_->in_loop()) {
    std::unique_lock lock(mu_);
    while (!idle()) {
      lock.unlock();
      const bool progressed = host_->pump();
      lock.lock();
      if (!progressed) break;
    }
    return idle();
  }
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, idle);
}

SUPERVISOR_INLINE void PoolCore::set_resources(const ResourceLimits& limits, ErrorSink& err) {
  auto self = shared_from_this();
  host_->run_sync([&] {
    // On the loop: Pool::update replaces options_.spec there.
    ProcessSpec checked = options_.spec;
    checked.resources = limits;
    validate_spec(checked, err);
    if (err) return;
    options_.spec.resources = limits;
    shared_spec_ = std::make_shared<const ProcessSpec>(options_.spec);
    for (auto& slot : slots_) {
      if (!slot.worker || slot.sm.state() == WorkerState::retired) continue;
      ErrorSink one;
      slot.worker->set_resources(limits, one);
      if (one && !err) err = std::move(one);
    }
    limits_.ensure_watch();
  });
}

SUPERVISOR_INLINE void PoolCore::set_group_resources(const ResourceLimits& limits, ErrorSink& err) {
  validate_group_limits(limits, "PoolOptions.group_resources", err);
  if (err) return;
  auto self = shared_from_this();
  host_->run_sync([&] {
    if (!group_owned_) {
      err.fail(running_ || stopped_ ? errc::invalid_argument : errc::not_running, [&] {
        return std::string(
            running_ || stopped_
                ? "Pool::set_group_resources: the pool was started without "
                  "PoolOptions.group_resources, so it has no group of its own (a shared "
                  "PoolOptions.group changes through its ResourceGroup)"
                : "Pool::set_group_resources: the pool is not started");
      });
      return;
    }
    group_->set_resources(limits, err);
    if (err) return;
    options_.group_resources = limits;
    limits_.report_group_unenforced();
    limits_.ensure_watch();
  });
}

SUPERVISOR_INLINE GroupSample PoolCore::group_sample() {
  auto self = shared_from_this();
  return host_->run_sync([self] { return self->group_ ? self->group_->sample() : GroupSample{}; });
}

SUPERVISOR_INLINE void PoolCore::resize(std::size_t size, ErrorSink& err) {
  if (size < options_.min_size || size > options_.max_size) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("Pool::resize: {} workers is outside [min_size {}, max_size {}]", size,
                         options_.min_size, options_.max_size);
    });
    return;
  }
  auto self = shared_from_this();
  host_->run_sync([&] {
    if (stopping_) {
      err.fail(errc::stopped, [] { return std::string("Pool::resize: the pool is stopped"); });
      return;
    }
    const std::size_t holding = workers_with_process();
    if (running_ && size > holding && !fds_fit(size - holding, "Pool::resize", err)) return;
    if (emitting_ > 0) {
      // Called from a subscriber, in the middle of a walk over the slots: do it next turn.
      host_->post([self, size] {
        if (!self->stopping_) self->apply_resize(size);
      });
    } else {
      apply_resize(size);
    }
  });
}

SUPERVISOR_INLINE bool PoolCore::retired() {
  std::lock_guard lock(mu_);
  return all_retired_;
}

SUPERVISOR_INLINE void PoolCore::replace_async(std::size_t worker, Duration timeout,
                                               std::function<void(bool, std::error_code)> done) {
  auto self = shared_from_this();
  done = guarded_callback(std::move(done), "replace_async callback");
  host_->post([self, worker, timeout, done = std::move(done)]() mutable {
    self->rollouts_.start_replacement(worker, timeout, false, std::move(done));
  });
}

SUPERVISOR_INLINE void PoolCore::rolling_restart_async(
    const RollingRestart& o, std::function<void(RolloutResult, std::error_code)> done) {
  auto self = shared_from_this();
  done = guarded_callback(std::move(done), "rolling_restart_async callback");
  host_->post([self, o, done = std::move(done)]() mutable {
    self->rollouts_.start_rollout(o, std::move(done));
  });
}

SUPERVISOR_INLINE bool PoolCore::wait_ready(std::size_t count, Duration timeout) {
  if (host_->in_loop()) {  // a fake world: run what is pending; time moves only by advance()
    auto enough = [&] {
      std::lock_guard lock(mu_);
      return ready_or_leased_ >= count;
    };
    while (!enough() && host_->pump()) {
    }
    return enough();
  }
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ready_or_leased_ >= count; });
}

SUPERVISOR_INLINE PoolSnapshot PoolCore::snapshot() {
  auto self = shared_from_this();
  return host_->run_sync([self] { return self->build_snapshot(); });
}

SUPERVISOR_INLINE std::vector<PoolEvent> PoolCore::history() {
  auto self = shared_from_this();
  return host_->run_sync([self] {
    std::vector<PoolEvent> out;
    out.reserve(self->history_.size());
    for (const auto& ev : self->history_) out.push_back(*ev);
    return out;
  });
}

SUPERVISOR_INLINE std::uint64_t PoolCore::subscribe(std::function<void(const PoolEvent&)> fn) {
  auto self = shared_from_this();
  return host_->run_sync([self, &fn] { return self->subscribers_.add(std::move(fn)); });
}

SUPERVISOR_INLINE void PoolCore::unsubscribe(std::uint64_t id) {
  auto self = shared_from_this();
  host_->run_sync([self, id] { self->subscribers_.remove(id); });
}

SUPERVISOR_INLINE void PoolCore::clear_subscribers() {
  auto self = shared_from_this();
  host_->run_sync([self] { self->subscribers_.clear(); });
}

// ---- the parts' view of the core (loop thread) ---------------------------------------------
// A slot for a new worker, not started; its index. The lowest reclaimable retired slot (see
// reclaimable) if there is one, else a new one at the end. A reclaimed slot describes its new
// worker only: its counts go into the pool's totals first (which never go backwards), and its
// incarnations go on from its last one, so that whatever still names an old (index,
// incarnation) (a lease, a posted answer, an event) never matches the new worker. Every part
// learns of it.
SUPERVISOR_INLINE std::size_t PoolCore::add_slot() {
  std::size_t i = slots_.size();
  for (const std::size_t k : settled_slots_) {  // reclaimable ones are settled
    if (reclaimable(slots_[k])) {
      i = k;
      break;
    }
  }
  if (i == slots_.size()) {
    slots_.push_back(Slot{i, WorkerStateMachine(i, WorkerState::backoff, now())});
  } else {
    Slot& s = slots_[i];
    metrics_.reclaim(s.exits, s.sm, now());
    fold_output(s);
    add_output(output_reclaimed_, s.output);
    const std::uint64_t last = s.sm.incarnation();
    --retired_slots_;
    settled_slots_.erase(i);
    s = Slot{i, WorkerStateMachine(i, WorkerState::backoff, now(), last)};
    s.first_incarnation = last + 1;
  }
  desk_.add_slot(i);
  health_.add_slot(i);
  rollouts_.add_slot(i);
  slots_[i].revision = target_revision_;
  return i;
}

SUPERVISOR_INLINE std::uint64_t PoolCore::incarnation(std::size_t worker) const {
  return slots_[worker].sm.incarnation();
}

SUPERVISOR_INLINE WorkerState PoolCore::state(std::size_t worker) const {
  return slots_[worker].sm.state();
}

SUPERVISOR_INLINE WorkerProcess* PoolCore::process(std::size_t worker) const {
  return slots_[worker].worker.get();
}

SUPERVISOR_INLINE bool PoolCore::leased(std::size_t worker) {
  return slots_[worker].sm.state() == WorkerState::leased || lent_on_desk(slots_[worker]);
}

SUPERVISOR_INLINE bool PoolCore::replaceable(std::size_t worker) const {
  return replaceable(slots_[worker]);
}

SUPERVISOR_INLINE void PoolCore::offer(std::size_t worker) {
  serve_waiters();
  put_on_desk(slots_[worker]);
}

SUPERVISOR_INLINE void PoolCore::become_ready(std::size_t worker, std::string cause) {
  become_ready(slots_[worker], std::move(cause));
}

SUPERVISOR_INLINE void PoolCore::stop_unhealthy(std::size_t worker, std::string cause) {
  Slot& slot = slots_[worker];
  move_to(slot, WorkerState::stopping, std::move(cause));
  if (slot.worker) slot.worker->request_stop();
}

SUPERVISOR_INLINE void PoolCore::recycle(std::size_t worker, std::string why) {
  recycle(slots_[worker], std::move(why));
}

SUPERVISOR_INLINE void PoolCore::retire_worker(std::size_t worker) {
  Slot& s = slots_[worker];
  if (!s.retiring && s.sm.state() != WorkerState::retired) retire_slot(s);
}

SUPERVISOR_INLINE void PoolCore::replace(std::size_t worker, Duration ready_timeout) {
  rollouts_.start_replacement(worker, ready_timeout, false, nullptr);
}

// ---- events (loop thread) ------------------------------------------------------------------
SUPERVISOR_INLINE void PoolCore::report_error(std::string_view where) noexcept {
  ++metrics_.strategy_errors;
  if (!options_.error_handler) return;
  try {
    options_.error_handler(std::current_exception(), where);
  } catch (...) {
  }
}

SUPERVISOR_INLINE void PoolCore::emit(PoolEventData data) {
  // Shared with the history, not copied into it (an event holds strings): the history may drop
  // it while a subscriber still looks at it (a subscriber's action emitting more).
  const auto shared = std::make_shared<const PoolEvent>(
      PoolEvent{++sequence_, now(), host_->wall_now(), std::move(data)});
  const PoolEvent& ev = *shared;
  history_.push_back(shared);
  while (history_.size() > options_.history_size) history_.pop_front();
  // Copy-on-write: a subscriber may (un)subscribe while this walks the current set.
  const auto subscribers = subscribers_.current();
  ++emitting_;
  for (const auto& entry : *subscribers) {
    try {
      entry.second(ev);
    } catch (...) {
      report_error("subscriber");
    }
  }
  --emitting_;
}

SUPERVISOR_INLINE PoolSnapshot PoolCore::build_snapshot() {
  PoolSnapshot s;
  s.running = running_ && !stopping_;
  s.draining = draining_;
  s.size = live_slots();
  // What the desk knows: leases host threads hold right now, and the counts.
  const LeaseDesk::Figures desk = desk_.figures();
  for (auto& slot : slots_) {
    WorkerSnapshot w;
    w.index = slot.index;
    w.state = slot.sm.state();
    w.incarnation = slot.sm.incarnation();
    const bool alive = process_runs(w.state);
    w.pid = alive ? pid_of(slot) : 0;
    if (alive && slot.worker) {
      w.uptime = now() - slot.spawned_at;
      w.started_at = slot.spawned_wall;
    }
    w.restarts = slot.restarts;
    w.leases = slot.leases;
    desk.describe(desk_.holds(slot.index), w);
    w.last_exit = slot.last_exit;
    w.exits_by_reason = slot.exits;
    w.status = slot.status;
    PoolMetrics::describe_times(slot.sm, now(), w);
    health_.describe(slot.index, w);
    w.revision = slot.revision;
    if (usage_) usage_->describe(slot.index, w.incarnation, alive, w);
    w.output = output_of(slot);
    add_output(s.output, w.output);
    PoolMetrics::add_worker(s, std::move(w));
  }
  add_output(s.output, output_reclaimed_);
  s.waiting = waiters_.size();
  metrics_.fill(s, desk);
  limits_.fill(s);
  health_.fill(s);
  s.health = pool_health_;
  s.rollout = rollout_status();
  if (usage_) usage_->fill(s);
  guarded("restart_breaker", [&] {
    if (options_.restart_breaker) s.restart_breaker = options_.restart_breaker->state(now());
  });
  guarded("lease_breaker", [&] {
    if (options_.lease_breaker) s.lease_breaker = options_.lease_breaker->state(now());
  });
  return s;
}

}  // namespace supervisor::detail
