// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Pool::update: revisions of the pool's spec, rolled out through the rollout part (rollouts.cpp)
// with a Deployment's semantics, and rolled back the same way when the rollout fails.
//
// Every slot carries the revision its process runs (or its next one will). New slots (the
// rollout's replacements, scale-ups, graceful replacements) start on the target revision; a
// slot's own restarts (after a crash, a recycle) keep its revision, as a ReplicaSet restarts its
// own pods, so an old worker that crashes mid-rollout comes back old and is replaced in its turn.
// The rollout part moves a slot onto the target by replacing it (max_surge) or restarting it in
// place (max_unavailable); a slot between processes (backoff, failed) is simply adopted.
#include <string>
#include <utility>

#include "pool_core.hpp"

namespace supervisor::detail {
SUPERVISOR_INLINE void PoolCore::update_async(
    const PoolUpdate& u, std::function<void(UpdateResult, std::error_code)> done) {
  ErrorSink err;
  err.keep_context = false;
  validate_update(u, options_, err);  // what it reads is fixed at construction
  done = guarded_callback(std::move(done), "update_async callback");
  auto self = shared_from_this();
  host_->post([self, u, err = err.code, done = std::move(done)]() mutable {
    if (err) {
      done({}, err);
      return;
    }
    self->start_update(std::move(u), std::move(done));
  });
}

// The blocking form: the spec's errors with their message (the field named), then the rollout.
SUPERVISOR_INLINE UpdateResult PoolCore::update(const PoolUpdate& u, ErrorSink& err) {
  validate_update(u, options_, err);
  if (err) return {};
  return blocking<UpdateResult>("update", err,
                                [&](auto done) { update_async(u, std::move(done)); });
}

SUPERVISOR_INLINE const std::shared_ptr<const ProcessSpec>& PoolCore::spec_of(
    std::uint64_t revision) const {
  if (revision == target_revision_) return shared_spec_;
  const auto it = old_specs_.find(revision);
  // Every live slot's revision has its spec (prune_revisions keeps them); a retired slot is
  // never started again before add_slot gives it the target.
  return it != old_specs_.end() ? it->second.spec : shared_spec_;
}

SUPERVISOR_INLINE std::shared_ptr<const std::vector<HealthCheck>> PoolCore::checks_of(
    std::uint64_t revision) const {
  if (revision == target_revision_) return target_checks_;
  const auto it = old_specs_.find(revision);
  return it != old_specs_.end() ? it->second.checks : target_checks_;
}

SUPERVISOR_INLINE void PoolCore::start_update(
    PoolUpdate u, std::function<void(UpdateResult, std::error_code)> done) {
  if (stopping_ || !running_) {
    done({}, stopping_ ? errc::stopped : errc::not_running);
    return;
  }
  if (update_ || rollouts_.rollout_running()) {
    done({}, errc::already_running);
    return;
  }
  // Not emplace(): clang decides Update (a nested aggregate with default member initializers)
  // is not default-constructible inside PoolCore's definition, and remembers it.
  update_ = Update{};
  Update& up = *update_;
  up.done = std::move(done);
  stable_revision_ = target_revision_;
  up.result.from_revision = stable_revision_;
  up.result.to_revision = ++last_revision_;
  old_specs_[stable_revision_] = RevisionSpec{shared_spec_, target_checks_};
  options_.spec = std::move(u.spec);
  shared_spec_ = std::make_shared<const ProcessSpec>(options_.spec);
  if (u.health_checks) {
    target_checks_ = std::make_shared<const std::vector<HealthCheck>>(std::move(*u.health_checks));
    u.health_checks.reset();
  }
  target_revision_ = up.result.to_revision;
  up.request = std::move(u);
  roll_out(stable_revision_, false);
}

// Rolls the workers not on the target revision onto it (the update, or its rollback), with the
// strategy's limits resolved against the size now.
SUPERVISOR_INLINE void PoolCore::roll_out(std::uint64_t from, bool rollback) {
  const RolloutStrategy& strategy = update_->request.strategy;
  const std::size_t size = live_slots();
  RollingRestart plan;
  plan.max_surge = strategy.max_surge.resolve(size, true);
  plan.max_unavailable = strategy.max_unavailable.resolve(size, false);
  if (plan.max_surge == 0 && plan.max_unavailable == 0) plan.max_unavailable = 1;  // as k8s
  plan.ready_timeout = strategy.progress_deadline;
  emit(RolloutStarted{from, target_revision_, rollback, plan.max_surge, plan.max_unavailable});
  auto self = shared_from_this();
  rollouts_.start_rollout(
      plan,
      [self, this, rollback](RolloutResult r, std::error_code ec) {
        if (ec) return finish_update(ec);
        if (rollback) return rolled_back(std::move(r));
        update_rolled_out(std::move(r));
      },
      target_revision_, strategy.min_ready);
}

SUPERVISOR_INLINE void PoolCore::update_rolled_out(RolloutResult r) {
  Update& up = *update_;
  up.result.updated = r.replaced;
  if (r.completed) {
    up.result.completed = true;
    up.result.revision = target_revision_;
    stable_revision_ = target_revision_;
    return finish_update();
  }
  up.result.why = r.why;
  if (!up.request.rollback_on_failure || stopping_) return finish_update();
  // Back to the old spec: the failed revision's workers are now the old ones.
  const std::uint64_t failed = target_revision_;
  emit(RolloutRolledBack{failed, stable_revision_, r.why});
  old_specs_[failed] = RevisionSpec{shared_spec_, target_checks_};
  shared_spec_ = old_specs_[stable_revision_].spec;
  target_checks_ = old_specs_[stable_revision_].checks;
  old_specs_.erase(stable_revision_);
  options_.spec = *shared_spec_;
  target_revision_ = stable_revision_;
  up.rolling_back = true;
  roll_out(failed, true);
}

SUPERVISOR_INLINE void PoolCore::rolled_back(RolloutResult r) {
  UpdateResult& res = update_->result;
  res.rolled_back = r.completed;
  if (r.completed) {
    res.revision = target_revision_;
  } else {
    res.why += "; rolling back failed too: " + r.why;
  }
  finish_update();
}

SUPERVISOR_INLINE void PoolCore::finish_update(std::error_code ec) {
  prune_revisions();
  UpdateResult result = std::move(update_->result);
  auto done = std::move(update_->done);
  update_.reset();
  if (done) done(std::move(result), ec);
}

// Drops the specs of revisions no live worker runs any more.
SUPERVISOR_INLINE void PoolCore::prune_revisions() {
  for (auto it = old_specs_.begin(); it != old_specs_.end();) {
    bool used = false;
    for (const Slot& s : slots_) {
      if (s.revision == it->first && !s.retiring && s.sm.state() != WorkerState::retired) {
        used = true;
        break;
      }
    }
    it = used ? std::next(it) : old_specs_.erase(it);
  }
}

SUPERVISOR_INLINE void PoolCore::adopt(std::size_t worker, std::uint64_t revision) {
  Slot& slot = slots_[worker];
  slot.revision = revision;
  if (slot.sm.state() == WorkerState::failed && !stopping_ && !slot.retiring)
    revive(slot, "update");
}

SUPERVISOR_INLINE RolloutStatus PoolCore::rollout_status() const {
  RolloutStatus s;
  s.active = update_.has_value();
  s.rolling_back = update_ && update_->rolling_back;
  s.current_revision = update_ ? stable_revision_ : target_revision_;
  s.target_revision = target_revision_;
  for (const Slot& slot : slots_) {
    const WorkerState st = slot.sm.state();
    if (slot.retiring || st == WorkerState::retired) continue;
    if (slot.revision != target_revision_) {
      ++s.old;
      continue;
    }
    ++s.updated;
    if (st == WorkerState::ready || st == WorkerState::leased) ++s.ready_updated;
  }
  return s;
}

}  // namespace supervisor::detail
