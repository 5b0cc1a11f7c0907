// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The AlertManager: rules over watched pools' events, one incident per (rule, pool) with its
// throttle, a bounded queue of notices, and their delivery to the sinks.
//
// Locks: `mu_` guards everything but the sinks' calls; rules run under it. `deliver_mu_` keeps
// the sinks' calls one at a time; it is taken before `mu_`, never after. No pool method is ever
// called with `mu_` held: subscribe/unsubscribe wait for the pool's loop thread, which may be
// waiting for `mu_` in our subscriber.
#include <supervisor/alerts.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../core/duration.hpp"

namespace supervisor {

class AlertManager::Impl : public std::enable_shared_from_this<AlertManager::Impl> {
 public:
  Impl(Clock& clock, AlertManagerOptions options) : clock_(clock), options_(std::move(options)) {}

  struct RuleSlot {
    std::shared_ptr<AlertRule> rule;
    std::string name;
    AlertSeverity severity = AlertSeverity::warning;
    Duration throttle{};
  };
  struct SinkSlot {
    std::shared_ptr<AlertSink> sink;
    AlertSinkStats stats;
  };
  struct Watched {
    std::uint64_t entry = 0;  // this watch's number: events and ends of older ones are ignored
    Pool* pool = nullptr;
    std::uint64_t subscription = 0;
    bool subscribed = false;
  };
  // One (rule, pool): its current or last incident.
  struct Incident {
    bool active = false;
    bool announced = false;  // a firing notice went out for the current incident
    std::optional<TimePoint> last_firing;
    AlertSeverity announced_severity = AlertSeverity::info;
    std::uint64_t pending = 0;  // occurrences no notice reported yet
    Alert current;              // the last occurrence, as a firing notice would carry it
  };

  // The view a rule gets of one pool (under mu_).
  class Context final : public AlertContext {
   public:
    Context(Impl& m, const RuleSlot& rule, std::string_view pool, TimePoint now, WallTime wall)
        : m_(m), rule_(rule), pool_(pool), now_(now), wall_(wall) {}
    [[nodiscard]] std::string_view pool() const noexcept override { return pool_; }
    [[nodiscard]] TimePoint now() const noexcept override { return now_; }
    [[nodiscard]] bool firing() const noexcept override {
      const auto it = m_.incidents_.find(key());
      return it != m_.incidents_.end() && it->second.active;
    }
    void fire(AlertOccurrence occurrence) override {
      m_.occur(rule_, pool_, now_, wall_, std::move(occurrence));
    }
    void resolve(std::string summary) override {
      const auto it = m_.incidents_.find(key());
      if (it != m_.incidents_.end()) m_.clear(it->second, now_, wall_, std::move(summary));
    }

   private:
    [[nodiscard]] std::pair<std::string, std::string> key() const {
      return {rule_.name, std::string(pool_)};
    }
    Impl& m_;
    const RuleSlot& rule_;
    std::string_view pool_;
    TimePoint now_;
    WallTime wall_;
  };

  // Marks a watch's pool destroyed when the pool lets go of our subscriber (a pool clears its
  // subscribers when it is destroyed). Also runs after our own unsubscribe: the watch is gone
  // by then, and nothing happens.
  struct PoolGone {
    std::weak_ptr<Impl> impl;
    std::string name;
    std::uint64_t entry = 0;
    PoolGone(std::weak_ptr<Impl> i, std::string n, std::uint64_t e)
        : impl(std::move(i)), name(std::move(n)), entry(e) {}
    PoolGone(const PoolGone&) = delete;
    PoolGone& operator=(const PoolGone&) = delete;
    ~PoolGone() {
      if (const auto m = impl.lock()) m->pool_gone(name, entry);
    }
  };

  // ---- rules (under mu_) ----------------------------------------------------------------
  void run_rules(std::string_view pool, const PoolEvent* event) {
    const TimePoint now = clock_.now();
    const WallTime wall = clock_.wall_now();
    for (const auto& slot : rules_) {
      Context ctx(*this, slot, pool, now, wall);
      try {
        if (event != nullptr) slot.rule->on_event(*event, ctx);
        slot.rule->on_time(ctx);
      } catch (...) {
        ++stats_.rule_errors;
        if (options_.error_handler) {
          try {
            options_.error_handler(std::current_exception(), "alert rule " + slot.name);
          } catch (...) {
          }
        }
      }
    }
    send_deferred(now);
  }

  void on_event(std::string_view pool, const PoolEvent& event) {
    pools_.emplace(pool);
    run_rules(pool, &event);
  }

  void occur(const RuleSlot& rule, std::string_view pool, TimePoint now, WallTime wall,
             AlertOccurrence o) {
    Incident& inc = incidents_[{rule.name, std::string(pool)}];
    Alert& a = inc.current;
    if (!inc.active) {
      inc.active = true;
      inc.announced = false;
      a.rule = rule.name;
      a.pool = std::string(pool);
      a.occurrences = 0;
      a.first_at = now;
      a.first_wall = wall;
    }
    ++a.occurrences;
    a.last_at = now;
    a.last_wall = wall;
    a.summary = std::move(o.summary);
    a.detail = std::move(o.detail);
    a.worker = o.worker;
    a.severity = o.severity.value_or(rule.severity);
    const Duration throttle = rule.throttle > Duration::zero() ? rule.throttle : options_.throttle;
    const bool escalates = inc.announced && a.severity > inc.announced_severity;
    if (!inc.last_firing || now - *inc.last_firing >= throttle || escalates) {
      send_firing(inc, now, inc.pending);
    } else {
      ++inc.pending;
      ++stats_.suppressed;
    }
  }

  void send_firing(Incident& inc, TimePoint now, std::uint64_t suppressed) {
    inc.announced = true;
    inc.last_firing = now;
    inc.announced_severity = inc.current.severity;
    inc.pending = 0;
    Alert a = inc.current;
    a.state = AlertState::firing;
    a.suppressed = suppressed;
    ++stats_.firing;
    enqueue(std::move(a));
  }

  void clear(Incident& inc, TimePoint now, WallTime wall, std::string summary) {
    if (!inc.active) return;
    inc.active = false;
    if (!inc.announced) return;  // never announced: its occurrences count in the next notice
    inc.announced = false;
    Alert a = inc.current;
    a.state = AlertState::resolved;
    a.summary = summary.empty() ? "resolved: " + a.summary : std::move(summary);
    a.last_at = now;
    a.last_wall = wall;
    a.suppressed = inc.pending;
    inc.pending = 0;
    ++stats_.resolved;
    enqueue(std::move(a));
  }

  // Firing notices the throttle held back, whose interval has passed.
  void send_deferred(TimePoint now) {
    for (auto& entry : incidents_) {
      Incident& inc = entry.second;
      if (!inc.active || inc.announced || !inc.last_firing) continue;
      const std::string& rule_name = entry.first.first;
      const auto rule = std::find_if(rules_.begin(), rules_.end(),
                                     [&](const RuleSlot& r) { return r.name == rule_name; });
      Duration throttle = options_.throttle;
      if (rule != rules_.end() && rule->throttle > Duration::zero()) throttle = rule->throttle;
      if (now - *inc.last_firing < throttle) continue;
      // The notice reports the last occurrence: the others were swallowed.
      const std::uint64_t others = inc.pending > 0 ? inc.pending - 1 : 0;
      if (inc.pending > 0) --stats_.suppressed;
      send_firing(inc, now, others);
    }
  }

  // Forgets a pool: resolves its open incidents with `why`, drops them, tells the rules.
  void drop_pool(std::string_view pool, const std::string& why) {
    const TimePoint now = clock_.now();
    const WallTime wall = clock_.wall_now();
    for (auto it = incidents_.begin(); it != incidents_.end();) {
      if (it->first.second == pool) {
        clear(it->second, now, wall, why);
        it = incidents_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& slot : rules_) slot.rule->forget(pool);
    if (const auto it = pools_.find(pool); it != pools_.end()) pools_.erase(it);
  }

  void pool_gone(const std::string& name, std::uint64_t entry) {
    const std::lock_guard lock(mu_);
    const auto it = watched_.find(name);
    if (it == watched_.end() || it->second.entry != entry) return;
    watched_.erase(it);
    drop_pool(name, "pool destroyed");
  }

  // ---- the queue (under mu_) ------------------------------------------------------------
  void enqueue(Alert a) {
    a.sequence = ++sequence_;
    ++stats_.notices;
    if (queue_.size() >= options_.queue_capacity) {
      queue_.pop_front();
      ++stats_.dropped;
      for (auto& s : sinks_) ++s.stats.dropped;
    }
    queue_.push_back(std::move(a));
    cv_.notify_all();
  }

  // Delivers what is queued, one notice to every sink at a time, without holding mu_.
  std::size_t deliver() {
    const std::lock_guard one_at_a_time(deliver_mu_);
    std::unique_lock lock(mu_);
    std::size_t n = 0;
    while (!queue_.empty() && !stopping_) {
      const Alert a = std::move(queue_.front());
      queue_.pop_front();
      ++in_flight_;
      std::vector<std::shared_ptr<AlertSink>> sinks;
      for (const auto& s : sinks_) sinks.push_back(s.sink);
      lock.unlock();
      std::vector<std::string> errors(sinks.size());
      std::vector<bool> failed(sinks.size(), false);
      for (std::size_t i = 0; i < sinks.size(); ++i) {
        try {
          sinks[i]->deliver(a);
        } catch (const std::exception& e) {
          failed[i] = true;
          errors[i] = e.what();
        } catch (...) {
          failed[i] = true;
          errors[i] = "unknown exception";
        }
      }
      lock.lock();
      for (std::size_t i = 0; i < sinks.size() && i < sinks_.size(); ++i) {
        auto& st = sinks_[i].stats;
        if (failed[i]) {
          ++st.failed;
          st.last_error = std::move(errors[i]);
        } else {
          ++st.delivered;
        }
      }
      --in_flight_;
      ++n;
      cv_.notify_all();
    }
    return n;
  }

  void thread_main() {
    using Steady = std::chrono::steady_clock;
    // At least daily: a period of Duration::max() must not overflow the deadline below.
    const Duration period = std::min(options_.evaluate_period, Duration(std::chrono::hours(24)));
    auto next = Steady::now() + period;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      if (period > Duration::zero() && Steady::now() >= next) {
        lock.unlock();
        evaluate();
        lock.lock();
        next = Steady::now() + period;
        continue;
      }
      if (!queue_.empty()) {
        lock.unlock();
        deliver();
        lock.lock();
        continue;
      }
      const auto wake = [&] { return stopping_ || !queue_.empty(); };
      if (period > Duration::zero()) {
        cv_.wait_until(lock, next, wake);
      } else {
        cv_.wait(lock, wake);
      }
    }
  }

  void evaluate() {
    const std::lock_guard lock(mu_);
    const std::vector<std::string> pools(pools_.begin(), pools_.end());
    for (const auto& p : pools) run_rules(p, nullptr);
    send_deferred(clock_.now());
  }

  Clock& clock_;
  AlertManagerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // the queue filled, a delivery ended, or stopping
  std::mutex deliver_mu_;
  std::vector<RuleSlot> rules_;
  std::vector<SinkSlot> sinks_;  // only appended: deliver() names them by index
  std::map<std::string, Watched, std::less<>> watched_;
  std::set<std::string, std::less<>> pools_;  // every pool the rules have state for
  std::map<std::pair<std::string, std::string>, Incident> incidents_;  // by (rule, pool)
  std::deque<Alert> queue_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::uint64_t sequence_ = 0;
  std::uint64_t next_entry_ = 0;
  AlertStats stats_;  // without sinks and queued
  std::thread thread_;
};

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void check_manager(const AlertManagerOptions& o, detail::ErrorSink& err) {
  if (o.throttle < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("AlertManagerOptions.throttle: negative ({})",
                         detail::format_duration(o.throttle));
    });
  } else if (o.queue_capacity == 0) {
    err.fail(errc::invalid_argument,
             [] { return std::string("AlertManagerOptions.queue_capacity: must be at least 1"); });
  } else if (o.evaluate_period < Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("AlertManagerOptions.evaluate_period: negative ({})",
                         detail::format_duration(o.evaluate_period));
    });
  }
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void validate(const AlertManagerOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { check_manager(options, err); });
}

SUPERVISOR_INLINE void validate(const AlertManagerOptions& options, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { check_manager(options, err); });
}

SUPERVISOR_INLINE AlertManager::AlertManager(AlertManagerOptions options)
    : AlertManager(default_clock(), std::move(options)) {}

SUPERVISOR_INLINE AlertManager::AlertManager(Clock& clock, AlertManagerOptions options) {
  validate(options);
  impl_ = std::make_shared<Impl>(clock, std::move(options));
  if (impl_->options_.delivery_thread) {
    impl_->thread_ = std::thread([impl = impl_.get()] { impl->thread_main(); });
  }
}

SUPERVISOR_INLINE AlertManager::~AlertManager() {
  std::vector<Impl::Watched> watched;
  {
    const std::lock_guard lock(impl_->mu_);
    impl_->stopping_ = true;
    for (auto& [name, w] : impl_->watched_) watched.push_back(w);
    impl_->watched_.clear();  // events still under way find no watch, and are ignored
  }
  impl_->cv_.notify_all();
  if (impl_->thread_.joinable()) impl_->thread_.join();
  for (const auto& w : watched) {
    if (!w.subscribed) continue;
    try {
      w.pool->unsubscribe(w.subscription);
    } catch (...) {
      // Its loop is gone (a forked copy): nothing will call the subscriber again.
    }
  }
}

SUPERVISOR_LOCAL_BEGIN

// Why a rule or sink named `name` cannot be added ("" when it can).
SUPERVISOR_INLINE std::string refuse_name(std::string_view what, bool null, const std::string& name,
                                          const std::vector<std::string>& taken) {
  if (null) return fmt::format("AlertManager::add_{}: null", what);
  if (name.empty()) return fmt::format("AlertManager::add_{}: empty {} name", what, what);
  if (std::find(taken.begin(), taken.end(), name) != taken.end())
    return fmt::format("AlertManager::add_{}: {} name \"{}\" already added", what, what, name);
  return {};
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void AlertManager::do_add_rule(std::shared_ptr<AlertRule> rule,
                                                 detail::ErrorSink& err) {
  const std::string name = rule ? rule->name() : std::string();
  const std::lock_guard lock(impl_->mu_);
  std::vector<std::string> taken;
  for (const auto& r : impl_->rules_) taken.push_back(r.name);
  std::string why = refuse_name("rule", !rule, name, taken);
  if (!why.empty()) return err.fail(errc::invalid_argument, [&] { return std::move(why); });
  impl_->rules_.push_back({rule, name, rule->severity(), rule->throttle()});
}

SUPERVISOR_INLINE void AlertManager::do_add_sink(std::shared_ptr<AlertSink> sink,
                                                 detail::ErrorSink& err) {
  const std::string name = sink ? sink->name() : std::string();
  const std::lock_guard lock(impl_->mu_);
  std::vector<std::string> taken;
  for (const auto& s : impl_->sinks_) taken.push_back(s.stats.name);
  std::string why = refuse_name("sink", !sink, name, taken);
  if (!why.empty()) return err.fail(errc::invalid_argument, [&] { return std::move(why); });
  Impl::SinkSlot slot{sink, {}};
  slot.stats.name = name;
  impl_->sinks_.push_back(std::move(slot));
}

SUPERVISOR_INLINE void AlertManager::do_watch(std::string name, Pool& pool,
                                              detail::ErrorSink& err) {
  std::uint64_t entry = 0;
  {
    const std::lock_guard lock(impl_->mu_);
    if (name.empty()) {
      return err.fail(errc::invalid_argument,
                      [] { return std::string("AlertManager::watch: empty pool name"); });
    }
    if (impl_->watched_.count(name) != 0) {
      return err.fail(errc::invalid_argument, [&] {
        return fmt::format("AlertManager::watch: pool name \"{}\" already watched", name);
      });
    }
    entry = ++impl_->next_entry_;
    impl_->watched_.emplace(name, Impl::Watched{entry, &pool, 0, false});
    impl_->pools_.insert(name);
  }
  auto gone = std::make_shared<Impl::PoolGone>(impl_, name, entry);
  std::uint64_t subscription = 0;
  try {
    subscription = pool.subscribe([impl = impl_, gone, name, entry](const PoolEvent& event) {
      const std::lock_guard lock(impl->mu_);
      const auto it = impl->watched_.find(name);
      if (it == impl->watched_.end() || it->second.entry != entry) return;
      impl->on_event(name, event);
    });
  } catch (...) {
    gone.reset();
    impl_->pool_gone(name, entry);  // undoes the watch, if still there
    throw;
  }
  gone.reset();  // the subscriber holds it now
  bool removed_meanwhile = false;
  {
    const std::lock_guard lock(impl_->mu_);
    const auto it = impl_->watched_.find(name);
    if (it != impl_->watched_.end() && it->second.entry == entry) {
      it->second.subscription = subscription;
      it->second.subscribed = true;
    } else {
      removed_meanwhile = true;
    }
  }
  if (removed_meanwhile) pool.unsubscribe(subscription);
}

SUPERVISOR_INLINE void AlertManager::do_remove(std::string_view name, detail::ErrorSink& err) {
  Impl::Watched w;
  {
    const std::lock_guard lock(impl_->mu_);
    const auto it = impl_->watched_.find(name);
    if (it == impl_->watched_.end()) {
      return err.fail(errc::invalid_argument, [&] {
        return fmt::format("AlertManager::remove: pool \"{}\" is not watched", name);
      });
    }
    w = it->second;
    impl_->watched_.erase(it);
    impl_->drop_pool(name, "pool no longer watched");
  }
  if (w.subscribed) w.pool->unsubscribe(w.subscription);
}

SUPERVISOR_INLINE void AlertManager::add_rule(std::shared_ptr<AlertRule> rule) {
  detail::or_throw([&](detail::ErrorSink& err) { do_add_rule(std::move(rule), err); });
}
SUPERVISOR_INLINE void AlertManager::add_rule(std::shared_ptr<AlertRule> rule,
                                              std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { do_add_rule(std::move(rule), err); });
}
SUPERVISOR_INLINE void AlertManager::add_sink(std::shared_ptr<AlertSink> sink) {
  detail::or_throw([&](detail::ErrorSink& err) { do_add_sink(std::move(sink), err); });
}
SUPERVISOR_INLINE void AlertManager::add_sink(std::shared_ptr<AlertSink> sink,
                                              std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { do_add_sink(std::move(sink), err); });
}
SUPERVISOR_INLINE void AlertManager::watch(std::string name, Pool& pool) {
  detail::or_throw([&](detail::ErrorSink& err) { do_watch(std::move(name), pool, err); });
}
SUPERVISOR_INLINE void AlertManager::watch(std::string name, Pool& pool,
                                           std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { do_watch(std::move(name), pool, err); });
}
SUPERVISOR_INLINE void AlertManager::remove(std::string_view name) {
  detail::or_throw([&](detail::ErrorSink& err) { do_remove(name, err); });
}
SUPERVISOR_INLINE void AlertManager::remove(std::string_view name, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { do_remove(name, err); });
}

SUPERVISOR_INLINE void AlertManager::observe(std::string_view pool, const PoolEvent& event) {
  const std::lock_guard lock(impl_->mu_);
  impl_->on_event(pool, event);
}

SUPERVISOR_INLINE void AlertManager::evaluate() { impl_->evaluate(); }

SUPERVISOR_INLINE std::size_t AlertManager::deliver_pending() { return impl_->deliver(); }

SUPERVISOR_INLINE bool AlertManager::flush(Duration timeout) {
  if (!impl_->options_.delivery_thread) {
    impl_->deliver();
    return true;
  }
  std::unique_lock lock(impl_->mu_);
  return impl_->cv_.wait_for(lock, timeout,
                             [&] { return impl_->queue_.empty() && impl_->in_flight_ == 0; });
}

SUPERVISOR_INLINE std::vector<Alert> AlertManager::firing() const {
  const std::lock_guard lock(impl_->mu_);
  std::vector<Alert> out;
  for (const auto& [key, inc] : impl_->incidents_) {
    if (!inc.active) continue;
    Alert a = inc.current;
    a.state = AlertState::firing;
    a.suppressed = inc.pending;
    out.push_back(std::move(a));
  }
  return out;
}

SUPERVISOR_INLINE AlertStats AlertManager::stats() const {
  const std::lock_guard lock(impl_->mu_);
  AlertStats s = impl_->stats_;
  s.queued = impl_->queue_.size();
  for (const auto& slot : impl_->sinks_) s.sinks.push_back(slot.stats);
  return s;
}

SUPERVISOR_INLINE std::vector<std::string> AlertManager::pools() const {
  const std::lock_guard lock(impl_->mu_);
  std::vector<std::string> out;
  for (const auto& [name, w] : impl_->watched_) out.push_back(name);
  return out;
}

}  // namespace supervisor
