// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/error.hpp>
#include <supervisor/restart_policy.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <new>
#include <string>
#include <utility>

#include "../core/duration.hpp"
#include "../core/random.hpp"

namespace supervisor {

using detail::format_duration;

// ---------------------------------------------------------------------------------------------
// RestartPolicy
// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE RestartPolicy::~RestartPolicy() = default;
SUPERVISOR_INLINE void RestartPolicy::on_started(std::size_t, TimePoint) {}
SUPERVISOR_INLINE void RestartPolicy::on_ready(std::size_t, TimePoint) {}
SUPERVISOR_INLINE void RestartPolicy::forget(std::size_t) {}

// ---------------------------------------------------------------------------------------------
// Modes
// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE std::string_view to_string(RestartMode m) noexcept {
  switch (m) {
    case RestartMode::never: return "never";
    case RestartMode::always: return "always";
    case RestartMode::on_success: return "on-success";
    case RestartMode::on_failure: return "on-failure";
    case RestartMode::on_abnormal: return "on-abnormal";
  }
  return "invalid";
}

SUPERVISOR_INLINE std::string_view to_string(Jitter j) noexcept {
  switch (j) {
    case Jitter::none: return "none";
    case Jitter::full: return "full";
    case Jitter::equal: return "equal";
  }
  return "invalid";
}

SUPERVISOR_INLINE bool is_clean_exit(const ExitStatus& s) noexcept {
  switch (s.reason) {
    case ExitReason::success: return true;
    case ExitReason::exit_code:
    case ExitReason::signal: return s.stop_requested;
    case ExitReason::core_dump:
    case ExitReason::timeout:
    case ExitReason::watchdog:
    case ExitReason::unhealthy:
    case ExitReason::oom_kill:
    case ExitReason::resource_limit:
    case ExitReason::spawn_failed:
    case ExitReason::unknown: return false;
  }
  return false;
}

SUPERVISOR_INLINE bool is_abnormal_exit(const ExitStatus& s) noexcept {
  switch (s.reason) {
    case ExitReason::success:
    case ExitReason::exit_code:
    case ExitReason::spawn_failed: return false;
    case ExitReason::signal: return !s.stop_requested;
    case ExitReason::core_dump:
    case ExitReason::timeout:
    case ExitReason::watchdog:
    case ExitReason::unhealthy:
    case ExitReason::oom_kill:
    case ExitReason::resource_limit:
    case ExitReason::unknown: return true;
  }
  return true;  // a value outside the enum: not known to be clean
}

SUPERVISOR_INLINE bool restart_wanted(RestartMode mode, const ExitStatus& s) noexcept {
  switch (mode) {
    case RestartMode::never: return false;
    case RestartMode::always: return true;
    case RestartMode::on_success: return is_clean_exit(s);
    case RestartMode::on_failure: return !is_clean_exit(s);
    case RestartMode::on_abnormal: return is_abnormal_exit(s);
  }
  return false;
}

SUPERVISOR_LOCAL_BEGIN

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

// now - window without signed overflow for huge windows or early time points. window >= 0.
SUPERVISOR_INLINE TimePoint window_start(TimePoint now, Duration window) noexcept {
  const Duration::rep n = now.time_since_epoch().count();
  if (n < std::numeric_limits<Duration::rep>::min() + window.count()) return TimePoint::min();
  return now - window;
}

// Charges at or before now - window have left the window (OTP and systemd count restarts
// strictly within the period).
SUPERVISOR_INLINE void prune(std::deque<TimePoint>& charges, TimePoint now, Duration window) {
  const TimePoint start = window_start(now, window);
  while (!charges.empty() && charges.front() <= start) charges.pop_front();
}

SUPERVISOR_INLINE std::size_t count_in_window(const std::deque<TimePoint>& charges, TimePoint now,
                                              Duration window) noexcept {
  const TimePoint start = window_start(now, window);
  return static_cast<std::size_t>(
      std::count_if(charges.begin(), charges.end(), [&](TimePoint t) { return t > start; }));
}

SUPERVISOR_INLINE bool contains(const std::vector<int>& values, int v) noexcept {
  return std::find(values.begin(), values.end(), v) != values.end();
}

using detail::uniform_random;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE constexpr int max_exit_code = 255;
SUPERVISOR_INLINE constexpr int max_signal =
    64;  // SIGRTMAX on Linux, the largest of the supported systems

SUPERVISOR_INLINE void check_backoff(const BackoffOptions& o, std::string_view prefix,
                                     detail::ErrorSink& err) {
  if (o.initial < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}.initial: {} is negative", prefix, format_duration(o.initial));
    });
  } else if (!std::isfinite(o.multiplier) || !(o.multiplier >= 1.0)) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}.multiplier: {} is not a finite number >= 1", prefix, o.multiplier);
    });
  } else if (o.max < o.initial) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}.max: {} is less than initial {}", prefix, format_duration(o.max),
                         format_duration(o.initial));
    });
  } else if (o.jitter != Jitter::none && o.jitter != Jitter::full && o.jitter != Jitter::equal) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}.jitter: {} is not a Jitter value", prefix, static_cast<int>(o.jitter));
    });
  } else if (o.reset_after < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}.reset_after: {} is negative", prefix, format_duration(o.reset_after));
    });
  }
}

SUPERVISOR_INLINE void check_budget(const RestartBudgetOptions& o, std::string_view prefix,
                                    detail::ErrorSink& err) {
  if (o.window < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}.window: {} is negative", prefix, format_duration(o.window));
    });
  }
}

SUPERVISOR_INLINE void check_values(const std::vector<int>& values, std::string_view field, int lo,
                                    int hi, std::string_view what, detail::ErrorSink& err) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] < lo || values[i] > hi) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("StandardRestartOptions.{}[{}]: {} is not {} ({}-{})", field, i,
                           values[i], what, lo, hi);
      });
      return;
    }
  }
}

SUPERVISOR_INLINE void check_disjoint(const std::vector<int>& force, std::string_view force_field,
                                      const std::vector<int>& prevent,
                                      std::string_view prevent_field, detail::ErrorSink& err) {
  for (std::size_t i = 0; i < force.size(); ++i) {
    if (contains(prevent, force[i])) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("StandardRestartOptions.{}[{}]: {} is also in {} (which would win)",
                           force_field, i, force[i], prevent_field);
      });
      return;
    }
  }
}

SUPERVISOR_INLINE void check_standard(const StandardRestartOptions& o, detail::ErrorSink& err) {
  switch (o.mode) {
    case RestartMode::never:
    case RestartMode::always:
    case RestartMode::on_success:
    case RestartMode::on_failure:
    case RestartMode::on_abnormal: break;
    default:
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("StandardRestartOptions.mode: {} is not a RestartMode value",
                           static_cast<int>(o.mode));
      });
      return;
  }
  check_values(o.prevent_restart_exit_codes, "prevent_restart_exit_codes", 0, max_exit_code,
               "an exit code", err);
  if (err) return;
  check_values(o.prevent_restart_signals, "prevent_restart_signals", 1, max_signal,
               "a signal number", err);
  if (err) return;
  check_values(o.force_restart_exit_codes, "force_restart_exit_codes", 0, max_exit_code,
               "an exit code", err);
  if (err) return;
  check_values(o.force_restart_signals, "force_restart_signals", 1, max_signal, "a signal number",
               err);
  if (err) return;
  check_disjoint(o.force_restart_exit_codes, "force_restart_exit_codes",
                 o.prevent_restart_exit_codes, "prevent_restart_exit_codes", err);
  if (err) return;
  check_disjoint(o.force_restart_signals, "force_restart_signals", o.prevent_restart_signals,
                 "prevent_restart_signals", err);
  if (err) return;
  check_backoff(o.backoff, "StandardRestartOptions.backoff", err);
  if (err) return;
  if (o.min_uptime < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("StandardRestartOptions.min_uptime: {} is negative",
                         format_duration(o.min_uptime));
    });
    return;
  }
  if (o.backoff.reset_after < o.min_uptime) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "StandardRestartOptions.backoff.reset_after: {} is less than min_uptime {} (a run "
          "would reset the backoff yet count as a failed start)",
          format_duration(o.backoff.reset_after), format_duration(o.min_uptime));
    });
    return;
  }
  check_budget(o.budget, "StandardRestartOptions.budget", err);
}

SUPERVISOR_INLINE StandardRestartOptions validated(StandardRestartOptions o) {
  validate(o);
  return o;
}

SUPERVISOR_INLINE const BackoffOptions& validated(const BackoffOptions& o) {
  validate(o);
  return o;
}

SUPERVISOR_INLINE const RestartBudgetOptions& validated(const RestartBudgetOptions& o) {
  validate(o);
  return o;
}

SUPERVISOR_LOCAL_END

// ---------------------------------------------------------------------------------------------
// Backoff
// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE void validate(const BackoffOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { check_backoff(options, "BackoffOptions", err); });
}

SUPERVISOR_INLINE void validate(const BackoffOptions& options, std::error_code& ec) noexcept {
  detail::into_code(ec,
                    [&](detail::ErrorSink& err) { check_backoff(options, "BackoffOptions", err); });
}

SUPERVISOR_INLINE Backoff::Backoff(const BackoffOptions& options)
    : options_(validated(options)), random_state_(options.seed) {}

SUPERVISOR_INLINE Duration Backoff::base_delay(std::uint32_t step) const noexcept {
  const BackoffOptions& o = options_;
  if (o.first_immediately) {
    if (step == 0) return Duration::zero();
    --step;
  }
  if (o.initial <= Duration::zero()) return Duration::zero();
  if (step == 0 || !(o.multiplier > 1.0)) return std::min(o.initial, o.max);
  // In double: initial * multiplier^step can exceed int64 long before the cap is checked; the
  // comparison also sends inf (and NaN, for options that skipped validation) to the cap.
  const double grown =
      static_cast<double>(o.initial.count()) * std::pow(o.multiplier, static_cast<double>(step));
  if (!(grown < static_cast<double>(o.max.count()))) return o.max;
  return Duration(std::llround(grown));  // rep: long on Linux, long long on Windows (no cast)
}

SUPERVISOR_INLINE Duration Backoff::delay(std::uint32_t step) noexcept {
  const Duration base = base_delay(step);
  const auto span = static_cast<std::uint64_t>(base.count());
  switch (options_.jitter) {
    case Jitter::none: return base;
    case Jitter::full:
      return Duration(static_cast<Duration::rep>(uniform_random(random_state_, span)));
    case Jitter::equal: {
      const std::uint64_t half = span / 2;
      return Duration(
          static_cast<Duration::rep>(half + uniform_random(random_state_, span - half)));
    }
  }
  return base;
}

// ---------------------------------------------------------------------------------------------
// RestartBudget
// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE void validate(const RestartBudgetOptions& options) {
  detail::or_throw(
      [&](detail::ErrorSink& err) { check_budget(options, "RestartBudgetOptions", err); });
}

SUPERVISOR_INLINE void validate(const RestartBudgetOptions& options, std::error_code& ec) noexcept {
  detail::into_code(
      ec, [&](detail::ErrorSink& err) { check_budget(options, "RestartBudgetOptions", err); });
}

SUPERVISOR_INLINE RestartBudget::RestartBudget(const RestartBudgetOptions& options)
    : options_(validated(options)) {}

SUPERVISOR_INLINE bool RestartBudget::try_acquire(TimePoint now) {
  if (options_.window == Duration::zero()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  prune(charges_, now, options_.window);
  if (charges_.size() >= options_.max_restarts) return false;
  charges_.push_back(now);
  return true;
}

SUPERVISOR_INLINE bool RestartBudget::would_allow(TimePoint now) const {
  if (options_.window == Duration::zero()) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  return count_in_window(charges_, now, options_.window) < options_.max_restarts;
}

SUPERVISOR_INLINE std::size_t RestartBudget::used(TimePoint now) const {
  if (options_.window == Duration::zero()) return 0;
  std::lock_guard<std::mutex> lock(mutex_);
  return count_in_window(charges_, now, options_.window);
}

SUPERVISOR_INLINE void RestartBudget::clear() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  charges_.clear();
}

SUPERVISOR_INLINE std::shared_ptr<RestartBudget> make_restart_budget(
    const RestartBudgetOptions& options) {
  return std::make_shared<RestartBudget>(options);
}

SUPERVISOR_INLINE std::shared_ptr<RestartBudget> make_restart_budget(
    const RestartBudgetOptions& options, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](detail::ErrorSink& err) -> std::shared_ptr<RestartBudget> {
    check_budget(options, "RestartBudgetOptions", err);
    if (err) return nullptr;
    return std::make_shared<RestartBudget>(options);
  });
}

// ---------------------------------------------------------------------------------------------
// StandardRestartOptions
// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE StandardRestartOptions StandardRestartOptions::kubernetes() {
  StandardRestartOptions o;
  o.mode = RestartMode::always;
  o.backoff.initial = std::chrono::seconds(10);
  o.backoff.multiplier = 2.0;
  o.backoff.max = std::chrono::minutes(5);
  o.backoff.first_immediately = true;
  o.backoff.reset_after = std::chrono::minutes(10);
  o.min_uptime = std::chrono::minutes(10);  // every run short of the reset period grows the delay
  o.budget.window = Duration::zero();       // the kubelet never gives up
  return o;
}

SUPERVISOR_INLINE StandardRestartOptions StandardRestartOptions::systemd() {
  StandardRestartOptions o;
  o.mode = RestartMode::on_failure;
  o.backoff = BackoffOptions::fixed(std::chrono::milliseconds(100));
  o.backoff.reset_after = Duration::max();
  o.min_uptime = Duration::max();  // the start limit counts every start
  o.budget = {5, std::chrono::seconds(10)};
  return o;
}

SUPERVISOR_INLINE StandardRestartOptions StandardRestartOptions::otp() {
  StandardRestartOptions o;
  o.mode = RestartMode::always;
  o.backoff = BackoffOptions::fixed(Duration::zero());
  o.backoff.reset_after = Duration::max();
  o.min_uptime = Duration::max();  // intensity counts every restart
  o.budget = {1, std::chrono::seconds(5)};
  return o;
}

SUPERVISOR_INLINE void validate(const StandardRestartOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { check_standard(options, err); });
}

SUPERVISOR_INLINE void validate(const StandardRestartOptions& options,
                                std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { check_standard(options, err); });
}

// ---------------------------------------------------------------------------------------------
// StandardRestartPolicy
// ---------------------------------------------------------------------------------------------

SUPERVISOR_INLINE StandardRestartPolicy::StandardRestartPolicy(StandardRestartOptions options)
    : options_(validated(std::move(options))), backoff_(options_.backoff) {}

SUPERVISOR_INLINE RestartDecision StandardRestartPolicy::on_exit(const RestartContext& ctx) {
  const ExitStatus& s = ctx.status;
  const bool by_code = s.reason == ExitReason::success || s.reason == ExitReason::exit_code;
  const bool by_signal = s.reason == ExitReason::signal || s.reason == ExitReason::core_dump;

  // 1. Rules first (prevent beats force, as in systemd), then the mode.
  if (by_code && contains(options_.prevent_restart_exit_codes, s.exit_code)) {
    return RestartDecision::give_up(
        fmt::format("{}: not restarted: exit code {} is in prevent_restart_exit_codes",
                    s.describe(), s.exit_code));
  }
  if (by_signal && contains(options_.prevent_restart_signals, s.signal)) {
    return RestartDecision::give_up(fmt::format(
        "{}: not restarted: signal {} is in prevent_restart_signals", s.describe(), s.signal));
  }
  std::string verdict;
  if (by_code && contains(options_.force_restart_exit_codes, s.exit_code)) {
    verdict = fmt::format("forced: exit code {} is in force_restart_exit_codes", s.exit_code);
  } else if (by_signal && contains(options_.force_restart_signals, s.signal)) {
    verdict = fmt::format("forced: signal {} is in force_restart_signals", s.signal);
  } else if (restart_wanted(options_.mode, s)) {
    verdict = "mode ";
    verdict += to_string(options_.mode);
  } else {
    const char* kind = is_clean_exit(s)      ? "a clean exit"
                       : is_abnormal_exit(s) ? "an abnormal end"
                                             : "a failure";
    return RestartDecision::give_up(fmt::format("{}: not restarted: mode {} does not restart {}",
                                                s.describe(), to_string(options_.mode), kind));
  }

  // 2. Classify the run.
  const Duration uptime = ctx.uptime();
  const bool failed_start = uptime < options_.min_uptime;
  const bool stable = uptime >= options_.backoff.reset_after;
  WorkerRecord& w = workers_[ctx.worker];
  if (stable) w.step = 0;

  // 3. Budgets: the worker's own first, so that a refusal there charges the shared one nothing.
  const RestartBudgetOptions& budget = options_.budget;
  if (failed_start && budget.window > Duration::zero()) {
    prune(w.charges, ctx.now, budget.window);
    if (w.charges.size() >= budget.max_restarts) {
      return RestartDecision::give_up(fmt::format(
          "{}: not restarted: restart budget of worker {} exhausted: {} failed starts within {} "
          "(budget: max_restarts {}, window {})",
          s.describe(), ctx.worker, w.charges.size(), format_duration(budget.window),
          budget.max_restarts, format_duration(budget.window)));
    }
  }
  if (failed_start && options_.pool_budget && !options_.pool_budget->try_acquire(ctx.now)) {
    const RestartBudgetOptions& pool = options_.pool_budget->options();
    return RestartDecision::give_up(
        fmt::format("{}: not restarted: pool-wide restart budget exhausted: {} restarts within {} "
                    "(pool_budget: max_restarts {}, window {})",
                    s.describe(), options_.pool_budget->used(ctx.now), format_duration(pool.window),
                    pool.max_restarts, format_duration(pool.window)));
  }
  if (failed_start && budget.window > Duration::zero()) w.charges.push_back(ctx.now);

  // 4. The delay of the current step; only a failed start moves the step on.
  const std::uint32_t step = w.step;
  const Duration delay = backoff_.delay(step);
  if (failed_start && w.step < std::numeric_limits<std::uint32_t>::max()) ++w.step;

  // Appended, not formatted: this is on every restart's path.
  std::string why = s.describe();
  why += ": restart after ";
  why += format_duration(delay);
  why += " (";
  why += verdict;
  if (failed_start) {
    why += "; failed start: ran less than min_uptime ";
    why += format_duration(options_.min_uptime);
  } else if (stable) {
    why += "; stable run: backoff reset after ";
    why += format_duration(options_.backoff.reset_after);
  } else {
    why += "; started successfully";
  }
  why += "; backoff step ";
  char buf[16];
  why.append(buf, std::to_chars(buf, buf + sizeof buf, step).ptr);
  why += ')';
  return RestartDecision::after(delay, std::move(why));
}

SUPERVISOR_INLINE void StandardRestartPolicy::forget(std::size_t worker) { workers_.erase(worker); }

SUPERVISOR_INLINE std::uint32_t StandardRestartPolicy::backoff_step(
    std::size_t worker) const noexcept {
  const auto it = workers_.find(worker);
  return it == workers_.end() ? 0 : it->second.step;
}

SUPERVISOR_INLINE std::size_t StandardRestartPolicy::restarts_in_window(
    std::size_t worker, TimePoint now) const noexcept {
  const auto it = workers_.find(worker);
  if (it == workers_.end() || options_.budget.window == Duration::zero()) return 0;
  return count_in_window(it->second.charges, now, options_.budget.window);
}

SUPERVISOR_INLINE std::unique_ptr<RestartPolicy> make_restart_policy(
    StandardRestartOptions options) {
  return std::make_unique<StandardRestartPolicy>(std::move(options));
}

SUPERVISOR_INLINE std::unique_ptr<RestartPolicy> make_restart_policy(StandardRestartOptions options,
                                                                     std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](detail::ErrorSink& err) -> std::unique_ptr<RestartPolicy> {
    check_standard(options, err);
    if (err) return nullptr;
    return std::make_unique<StandardRestartPolicy>(std::move(options));
  });
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::unique_ptr<RestartPolicy> with_mode(RestartMode mode) {
  StandardRestartOptions o;
  o.mode = mode;
  return std::make_unique<StandardRestartPolicy>(std::move(o));
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::unique_ptr<RestartPolicy> restart_never() {
  return with_mode(RestartMode::never);
}
SUPERVISOR_INLINE std::unique_ptr<RestartPolicy> restart_always() {
  return with_mode(RestartMode::always);
}
SUPERVISOR_INLINE std::unique_ptr<RestartPolicy> restart_on_failure() {
  return with_mode(RestartMode::on_failure);
}
SUPERVISOR_INLINE std::unique_ptr<RestartPolicy> restart_on_abnormal() {
  return with_mode(RestartMode::on_abnormal);
}

}  // namespace supervisor
