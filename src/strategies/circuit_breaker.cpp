// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/circuit_breaker.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <supervisor/error.hpp>

#include "../core/duration.hpp"

namespace supervisor {

using detail::format_duration;

SUPERVISOR_INLINE std::string_view to_string(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
    case BreakerState::disabled: return "disabled";
    case BreakerState::forced_open: return "forced_open";
  }
  return "unknown";
}

SUPERVISOR_INLINE std::string_view to_string(SlidingWindowType t) noexcept {
  switch (t) {
    case SlidingWindowType::count_based: return "count_based";
    case SlidingWindowType::time_based: return "time_based";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// CircuitBreaker: listener delivery

SUPERVISOR_INLINE CircuitBreaker::CircuitBreaker() = default;
SUPERVISOR_INLINE CircuitBreaker::~CircuitBreaker() = default;

SUPERVISOR_INLINE void CircuitBreaker::release(TimePoint /*now*/) {}

SUPERVISOR_INLINE void CircuitBreaker::on_slow(Duration elapsed, TimePoint now) {
  on_success(elapsed, now);
}

SUPERVISOR_INLINE std::optional<TimePoint> CircuitBreaker::next_transition_at(TimePoint /*now*/) {
  return std::nullopt;
}

SUPERVISOR_INLINE void CircuitBreaker::set_listener(Listener listener) {
  auto shared = listener ? std::make_shared<const Listener>(std::move(listener)) : nullptr;
  const std::lock_guard<std::mutex> lock(listener_mutex_);
  listener_ = std::move(shared);
}

SUPERVISOR_INLINE std::uint64_t CircuitBreaker::listener_failures() const noexcept {
  return listener_failures_.load(std::memory_order_relaxed);
}

SUPERVISOR_INLINE void CircuitBreaker::enqueue_transition(BreakerTransition transition) {
  const std::lock_guard<std::mutex> lock(listener_mutex_);
  if (listener_) pending_.push_back(std::move(transition));
}

SUPERVISOR_INLINE void CircuitBreaker::deliver_transitions() noexcept {
  std::unique_lock<std::mutex> lock(listener_mutex_);
  // One deliverer at a time keeps the listener in transition order and serialized; a thread that
  // finds another one delivering leaves its transitions to it instead of waiting (no thread ever
  // blocks on a slow listener, and a listener that calls back into the breaker cannot deadlock).
  if (delivering_) return;
  delivering_ = true;
  while (!pending_.empty()) {
    BreakerTransition transition = std::move(pending_.front());
    pending_.pop_front();
    std::shared_ptr<const Listener> listener = listener_;
    lock.unlock();
    if (listener) {
      try {
        (*listener)(transition);
      } catch (...) {
        listener_failures_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    lock.lock();
  }
  delivering_ = false;
}

SUPERVISOR_INLINE void CircuitBreaker::notify(BreakerTransition transition) {
  enqueue_transition(std::move(transition));
  deliver_transitions();
}

// ---------------------------------------------------------------------------------------------
// Options

SUPERVISOR_LOCAL_BEGIN

// False for NaN too.
SUPERVISOR_INLINE bool valid_percent(double p) { return p > 0.0 && p <= 100.0; }

SUPERVISOR_INLINE void validate_options(const BreakerOptions& o, detail::ErrorSink& err) {
  const auto fail = [&](std::string_view field, auto&& describe) {
    err.fail(errc::invalid_argument,
             [&] { return fmt::format("BreakerOptions.{}: {}", field, describe()); });
  };
  switch (o.window_type) {
    case SlidingWindowType::count_based:
      if (o.window_size < 1 || o.window_size > BreakerOptions::max_count_window) {
        fail("window_size", [&] {
          return fmt::format("{} is outside 1 .. {} calls (count_based window)", o.window_size,
                             BreakerOptions::max_count_window);
        });
        return;
      }
      break;
    case SlidingWindowType::time_based:
      if (o.window_size < 1 || o.window_size > BreakerOptions::max_time_window_seconds) {
        fail("window_size", [&] {
          return fmt::format("{} is outside 1 .. {} seconds (time_based window)", o.window_size,
                             BreakerOptions::max_time_window_seconds);
        });
        return;
      }
      break;
    default:
      fail("window_type", [&] {
        return fmt::format("{} is not a SlidingWindowType", static_cast<int>(o.window_type));
      });
      return;
  }
  if (o.minimum_calls < 1) {
    fail("minimum_calls", [&] { return fmt::format("{} is less than 1", o.minimum_calls); });
    return;
  }
  if (!valid_percent(o.failure_rate_threshold)) {
    fail("failure_rate_threshold",
         [&] { return fmt::format("{} is outside (0, 100] percent", o.failure_rate_threshold); });
    return;
  }
  if (!valid_percent(o.slow_call_rate_threshold)) {
    fail("slow_call_rate_threshold",
         [&] { return fmt::format("{} is outside (0, 100] percent", o.slow_call_rate_threshold); });
    return;
  }
  if (o.slow_call_duration <= Duration::zero()) {
    fail("slow_call_duration",
         [&] { return fmt::format("{} is not positive", format_duration(o.slow_call_duration)); });
    return;
  }
  if (o.wait_in_open <= Duration::zero()) {
    fail("wait_in_open",
         [&] { return fmt::format("{} is not positive", format_duration(o.wait_in_open)); });
    return;
  }
  if (o.permitted_calls_in_half_open < 1) {
    fail("permitted_calls_in_half_open",
         [&] { return fmt::format("{} is less than 1", o.permitted_calls_in_half_open); });
    return;
  }
  if (o.max_wait_in_half_open < Duration::zero()) {
    fail("max_wait_in_half_open", [&] {
      return fmt::format("{} is negative (0 waits for every trial call)",
                         format_duration(o.max_wait_in_half_open));
    });
    return;
  }
}

// `base + d` without overflowing past the end of time (a huge wait means "practically never").
SUPERVISOR_INLINE TimePoint saturating_add(TimePoint base, Duration d) {
  const std::int64_t b = base.time_since_epoch().count();
  const std::int64_t x = d.count();
  if (x > 0 && b > std::numeric_limits<std::int64_t>::max() - x) return TimePoint::max();
  return base + d;
}

struct Counts {
  std::int64_t calls = 0;
  std::int64_t failed = 0;
  std::int64_t slow = 0;

  void add(bool is_failed, bool is_slow) {
    ++calls;
    failed += is_failed ? 1 : 0;
    slow += is_slow ? 1 : 0;
  }
  [[nodiscard]] double failure_rate() const {
    return calls == 0 ? 0.0 : 100.0 * static_cast<double>(failed) / static_cast<double>(calls);
  }
  [[nodiscard]] double slow_rate() const {
    return calls == 0 ? 0.0 : 100.0 * static_cast<double>(slow) / static_cast<double>(calls);
  }
};

// The closed state's memory: the last N outcomes (a ring of flag bytes) or the outcomes of the
// last N seconds (a ring of per-second buckets). Totals are kept incrementally, so recording and
// reading are O(1) amortized and memory is O(N).
class OutcomeWindow {
 public:
  OutcomeWindow(SlidingWindowType type, int size)
      : type_(type), size_(static_cast<std::size_t>(size)) {
    if (type_ == SlidingWindowType::count_based) {
      ring_.assign(size_, 0);
    } else {
      buckets_.assign(size_, Counts{});
    }
  }

  void clear() {
    totals_ = {};
    if (type_ == SlidingWindowType::count_based) {
      std::fill(ring_.begin(), ring_.end(), std::uint8_t{0});
      head_ = 0;
      filled_ = 0;
    } else {
      std::fill(buckets_.begin(), buckets_.end(), Counts{});
      latest_second_.reset();
    }
  }

  void record(bool failed, bool slow, TimePoint now) {
    if (type_ == SlidingWindowType::count_based) {
      if (filled_ == size_) {
        const std::uint8_t old = ring_[head_];
        --totals_.calls;
        totals_.failed -= (old & failed_bit) != 0 ? 1 : 0;
        totals_.slow -= (old & slow_bit) != 0 ? 1 : 0;
      } else {
        ++filled_;
      }
      ring_[head_] = static_cast<std::uint8_t>((failed ? failed_bit : 0) | (slow ? slow_bit : 0));
      head_ = (head_ + 1) % size_;
      totals_.add(failed, slow);
      return;
    }
    const std::int64_t second = second_of(now);
    slide_to(second);
    // Threads read the clock before taking the lock, so an outcome may arrive stamped a little
    // before the newest one; it still belongs to its own second while that is in the window.
    if (second <= *latest_second_ - static_cast<std::int64_t>(size_)) return;
    buckets_[index_of(second)].add(failed, slow);
    totals_.add(failed, slow);
  }

  // The totals over the window as seen at `now` (a time-based window first drops old seconds).
  Counts totals(TimePoint now) {
    if (type_ == SlidingWindowType::time_based) slide_to(second_of(now));
    return totals_;
  }

 private:
  static constexpr std::uint8_t failed_bit = 1;
  static constexpr std::uint8_t slow_bit = 2;

  static std::int64_t second_of(TimePoint t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  }
  [[nodiscard]] std::size_t index_of(std::int64_t second) const {
    const auto n = static_cast<std::int64_t>(size_);
    return static_cast<std::size_t>(((second % n) + n) % n);
  }

  // Makes `second` the newest second of the window, emptying the buckets of the seconds that
  // leave it. A second at or before the newest one changes nothing.
  void slide_to(std::int64_t second) {
    if (!latest_second_) {
      latest_second_ = second;
      return;
    }
    if (second <= *latest_second_) return;
    const std::int64_t steps = std::min(second - *latest_second_, static_cast<std::int64_t>(size_));
    for (std::int64_t i = 1; i <= steps; ++i) {
      Counts& b = buckets_[index_of(*latest_second_ + i)];
      totals_.calls -= b.calls;
      totals_.failed -= b.failed;
      totals_.slow -= b.slow;
      b = {};
    }
    latest_second_ = second;
  }

  SlidingWindowType type_;
  std::size_t size_;
  Counts totals_;
  // count_based
  std::vector<std::uint8_t> ring_;
  std::size_t head_ = 0;
  std::size_t filled_ = 0;
  // time_based
  std::vector<Counts> buckets_;
  std::optional<std::int64_t> latest_second_;
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void validate(const BreakerOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { validate_options(options, err); });
}

SUPERVISOR_INLINE void validate(const BreakerOptions& options, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { validate_options(options, err); });
}

// ---------------------------------------------------------------------------------------------
// SlidingWindowBreaker

struct SlidingWindowBreaker::Impl {
  Impl(SlidingWindowBreaker& owner_ref, const BreakerOptions& o)
      : owner(owner_ref),
        options(o),
        effective_minimum(o.window_type == SlidingWindowType::count_based
                              ? std::min(o.minimum_calls, o.window_size)
                              : o.minimum_calls),
        window(o.window_type, o.window_size) {}

  SlidingWindowBreaker& owner;
  const BreakerOptions options;
  const int effective_minimum;

  std::mutex mutex;  // guards everything below
  BreakerState state = BreakerState::closed;
  OutcomeWindow window;
  TimePoint open_until{};
  TimePoint half_open_since{};
  int trial_permits_left = 0;
  int trials_in_flight = 0;
  Counts trials;
  bool showing_trials = false;  // metrics describe the trial calls rather than the window
  std::int64_t not_permitted = 0;

  void transition(BreakerState to, TimePoint now, std::string reason) {
    const BreakerState from = state;
    state = to;
    owner.enqueue_transition(BreakerTransition{from, to, now, std::move(reason)});
  }

  void to_open(TimePoint now, std::string reason) {
    open_until = saturating_add(now, options.wait_in_open);
    trials_in_flight = 0;
    trial_permits_left = 0;
    transition(BreakerState::open, now, std::move(reason));
  }

  void to_half_open(TimePoint now) {
    half_open_since = now;
    trial_permits_left = options.permitted_calls_in_half_open;
    trials_in_flight = 0;
    trials = {};
    showing_trials = true;
    transition(
        BreakerState::half_open, now,
        fmt::format("wait_in_open of {} elapsed; {} trial call(s) permitted",
                    format_duration(options.wait_in_open), options.permitted_calls_in_half_open));
  }

  void to_closed(TimePoint now, std::string reason) {
    window.clear();
    trials = {};
    showing_trials = false;
    trials_in_flight = 0;
    trial_permits_left = 0;
    transition(BreakerState::closed, now, std::move(reason));
  }

  // A manual override or reset: forget every outcome.
  void to_manual(BreakerState to, TimePoint now, std::string reason) {
    window.clear();
    trials = {};
    showing_trials = false;
    trials_in_flight = 0;
    trial_permits_left = 0;
    transition(to, now, std::move(reason));
  }

  // The transitions that time alone causes. `open_to_half_open`: whether the end of the wait may
  // move open to half-open here (always in try_acquire; elsewhere only when automatic).
  void advance(TimePoint now, bool open_to_half_open) {
    if (state == BreakerState::half_open && options.max_wait_in_half_open > Duration::zero() &&
        now >= saturating_add(half_open_since, options.max_wait_in_half_open)) {
      const int completed = static_cast<int>(trials.calls);
      to_open(now, fmt::format("no decision within max_wait_in_half_open of {} ({} of {} trial "
                               "call(s) completed)",
                               format_duration(options.max_wait_in_half_open), completed,
                               options.permitted_calls_in_half_open));
    }
    if (state == BreakerState::open && open_to_half_open && now >= open_until) {
      to_half_open(now);
    }
  }

  [[nodiscard]] bool automatic() const { return options.automatic_open_to_half_open; }

  // Whether either rate reached its threshold. Checked on every outcome, so it formats nothing.
  [[nodiscard]] bool exceeded(const Counts& c) const {
    return c.failure_rate() >= options.failure_rate_threshold ||
           c.slow_rate() >= options.slow_call_rate_threshold;
  }

  // Why `exceeded(c)` holds, for the listener.
  [[nodiscard]] std::string exceeded_reason(const Counts& c, std::string_view over) const {
    const double failure_rate = c.failure_rate();
    if (failure_rate >= options.failure_rate_threshold) {
      return fmt::format("failure rate {:.1f}% reached the {:.1f}% threshold over {}", failure_rate,
                         options.failure_rate_threshold, over);
    }
    return fmt::format(
        "slow-call rate {:.1f}% (calls over {}) reached the {:.1f}% threshold over {}",
        c.slow_rate(), format_duration(options.slow_call_duration),
        options.slow_call_rate_threshold, over);
  }

  [[nodiscard]] std::string window_description(const Counts& c) const {
    if (options.window_type == SlidingWindowType::count_based) {
      return fmt::format("the last {} call(s)", c.calls);
    }
    return fmt::format("{} call(s) in the last {}s", c.calls, options.window_size);
  }

  // `slow_anyway`: the caller says so (on_slow), whatever the time.
  void record(bool failed, Duration elapsed, TimePoint now, bool slow_anyway = false) {
    advance(now, automatic());
    const bool slow = slow_anyway || elapsed > options.slow_call_duration;
    switch (state) {
      case BreakerState::closed: {
        window.record(failed, slow, now);
        const Counts c = window.totals(now);
        if (c.calls < effective_minimum) return;
        if (exceeded(c)) to_open(now, exceeded_reason(c, window_description(c)));
        return;
      }
      case BreakerState::half_open: {
        if (trials_in_flight == 0) return;  // not a trial: permitted before the breaker tripped
        --trials_in_flight;
        trials.add(failed, slow);
        if (trials.calls < options.permitted_calls_in_half_open) return;
        const std::string over = fmt::format("{} trial call(s)", trials.calls);
        if (exceeded(trials)) {
          to_open(now, "trial calls failed: " + exceeded_reason(trials, over));
        } else {
          to_closed(now, fmt::format("trial calls passed: failure rate {:.1f}% and slow-call rate "
                                     "{:.1f}% are below their thresholds over {}",
                                     trials.failure_rate(), trials.slow_rate(), over));
        }
        return;
      }
      case BreakerState::open:
      case BreakerState::disabled:
      case BreakerState::forced_open: return;
    }
  }
};

SUPERVISOR_INLINE SlidingWindowBreaker::SlidingWindowBreaker(const BreakerOptions& options)
    : impl_(std::make_unique<Impl>(*this, options)) {}

SUPERVISOR_INLINE SlidingWindowBreaker::~SlidingWindowBreaker() = default;

SUPERVISOR_INLINE std::unique_ptr<SlidingWindowBreaker> SlidingWindowBreaker::create(
    BreakerOptions options) {
  validate(options);
  return std::unique_ptr<SlidingWindowBreaker>(new SlidingWindowBreaker(options));
}

SUPERVISOR_INLINE std::unique_ptr<SlidingWindowBreaker> SlidingWindowBreaker::create(
    BreakerOptions options, std::error_code& ec) noexcept {
  // The window is allocated up front (at most a few MB by the validated limits): running out of
  // memory is reported as std::errc::not_enough_memory.
  return detail::into_code(
      ec, [&](detail::ErrorSink& err) -> std::unique_ptr<SlidingWindowBreaker> {
        validate_options(options, err);
        if (err) return nullptr;
        return std::unique_ptr<SlidingWindowBreaker>(new SlidingWindowBreaker(options));
      });
}

SUPERVISOR_INLINE bool SlidingWindowBreaker::try_acquire(TimePoint now) {
  bool permitted = false;
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    Impl& s = *impl_;
    s.advance(now, /*open_to_half_open=*/true);
    switch (s.state) {
      case BreakerState::closed:
      case BreakerState::disabled: permitted = true; break;
      case BreakerState::half_open:
        if (s.trial_permits_left > 0) {
          --s.trial_permits_left;
          ++s.trials_in_flight;
          permitted = true;
        }
        break;
      case BreakerState::open:
      case BreakerState::forced_open: break;
    }
    if (!permitted) ++s.not_permitted;
  }
  deliver_transitions();
  return permitted;
}

SUPERVISOR_INLINE void SlidingWindowBreaker::on_success(Duration elapsed, TimePoint now) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->record(false, elapsed, now);
  }
  deliver_transitions();
}

SUPERVISOR_INLINE void SlidingWindowBreaker::on_slow(Duration elapsed, TimePoint now) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->record(false, elapsed, now, true);
  }
  deliver_transitions();
}

SUPERVISOR_INLINE void SlidingWindowBreaker::on_failure(Duration elapsed, TimePoint now) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->record(true, elapsed, now);
  }
  deliver_transitions();
}

SUPERVISOR_INLINE void SlidingWindowBreaker::release(TimePoint now) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    Impl& s = *impl_;
    s.advance(now, s.automatic());
    if (s.state == BreakerState::half_open && s.trials_in_flight > 0) {
      --s.trials_in_flight;
      ++s.trial_permits_left;
    }
  }
  deliver_transitions();
}

SUPERVISOR_INLINE BreakerState SlidingWindowBreaker::state(TimePoint now) {
  BreakerState result;
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->advance(now, impl_->automatic());
    result = impl_->state;
  }
  deliver_transitions();
  return result;
}

SUPERVISOR_INLINE std::optional<TimePoint> SlidingWindowBreaker::next_transition_at(TimePoint now) {
  std::optional<TimePoint> result;
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    Impl& s = *impl_;
    s.advance(now, s.automatic());
    if (s.state == BreakerState::open) {
      result = s.open_until;
    } else if (s.state == BreakerState::half_open &&
               s.options.max_wait_in_half_open > Duration::zero()) {
      result = saturating_add(s.half_open_since, s.options.max_wait_in_half_open);
    }
  }
  deliver_transitions();
  return result;
}

SUPERVISOR_INLINE void SlidingWindowBreaker::force_open(TimePoint now) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->state != BreakerState::forced_open) {
      impl_->to_manual(BreakerState::forced_open, now, "force_open()");
    }
  }
  deliver_transitions();
}

SUPERVISOR_INLINE void SlidingWindowBreaker::disable(TimePoint now) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->state != BreakerState::disabled) {
      impl_->to_manual(BreakerState::disabled, now, "disable()");
    }
  }
  deliver_transitions();
}

SUPERVISOR_INLINE void SlidingWindowBreaker::reset(TimePoint now) {
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    Impl& s = *impl_;
    s.not_permitted = 0;
    if (s.state != BreakerState::closed) {
      s.to_manual(BreakerState::closed, now, "reset()");
    } else {
      s.window.clear();
    }
  }
  deliver_transitions();
}

SUPERVISOR_INLINE BreakerMetrics SlidingWindowBreaker::metrics(TimePoint now) {
  BreakerMetrics m;
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    Impl& s = *impl_;
    s.advance(now, s.automatic());
    const Counts c = s.showing_trials ? s.trials : s.window.totals(now);
    m.state = s.state;
    m.failure_rate = c.failure_rate();
    m.slow_call_rate = c.slow_rate();
    m.buffered_calls = c.calls;
    m.failed_calls = c.failed;
    m.slow_calls = c.slow;
    m.not_permitted_calls = s.not_permitted;
    m.minimum_calls =
        s.showing_trials ? s.options.permitted_calls_in_half_open : s.effective_minimum;
  }
  deliver_transitions();
  return m;
}

SUPERVISOR_INLINE const BreakerOptions& SlidingWindowBreaker::options() const noexcept {
  return impl_->options;
}

// ---------------------------------------------------------------------------------------------
// BreakerGuard

SUPERVISOR_INLINE BreakerGuard::BreakerGuard(CircuitBreaker& breaker, const Clock& clock)
    : breaker_(breaker), clock_(clock), start_(clock.now()), permitted_(false), pending_(false) {
  permitted_ = breaker_.try_acquire(start_);
  pending_ = permitted_;
}

SUPERVISOR_INLINE BreakerGuard::~BreakerGuard() {
  if (!pending_) return;
  try {
    breaker_.release(clock_.now());
  } catch (...) {
    // A destructor never throws; a throwing user breaker loses this permit.
  }
}

SUPERVISOR_INLINE void BreakerGuard::success() {
  if (!pending_) return;
  pending_ = false;
  const TimePoint now = clock_.now();
  breaker_.on_success(now - start_, now);
}

SUPERVISOR_INLINE void BreakerGuard::failure() {
  if (!pending_) return;
  pending_ = false;
  const TimePoint now = clock_.now();
  breaker_.on_failure(now - start_, now);
}

}  // namespace supervisor
