// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The built-in alert rules and the validation of their options. Each keeps its state per pool
// (one rule object serves every pool a manager watches); the manager serializes the calls.
#include <supervisor/alerts.hpp>

#include <fmt/format.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "../core/duration.hpp"

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void check_common(const AlertRuleOptions& o, std::string_view type,
                                    detail::ErrorSink& err) {
  if (o.name.empty()) {
    err.fail(errc::invalid_argument, [&] { return fmt::format("{}.name: empty", type); });
  } else if (o.throttle < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}.throttle: negative ({})", type, detail::format_duration(o.throttle));
    });
  }
}

SUPERVISOR_INLINE void check_positive(Duration d, std::string_view field, detail::ErrorSink& err) {
  if (!err && d <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: must be positive (got {})", field, detail::format_duration(d));
    });
  }
}

SUPERVISOR_INLINE void check(const RestartStormOptions& o, detail::ErrorSink& err) {
  check_common(o, "RestartStormOptions", err);
  if (!err && o.threshold == 0) {
    err.fail(errc::invalid_argument,
             [] { return std::string("RestartStormOptions.threshold: must be at least 1"); });
  }
  check_positive(o.window, "RestartStormOptions.window", err);
}

SUPERVISOR_INLINE void check(const BreakerOpenOptions& o, detail::ErrorSink& err) {
  check_common(o, "BreakerOpenOptions", err);
  if (!err && !o.breaker.empty() && o.breaker != "restart" && o.breaker != "lease") {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "BreakerOpenOptions.breaker: \"{}\" is none of \"restart\", \"lease\" or empty",
          o.breaker);
    });
  }
}

SUPERVISOR_INLINE void check(const PoolHealthAlertOptions& o, detail::ErrorSink& err) {
  check_common(o, "PoolHealthAlertOptions", err);
}

SUPERVISOR_INLINE void check(const LimitViolationOptions& o, detail::ErrorSink& err) {
  check_common(o, "LimitViolationOptions", err);
  check_positive(o.quiet, "LimitViolationOptions.quiet", err);
}

SUPERVISOR_INLINE void check(const WorkerGaveUpOptions& o, detail::ErrorSink& err) {
  check_common(o, "WorkerGaveUpOptions", err);
}

// The parts every built-in rule shares: its options' name, severity and throttle, and its state
// per pool.
template <class Options, class State>
class BuiltinRule : public AlertRule {
 public:
  explicit BuiltinRule(Options o) : options_(std::move(o)) {}
  [[nodiscard]] std::string name() const override { return options_.name; }
  [[nodiscard]] AlertSeverity severity() const noexcept override { return options_.severity; }
  [[nodiscard]] Duration throttle() const noexcept override { return options_.throttle; }
  void forget(std::string_view pool) noexcept override {
    const auto it = states_.find(pool);
    if (it != states_.end()) states_.erase(it);
  }

 protected:
  State& state(const AlertContext& ctx) {
    const auto it = states_.find(ctx.pool());
    if (it != states_.end()) return it->second;
    return states_.emplace(std::string(ctx.pool()), State{}).first->second;
  }
  Options options_;

 private:
  std::map<std::string, State, std::less<>> states_;
};

class RestartStormRule final : public BuiltinRule<RestartStormOptions, std::deque<TimePoint>> {
 public:
  using BuiltinRule::BuiltinRule;
  void on_event(const PoolEvent& event, AlertContext& ctx) override {
    const auto* restart = std::get_if<RestartScheduled>(&event.data);
    if (restart == nullptr) return;
    auto& times = slide(ctx);
    times.push_back(ctx.now());
    if (times.size() < options_.threshold) return;
    ctx.fire({fmt::format("{} restarts within {} (threshold {})", times.size(),
                          detail::format_duration(options_.window), options_.threshold),
              fmt::format("worker {}: {}", restart->worker, restart->why),
              restart->worker,
              {}});
  }
  void on_time(AlertContext& ctx) override {
    const auto& times = slide(ctx);
    if (ctx.firing() && times.size() < options_.threshold) {
      ctx.resolve(fmt::format("{} restarts within {}, below the threshold of {}", times.size(),
                              detail::format_duration(options_.window), options_.threshold));
    }
  }

 private:
  // The restarts within the window that ends now.
  std::deque<TimePoint>& slide(const AlertContext& ctx) {
    auto& times = state(ctx);
    while (!times.empty() && ctx.now() - times.front() >= options_.window) times.pop_front();
    return times;
  }
};

class BreakerOpenRule final : public BuiltinRule<BreakerOpenOptions, std::set<std::string>> {
 public:
  using BuiltinRule::BuiltinRule;
  void on_event(const PoolEvent& event, AlertContext& ctx) override {
    const auto* change = std::get_if<BreakerChanged>(&event.data);
    if (change == nullptr || (!options_.breaker.empty() && change->breaker != options_.breaker))
      return;
    auto& open = state(ctx);
    const BreakerState to = change->transition.to;
    if (to == BreakerState::open || to == BreakerState::forced_open) {
      open.insert(change->breaker);
      ctx.fire({fmt::format("{} breaker {}", change->breaker, to_string(to)),
                change->transition.reason,
                {},
                {}});
    } else if (to == BreakerState::closed || to == BreakerState::disabled) {
      open.erase(change->breaker);
      if (open.empty()) ctx.resolve(fmt::format("{} breaker {}", change->breaker, to_string(to)));
    }
  }
};

class PoolHealthRule final : public BuiltinRule<PoolHealthAlertOptions, bool> {
 public:
  using BuiltinRule::BuiltinRule;
  void on_event(const PoolEvent& event, AlertContext& ctx) override {
    const auto* change = std::get_if<PoolHealthChanged>(&event.data);
    if (change == nullptr) return;
    const std::string figures = fmt::format("{} of {} workers up", change->ready, change->size);
    if (change->to == PoolHealth::degraded || change->to == PoolHealth::down) {
      const bool down = change->to == PoolHealth::down;
      ctx.fire({fmt::format("pool {}: {}", to_string(change->to), figures),
                fmt::format("was {}", to_string(change->from)),
                {},
                down ? options_.down_severity : options_.severity});
    } else if (change->to == PoolHealth::healthy) {
      ctx.resolve(fmt::format("pool healthy: {}", figures));
    }
  }
};

class LimitViolationRule final : public BuiltinRule<LimitViolationOptions, TimePoint> {
 public:
  using BuiltinRule::BuiltinRule;
  void on_event(const PoolEvent& event, AlertContext& ctx) override {
    const auto* v = std::get_if<LimitViolation>(&event.data);
    if (v == nullptr) return;
    state(ctx) = ctx.now();
    ctx.fire({fmt::format("{}limit {} hit ({} time{})", v->group ? "pool-wide " : "",
                          to_string(v->kind), v->count, v->count == 1 ? "" : "s"),
              v->detail,
              v->group ? std::nullopt : std::optional<std::size_t>(v->worker),
              {}});
  }
  void on_time(AlertContext& ctx) override {
    if (ctx.firing() && ctx.now() - state(ctx) >= options_.quiet) {
      ctx.resolve(
          fmt::format("no limit violation for {}", detail::format_duration(options_.quiet)));
    }
  }
};

class WorkerGaveUpRule final : public BuiltinRule<WorkerGaveUpOptions, std::set<std::size_t>> {
 public:
  using BuiltinRule::BuiltinRule;
  void on_event(const PoolEvent& event, AlertContext& ctx) override {
    auto& failed = state(ctx);
    if (const auto* gave_up = std::get_if<WorkerGaveUp>(&event.data)) {
      failed.insert(gave_up->worker);
      ctx.fire(
          {fmt::format("worker {} failed for good ({} failed)", gave_up->worker, failed.size()),
           gave_up->why,
           gave_up->worker,
           {}});
      return;
    }
    std::size_t worker = 0;
    if (const auto* spawned = std::get_if<WorkerSpawned>(&event.data)) {
      worker = spawned->worker;
    } else if (const auto* t = std::get_if<WorkerTransition>(&event.data);
               t != nullptr && t->from == WorkerState::failed) {
      worker = t->worker;
    } else {
      return;
    }
    if (failed.erase(worker) != 0 && failed.empty())
      ctx.resolve(fmt::format("worker {} runs again; no worker failed", worker));
  }
};

template <class Rule, class Options>
SUPERVISOR_INLINE std::shared_ptr<AlertRule> make_rule(const Options& o, detail::ErrorSink& err) {
  check(o, err);
  if (err) return nullptr;
  return std::make_shared<Rule>(o);
}

SUPERVISOR_LOCAL_END

#define SUPERVISOR_ALERT_RULE(Options, Rule, factory)                                              \
  SUPERVISOR_INLINE void validate(const Options& o) {                                              \
    detail::or_throw([&](detail::ErrorSink& err) { check(o, err); });                              \
  }                                                                                                \
  SUPERVISOR_INLINE void validate(const Options& o, std::error_code& ec) noexcept {                \
    detail::into_code(ec, [&](detail::ErrorSink& err) { check(o, err); });                         \
  }                                                                                                \
  SUPERVISOR_INLINE std::shared_ptr<AlertRule> factory(const Options& o) {                         \
    return detail::or_throw([&](detail::ErrorSink& err) { return make_rule<Rule>(o, err); });      \
  }                                                                                                \
  SUPERVISOR_INLINE std::shared_ptr<AlertRule> factory(const Options& o,                           \
                                                       std::error_code& ec) noexcept {             \
    return detail::into_code(ec, [&](detail::ErrorSink& err) { return make_rule<Rule>(o, err); }); \
  }

SUPERVISOR_ALERT_RULE(RestartStormOptions, RestartStormRule, restart_storm_rule)
SUPERVISOR_ALERT_RULE(BreakerOpenOptions, BreakerOpenRule, breaker_open_rule)
SUPERVISOR_ALERT_RULE(PoolHealthAlertOptions, PoolHealthRule, pool_health_rule)
SUPERVISOR_ALERT_RULE(LimitViolationOptions, LimitViolationRule, limit_violation_rule)
SUPERVISOR_ALERT_RULE(WorkerGaveUpOptions, WorkerGaveUpRule, worker_gave_up_rule)

#undef SUPERVISOR_ALERT_RULE

}  // namespace supervisor
