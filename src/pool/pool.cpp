// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/pool.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/duration.hpp"
#include "core/validate.hpp"
#include "pool/health_runner.hpp"
#include "pool/lease_desk.hpp"
#include "pool/limit_watch.hpp"
#include "pool/pool_host.hpp"
#include "pool/pool_metrics.hpp"
#include "pool/rollouts.hpp"
#include "testing/fake_host.hpp"

namespace supervisor {
namespace detail {

// The pool's state and logic. Everything below `// loop thread` is touched only on the loop
// thread; `mu_` guards the few fields host threads wait on.
class PoolCore final : public std::enable_shared_from_this<PoolCore>,
                       public HealthRunner::Core,
                       public Rollouts::Core,
                       public LimitWatch::Core {
 public:
  PoolCore(std::shared_ptr<PoolHost> host, PoolOptions options)
      : host_(std::move(host)),
        options_(std::move(options)),
        desk_(options_.lease_fast_path && options_.recycle.max_leases == 0 &&
                  !options_.health_score.enabled,
              options_.lease_breaker.get()),
        health_(*this, *this, *host_, options_),
        rollouts_(*this, *this, *host_),
        limits_(*this, *this, *host_, options_) {
    if (!options_.restart_policy)
      options_.restart_policy = std::make_shared<StandardRestartPolicy>();
    shared_spec_ = std::make_shared<const ProcessSpec>(options_.spec);
    for (std::size_t i = 0; i < options_.size; ++i) add_slot();
  }

  // ---- host side -------------------------------------------------------------------------
  void attach_breakers() {
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

  void start(ErrorSink& err) {
    auto self = shared_from_this();
    host_->run_sync([&] {
      if (running_ || stopped_) {
        err.fail(running_ ? errc::already_running : errc::stopped, [&] {
          return std::string(running_ ? "Pool::start: already started"
                                      : "Pool::start: the pool was stopped");
        });
        return;
      }
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
      if (!err) open_desk();
    });
    if (err) stop();  // a misconfigured pool leaves nothing running
  }

  void stop() {
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

  bool drain(Duration timeout) {
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

  void set_resources(const ResourceLimits& limits, ErrorSink& err) {
    ProcessSpec checked = options_.spec;
    checked.resources = limits;
    validate_spec(checked, err);
    if (err) return;
    auto self = shared_from_this();
    host_->run_sync([&] {
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

  void set_group_resources(const ResourceLimits& limits, ErrorSink& err) {
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

  GroupSample group_sample() {
    auto self = shared_from_this();
    return host_->run_sync(
        [self] { return self->group_ ? self->group_->sample() : GroupSample{}; });
  }

  void resize(std::size_t size, ErrorSink& err) {
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

  bool retired() {
    std::lock_guard lock(mu_);
    return all_retired_;
  }

  // A host's completion callback, as the loop calls it: what it throws is caught and reported
  // like a strategy's exception, never thrown through the pool's own bookkeeping. Called only by
  // this PoolCore, on the loop, so `this` is alive.
  template <class... Args>
  std::function<void(Args...)> guarded_callback(std::function<void(Args...)> fn,
                                                std::string_view where) {
    if (!fn) return fn;
    return [this, fn = std::move(fn), where](Args... args) {
      guarded(where, [&] { fn(std::forward<Args>(args)...); });
    };
  }

  void acquire_async(Duration timeout, std::function<void(Lease, std::error_code)> done) {
    auto self = shared_from_this();
    done = guarded_callback(std::move(done), "acquire_async callback");
    host_->post([self, timeout, done = std::move(done)]() mutable {
      self->enqueue(timeout, [done = std::move(done)](Lease l, std::error_code ec, std::string) {
        done(std::move(l), ec);
      });
    });
  }

  void replace_async(std::size_t worker, Duration timeout,
                     std::function<void(bool, std::error_code)> done) {
    auto self = shared_from_this();
    done = guarded_callback(std::move(done), "replace_async callback");
    host_->post([self, worker, timeout, done = std::move(done)]() mutable {
      self->rollouts_.start_replacement(worker, timeout, false, std::move(done));
    });
  }

  void rolling_restart_async(const RollingRestart& o,
                             std::function<void(RolloutResult, std::error_code)> done) {
    auto self = shared_from_this();
    done = guarded_callback(std::move(done), "rolling_restart_async callback");
    host_->post([self, o, done = std::move(done)]() mutable {
      self->rollouts_.start_rollout(o, std::move(done));
    });
  }

  // Blocking forms, host threads only: the loop thread would wait for itself.
  template <class R, class Start>
  R blocking(const char* what, ErrorSink& err, Start&& start) {
    if (host_->in_loop()) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("Pool::{}: blocking on the loop thread would deadlock; use {}_async",
                           what, what);
      });
      return R{};
    }
    auto promise = std::make_shared<std::promise<std::pair<R, std::error_code>>>();
    auto future = promise->get_future();
    start([promise](R r, std::error_code ec) { promise->set_value({std::move(r), ec}); });
    std::pair<R, std::error_code> got = future.get();
    const std::error_code ec = got.second;
    if (ec) err.fail(ec, [&] { return fmt::format("Pool::{}: {}", what, ec.message()); });
    return std::move(got.first);
  }

  Lease acquire(Duration timeout, ErrorSink& err) {
    auto self = shared_from_this();
    if (Lease fast; desk_acquire(fast)) return fast;
    if (host_->in_loop()) {
      Lease out;
      if (timeout > Duration::zero()) {
        err.fail(errc::invalid_argument, [] {
          return std::string(
              "Pool::acquire: a blocking acquire on the loop thread would deadlock; use timeout 0");
        });
        return out;
      }
      enqueue(Duration::zero(), [&](Lease l, std::error_code ec, std::string msg) {
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
    host_->post([self, timeout, promise] {
      self->enqueue(timeout, [promise](Lease l, std::error_code ec, std::string msg) {
        promise->set_value(Result{std::move(l), ec, std::move(msg)});
      });
    });
    Result r = future.get();
    if (r.ec) err.fail(r.ec, [&] { return r.msg; });
    return std::move(r.lease);
  }

  bool wait_ready(std::size_t count, Duration timeout) {
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

  PoolSnapshot snapshot() {
    auto self = shared_from_this();
    return host_->run_sync([self] { return self->build_snapshot(); });
  }

  std::vector<PoolEvent> history() {
    auto self = shared_from_this();
    return host_->run_sync([self] {
      std::vector<PoolEvent> out;
      out.reserve(self->history_.size());
      for (const auto& ev : self->history_) out.push_back(*ev);
      return out;
    });
  }

  std::uint64_t subscribe(std::function<void(const PoolEvent&)> fn) {
    auto self = shared_from_this();
    return host_->run_sync([self, &fn] {
      const std::uint64_t id = ++self->next_subscriber_;
      auto next = std::make_shared<Subscribers>(*self->subscribers_);
      next->emplace(id, std::move(fn));
      self->subscribers_ = std::move(next);
      return id;
    });
  }

  void unsubscribe(std::uint64_t id) {
    auto self = shared_from_this();
    host_->run_sync([self, id] {
      auto next = std::make_shared<Subscribers>(*self->subscribers_);
      next->erase(id);
      self->subscribers_ = std::move(next);
    });
  }

  void release(std::size_t worker, std::uint64_t incarnation, LeaseOutcome outcome,
               TimePoint acquired, bool fast) {
    auto self = shared_from_this();
    if (fast && desk_release(worker, incarnation, outcome, acquired)) return;
    host_->post([self, worker, incarnation, outcome, acquired] {
      self->on_release(worker, incarnation, outcome, acquired);
    });
  }

  // ---- the lease desk (any thread) ----------------------------------------------------------
  bool desk_acquire(Lease& out) {
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
    return true;
  }

  bool desk_release(std::size_t worker, std::uint64_t incarnation, LeaseOutcome outcome,
                    TimePoint acquired) {
    switch (desk_.give_back(worker, incarnation, outcome, acquired, now())) {
      case LeaseDesk::Return::not_lent: return false;
      case LeaseDesk::Return::on_desk: return true;
      case LeaseDesk::Return::closed: break;
    }
    auto self = shared_from_this();
    host_->post([self, worker, incarnation] { self->desk_returned(worker, incarnation); });
    return true;
  }

 private:
  struct Slot {
    std::size_t index;
    WorkerStateMachine sm;
    std::unique_ptr<WorkerProcess> worker{};
    std::uint64_t restarts = 0;
    std::uint64_t leases = 0;
    std::array<std::uint64_t, exit_reason_count> exits{};  // by ExitReason
    std::uint64_t timer = 0;
    bool retiring = false;
    std::optional<ExitStatus> last_exit{};
    // sd_notify, per incarnation
    std::unique_ptr<NotifyChannel> notify{};
    std::uint64_t watchdog_timer = 0;
    bool watchdog_fired = false;
    std::string status{};
    bool recycling = false;                // stopping as planned: start again at once
    std::uint64_t incarnation_leases = 0;  // leases of the current process
    std::uint64_t recycle_timer = 0;
  };
  struct Waiter {
    std::uint64_t id;
    TimePoint since;
    std::function<void(Lease, std::error_code, std::string)> done;
    std::uint64_t timer = 0;
  };

  TimePoint now() const { return host_->now(); }

  // A new slot at the end, not started; its index. Every part learns of it.
  std::size_t add_slot() override {
    const std::size_t i = slots_.size();
    slots_.push_back(Slot{i, WorkerStateMachine(i, WorkerState::backoff, now())});
    desk_.add_slot();
    health_.add_slot();
    rollouts_.add_slot();
    return i;
  }

  // ---- the parts' view of the core (loop thread): see HealthRunner::Core --------------------
  [[nodiscard]] bool stopping() const override { return stopping_; }
  [[nodiscard]] std::uint64_t incarnation(std::size_t worker) const override {
    return slots_[worker].sm.incarnation();
  }
  [[nodiscard]] WorkerState state(std::size_t worker) const override {
    return slots_[worker].sm.state();
  }
  void withdraw(std::size_t worker) override { withdraw(slots_[worker]); }
  void stop_unhealthy(std::size_t worker, std::string cause) override {
    Slot& slot = slots_[worker];
    move_to(slot, WorkerState::stopping, std::move(cause));
    if (slot.worker) slot.worker->request_stop();
  }
  void become_ready(std::size_t worker, std::string cause) override {
    become_ready(slots_[worker], std::move(cause));
  }
  void offer(std::size_t worker) override {
    serve_waiters();
    put_on_desk(slots_[worker]);
  }
  [[nodiscard]] bool replaceable(std::size_t worker) const override {
    return replaceable(slots_[worker]);
  }
  void replace(std::size_t worker, Duration ready_timeout) override {
    rollouts_.start_replacement(worker, ready_timeout, false, nullptr);
  }
  // ... and Rollouts::Core
  [[nodiscard]] bool running() const override { return running_; }
  [[nodiscard]] std::size_t slot_count() const override { return slots_.size(); }
  void spawn(std::size_t worker) override { spawn(slots_[worker], nullptr); }
  void retire_worker(std::size_t worker) override {
    Slot& s = slots_[worker];
    if (!s.retiring && s.sm.state() != WorkerState::retired) retire_slot(s);
  }
  void recycle(std::size_t worker, std::string why) override {
    recycle(slots_[worker], std::move(why));
  }
  // ... and LimitWatch::Core
  [[nodiscard]] WorkerProcess* process(std::size_t worker) const override {
    return slots_[worker].worker.get();
  }
  [[nodiscard]] bool leased(std::size_t worker) override {
    return slots_[worker].sm.state() == WorkerState::leased || lent_on_desk(slots_[worker]);
  }

  // ---- loop thread -------------------------------------------------------------------------
  void report_error(std::string_view where) noexcept override {
    ++metrics_.strategy_errors;
    if (!options_.error_handler) return;
    try {
      options_.error_handler(std::current_exception(), where);
    } catch (...) {
    }
  }

  void emit(PoolEventData data) override {
    // Shared with the history, not copied into it (an event holds strings): the history may drop
    // it while a subscriber still looks at it (a subscriber's action emitting more).
    const auto shared = std::make_shared<const PoolEvent>(
        PoolEvent{++sequence_, now(), host_->wall_now(), std::move(data)});
    const PoolEvent& ev = *shared;
    history_.push_back(shared);
    while (history_.size() > options_.history_size) history_.pop_front();
    // Copy-on-write: a subscriber may (un)subscribe while this walks the current set.
    const std::shared_ptr<const Subscribers> subscribers = subscribers_;
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

  void move_to(Slot& slot, WorkerState to, std::string cause) {
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
  }

  // What launch() started: the process, and its notify channel when the pool uses one.
  struct Launch {
    std::unique_ptr<WorkerProcess> worker;
    std::unique_ptr<NotifyChannel> notify;
    ErrorSink err;
  };

  // Starts the process of incarnation `incarnation` of worker `index` (the slot records it in
  // spawn()). Its exit and its notes are matched to that incarnation.
  Launch launch(std::size_t index, std::uint64_t incarnation) {
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
      if (!l.err) {
        auto spec = std::make_shared<ProcessSpec>(options_.spec);  // this incarnation's socket
        spec->env.set["NOTIFY_SOCKET"] = l.notify->address();
        if (options_.watchdog > Duration::zero()) {
          spec->env.set["WATCHDOG_USEC"] = std::to_string(
              std::chrono::duration_cast<std::chrono::microseconds>(options_.watchdog).count());
        }
        l.worker = host_->spawn(std::move(spec), options_.containment, group_.get(),
                                std::move(on_exit), l.err);
      }
    } else {
      l.worker =
          host_->spawn(shared_spec_, options_.containment, group_.get(), std::move(on_exit), l.err);
    }
    if (!l.err && !l.worker)
      l.err.fail(errc::internal, [] { return std::string("spawn returned no process"); });
    if (l.err) l.notify.reset();
    return l;
  }

  // Moves `slot` to its next incarnation and starts it, or takes `launched`: that incarnation's
  // process, started ahead by on_exit's fast path.
  void spawn(Slot& slot, ErrorSink* first_start_err, std::optional<Launch> launched = {}) {
    slot.timer = 0;
    move_to(slot, WorkerState::starting, slot.sm.incarnation() == 0 ? "start" : "restart");
    if (slot.sm.incarnation() > 1) ++slot.restarts, ++metrics_.restarts;
    const std::size_t index = slot.index;
    const std::uint64_t incarnation = slot.sm.incarnation();
    Launch l = launched ? std::move(*launched) : launch(index, incarnation);
    slot.notify = std::move(l.notify);
    ErrorSink& err = l.err;
    std::unique_ptr<WorkerProcess> worker = std::move(l.worker);
    if (err) {
      ++metrics_.spawn_failures;
      emit(SpawnFailed{slot.index, err.code, err.context});
      if (first_start_err) {
        first_start_err->fail(err.code, [&] { return err.context; });
        move_to(slot, WorkerState::exited, "spawn failed");
        return;
      }
      ExitStatus st;
      st.reason = ExitReason::spawn_failed;
      move_to(slot, WorkerState::exited, "spawn failed: " + err.context);
      decide(slot, st);
      return;
    }
    slot.worker = std::move(worker);
    health_.renew_score(index);
    slot.incarnation_leases = 0;
    slot.recycling = false;
    if (options_.recycle.max_runtime > Duration::zero()) {
      auto self = shared_from_this();
      slot.recycle_timer =
          host_->add_timer(options_.recycle.max_runtime, [self, index, incarnation] {
            Slot& s = self->slots_[index];
            s.recycle_timer = 0;
            if (s.sm.incarnation() == incarnation) self->recycle(s, "reached its maximum runtime");
          });
    }
    emit(WorkerSpawned{slot.index, slot.sm.incarnation(), slot.worker->pid()});
    if (!options_.spec.resources.empty()) limits_.report_unenforced(index, *slot.worker);
    guarded("restart_policy.on_started",
            [&] { options_.restart_policy->on_started(slot.index, now()); });
    if (slot.notify) {
      slot.watchdog_fired = false;
      arm_watchdog(slot);
    }
    health_.start(index, incarnation, pid_of(slot));
    if (options_.readiness.mode == Readiness::Mode::immediate) {
      become_ready(slot, "ready: started");
    } else if (options_.readiness.mode == Readiness::Mode::notify) {
      if (options_.readiness.delay > Duration::zero()) {
        auto self = shared_from_this();
        slot.timer = host_->add_timer(options_.readiness.delay, [self, index, incarnation] {
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

  bool uses_notify() const {
    return options_.readiness.mode == Readiness::Mode::notify ||
           options_.watchdog > Duration::zero();
  }

  void arm_watchdog(Slot& slot) {
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

  void on_note(std::size_t index, std::uint64_t incarnation, const NotifyNote& m) {
    Slot& slot = slots_[index];
    if (slot.sm.incarnation() != incarnation || !slot.notify) return;
    // NotifyAccess=main by default: only the worker's main process speaks for it.
    if (!options_.notify_access_all && m.sender != pid_of(slot)) {
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

  static int pid_of(const Slot& slot) { return slot.worker ? slot.worker->pid() : 0; }

  // The incarnation is over: its notify socket and watchdog go with it.
  void teardown_incarnation(Slot& slot) {
    health_.stop(slot.index);
    slot.notify.reset();
    if (slot.watchdog_timer) host_->cancel_timer(slot.watchdog_timer);
    slot.watchdog_timer = 0;
    if (slot.recycle_timer) host_->cancel_timer(slot.recycle_timer);
    slot.recycle_timer = 0;
  }

  // A planned replacement: stop now if idle, after the lease if leased.
  void recycle(Slot& slot, std::string why) {
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

  template <class F>
  void guarded(std::string_view where, F&& f) {
    detail::guarded(static_cast<HealthRunner::Core&>(*this), where, std::forward<F>(f));
  }

  void become_ready(Slot& slot, std::string cause) {
    if (!health_.clear_to_serve(slot.index)) return;
    metrics_.start_to_ready.observe(std::chrono::duration<double>(now() - slot.sm.since()).count());
    move_to(slot, WorkerState::ready, std::move(cause));
    guarded("restart_policy.on_ready",
            [&] { options_.restart_policy->on_ready(slot.index, now()); });
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

  // Replacement and rollouts: see rollouts.hpp.
  bool replaceable(const Slot& s) const {
    return !s.retiring && !rollouts_.involved(s.index) &&
           (s.sm.state() == WorkerState::starting || s.sm.state() == WorkerState::ready ||
            s.sm.state() == WorkerState::leased);
  }

  void on_exit(std::size_t index, std::uint64_t incarnation, ExitStatus st) {
    Slot& slot = slots_[index];
    if (slot.sm.incarnation() != incarnation) {
      forget_discarded(index, incarnation);
      return;
    }
    if (slot.timer) host_->cancel_timer(slot.timer);
    slot.timer = 0;
    teardown_incarnation(slot);
    if (slot.watchdog_fired) {
      st.reason = ExitReason::watchdog;  // we killed it because its heartbeat stopped
      slot.watchdog_fired = false;
    }
    if (health_.take_stop_verdict(index))
      st.reason = ExitReason::unhealthy;  // we stopped it because a check kept failing
    // Fast path of an immediate restart: the policy decides first, and the replacement starts
    // before the bookkeeping of this exit (events, counters, limiters), which then runs as
    // always; the process is already on its way meanwhile. Only where nothing else decides
    // (no breaker, no stop, retirement, recycling or replacement under way).
    std::optional<RestartDecision> early;
    std::optional<Launch> launched;
    if (!stopping_ && !slot.retiring && !slot.recycling && !rollouts_.replacing(index) &&
        !options_.restart_breaker && emitting_ == 0) {
      early = ask_restart_policy(slot, st);
      if (early->restart && early->delay <= Duration::zero())
        launched = launch(index, slot.sm.incarnation() + 1);
    }
    slot.last_exit = st;
    // By reason, per worker; the pool's totals are their sums (slots are never removed). A value
    // outside the enum counts as `unknown`, the name to_string gives it.
    ++slot.exits[std::min(static_cast<std::size_t>(st.reason),
                          static_cast<std::size_t>(ExitReason::unknown))];
    metrics_.worker_uptime.observe(std::chrono::duration<double>(st.uptime).count());
    move_to(slot, WorkerState::exited, "exited: " + st.describe());
    emit(WorkerExited{index, incarnation, st});
    limits_.on_exit(index, incarnation, st);
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

  // A process started ahead for an incarnation its slot will never reach (the slot retires, and a
  // retired slot is never reused): killed now, and waited for like a worker before the pool
  // counts as stopped. It was never announced, so its exit is not either.
  void discard_launch(std::size_t index, std::uint64_t incarnation, Launch l) {
    if (!l.worker) return;
    l.worker->request_kill();
    discarded_.push_back(Discarded{index, incarnation, std::move(l.worker)});
  }

  void forget_discarded(std::size_t index, std::uint64_t incarnation) {
    const auto it = std::find_if(discarded_.begin(), discarded_.end(), [&](const Discarded& d) {
      return d.index == index && d.incarnation == incarnation;
    });
    if (it == discarded_.end()) return;
    discarded_.erase(it);
    check_all_retired();
  }

  RestartDecision ask_restart_policy(const Slot& slot, const ExitStatus& st) {
    try {
      return options_.restart_policy->on_exit(RestartContext{slot.index, st, now()});
    } catch (...) {
      report_error("restart_policy.on_exit");
      return RestartDecision::after(policy_error_restart_delay,
                                    "the restart policy threw; restarting after the default delay");
    }
  }

  // `early`: the policy's decision, already asked for (and `launched`, the process it started).
  void decide(Slot& slot, const ExitStatus& st, std::optional<RestartDecision> early = {},
              std::optional<Launch> launched = {}) {
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

  void schedule_restart(Slot& slot, Duration delay) {
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

  void retire(Slot& slot, std::string cause) {
    if (slot.timer) host_->cancel_timer(slot.timer);
    slot.timer = 0;
    rollouts_.cancel_deadline(slot.index);
    health_.clear_out_for_health(slot.index);
    if (rollouts_.replacing(slot.index)) rollouts_.abort(slot.index, std::move(cause));
    if (slot.sm.state() != WorkerState::retired)
      move_to(slot, WorkerState::retired, std::move(cause));
    guarded("restart_policy.forget", [&] { options_.restart_policy->forget(slot.index); });
    check_all_retired();
  }

  void check_all_retired() {
    if (!stopping_ || !discarded_.empty()) return;
    for (auto& s : slots_) {
      if (s.sm.state() != WorkerState::retired) return;
    }
    running_ = false;
    std::lock_guard lock(mu_);
    all_retired_ = true;
    cv_.notify_all();
  }

  void schedule_scaling() {
    auto self = shared_from_this();
    scaling_timer_ = host_->add_timer(options_.scaling_period, [self] {
      self->scaling_timer_ = 0;
      if (self->stopping_) return;
      self->evaluate_scaling();
      self->schedule_scaling();
    });
  }

  void evaluate_scaling() {
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
    if (want != in.size && !draining_) apply_resize(want);
  }

  void begin_drain() {
    draining_ = true;
    desk_.close();
    for (auto& w : waiters_) {
      if (w.timer) host_->cancel_timer(w.timer);
      w.done(Lease(), errc::stopped, "Pool::acquire: the pool is draining");
    }
    waiters_.clear();
  }

  std::size_t live_slots() const {
    std::size_t n = 0;
    for (const auto& s : slots_) {
      if (s.sm.state() != WorkerState::retired && !s.retiring) ++n;
    }
    return n;
  }

  void apply_resize(std::size_t size) {
    std::size_t live = live_slots();
    // Grow: new slots at the end. A retired slot is never reused, so that a late callback of
    // its last incarnation can never be mistaken for a new worker's.
    while (live < size) {
      add_slot();
      ++live;
      if (running_) spawn(slots_.back(), nullptr);
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
  }

  // Takes a slot out of the pool: at once when it has no process, after its lease otherwise.
  void retire_slot(Slot& s) {
    withdraw(s);
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

  void begin_stop() {
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

  // Lease desk, loop side -------------------------------------------------------------------
  // Puts an idle, serving worker on the desk, if the desk is open and nobody waits in the loop.
  void put_on_desk(Slot& slot) {
    if (!desk_.enabled() || desk_.holds(slot.index) || slot.sm.state() != WorkerState::ready ||
        !health_.serving(slot.index) || !waiters_.empty() || slot.retiring)
      return;
    desk_.put(LeaseDesk::Worker{slot.index, slot.sm.incarnation(), pid_of(slot)});
  }

  // Takes a worker back from the desk before the loop changes its state. One that a host thread
  // holds a lease on becomes an ordinary `leased` worker (its release then comes to the loop).
  void withdraw(Slot& slot) {
    if (desk_.withdraw(slot.index) && slot.sm.state() == WorkerState::ready)
      move_to(slot, WorkerState::leased, "leased (fast path), taken back by the loop");
  }

  // Opens the desk when nothing waits in the loop, and puts every idle worker on it.
  void open_desk() {
    if (!desk_.enabled() || !waiters_.empty() || !running_ || stopping_ || draining_) return;
    desk_.open();
    for (auto& s : slots_) put_on_desk(s);
  }

  // A host thread gave back a desk lease while the desk was closed.
  void desk_returned(std::size_t index, std::uint64_t incarnation) {
    Slot& slot = slots_[index];
    {
      std::lock_guard lock(mu_);
      cv_.notify_all();  // drain() may be waiting for it
    }
    if (slot.sm.incarnation() != incarnation || !desk_.holds(index)) return;
    desk_.returned(index);
    serve_waiters();
  }

  bool lent_on_desk(const Slot& slot) { return desk_.lent(slot.index, slot.sm.incarnation()); }

  // Leases ---------------------------------------------------------------------------------
  void enqueue(Duration timeout, std::function<void(Lease, std::error_code, std::string)> done) {
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

  void time_out(Waiter& w) {
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
  Slot* pick_ready() {
    Slot* best = nullptr;
    for (auto& s : slots_) {
      if (s.sm.state() == WorkerState::ready && health_.serving(s.index) && !desk_.holds(s.index) &&
          (!best || s.sm.since() < best->sm.since()))
        best = &s;
    }
    return best;
  }

  void hand_out(Slot& slot, Waiter& w) {
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
    w.done(std::move(lease), {}, {});
  }

  void serve_waiters() {
    while (!waiters_.empty()) {
      Slot* s = pick_ready();
      if (!s) return;
      Waiter w = std::move(waiters_.front());
      waiters_.pop_front();
      hand_out(*s, w);
    }
    open_desk();
  }

  void on_release(std::size_t worker, std::uint64_t incarnation, LeaseOutcome outcome,
                  TimePoint acquired) {
    const TimePoint t = now();
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

  PoolSnapshot build_snapshot() {
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
      const bool alive = w.state == WorkerState::starting || w.state == WorkerState::ready ||
                         w.state == WorkerState::leased || w.state == WorkerState::draining ||
                         w.state == WorkerState::stopping;
      w.pid = alive ? pid_of(slot) : 0;
      w.restarts = slot.restarts;
      w.leases = slot.leases;
      desk.describe(desk_.holds(slot.index), w);
      w.last_exit = slot.last_exit;
      w.exits_by_reason = slot.exits;
      w.status = slot.status;
      PoolMetrics::describe_times(slot.sm, now(), w);
      health_.describe(slot.index, w);
      PoolMetrics::add_worker(s, std::move(w));
    }
    s.waiting = waiters_.size();
    metrics_.fill(s, desk);
    limits_.fill(s);
    health_.fill(s);
    guarded("restart_breaker", [&] {
      if (options_.restart_breaker) s.restart_breaker = options_.restart_breaker->state(now());
    });
    guarded("lease_breaker", [&] {
      if (options_.lease_breaker) s.lease_breaker = options_.lease_breaker->state(now());
    });
    return s;
  }

  std::shared_ptr<PoolHost> host_;
  PoolOptions options_;
  LeaseDesk desk_;                                  // see lease_desk.hpp
  HealthRunner health_;                             // see health_runner.hpp
  Rollouts rollouts_;                               // see rollouts.hpp
  LimitWatch limits_;                               // see limit_watch.hpp
  std::shared_ptr<const ProcessSpec> shared_spec_;  // one spec for every worker
  // A deque: growing never moves a slot, so a `Slot&` held up the stack stays valid.
  std::deque<Slot> slots_;
  struct Discarded {
    std::size_t index = 0;
    std::uint64_t incarnation = 0;
    std::unique_ptr<WorkerProcess> worker;
  };
  std::vector<Discarded> discarded_;  // (loop) see discard_launch
  int emitting_ = 0;                  // > 0 while subscribers run: structural changes are deferred
  std::deque<Waiter> waiters_;
  Duration longest_wait_{};  // (loop) of acquires served or timed out since the last scaling look
  std::deque<std::shared_ptr<const PoolEvent>> history_;
  using Subscribers = std::map<std::uint64_t, std::function<void(const PoolEvent&)>>;
  std::shared_ptr<const Subscribers> subscribers_ = std::make_shared<const Subscribers>();
  std::uint64_t next_subscriber_ = 0;
  std::uint64_t next_waiter_ = 0;
  std::uint64_t sequence_ = 0;
  std::uint64_t scaling_timer_ = 0;
  std::unique_ptr<WorkerGroup> group_;  // the workers' group, if any (loop)
  bool group_owned_ = false;            // made for PoolOptions::group_resources
  PoolMetrics metrics_;                 // (loop)
  bool running_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  bool draining_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t ready_or_leased_ = 0;  // (mu_)
  std::size_t leased_ = 0;           // (mu_)
  bool all_retired_ = false;         // (mu_)
};

}  // namespace detail

// ------------------------------------------------------------------------------------------

namespace {

void validate_pool(const PoolOptions& o, detail::ErrorSink& err) {
  detail::validate_spec(o.spec, err);
  if (err) return;
  if (o.size == 0) {
    err.fail(errc::invalid_argument,
             [] { return std::string("PoolOptions.size: 0 (at least 1 worker)"); });
    return;
  }
  detail::validate_group_limits(o.group_resources, "PoolOptions.group_resources", err);
  if (err) return;
  if (o.size > 100000) {
    err.fail(errc::invalid_argument,
             [&] { return fmt::format("PoolOptions.size: {} (at most 100000)", o.size); });
    return;
  }
  if (o.min_size == 0 || o.min_size > o.max_size || o.size < o.min_size || o.size > o.max_size) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "PoolOptions: size {} must lie in [min_size {}, max_size {}], min_size >= 1", o.size,
          o.min_size, o.max_size);
    });
    return;
  }
  if (o.scaling && o.scaling_period <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.scaling_period: {}ns (must be positive)",
                         o.scaling_period.count());
    });
    return;
  }
  if (o.recycle.max_runtime < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.recycle.max_runtime: negative ({}ns)",
                         o.recycle.max_runtime.count());
    });
    return;
  }
  if (o.limit_watch_period < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.limit_watch_period: negative ({}ns)",
                         o.limit_watch_period.count());
    });
    return;
  }
  if (o.watchdog < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.watchdog: negative ({}ns)", o.watchdog.count());
    });
    return;
  }
  if (o.readiness.mode != Readiness::Mode::immediate && o.readiness.delay < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.readiness.delay: negative ({}ns)", o.readiness.delay.count());
    });
    return;
  }
  if (o.history_size == 0) {
    err.fail(errc::invalid_argument,
             [] { return std::string("PoolOptions.history_size: 0 (at least 1)"); });
  }
}

}  // namespace

void validate(const PoolOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { validate_pool(options, err); });
}

void validate(const PoolOptions& options, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { validate_pool(options, err); });
}

Lease::Lease() noexcept = default;
Lease::~Lease() { release(); }
Lease::Lease(Lease&& o) noexcept
    : core_(std::move(o.core_)),
      worker_(o.worker_),
      incarnation_(o.incarnation_),
      pid_(o.pid_),
      acquired_(o.acquired_),
      fast_(o.fast_) {}

Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    core_ = std::move(o.core_);
    worker_ = o.worker_;
    incarnation_ = o.incarnation_;
    pid_ = o.pid_;
    acquired_ = o.acquired_;
    fast_ = o.fast_;
  }
  return *this;
}

void Lease::release(LeaseOutcome outcome) noexcept {
  if (!core_) return;
  auto core = std::move(core_);
  core_.reset();
  try {
    core->release(worker_, incarnation_, outcome, acquired_, fast_);
  } catch (...) {
    // Out of memory while posting: the worker stays leased until the pool stops.
  }
}

Pool::Pool(Loop& loop, PoolOptions options) {
  validate(options);
  core_ = std::make_shared<detail::PoolCore>(detail::make_real_pool_host(loop.core_),
                                             std::move(options));
  core_->attach_breakers();
}

Pool::Pool(PoolOptions options) {
  validate(options);
  own_loop_ = std::make_unique<Loop>();
  core_ = std::make_shared<detail::PoolCore>(detail::make_real_pool_host(own_loop_->core_),
                                             std::move(options));
  core_->attach_breakers();
}

Pool::Pool(testing::FakeWorld& world, PoolOptions options) {
  validate(options);
  core_ = std::make_shared<detail::PoolCore>(world.host_, std::move(options));
  core_->attach_breakers();
}

void Pool::acquire_async(Duration timeout, std::function<void(Lease, std::error_code)> done) {
  core_->acquire_async(timeout, std::move(done));
}

Pool::~Pool() {
  try {
    stop();
  } catch (...) {
  }
}

void Pool::start() {
  detail::or_throw([&](detail::ErrorSink& err) { core_->start(err); });
}

void Pool::start(std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->start(err); });
}

void Pool::stop() { core_->stop(); }

Lease Pool::acquire(Duration timeout) {
  return detail::or_throw([&](detail::ErrorSink& err) { return core_->acquire(timeout, err); });
}

Lease Pool::acquire(Duration timeout, std::error_code& ec) noexcept {
  return detail::into_code(ec,
                           [&](detail::ErrorSink& err) { return core_->acquire(timeout, err); });
}

bool Pool::drain(Duration timeout) { return core_->drain(timeout); }

bool Pool::replace(std::size_t worker, Duration ready_timeout) {
  return detail::or_throw([&](detail::ErrorSink& err) {
    return core_->blocking<bool>("replace", err, [&](auto done) {
      core_->replace_async(worker, ready_timeout, std::move(done));
    });
  });
}

void Pool::replace_async(std::size_t worker, Duration ready_timeout,
                         std::function<void(bool, std::error_code)> done) {
  core_->replace_async(worker, ready_timeout, std::move(done));
}

RolloutResult Pool::rolling_restart(const RollingRestart& options) {
  return detail::or_throw([&](detail::ErrorSink& err) {
    return core_->blocking<RolloutResult>("rolling_restart", err, [&](auto done) {
      core_->rolling_restart_async(options, std::move(done));
    });
  });
}

void Pool::rolling_restart_async(const RollingRestart& options,
                                 std::function<void(RolloutResult, std::error_code)> done) {
  core_->rolling_restart_async(options, std::move(done));
}

void Pool::set_group_resources(const ResourceLimits& limits) {
  detail::or_throw([&](detail::ErrorSink& err) { core_->set_group_resources(limits, err); });
}

void Pool::set_group_resources(const ResourceLimits& limits, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->set_group_resources(limits, err); });
}

GroupSample Pool::group_sample() const { return core_->group_sample(); }

void Pool::set_resources(const ResourceLimits& limits) {
  detail::or_throw([&](detail::ErrorSink& err) { core_->set_resources(limits, err); });
}

void Pool::set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->set_resources(limits, err); });
}

void Pool::resize(std::size_t size) {
  detail::or_throw([&](detail::ErrorSink& err) { core_->resize(size, err); });
}

void Pool::resize(std::size_t size, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->resize(size, err); });
}

bool Pool::wait_ready(std::size_t count, Duration timeout) {
  return core_->wait_ready(count, timeout);
}
PoolSnapshot Pool::snapshot() const { return core_->snapshot(); }
std::vector<PoolEvent> Pool::history() const { return core_->history(); }
std::uint64_t Pool::subscribe(std::function<void(const PoolEvent&)> fn) {
  return core_->subscribe(std::move(fn));
}
void Pool::unsubscribe(std::uint64_t id) { core_->unsubscribe(id); }

}  // namespace supervisor
