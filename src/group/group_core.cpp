// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "group_core.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <utility>

#include "../core/duration.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE bool group_worker_up(WorkerState s) {
  return s == WorkerState::ready || s == WorkerState::leased;
}

// Whether a worker's end is a death (MemberFailure::worker_exit): a stop the pool asked for is
// not, unless the pool stopped it for failing.
SUPERVISOR_INLINE bool group_exit_is_death(const ExitStatus& s) {
  switch (s.reason) {
    case ExitReason::success: return false;
    case ExitReason::unhealthy:
    case ExitReason::watchdog:
    case ExitReason::oom_kill:
    case ExitReason::resource_limit: return true;
    default: return !s.stop_requested;
  }
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE GroupCore::GroupCore(std::shared_ptr<PoolHost> host, PoolFactory make_pool,
                                       SupervisionGroupOptions options)
    : host_(std::move(host)), make_pool_(std::move(make_pool)), options_(std::move(options)) {
  members_.resize(options_.members.size());
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const GroupMember& o = options_.members[i];
    members_[i].need = o.ready_workers != 0 ? o.ready_workers : o.pool.size;
  }
}

// ---- what SupervisionGroup calls ------------------------------------------------------------
SUPERVISOR_INLINE void GroupCore::start(ErrorSink& err) {
  if (host_->in_loop()) {
    err.fail(std::make_error_code(std::errc::resource_deadlock_would_occur), [] {
      return std::string(
          "SupervisionGroup::start: blocking on the loop thread would deadlock; use start_async");
    });
    return;
  }
  auto promise = std::make_shared<std::promise<std::pair<std::error_code, std::string>>>();
  auto future = promise->get_future();
  post_step([this, promise] {
    begin_start([promise](std::error_code ec, std::string message) {
      promise->set_value({ec, std::move(message)});
    });
  });
  const std::pair<std::error_code, std::string> got = future.get();
  if (got.first) err.fail(got.first, [&] { return "SupervisionGroup::start: " + got.second; });
}

SUPERVISOR_INLINE void GroupCore::start_async(std::function<void(std::error_code)> done) {
  post_step([this, done = std::move(done)] {
    begin_start([this, done](std::error_code ec, const std::string&) {
      if (done) guarded("start_async callback", [&] { done(ec); });
    });
  });
}

SUPERVISOR_INLINE void GroupCore::stop() {
  post_step([this] {
    begin_stop("stop()");
    next();
  });
  const auto stopped = [this] {
    std::lock_guard lock(mu_);
    return stopped_;
  };
  if (host_->in_loop()) {
    // The loop's own thread (a callback, or a fake world's test): run what the stop causes, where
    // a host can (the fake world); a real loop goes on after this turn.
    while (!stopped() && host_->pump()) {
    }
    return;
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopped_; });
}

SUPERVISOR_INLINE std::shared_ptr<Pool> GroupCore::pool(std::string_view member, ErrorSink& err) {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (options_.members[i].name != member) continue;
    std::lock_guard lock(mu_);
    return members_[i].pool;
  }
  err.fail(errc::invalid_argument,
           [&] { return fmt::format("SupervisionGroup::pool: no member named \"{}\"", member); });
  return nullptr;
}

SUPERVISOR_INLINE GroupSnapshot GroupCore::snapshot() {
  auto self = shared_from_this();
  return host_->run_sync([self] {
    GroupSnapshot s;
    s.state = self->state_;
    s.escalated = self->escalated_;
    s.restarts = self->restarts_;
    s.restarts_in_period = self->restarts_in_period();
    for (std::size_t i = 0; i < self->members_.size(); ++i) {
      const Member& m = self->members_[i];
      s.members.push_back(MemberSnapshot{self->options_.members[i].name, m.state, m.incarnation,
                                         m.deaths, m.up.size()});
    }
    return s;
  });
}

SUPERVISOR_INLINE std::vector<GroupEvent> GroupCore::history() {
  auto self = shared_from_this();
  return host_->run_sync([self] {
    std::vector<GroupEvent> out;
    out.reserve(self->history_.size());
    for (const auto& e : self->history_) out.push_back(*e);
    return out;
  });
}

SUPERVISOR_INLINE std::uint64_t GroupCore::subscribe(std::function<void(const GroupEvent&)> fn) {
  auto self = shared_from_this();
  return host_->run_sync([self, &fn] { return self->subscribers_.add(std::move(fn)); });
}

SUPERVISOR_INLINE void GroupCore::unsubscribe(std::uint64_t id) {
  auto self = shared_from_this();
  host_->run_sync([self, id] { self->subscribers_.remove(id); });
}

// ---- loop thread ----------------------------------------------------------------------------
SUPERVISOR_INLINE void GroupCore::post_step(std::function<void()> f) {
  host_->post([self = shared_from_this(), f = std::move(f)] { self->run_step(f); });
}

SUPERVISOR_INLINE void GroupCore::run_step(const std::function<void()>& f) {
  if (in_step_) {
    // Posted by a pool's call this step made (the fake world pumps inside a failed start):
    // one step at a time, so it runs after this one.
    deferred_.push_back(f);
    return;
  }
  in_step_ = true;
  guarded("group step", f);
  in_step_ = false;
  auto later = std::move(deferred_);
  deferred_.clear();
  for (auto& d : later) post_step(std::move(d));
}

SUPERVISOR_INLINE void GroupCore::report_error(std::string_view where) noexcept {
  if (!options_.error_handler) return;
  try {
    options_.error_handler(std::current_exception(), where);
  } catch (...) {
  }
}

SUPERVISOR_INLINE void GroupCore::emit(GroupEventData data) {
  const auto shared = std::make_shared<const GroupEvent>(
      GroupEvent{++sequence_, host_->now(), host_->wall_now(), std::move(data)});
  history_.push_back(shared);
  while (history_.size() > options_.history_size) history_.pop_front();
  const auto subscribers = subscribers_.current();
  for (const auto& entry : *subscribers) guarded("subscriber", [&] { entry.second(*shared); });
}

SUPERVISOR_INLINE void GroupCore::begin_start(
    std::function<void(std::error_code, std::string)> done) {
  if (state_ != GroupState::idle) {
    const bool stopped = state_ == GroupState::stopping || state_ == GroupState::stopped;
    done(stopped ? errc::stopped : errc::already_running,
         stopped ? "the group was stopped" : "the group was started already");
    return;
  }
  state_ = GroupState::starting;
  plan_ = Plan::start;
  start_done_ = std::move(done);
  for (std::size_t i = 0; i < members_.size(); ++i) steps_.push_back({Step::Kind::start, i});
  next();
}

// Sets up the stop of every member, in reverse start order; the caller then calls next().
SUPERVISOR_INLINE void GroupCore::begin_stop(std::string why) {
  if (plan_ == Plan::stop || state_ == GroupState::stopped) return;
  if (plan_ == Plan::start && !start_error_) {
    start_error_ = errc::stopped;
    start_message_ = "the group was stopped before all its members started";
  }
  plan_ = Plan::stop;
  state_ = GroupState::stopping;
  stop_why_ = std::move(why);
  steps_.clear();
  pending_.clear();
  if (busy_ && current_ && members_[*current_].state == MemberState::starting) {
    // Waiting for it to become ready: stop waiting; its stop step below stops it.
    Member& m = members_[*current_];
    if (m.start_timer) host_->cancel_timer(m.start_timer);
    m.start_timer = 0;
    busy_ = false;
    current_.reset();
  }
  for (std::size_t i = members_.size(); i-- > 0;) steps_.push_back({Step::Kind::stop, i});
}

SUPERVISOR_INLINE void GroupCore::next() {
  if (busy_) return;
  while (!steps_.empty()) {
    Step step = std::move(steps_.front());
    steps_.pop_front();
    switch (step.kind) {
      case Step::Kind::stop:
        if (members_[step.member].state == MemberState::stopped) continue;
        stop_member(step.member);
        break;
      case Step::Kind::start: start_member(step.member); break;
      case Step::Kind::failed: handle_death(step.member, 0, std::move(step.why)); break;
    }
    if (busy_) return;  // its answer comes in a step of its own, which calls next()
  }
  finish_plan();
}

SUPERVISOR_INLINE void GroupCore::finish_plan() {
  const Plan done = plan_;
  plan_ = Plan::none;
  switch (done) {
    case Plan::none: return;
    case Plan::start:
      state_ = GroupState::running;
      if (auto cb = std::exchange(start_done_, nullptr)) cb({}, {});
      break;
    case Plan::restart: state_ = GroupState::running; break;
    case Plan::stop: {
      state_ = GroupState::stopped;
      emit(GroupStopped{stop_why_});
      {
        std::lock_guard lock(mu_);
        stopped_ = true;
        cv_.notify_all();
      }
      if (auto cb = std::exchange(start_done_, nullptr)) cb(start_error_, start_message_);
      return;
    }
  }
  // Deaths seen while the plan ran, of members it left running.
  while (plan_ == Plan::none && !pending_.empty()) {
    Death d = std::move(pending_.front());
    pending_.pop_front();
    on_death(std::move(d));
  }
}

SUPERVISOR_INLINE void GroupCore::stop_member(std::size_t i) {
  Member& m = members_[i];
  if (m.start_timer) host_->cancel_timer(m.start_timer);
  m.start_timer = 0;
  m.state = MemberState::stopping;
  busy_ = true;
  current_ = i;
  emit(MemberStopping{i, options_.members[i].name});
  const std::uint64_t incarnation = m.incarnation;
  std::weak_ptr<GroupCore> weak = weak_from_this();
  m.pool->stop_async([weak, i, incarnation] {
    if (auto self = weak.lock())
      self->post_step([s = self.get(), i, incarnation] { s->on_stopped(i, incarnation); });
  });
}

SUPERVISOR_INLINE void GroupCore::on_stopped(std::size_t i, std::uint64_t incarnation) {
  Member& m = members_[i];
  if (m.incarnation != incarnation || m.state != MemberState::stopping) return;
  m.pool->unsubscribe(m.subscription);
  m.subscription = 0;
  m.state = MemberState::stopped;
  m.up.clear();
  busy_ = false;
  current_.reset();
  emit(MemberStopped{i, options_.members[i].name});
  next();
}

SUPERVISOR_INLINE void GroupCore::start_member(std::size_t i) {
  Member& m = members_[i];
  const GroupMember& o = options_.members[i];
  std::shared_ptr<Pool> pool;
  try {
    pool = make_pool_(o.pool);
  } catch (...) {
    // Out of memory (the options were validated): a start failure, the member still stopped.
    start_failed(i, current_exception_code(),
                 fmt::format("member \"{}\": its pool could not be made", o.name));
    return;
  }
  ++m.incarnation;
  m.up.clear();
  m.was_up = false;
  m.state = MemberState::starting;
  {
    std::lock_guard lock(mu_);
    m.pool = pool;
  }
  const std::uint64_t incarnation = m.incarnation;
  std::weak_ptr<GroupCore> weak = weak_from_this();
  m.subscription = pool->subscribe([weak, i, incarnation](const PoolEvent& ev) {
    if (auto self = weak.lock()) self->watch(i, incarnation, ev);
  });
  busy_ = true;
  current_ = i;
  emit(MemberStarting{i, o.name, incarnation});
  try {
    pool->start();
  } catch (const std::system_error& e) {
    start_failed(i, e.code(), fmt::format("member \"{}\": {}", o.name, e.what()));
    return;
  }
  if (m.state != MemberState::starting || m.incarnation != incarnation) return;
  if (o.start_timeout != Duration::max()) {
    m.start_timer = host_->add_timer(o.start_timeout, [weak, i, incarnation] {
      auto self = weak.lock();
      if (!self) return;
      self->run_step([s = self.get(), i, incarnation] {
        Member& mm = s->members_[i];
        mm.start_timer = 0;
        if (mm.incarnation != incarnation || mm.state != MemberState::starting || s->current_ != i)
          return;
        const GroupMember& oo = s->options_.members[i];
        s->start_failed(
            i, errc::timeout,
            fmt::format("member \"{}\" did not become ready within {} ({} of {} "
                        "workers ready)",
                        oo.name, format_duration(oo.start_timeout), mm.up.size(), mm.need));
        s->next();
      });
    });
  }
}

SUPERVISOR_INLINE void GroupCore::watch(std::size_t i, std::uint64_t incarnation,
                                        const PoolEvent& ev) {
  Member& m = members_[i];
  if (m.incarnation != incarnation ||
      (m.state != MemberState::starting && m.state != MemberState::running))
    return;
  const GroupMember& o = options_.members[i];
  auto death = [&](std::size_t worker, std::string why) {
    if (m.state != MemberState::running) return;  // a start that fails is the timeout's
    post_step([this, d = Death{i, incarnation, worker, std::move(why)}]() mutable {
      on_death(std::move(d));
    });
  };
  if (const auto* t = std::get_if<WorkerTransition>(&ev.data)) {
    if (group_worker_up(t->to)) {
      m.up.insert(t->worker);
    } else {
      m.up.erase(t->worker);
    }
    if (m.up.size() >= m.need) {
      if (m.state == MemberState::starting) {
        post_step([this, i, incarnation] { on_ready(i, incarnation); });
      } else {
        m.was_up = true;  // up again after an outage
      }
    } else if (o.failure == MemberFailure::no_ready_worker && m.was_up && m.up.empty() &&
               group_worker_up(t->from)) {
      m.was_up = false;  // one death per outage
      death(t->worker, fmt::format("no worker ready ({})", t->cause));
    }
    return;
  }
  switch (o.failure) {
    case MemberFailure::worker_exit:
      if (const auto* e = std::get_if<WorkerExited>(&ev.data)) {
        if (group_exit_is_death(e->status))
          death(e->worker, fmt::format("worker {} exited: {}", e->worker, e->status.describe()));
      } else if (const auto* f = std::get_if<SpawnFailed>(&ev.data)) {
        death(f->worker, fmt::format("worker {} did not spawn: {}", f->worker, f->message));
      }
      break;
    case MemberFailure::worker_gave_up:
      if (const auto* g = std::get_if<WorkerGaveUp>(&ev.data))
        death(g->worker, fmt::format("worker {} given up on: {}", g->worker, g->why));
      break;
    case MemberFailure::no_ready_worker: break;
  }
}

SUPERVISOR_INLINE void GroupCore::on_ready(std::size_t i, std::uint64_t incarnation) {
  Member& m = members_[i];
  // Only the start the plan waits for: a stop cancels the wait (begin_stop), and the member's
  // turn to stop comes later.
  if (m.incarnation != incarnation || m.state != MemberState::starting || current_ != i) return;
  if (m.start_timer) host_->cancel_timer(m.start_timer);
  m.start_timer = 0;
  m.state = MemberState::running;
  m.was_up = true;
  busy_ = false;
  current_.reset();
  emit(MemberStarted{i, options_.members[i].name, incarnation});
  next();
}

// The member's pool did not start, or not in time. It is still `starting`: a stop step stops
// its pool (whose workers may run). The caller then calls next().
SUPERVISOR_INLINE void GroupCore::start_failed(std::size_t i, std::error_code ec,
                                               std::string message) {
  Member& m = members_[i];
  if (m.start_timer) host_->cancel_timer(m.start_timer);
  m.start_timer = 0;
  busy_ = false;
  current_.reset();
  emit(MemberStartFailed{i, options_.members[i].name, ec, message});
  if (plan_ == Plan::start) {
    // The group's first start: undo it (as a pool whose first start fails).
    start_error_ = ec;
    start_message_ = message;
    begin_stop(std::move(message));
  } else if (plan_ == Plan::restart) {
    // A restart: what follows it waits; the failure counts as the member's death.
    steps_.clear();
    steps_.push_back({Step::Kind::stop, i});
    steps_.push_back({Step::Kind::failed, i, std::move(message)});
  }
}

SUPERVISOR_INLINE void GroupCore::on_death(Death d) {
  Member& m = members_[d.member];
  if (m.incarnation != d.incarnation || m.state != MemberState::running) return;
  if (plan_ == Plan::stop || state_ == GroupState::stopped) return;
  if (plan_ != Plan::none) {
    pending_.push_back(std::move(d));  // after the plan, if it leaves the member running
    return;
  }
  handle_death(d.member, d.worker, std::move(d.why));
  next();
}

// Counts a death against the budget, and sets up the restarts it calls for (or the escalation);
// the caller then calls next().
SUPERVISOR_INLINE void GroupCore::handle_death(std::size_t i, std::size_t worker, std::string why) {
  Member& m = members_[i];
  const std::string& name = options_.members[i].name;
  ++m.deaths;
  emit(MemberDied{i, name, worker, why});
  if (escalated_) return;  // once: from now on the pools are on their own
  const int in_period = restarts_in_period();
  if (in_period >= options_.intensity) {
    escalated_ = true;
    const GroupEscalated e{
        i, name, why, options_.intensity, options_.period, options_.stop_on_escalation};
    emit(e);
    if (options_.on_escalation) guarded("on_escalation", [&] { options_.on_escalation(e); });
    if (options_.stop_on_escalation) {
      begin_stop(fmt::format("escalated: {} deaths within {}, then member \"{}\": {}",
                             options_.intensity, format_duration(options_.period), name, why));
    }
    return;
  }
  recent_.push_back(host_->now());
  ++restarts_;
  const std::vector<std::size_t> restart = affected(i);
  GroupRestarting r{i, name, {}, in_period + 1};
  for (std::size_t j : restart) r.members.push_back(options_.members[j].name);
  emit(std::move(r));
  if (restart.empty()) return;  // one_for_one: the pool restarts its worker
  plan_ = Plan::restart;
  state_ = GroupState::restarting;
  for (auto it = restart.rbegin(); it != restart.rend(); ++it)
    steps_.push_back({Step::Kind::stop, *it});
  for (std::size_t j : restart) steps_.push_back({Step::Kind::start, j});
}

SUPERVISOR_INLINE int GroupCore::restarts_in_period() {
  const TimePoint now = host_->now();
  while (!recent_.empty() && now - recent_.front() >= options_.period) recent_.pop_front();
  return static_cast<int>(recent_.size());
}

SUPERVISOR_INLINE std::vector<std::size_t> GroupCore::affected(std::size_t dead) const {
  std::vector<std::size_t> out;
  switch (options_.strategy) {
    case GroupStrategy::one_for_one:
      // The pool restarts its own workers, unless it gave one up, or it is gone (its restart
      // failed to start).
      if (options_.members[dead].failure == MemberFailure::worker_gave_up ||
          members_[dead].state == MemberState::stopped)
        out.push_back(dead);
      break;
    case GroupStrategy::one_for_all:
      for (std::size_t j = 0; j < members_.size(); ++j) out.push_back(j);
      break;
    case GroupStrategy::rest_for_one:
      for (std::size_t j = dead; j < members_.size(); ++j) out.push_back(j);
      break;
  }
  return out;
}

}  // namespace supervisor::detail
