// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// ResourceLimiter's defaults and the built-in SamplingLimiter (soft limits).
#include <supervisor/error.hpp>
#include <supervisor/limits.hpp>

#include <fmt/format.h>

namespace supervisor {

SUPERVISOR_INLINE ResourceLimiter::~ResourceLimiter() = default;

SUPERVISOR_INLINE void ResourceLimiter::on_gone(std::size_t /*worker*/,
                                                std::uint64_t /*incarnation*/) {}

SUPERVISOR_INLINE SamplingLimiter::SamplingLimiter(SamplingLimiterOptions options)
    : options_(options) {
  if (options_.period <= Duration::zero() || options_.window <= Duration::zero())
    throw_error(errc::invalid_argument, "SamplingLimiterOptions: period and window must be > 0");
  if (!options_.memory_bytes && !options_.cpu_cores)
    throw_error(errc::invalid_argument,
                "SamplingLimiterOptions: set memory_bytes or cpu_cores (or both)");
  if (options_.cpu_cores && !(*options_.cpu_cores > 0))
    throw_error(errc::invalid_argument, "SamplingLimiterOptions.cpu_cores must be > 0");
}

SUPERVISOR_INLINE LimitDecision SamplingLimiter::on_sample(const LimitSample& s) {
  if (tracks_.size() <= s.worker) tracks_.resize(s.worker + 1);
  Track& t = tracks_[s.worker];
  if (t.incarnation != s.incarnation) t = Track{s.incarnation, {}, {}, {}, 0};
  const auto over_for = [&](std::optional<TimePoint>& since, bool over) -> Duration {
    if (!over) {
      since.reset();
      return Duration::zero();
    }
    if (!since) since = s.at;
    return s.at - *since;
  };
  const auto ms = [](Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  LimitDecision d;
  if (options_.memory_bytes) {
    const Duration over = over_for(t.memory_over_since, s.memory_bytes > *options_.memory_bytes);
    if (over >= options_.window) {
      d.action = LimitAction::recycle;
      d.why = fmt::format("memory {} bytes above the soft limit {} for {} ms", s.memory_bytes,
                          *options_.memory_bytes, ms(over));
    }
  }
  if (options_.cpu_cores && t.last_at && s.at > *t.last_at) {
    const double cores =
        (s.cpu_seconds - t.last_cpu) / std::chrono::duration<double>(s.at - *t.last_at).count();
    const Duration over = over_for(t.cpu_over_since, cores > *options_.cpu_cores);
    if (over >= options_.window && d.action == LimitAction::none) {
      d.action = LimitAction::recycle;
      d.why = fmt::format("{:.2f} cores above the soft limit {:.2f} for {} ms", cores,
                          *options_.cpu_cores, ms(over));
    }
  }
  t.last_at = s.at;
  t.last_cpu = s.cpu_seconds;
  return d;
}

SUPERVISOR_INLINE void SamplingLimiter::on_gone(std::size_t worker, std::uint64_t incarnation) {
  if (worker < tracks_.size() && tracks_[worker].incarnation == incarnation) tracks_[worker] = {};
}

}  // namespace supervisor
