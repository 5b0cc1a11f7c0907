// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Pool and Lease facade (each call goes to the pool's core), and validate(PoolOptions).
#include <supervisor/pool.hpp>

#include <fmt/format.h>

#include <memory>
#include <string>

#include "../core/duration.hpp"
#include "../core/validate.hpp"
#include "../process/access.hpp"
#include "../testing/fake_host.hpp"
#include "pool_core.hpp"

namespace supervisor {
SUPERVISOR_LOCAL_BEGIN

// One PoolOptions::health_checks entry: a strategy, and timings a prober can keep (a zero period
// would probe without pause, a whole core's worth).
SUPERVISOR_INLINE void check_health_entry(const HealthCheck& c, std::size_t i,
                                          detail::ErrorSink& err,
                                          std::string_view owner = "PoolOptions") {
  const auto field = [i, owner](std::string_view name) {
    return fmt::format("{}.health_checks[{}].{}", owner, i, name);
  };
  if (!c.strategy) {
    err.fail(errc::invalid_argument,
             [&] { return field("strategy") + ": null (a check needs a strategy)"; });
    return;
  }
  const auto positive = [&](Duration d, std::string_view name) {
    if (d > Duration::zero()) return true;
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: {} (must be positive)", field(name), detail::format_duration(d));
    });
    return false;
  };
  if (!positive(c.timing.period, "timing.period") || !positive(c.timing.timeout, "timing.timeout"))
    return;
  if (c.timing.initial_delay < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: {} (must not be negative)", field("timing.initial_delay"),
                         detail::format_duration(c.timing.initial_delay));
    });
    return;
  }
  const auto at_least_one = [&](int n, std::string_view name) {
    if (n >= 1) return true;
    err.fail(errc::invalid_argument,
             [&] { return fmt::format("{}: {} (at least 1)", field(name), n); });
    return false;
  };
  if (!at_least_one(c.timing.success_threshold, "timing.success_threshold")) return;
  at_least_one(c.timing.failure_threshold, "timing.failure_threshold");
}

SUPERVISOR_INLINE void validate_limit(const IntOrPercent& v, const char* field,
                                      detail::ErrorSink& err) {
  if (err || !v.is_percent || v.value <= 100) return;
  err.fail(errc::invalid_spec, [&] {
    return fmt::format("PoolUpdate.strategy.{}: {}% (at most 100%)", field, v.value);
  });
}

// What issue 15's lease control, revival, recycling and usage sampling added: recycling's
// spread, failed workers' retry, the health threshold, the usage sampling period.
SUPERVISOR_INLINE void check_control_options(const PoolOptions& o, detail::ErrorSink& err) {
  const RecycleOptions& r = o.recycle;
  if (r.max_runtime_jitter < Duration::zero() ||
      (r.max_runtime_jitter > Duration::zero() && r.max_runtime_jitter >= r.max_runtime)) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "PoolOptions.recycle.max_runtime_jitter: {} (must be at least 0 and less than "
          "max_runtime {})",
          detail::format_duration(r.max_runtime_jitter), detail::format_duration(r.max_runtime));
    });
  } else if (r.graceful && r.graceful_ready_timeout <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.recycle.graceful_ready_timeout: {} (must be positive)",
                         detail::format_duration(r.graceful_ready_timeout));
    });
  } else if (o.failed_retry_after < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.failed_retry_after: {} is negative",
                         detail::format_duration(o.failed_retry_after));
    });
  } else if (o.usage_sample_period < Duration::zero() ||
             (o.usage_sample_period > Duration::zero() &&
              o.usage_sample_period < std::chrono::milliseconds(10))) {
    // Below 10 ms the reads would cost more than they tell (a busy loop over /proc).
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.usage_sample_period: {} (zero for off, else at least 10ms)",
                         detail::format_duration(o.usage_sample_period));
    });
  } else if (o.degraded_below > o.max_size) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("PoolOptions.degraded_below: {} is more than max_size {}",
                         o.degraded_below, o.max_size);
    });
  }
}

// What a pool's spec (PoolOptions.spec, PoolUpdate.spec) may not hold beyond validate_spec's rules.
SUPERVISOR_INLINE void validate_worker_spec(const ProcessSpec& spec, bool identity_env,
                                            const char* owner, errc code, detail::ErrorSink& err) {
  if (spec.in.mode == StdioSpec::Mode::pipe) {
    // Nothing of the pool's would ever write it: the workers would wait on stdin for ever.
    err.fail(code, [&] {
      return fmt::format(
          "{}.spec.in: a stdin pipe is not reachable through a pool (use spec.channel and "
          "Lease::channel)",
          owner);
    });
    return;
  }
  if (!identity_env) return;
  for (const std::string_view name : {worker_index_variable, worker_incarnation_variable}) {
    if (spec.env.set.count(std::string(name)) == 0) continue;
    err.fail(code, [&] {
      return fmt::format(
          "{}.spec.env.set: {} is the pool's own while PoolOptions.identity_env is on (each "
          "worker gets its own value)",
          owner, name);
    });
    return;
  }
}

SUPERVISOR_INLINE void validate_pool(const PoolOptions& o, detail::ErrorSink& err) {
  detail::validate_spec(o.spec, err);
  if (err) return;
  validate_worker_spec(o.spec, o.identity_env, "PoolOptions", errc::invalid_argument, err);
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
  check_control_options(o, err);
  if (err) return;
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
  for (std::size_t i = 0; i < o.health_checks.size(); ++i) {
    check_health_entry(o.health_checks[i], i, err);
    if (err) return;
  }
  if (o.history_size == 0) {
    err.fail(errc::invalid_argument,
             [] { return std::string("PoolOptions.history_size: 0 (at least 1)"); });
  }
  if (!err) detail::check_worker_logs(o.spec, o, "PoolOptions", errc::invalid_argument, err);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string_view to_string(PoolHealth h) noexcept {
  switch (h) {
    case PoolHealth::starting: return "starting";
    case PoolHealth::healthy: return "healthy";
    case PoolHealth::degraded: return "degraded";
    case PoolHealth::down: return "down";
  }
  return "?";
}

SUPERVISOR_INLINE void validate(const PoolOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { validate_pool(options, err); });
}

SUPERVISOR_INLINE void validate(const PoolOptions& options, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { validate_pool(options, err); });
}

SUPERVISOR_INLINE Lease::Lease() noexcept = default;
SUPERVISOR_INLINE Lease::~Lease() {
  release(std::uncaught_exceptions() > uncaught_ ? LeaseOutcome::failure : LeaseOutcome::success);
}
SUPERVISOR_INLINE Lease::Lease(Lease&& o) noexcept
    : core_(std::move(o.core_)),
      worker_(o.worker_),
      incarnation_(o.incarnation_),
      pid_(o.pid_),
      acquired_(o.acquired_),
      fast_(o.fast_),
      ticket_(std::move(o.ticket_)),
      channel_(std::move(o.channel_)),
      channel_ticket_(o.channel_ticket_) {}

SUPERVISOR_INLINE Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    core_ = std::move(o.core_);
    worker_ = o.worker_;
    incarnation_ = o.incarnation_;
    pid_ = o.pid_;
    acquired_ = o.acquired_;
    fast_ = o.fast_;
    channel_ = std::move(o.channel_);
    channel_ticket_ = o.channel_ticket_;
    uncaught_ = std::uncaught_exceptions();
    ticket_ = std::move(o.ticket_);
  }
  return *this;
}

SUPERVISOR_INLINE void Lease::release(LeaseOutcome outcome) noexcept {
  if (!core_) return;
  auto core = std::move(core_);
  core_.reset();
  if (channel_) {
    // Before the worker is given back: a Channel kept from this lease is refused from now on.
    channel_->generation.fetch_add(1, std::memory_order_acq_rel);
    channel_.reset();
  }
  try {
    core->release(worker_, incarnation_, outcome, acquired_, fast_, ticket_);  // kept: expired()
  } catch (...) {
    // Out of memory while posting: the worker stays leased until the pool stops.
  }
}

SUPERVISOR_INLINE bool Lease::expired() const noexcept {
  return ticket_ && ticket_->expired.load(std::memory_order_acquire);
}

SUPERVISOR_INLINE Channel Lease::channel() const {
  if (!core_ || !channel_) return {};
  return detail::ChannelAccess::make(channel_, channel_ticket_);
}

SUPERVISOR_INLINE Pool::Pool(Loop& loop, PoolOptions options) {
  validate(options);
  core_ = std::make_shared<detail::PoolCore>(
      detail::make_real_pool_host(detail::LoopAccess::core(loop)), std::move(options));
  core_->attach_breakers();
}

SUPERVISOR_INLINE Pool::Pool(PoolOptions options) {
  validate(options);
  own_loop_ = std::make_unique<Loop>();
  core_ = std::make_shared<detail::PoolCore>(
      detail::make_real_pool_host(detail::LoopAccess::core(*own_loop_)), std::move(options));
  core_->attach_breakers();
}

SUPERVISOR_INLINE Pool::Pool(testing::FakeWorld& world, PoolOptions options) {
  validate(options);
  core_ = std::make_shared<detail::PoolCore>(world.host_, std::move(options));
  core_->attach_breakers();
}

SUPERVISOR_INLINE void Pool::acquire_async(Duration timeout,
                                           std::function<void(Lease, std::error_code)> done) {
  core_->acquire_async(AcquireOptions{timeout, {}}, std::move(done));
}

SUPERVISOR_INLINE void Pool::acquire_async(const AcquireOptions& options,
                                           std::function<void(Lease, std::error_code)> done) {
  core_->acquire_async(options, std::move(done));
}

SUPERVISOR_INLINE Pool::~Pool() {
  try {
    stop();
    // The core may outlive the Pool (a Lease holds it): its subscribers are let go now, so that
    // one that watches the pool (an AlertManager) learns that the pool is gone, and never calls
    // into it again.
    core_->clear_subscribers();
  } catch (...) {
  }
}

SUPERVISOR_INLINE void Pool::start() {
  detail::or_throw([&](detail::ErrorSink& err) { core_->start(err); });
}

SUPERVISOR_INLINE void Pool::start(std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->start(err); });
}

SUPERVISOR_INLINE void Pool::stop() { core_->stop(); }
SUPERVISOR_INLINE void Pool::stop_async(std::function<void()> done) {
  core_->stop_async(std::move(done));
}

SUPERVISOR_INLINE Lease Pool::acquire(Duration timeout) {
  return acquire(AcquireOptions{timeout, {}});
}

SUPERVISOR_INLINE Lease Pool::acquire(Duration timeout, std::error_code& ec) noexcept {
  return acquire(AcquireOptions{timeout, {}}, ec);
}

SUPERVISOR_INLINE Lease Pool::acquire(const AcquireOptions& options) {
  return detail::or_throw([&](detail::ErrorSink& err) { return core_->acquire(options, err); });
}

SUPERVISOR_INLINE Lease Pool::acquire(const AcquireOptions& options, std::error_code& ec) noexcept {
  return detail::into_code(ec,
                           [&](detail::ErrorSink& err) { return core_->acquire(options, err); });
}

SUPERVISOR_INLINE void Pool::signal_worker(std::size_t worker, Signal signal) {
  detail::or_throw([&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::signal, signal, err);
  });
}

SUPERVISOR_INLINE void Pool::signal_worker(std::size_t worker, Signal signal,
                                           std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::signal, signal, err);
  });
}

SUPERVISOR_INLINE void Pool::kill_worker(std::size_t worker) {
  detail::or_throw([&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::kill, Signal::kill, err);
  });
}

SUPERVISOR_INLINE void Pool::kill_worker(std::size_t worker, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::kill, Signal::kill, err);
  });
}

SUPERVISOR_INLINE void Pool::restart_worker(std::size_t worker) {
  detail::or_throw([&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::restart, Signal::terminate, err);
  });
}

SUPERVISOR_INLINE void Pool::restart_worker(std::size_t worker, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::restart, Signal::terminate, err);
  });
}

SUPERVISOR_INLINE std::size_t Pool::revive() {
  return detail::or_throw([&](detail::ErrorSink& err) { return core_->revive_all(err); });
}

SUPERVISOR_INLINE std::size_t Pool::revive(std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](detail::ErrorSink& err) { return core_->revive_all(err); });
}

SUPERVISOR_INLINE void Pool::revive(std::size_t worker) {
  detail::or_throw([&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::revive, Signal::terminate, err);
  });
}

SUPERVISOR_INLINE void Pool::revive(std::size_t worker, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) {
    core_->control(worker, detail::WorkerControl::revive, Signal::terminate, err);
  });
}

SUPERVISOR_INLINE bool Pool::drain(Duration timeout) { return core_->drain(timeout); }

SUPERVISOR_INLINE bool Pool::replace(std::size_t worker, Duration ready_timeout) {
  return detail::or_throw([&](detail::ErrorSink& err) {
    return core_->blocking<bool>("replace", err, [&](auto done) {
      core_->replace_async(worker, ready_timeout, std::move(done));
    });
  });
}

SUPERVISOR_INLINE void Pool::replace_async(std::size_t worker, Duration ready_timeout,
                                           std::function<void(bool, std::error_code)> done) {
  core_->replace_async(worker, ready_timeout, std::move(done));
}

SUPERVISOR_INLINE void detail::validate_update(const PoolUpdate& u, const PoolOptions& pool,
                                               detail::ErrorSink& err) {
  detail::ErrorSink spec;
  detail::validate_spec(u.spec, spec);
  if (spec) {
    err.fail(spec.code, [&] { return "PoolUpdate.spec: " + spec.context; });
    return;
  }
  validate_worker_spec(u.spec, pool.identity_env, "PoolUpdate", errc::invalid_spec, err);
  if (err) return;
  check_worker_logs(u.spec, pool, "PoolUpdate", errc::invalid_spec, err);
  if (err) return;
  const RolloutStrategy& s = u.strategy;
  validate_limit(s.max_surge, "max_surge", err);
  validate_limit(s.max_unavailable, "max_unavailable", err);
  if (err) return;
  if (u.health_checks) {
    for (std::size_t i = 0; i < u.health_checks->size(); ++i) {
      check_health_entry((*u.health_checks)[i], i, err, "PoolUpdate");
      if (err) return;
    }
  }
  if (s.max_surge.value == 0 && s.max_unavailable.value == 0) {
    err.fail(errc::invalid_spec, [] {
      return std::string(
          "PoolUpdate.strategy: max_surge and max_unavailable are both 0 (the rollout could "
          "never replace a worker)");
    });
  } else if (s.min_ready < Duration::zero()) {
    err.fail(errc::invalid_spec,
             [] { return std::string("PoolUpdate.strategy.min_ready: negative"); });
  } else if (s.progress_deadline <= Duration::zero()) {
    err.fail(errc::invalid_spec,
             [] { return std::string("PoolUpdate.strategy.progress_deadline: not positive"); });
  }
}

SUPERVISOR_INLINE RolloutResult Pool::rolling_restart(const RollingRestart& options) {
  return detail::or_throw([&](detail::ErrorSink& err) {
    return core_->blocking<RolloutResult>("rolling_restart", err, [&](auto done) {
      core_->rolling_restart_async(options, std::move(done));
    });
  });
}

SUPERVISOR_INLINE void Pool::rolling_restart_async(
    const RollingRestart& options, std::function<void(RolloutResult, std::error_code)> done) {
  core_->rolling_restart_async(options, std::move(done));
}

SUPERVISOR_INLINE UpdateResult Pool::update(const PoolUpdate& update) {
  return detail::or_throw([&](detail::ErrorSink& err) { return core_->update(update, err); });
}

SUPERVISOR_INLINE UpdateResult Pool::update(const PoolUpdate& update,
                                            std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](detail::ErrorSink& err) { return core_->update(update, err); });
}

SUPERVISOR_INLINE void Pool::update_async(const PoolUpdate& update,
                                          std::function<void(UpdateResult, std::error_code)> done) {
  core_->update_async(update, std::move(done));
}

SUPERVISOR_INLINE void Pool::set_group_resources(const ResourceLimits& limits) {
  detail::or_throw([&](detail::ErrorSink& err) { core_->set_group_resources(limits, err); });
}

SUPERVISOR_INLINE void Pool::set_group_resources(const ResourceLimits& limits,
                                                 std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->set_group_resources(limits, err); });
}

SUPERVISOR_INLINE GroupSample Pool::group_sample() const { return core_->group_sample(); }

SUPERVISOR_INLINE void Pool::set_resources(const ResourceLimits& limits) {
  detail::or_throw([&](detail::ErrorSink& err) { core_->set_resources(limits, err); });
}

SUPERVISOR_INLINE void Pool::set_resources(const ResourceLimits& limits,
                                           std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->set_resources(limits, err); });
}

SUPERVISOR_INLINE void Pool::resize(std::size_t size) {
  detail::or_throw([&](detail::ErrorSink& err) { core_->resize(size, err); });
}

SUPERVISOR_INLINE void Pool::resize(std::size_t size, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->resize(size, err); });
}

SUPERVISOR_INLINE bool Pool::wait_ready(std::size_t count, Duration timeout) {
  return core_->wait_ready(count, timeout);
}
SUPERVISOR_INLINE PoolSnapshot Pool::snapshot() const { return core_->snapshot(); }
SUPERVISOR_INLINE std::vector<PoolEvent> Pool::history() const { return core_->history(); }
SUPERVISOR_INLINE std::uint64_t Pool::subscribe(std::function<void(const PoolEvent&)> fn) {
  return core_->subscribe(std::move(fn));
}
SUPERVISOR_INLINE void Pool::unsubscribe(std::uint64_t id) { core_->unsubscribe(id); }

}  // namespace supervisor
