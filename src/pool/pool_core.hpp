// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The pool's core: its worker slots and their lifecycle (spawn, exit, restart decision,
// retirement, stop), the leases the loop hands out, and its events. It knows nothing of the OS
// (it sees a PoolHost), and its state changes on the loop thread only: host threads reach it
// through post/run_sync, the lease desk, and `mu_` for what they wait on.
//
// Its parts own their state and are called one way from here; one that must act on the pool
// does so through its narrow `Core` interface, implemented below:
//   LeaseDesk     (lease_desk.hpp)     leases host threads take and give back without the loop
//   HealthRunner  (health_runner.hpp)  health checks and the health score
//   Rollouts      (rollouts.hpp)       graceful replacement and rolling restarts
//   LimitWatch    (limit_watch.hpp)    limit violations, unenforced limits, ResourceLimiters
//   PoolMetrics   (pool_metrics.hpp)   the core's counters and histograms, a snapshot's sums
//   UsageSampler  (usage_sampler.hpp)  workers' memory and CPU every usage_sample_period
//
// Its code: pool_core.cpp (what Pool and Lease call, the parts' view, events, snapshots),
// pool_core_lifecycle.cpp (spawn, exit, restart decision, retirement, resize, stop),
// pool_core_leases.cpp (acquire and release, the desk's loop side, the FIFO waiters),
// pool_core_hooks.cpp (a worker's own spec, the host's pre-start and post-stop hooks),
// pool_core_update.cpp (Pool::update: revisions of the spec, the rollout and its rollback) and
// pool_core_control.cpp (lease deadlines, the host's calls on one worker, revival, the pool's
// health, recycling's spread) and pool_core_output.cpp (the workers' output: attributed lines,
// counts, per-worker log paths).

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <supervisor/pool.hpp>

#include "../core/subscriber_set.hpp"
#include "health_runner.hpp"
#include "lease_desk.hpp"
#include "limit_watch.hpp"
#include "part.hpp"
#include "pool_host.hpp"
#include "pool_metrics.hpp"
#include "rollouts.hpp"
#include "usage_sampler.hpp"

namespace supervisor::detail {

// Pool::update's request: its spec, checks and strategy, each error naming its field (pool.cpp).
// `pool`: the pool's options (what of them is fixed at construction: identity_env, max_size,
// per_worker_spec).
void validate_update(const PoolUpdate& u, const PoolOptions& pool, ErrorSink& err);

// Adds `from`'s counts to `to` (pool_core_output.cpp).
void add_output(OutputCounts& to, const OutputCounts& from);
// Refuses in `spec` (of `owner`: "PoolOptions" or "PoolUpdate") a rotating log file that every
// worker of the pool `o` would share (pool_core_output.cpp).
void check_worker_logs(const ProcessSpec& spec, const PoolOptions& o, const char* owner, errc code,
                       ErrorSink& err);

// What a lease with a deadline shares with the loop: whether it expired (set on the loop, read
// by the holder's `Lease::expired` on any thread). Its address also names the lease: the slot
// keeps the ticket of the lease it is under.
struct LeaseTicket {
  std::atomic<bool> expired{false};
};

// What the host asks of one worker (pool_core_control.cpp).
enum class WorkerControl { signal, kill, restart, revive };

class PoolCore final : public std::enable_shared_from_this<PoolCore>,
                       public HealthRunner::Core,
                       public Rollouts::Core,
                       public LimitWatch::Core,
                       public UsageSampler::Core {
 public:
  PoolCore(std::shared_ptr<PoolHost> host, PoolOptions options);
  // Once owned by a shared_ptr: the breakers' listeners hold it weakly.
  void attach_breakers();

  // ---- what Pool calls (any thread; the blocking ones not on the loop thread) --------------
  void start(ErrorSink& err);
  void stop();
  void stop_async(std::function<void()> done);
  bool drain(Duration timeout);
  void set_resources(const ResourceLimits& limits, ErrorSink& err);
  void set_group_resources(const ResourceLimits& limits, ErrorSink& err);
  GroupSample group_sample();
  void resize(std::size_t size, ErrorSink& err);
  bool retired();
  Lease acquire(const AcquireOptions& o, ErrorSink& err);
  void acquire_async(const AcquireOptions& o, std::function<void(Lease, std::error_code)> done);
  void control(std::size_t worker, WorkerControl what, Signal signal, ErrorSink& err);
  std::size_t revive_all(ErrorSink& err);
  void replace_async(std::size_t worker, Duration timeout,
                     std::function<void(bool, std::error_code)> done);
  void rolling_restart_async(const RollingRestart& o,
                             std::function<void(RolloutResult, std::error_code)> done);
  void update_async(const PoolUpdate& u, std::function<void(UpdateResult, std::error_code)> done);
  UpdateResult update(const PoolUpdate& u, ErrorSink& err);
  bool wait_ready(std::size_t count, Duration timeout);
  PoolSnapshot snapshot();
  std::vector<PoolEvent> history();
  std::uint64_t subscribe(std::function<void(const PoolEvent&)> fn);
  void unsubscribe(std::uint64_t id);
  void clear_subscribers();

  // Blocking forms, host threads only: the loop thread would wait for itself.
  template <class R, class Start>
  R blocking(const char* what, ErrorSink& err, Start&& start) {
    if (host_->in_loop()) {
      err.fail(std::make_error_code(std::errc::resource_deadlock_would_occur), [&] {
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

  // ---- what Lease calls (any thread): the desk first (desk_mu_), else a post to the loop ---
  void release(std::size_t worker, std::uint64_t incarnation, LeaseOutcome outcome,
               TimePoint acquired, bool fast, std::shared_ptr<LeaseTicket> ticket);

 private:
  struct Slot {
    std::size_t index;
    WorkerStateMachine sm;
    std::unique_ptr<WorkerProcess> worker{};  // its last process (kept after it exits)
    std::uint64_t restarts = 0;
    std::array<std::uint64_t, exit_reason_count> exits{};  // by ExitReason
    std::optional<ExitStatus> last_exit{};
    std::uint64_t timer = 0;  // the readiness delay or timeout, or the restart's backoff
    bool retiring = false;
    bool recycling = false;  // stopping as planned: start again at once
    std::uint64_t recycle_timer = 0;
    // sd_notify, per incarnation
    std::unique_ptr<NotifyChannel> notify{};
    std::uint64_t watchdog_timer = 0;
    bool watchdog_fired = false;
    std::string status{};
    // Leases through the loop (the desk counts its own).
    std::uint64_t leases = 0;
    std::uint64_t incarnation_leases = 0;  // leases of the current process
    // The first incarnation of the worker in this slot: 1, or one past the last incarnation of
    // the worker that had the slot before (see add_slot), so that an incarnation never repeats.
    std::uint64_t first_incarnation = 1;
    // Retired, and a turn of the loop has passed since: nothing up the stack of the turn that
    // retired it still holds it, so add_slot may reclaim it once nothing else refers to it.
    bool settled = false;
    // The lease through the loop it is under, when that lease has a deadline, and its timer.
    std::shared_ptr<LeaseTicket> lease_ticket{};
    std::uint64_t lease_timer = 0;
    TimePoint leased_at{};
    // When its current process was spawned (the pool's clock, and the wall clock).
    TimePoint spawned_at{};
    WallTime spawned_wall{};
    // The revision of the spec its process runs, or its next one will (Pool::update).
    std::uint64_t revision = 1;
    // What its processes before `worker` wrote (pool_core_output.cpp).
    OutputCounts output{};
  };
  struct Waiter {
    std::uint64_t id;
    TimePoint since;
    std::function<void(Lease, std::error_code, std::string)> done;
    std::uint64_t timer = 0;
    Duration deadline{};  // of the lease it will get (zero: none)
  };
  // What launch() started: the process, and its notify channel when the pool uses one.
  struct Launch {
    std::unique_ptr<WorkerProcess> worker;
    std::unique_ptr<NotifyChannel> notify;
    ErrorSink err;
  };
  // A process started ahead and then not wanted (see discard_launch).
  struct Discarded {
    std::size_t index = 0;
    std::uint64_t incarnation = 0;
    std::unique_ptr<WorkerProcess> worker;
  };

  // ---- the parts' view of the core (loop thread): see each part's Core --------------------
  void emit(PoolEventData data) override;
  void report_error(std::string_view where) noexcept override;
  [[nodiscard]] bool stopping() const override { return stopping_; }
  [[nodiscard]] bool running() const override { return running_; }
  [[nodiscard]] std::size_t slot_count() const override { return slots_.size(); }
  [[nodiscard]] std::uint64_t incarnation(std::size_t worker) const override;
  [[nodiscard]] WorkerState state(std::size_t worker) const override;
  [[nodiscard]] WorkerProcess* process(std::size_t worker) const override;
  [[nodiscard]] bool leased(std::size_t worker) override;
  [[nodiscard]] bool replaceable(std::size_t worker) const override;
  std::size_t add_slot() override;
  void spawn(std::size_t worker) override { spawn(slots_[worker], nullptr); }
  void withdraw(std::size_t worker) override { withdraw(slots_[worker]); }
  void offer(std::size_t worker) override;
  void become_ready(std::size_t worker, std::string cause) override;
  void stop_unhealthy(std::size_t worker, std::string cause) override;
  void recycle(std::size_t worker, std::string why) override;
  void retire_worker(std::size_t worker) override;
  void replace(std::size_t worker, Duration ready_timeout) override;
  [[nodiscard]] std::uint64_t revision(std::size_t worker) const override {
    return slots_[worker].revision;
  }
  void adopt(std::size_t worker, std::uint64_t revision) override;
  [[nodiscard]] RolloutStatus rollout_status() const override;

  // ---- loop thread ---------------------------------------------------------------------------
  TimePoint now() const { return host_->now(); }
  static int pid_of(const Slot& slot) { return slot.worker ? slot.worker->pid() : 0; }
  template <class F>
  void guarded(std::string_view where, F&& f) {
    detail::guarded(static_cast<HealthRunner::Core&>(*this), where, std::forward<F>(f));
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
  PoolSnapshot build_snapshot();

  // Lifecycle (pool_core_lifecycle.cpp).
  void move_to(Slot& slot, WorkerState to, std::string cause);
  Launch launch(std::size_t index, std::uint64_t incarnation);
  // `cause`: of its move to `starting` (default "start" or "restart").
  void spawn(Slot& slot, ErrorSink* first_start_err, std::optional<Launch> launched = {},
             const char* cause = nullptr);
  [[nodiscard]] bool uses_notify() const;
  void arm_watchdog(Slot& slot);
  void on_note(std::size_t index, std::uint64_t incarnation, const NotifyNote& m);
  void teardown_incarnation(Slot& slot);
  void recycle(Slot& slot, std::string why);
  void become_ready(Slot& slot, std::string cause);
  [[nodiscard]] bool replaceable(const Slot& s) const;
  void on_exit(std::size_t index, std::uint64_t incarnation, ExitStatus st);
  void discard_launch(std::size_t index, std::uint64_t incarnation, Launch l);
  void forget_discarded(std::size_t index, std::uint64_t incarnation, const ExitStatus& st);
  RestartDecision ask_restart_policy(const Slot& slot, const ExitStatus& st);
  void decide(Slot& slot, const ExitStatus& st, std::optional<RestartDecision> early = {},
              std::optional<Launch> launched = {});
  void schedule_restart(Slot& slot, Duration delay);
  void retire(Slot& slot, std::string cause);
  [[nodiscard]] bool reclaimable(const Slot& s) const;
  void check_all_retired();
  void schedule_scaling();
  void evaluate_scaling();
  [[nodiscard]] std::size_t live_slots() const;
  void apply_resize(std::size_t size);
  void retire_slot(Slot& s);
  void begin_drain();
  void begin_stop();

  // A worker's own spec and the host's hooks (pool_core_hooks.cpp).
  std::shared_ptr<const ProcessSpec> worker_spec(std::size_t index, std::uint64_t incarnation,
                                                 const NotifyChannel* notify, ErrorSink& err);
  [[nodiscard]] std::vector<std::string> identity_vars(std::size_t index,
                                                       std::uint64_t incarnation) const;
  void run_pre_start(std::size_t index, std::uint64_t incarnation, const ProcessSpec& spec,
                     ErrorSink& err);
  void run_post_stop(std::size_t index, std::uint64_t incarnation, const ExitStatus& st);
  // Pool::update (pool_core_update.cpp).
  [[nodiscard]] const std::shared_ptr<const ProcessSpec>& spec_of(std::uint64_t revision) const;
  [[nodiscard]] std::shared_ptr<const std::vector<HealthCheck>> checks_of(
      std::uint64_t revision) const;
  void start_update(PoolUpdate u, std::function<void(UpdateResult, std::error_code)> done);
  void roll_out(std::uint64_t from, bool rollback);
  void update_rolled_out(RolloutResult r);
  void rolled_back(RolloutResult r);
  void finish_update(std::error_code ec = {});
  void prune_revisions();
  static ExitStatus spawn_failed_status() {
    ExitStatus st;
    st.reason = ExitReason::spawn_failed;
    return st;
  }

  // Output (pool_core_output.cpp): PoolOptions::on_output, the counts, `{worker}` in paths.
  OutputHook output_hook(std::size_t index, std::uint64_t incarnation);
  // Before `slot.worker` is let go: its counts join the slot's.
  void fold_output(Slot& slot);
  [[nodiscard]] OutputCounts output_of(const Slot& slot) const;
  [[nodiscard]] static bool has_worker_paths(const ProcessSpec& spec);
  static void expand_worker_paths(ProcessSpec& spec, std::size_t index);

  // Leases (pool_core_leases.cpp).
  bool desk_acquire(Lease& out);  // any thread (desk_mu_)
  bool desk_release(std::size_t worker, std::uint64_t incarnation, LeaseOutcome outcome,
                    TimePoint acquired);  // any thread (desk_mu_)
  void put_on_desk(Slot& slot);
  void withdraw(Slot& slot);
  void open_desk();
  void desk_returned(std::size_t index, std::uint64_t incarnation, LeaseOutcome outcome);
  bool lent_on_desk(const Slot& slot) { return desk_.lent(slot.index, slot.sm.incarnation()); }
  void enqueue(Duration timeout, Duration deadline,
               std::function<void(Lease, std::error_code, std::string)> done);
  void time_out(Waiter& w);
  Slot* pick_ready();
  void hand_out(Slot& slot, Waiter& w);
  void serve_waiters();
  void on_release(std::size_t worker, std::uint64_t incarnation, LeaseOutcome outcome,
                  TimePoint acquired, const std::shared_ptr<LeaseTicket>& ticket);

  // Control (pool_core_control.cpp).
  static bool valid_deadline(const AcquireOptions& o, ErrorSink& err);
  bool check_control(std::optional<std::size_t> worker, const char* what, ErrorSink& err);
  bool fds_fit(std::size_t adding, const char* what, ErrorSink& err);
  [[nodiscard]] std::size_t workers_with_process() const;
  void arm_lease_deadline(Slot& slot, Duration deadline, const std::shared_ptr<LeaseTicket>& t);
  void end_lease_deadline(Slot& slot);
  void expire_lease(Slot& slot);
  void restart_now(Slot& slot, std::string why, bool kill);
  void revive(Slot& slot, std::string why);
  void on_failed(Slot& slot);
  void update_health(bool started_failing = false);
  [[nodiscard]] Duration recycle_after();
  void arm_recycle(Slot& slot, Duration after);
  void recycle_gracefully(std::size_t index, std::uint64_t incarnation);
  // The worker's channel goes with its lease (any thread).
  static void attach_channel(Lease& lease, std::shared_ptr<HostEnd> end);
  static std::shared_ptr<HostEnd> channel_of(const Slot& slot) {
    return slot.worker ? slot.worker->channel() : nullptr;
  }

  // ---- state -------------------------------------------------------------------------------
  const std::shared_ptr<PoolHost> host_;  // fixed at construction; itself thread-safe
  PoolOptions options_;                   // (loop) after construction
  LeaseDesk desk_;                        // any thread: see lease_desk.hpp
  HealthRunner health_;                   // (loop) see health_runner.hpp
  Rollouts rollouts_;                     // (loop) see rollouts.hpp
  LimitWatch limits_;                     // (loop) see limit_watch.hpp
  PoolMetrics metrics_;                   // (loop)
  // (loop) the spec of every worker that needs no copy of its own (see worker_spec)
  std::shared_ptr<const ProcessSpec> shared_spec_;
  // A deque: growing never moves a slot, so a `Slot&` held up the stack stays valid.
  // Retired slots are reclaimed for new workers (add_slot): its size is the peak number of
  // workers the pool had at once, not the number it ever had.
  std::deque<Slot> slots_;  // (loop)
  // (loop) How many slots are retired (move_to, add_slot), how many are retiring and not retired
  // yet (retire_slot, move_to), and which retired ones are settled, lowest first: the pool's
  // stop, its health and add_slot look at these, not at every slot, so that a worker's ready,
  // exit or retirement, or a new slot, costs the same in a pool of 100,000 as in one of 10.
  std::size_t retired_slots_ = 0;
  std::size_t retiring_slots_ = 0;
  std::set<std::size_t> settled_slots_;
  std::vector<Discarded> discarded_;  // (loop) see discard_launch
  // (loop) Processes on_exit's fast path started ahead and nothing has taken or discarded yet:
  // while one is, the pool is not stopped (a subscriber may stop it from the exit's events).
  int launched_ahead_ = 0;
  int emitting_ = 0;            // (loop) > 0 while subscribers run: structural changes are deferred
  std::deque<Waiter> waiters_;  // (loop) FIFO
  std::uint64_t next_waiter_ = 0;  // (loop)
  Duration longest_wait_{};  // (loop) of acquires served or timed out since the last scaling look
  std::deque<std::shared_ptr<const PoolEvent>> history_;  // (loop)
  // (loop) copy-on-write: a subscriber may (un)subscribe while emit walks the current set
  SubscriberSet<PoolEvent> subscribers_;
  std::uint64_t sequence_ = 0;          // (loop) of the last event
  std::uint64_t scaling_timer_ = 0;     // (loop)
  std::unique_ptr<WorkerGroup> group_;  // (loop) the workers' group, if any
  bool group_owned_ = false;            // (loop) made for PoolOptions::group_resources
  bool running_ = false;                // (loop)
  bool stopping_ = false;               // (loop)
  bool stopped_ = false;                // (loop)
  bool draining_ = false;               // (loop)

  // Lease control, revival, health, recycling's spread (pool_core_control.cpp).
  PoolHealth pool_health_ = PoolHealth::starting;  // (loop) see update_health
  std::uint64_t recycle_random_ = 0;               // (loop) RecycleOptions::seed's generator
  // (loop) stop_async's callers, answered once every slot is retired
  std::vector<std::function<void()>> stop_waiters_;

  // (loop) PoolOptions::usage_sample_period; none when it is off, so that sampling then costs
  // nothing (see usage_sampler.hpp).
  std::optional<UsageSampler> usage_;

  // Pool::update (pool_core_update.cpp). `shared_spec_` and `options_.spec` are the target
  // revision's spec (and `target_checks_` its checks): new workers start on it; `old_specs_`
  // keeps the others live workers run.
  struct Update {
    PoolUpdate request;  // its spec moved to shared_spec_ (or old_specs_ once rolled back)
    UpdateResult result;
    std::function<void(UpdateResult, std::error_code)> done;
    bool rolling_back = false;
  };
  std::uint64_t target_revision_ = 1;  // (loop)
  std::uint64_t last_revision_ = 1;    // (loop) the highest given out
  std::uint64_t stable_revision_ = 1;  // (loop) the one the pool ran before the update
  using CheckSet = std::shared_ptr<const std::vector<HealthCheck>>;
  struct RevisionSpec {
    std::shared_ptr<const ProcessSpec> spec;
    CheckSet checks;
  };
  CheckSet target_checks_;                           // (loop)
  std::map<std::uint64_t, RevisionSpec> old_specs_;  // (loop)
  std::optional<Update> update_;                     // (loop)

  OutputCounts output_reclaimed_;  // (loop) of the workers of reclaimed slots

  // What host threads wait on (wait_ready, drain, stop). `mu_` is taken before `desk_mu_`.
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t ready_or_leased_ = 0;  // (mu_)
  std::size_t leased_ = 0;           // (mu_)
  bool all_retired_ = false;         // (mu_)
};

}  // namespace supervisor::detail
