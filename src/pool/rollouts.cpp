// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "rollouts.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "../core/duration.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// Its process is ending or gone, and the slot will start another (a restart, a recycle, a
// revival): for an update, the next one simply starts on the target revision.
SUPERVISOR_INLINE bool between_processes(WorkerState st) {
  return st == WorkerState::backoff || st == WorkerState::failed || st == WorkerState::stopping ||
         st == WorkerState::draining;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void Rollouts::start_replacement(
    std::size_t old_index, Duration ready_timeout, bool rollout_member,
    std::function<void(bool, std::error_code)> done) {
  if (core_.stopping()) {
    if (done) done(false, errc::stopped);
    return;
  }
  if (old_index >= core_.slot_count() || !core_.replaceable(old_index)) {
    if (done) done(false, errc::invalid_argument);
    return;
  }
  const std::size_t i = core_.add_slot();
  SlotRollout& fresh = slots_[i];
  fresh.replaces = old_index;
  fresh.rollout_member = rollout_member;
  fresh.done = std::move(done);
  slots_[old_index].replaced_by = i;
  core_.emit(ReplacementStarted{old_index, i});
  fresh.deadline_timer =
      host_.add_timer(ready_timeout, [self = anchor_.shared_from_this(), this, i, ready_timeout] {
        slots_[i].deadline_timer = 0;
        if (slots_[i].replaces) abort(i, "not ready within " + format_duration(ready_timeout));
      });
  core_.spawn(i);
}

SUPERVISOR_INLINE bool Rollouts::idle(std::size_t worker) const {
  const SlotRollout& r = slots_[worker];
  if (r.replaces || r.replaced_by || r.deadline_timer || r.done || r.rollout_member ||
      r.restarting_in_place || r.settle_timer)
    return false;
  return !rollout_ ||
         std::find(rollout_->todo.begin(), rollout_->todo.end(), worker) == rollout_->todo.end();
}

SUPERVISOR_INLINE void Rollouts::on_ready(std::size_t worker) {
  SlotRollout& r = slots_[worker];
  const bool member = r.rollout_member || r.restarting_in_place;
  if (member && rollout_ && rollout_->min_ready > Duration::zero()) {
    // minReadySeconds: it counts only if it is still up once that has passed (an exit meanwhile
    // aborts a replacement, and an in-place restart waits for its next ready).
    cancel_settle(worker);
    r.settle_timer =
        host_.add_timer(rollout_->min_ready, [self = anchor_.shared_from_this(), this, worker] {
          slots_[worker].settle_timer = 0;
          const WorkerState st = core_.state(worker);
          if (st == WorkerState::ready || st == WorkerState::leased) settled(worker);
        });
    return;
  }
  settled(worker);
}

SUPERVISOR_INLINE void Rollouts::settled(std::size_t worker) {
  SlotRollout& r = slots_[worker];
  if (r.replaces) finish_replacement(worker);
  if (r.restarting_in_place) {
    r.restarting_in_place = false;
    cancel_deadline(worker);
    step(false, true, {}, worker);
  }
}

SUPERVISOR_INLINE void Rollouts::cancel_settle(std::size_t worker) {
  SlotRollout& r = slots_[worker];
  if (r.settle_timer) host_.cancel_timer(r.settle_timer);
  r.settle_timer = 0;
}

SUPERVISOR_INLINE void Rollouts::cancel_deadline(std::size_t worker) {
  SlotRollout& r = slots_[worker];
  if (r.deadline_timer) host_.cancel_timer(r.deadline_timer);
  r.deadline_timer = 0;
  cancel_settle(worker);
}

// The pair is over, either way: the old worker's index.
SUPERVISOR_INLINE std::size_t Rollouts::unpair(std::size_t fresh) {
  SlotRollout& r = slots_[fresh];
  const std::size_t old_index = *r.replaces;
  r.replaces.reset();
  cancel_deadline(fresh);
  slots_[old_index].replaced_by.reset();
  return old_index;
}

// Tells the replacement's caller, once, and its rollout, if it belongs to one.
SUPERVISOR_INLINE void Rollouts::conclude(std::size_t fresh, std::size_t old_index, bool ok,
                                          const std::string& why) {
  SlotRollout& r = slots_[fresh];
  auto done = std::move(r.done);
  r.done = nullptr;
  if (done) done(ok, {});
  if (r.rollout_member) {
    r.rollout_member = false;
    step(true, ok,
         ok ? std::string() : fmt::format("replacing worker {} failed: {}", old_index, why), fresh);
  } else if (rollout_ && rollout_->revision != 0) {
    // Another replacement (Pool::replace, the health score, graceful recycling) ended during an
    // update: the worker it leaves may still run an older revision; the update takes it too.
    const std::size_t survivor = ok ? fresh : old_index;
    Rollout& u = *rollout_;
    if (u.result.why.empty() && core_.revision(survivor) != u.revision &&
        std::find(u.todo.begin(), u.todo.end(), survivor) == u.todo.end()) {
      u.todo.push_back(survivor);
      ++u.result.total;
    }
    pump();
  }
}

// An update waits for replacements it does not run that involve an older revision: the worker
// each leaves is then the update's to replace (see conclude).
SUPERVISOR_INLINE bool Rollouts::outside_pairs() const {
  if (!rollout_ || rollout_->revision == 0) return false;
  for (std::size_t i = 0; i < slots_.size() && i < core_.slot_count(); ++i) {
    const SlotRollout& s = slots_[i];
    if (s.replaces && !s.rollout_member &&
        (core_.revision(i) != rollout_->revision ||
         core_.revision(*s.replaces) != rollout_->revision))
      return true;
  }
  return false;
}

SUPERVISOR_INLINE void Rollouts::finish_replacement(std::size_t fresh) {
  const std::size_t old_index = unpair(fresh);
  core_.emit(ReplacementFinished{old_index, fresh});
  core_.retire_worker(old_index);
  conclude(fresh, old_index, true, {});
}

SUPERVISOR_INLINE void Rollouts::abort(std::size_t worker, std::string why) {
  if (!slots_[worker].replaces) return;
  const std::size_t old_index = unpair(worker);
  core_.emit(ReplacementAborted{old_index, worker, why});
  core_.retire_worker(worker);
  conclude(worker, old_index, false, why);
}

SUPERVISOR_INLINE void Rollouts::start_rollout(
    const RollingRestart& o, std::function<void(RolloutResult, std::error_code)> done,
    std::uint64_t revision, Duration min_ready) {
  if (core_.stopping() || !core_.running()) {
    done({}, core_.stopping() ? errc::stopped : errc::not_running);
    return;
  }
  if (o.max_surge == 0 && o.max_unavailable == 0) {
    done({}, errc::invalid_argument);
    return;
  }
  if (rollout_) {
    done({}, errc::already_running);
    return;
  }
  Rollout r;
  r.options = o;
  r.done = std::move(done);
  r.revision = revision;
  r.min_ready = min_ready;
  for (std::size_t i = 0; i < core_.slot_count(); ++i) {
    if (revision != 0 && core_.revision(i) == revision) continue;
    const WorkerState st = core_.state(i);
    if (core_.replaceable(i) || (revision != 0 && between_processes(st))) r.todo.push_back(i);
  }
  r.result.total = r.todo.size();
  rollout_ = std::move(r);
  pump();
}

SUPERVISOR_INLINE void Rollouts::pump() {
  if (!rollout_) return;
  Rollout& r = *rollout_;
  while (r.result.why.empty() && !r.todo.empty() &&
         r.surging + r.restarting < r.options.max_surge + r.options.max_unavailable) {
    const std::size_t index = r.todo.front();
    r.todo.pop_front();
    if (!core_.replaceable(index)) {
      // Gone or replaced meanwhile: nothing left to do for it. Or, for an update, between two
      // processes: its next one starts on the target.
      if (r.revision != 0 && between_processes(core_.state(index))) core_.adopt(index, r.revision);
      ++r.result.replaced;
      continue;
    }
    if (r.surging < r.options.max_surge) {
      ++r.surging;
      start_replacement(index, r.options.ready_timeout, true, nullptr);
    } else {
      ++r.restarting;
      restart_in_place(index, r.options.ready_timeout);
    }
  }
  if (r.surging + r.restarting == 0 &&
      ((r.todo.empty() && !outside_pairs()) || !r.result.why.empty())) {
    RolloutResult result = r.result;
    result.completed = result.why.empty() && result.replaced == result.total;
    auto done = std::move(r.done);
    rollout_.reset();
    core_.emit(RolloutFinished{result});
    if (done) done(result, {});
  }
}

// A replacement of the rollout ended: count it, and start the next.
SUPERVISOR_INLINE void Rollouts::step(bool surge, bool ok, std::string why, std::size_t worker) {
  if (!rollout_) return;
  Rollout& r = *rollout_;
  std::size_t& in_flight = surge ? r.surging : r.restarting;
  if (in_flight > 0) --in_flight;
  if (ok) {
    ++r.result.replaced;
    if (r.revision != 0) {
      const RolloutStatus now = core_.rollout_status();
      core_.emit(RolloutProgress{r.revision, worker, now.updated, now.ready_updated, now.old});
    }
  } else if (r.result.why.empty()) {
    r.result.why = std::move(why);
  }
  pump();
}

// max_unavailable: stop the worker and start it again at once (no restart policy).
SUPERVISOR_INLINE void Rollouts::restart_in_place(std::size_t worker, Duration ready_timeout) {
  SlotRollout& r = slots_[worker];
  r.restarting_in_place = true;
  if (rollout_ && rollout_->revision != 0) core_.adopt(worker, rollout_->revision);
  r.deadline_timer =
      host_.add_timer(ready_timeout, [self = anchor_.shared_from_this(), this, worker] {
        SlotRollout& s = slots_[worker];
        s.deadline_timer = 0;
        if (!s.restarting_in_place) return;
        s.restarting_in_place = false;
        step(false, false, fmt::format("worker {} was not ready again in time", worker));
      });
  core_.recycle(worker, "rolling restart");
}

}  // namespace supervisor::detail
