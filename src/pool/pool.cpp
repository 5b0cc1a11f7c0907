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
                                          detail::ErrorSink& err) {
  const auto field = [i](std::string_view name) {
    return fmt::format("PoolOptions.health_checks[{}].{}", i, name);
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

SUPERVISOR_INLINE void validate_pool(const PoolOptions& o, detail::ErrorSink& err) {
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
  for (std::size_t i = 0; i < o.health_checks.size(); ++i) {
    check_health_entry(o.health_checks[i], i, err);
    if (err) return;
  }
  if (o.history_size == 0) {
    err.fail(errc::invalid_argument,
             [] { return std::string("PoolOptions.history_size: 0 (at least 1)"); });
  }
}

SUPERVISOR_LOCAL_END

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
      fast_(o.fast_) {}

SUPERVISOR_INLINE Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    core_ = std::move(o.core_);
    worker_ = o.worker_;
    incarnation_ = o.incarnation_;
    pid_ = o.pid_;
    acquired_ = o.acquired_;
    fast_ = o.fast_;
    uncaught_ = std::uncaught_exceptions();
  }
  return *this;
}

SUPERVISOR_INLINE void Lease::release(LeaseOutcome outcome) noexcept {
  if (!core_) return;
  auto core = std::move(core_);
  core_.reset();
  try {
    core->release(worker_, incarnation_, outcome, acquired_, fast_);
  } catch (...) {
    // Out of memory while posting: the worker stays leased until the pool stops.
  }
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
  core_->acquire_async(timeout, std::move(done));
}

SUPERVISOR_INLINE Pool::~Pool() {
  try {
    stop();
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
  return detail::or_throw([&](detail::ErrorSink& err) { return core_->acquire(timeout, err); });
}

SUPERVISOR_INLINE Lease Pool::acquire(Duration timeout, std::error_code& ec) noexcept {
  return detail::into_code(ec,
                           [&](detail::ErrorSink& err) { return core_->acquire(timeout, err); });
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
