// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// `supervisor::prometheus` (an optional component, CMake option `SUPERVISOR_PROMETHEUS`,
/// `find_package(supervisor COMPONENTS prometheus)`, target `supervisor::prometheus`): the
/// pools' and loops' metrics in a host that already runs prometheus-cpp. A
/// `PrometheusCollectable` is a `prometheus::Collectable`; register it beside the host's own
/// `prometheus::Registry` and one scrape shows both:
///
///     supervisor::Monitor monitor;
///     monitor.add_pool("api", api_pool);
///     prometheus::Exposer exposer{"127.0.0.1:9100"};
///     auto registry = std::make_shared<prometheus::Registry>();     // the host's own metrics
///     auto pools = std::make_shared<supervisor::PrometheusCollectable>(monitor);
///     exposer.RegisterCollectable(registry);
///     exposer.RegisterCollectable(pools);
///     ...
///     exposer.RemoveCollectable(pools);  // before `monitor` or a pool goes away
///
/// This header includes prometheus-cpp's `prometheus/collectable.h` and
/// `prometheus/metric_family.h`; prometheus-cpp::core is a public dependency of the target.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <supervisor/export.hpp>
#include <supervisor/metrics.hpp>
#include <supervisor/monitor.hpp>

#if defined(SUPERVISOR_BUILDING_PROMETHEUS)
#  define SUPERVISOR_PROMETHEUS_API SUPERVISOR_COMPONENT_EXPORT
#else
#  define SUPERVISOR_PROMETHEUS_API SUPERVISOR_COMPONENT_IMPORT
#endif

namespace supervisor {

/// `family` as prometheus-cpp's: the same name, help and type (a help text with a backslash or a
/// newline comes escaped, as the exposition format wants it, when the prometheus-cpp linked
/// writes help texts verbatim, as 1.0 does); each sample one `ClientMetric` with the same
/// labels, in the same order; a counter's or gauge's value as is; a histogram as cumulative
/// buckets (each bound an `upper_bound`, the last one +Inf, holding every observation) with its
/// `sample_sum` and `sample_count`, the buckets exactly as `to_prometheus` writes them. The unit
/// has no place in prometheus-cpp's model: it is already the last part of the name. No
/// timestamps.
[[nodiscard]] SUPERVISOR_PROMETHEUS_API prometheus::MetricFamily to_prometheus_family(
    const MetricFamily& family);
/// Every family of `families`, in order (see `to_prometheus_family`).
[[nodiscard]] SUPERVISOR_PROMETHEUS_API std::vector<prometheus::MetricFamily>
to_prometheus_families(const std::vector<MetricFamily>& families);

/// The metrics of a `Monitor` (or of any function that makes a `MetricSet`) as a
/// prometheus-cpp `Collectable`: every `Collect()` asks its source afresh and converts what it
/// answers (`to_prometheus_families`). Register it with a `prometheus::Exposer` (which keeps a
/// `weak_ptr`: hold it in a `shared_ptr`), beside the host's `prometheus::Registry`.
///
/// Threads: `Collect()` runs on the exposer's HTTP threads, possibly several at once; it is
/// thread-safe when its source is (a `Monitor` is; a function of the host's must be too). A
/// Monitor's metrics take each pool's snapshot on its loop, so a scrape waits for the loops:
/// never call `Collect()` on a loop's thread (a hook, a subscriber). Exceptions never leave
/// `Collect()` (the exposer's threads could not handle them): a source that throws makes that
/// scrape show no families of ours, and is counted (`errors()`, `last_error()`).
///
/// Lifetime: it refers to the monitor and owns nothing of it. Remove it from the exposer
/// (`Exposer::RemoveCollectable` waits for a scrape under way) or destroy the exposer before the
/// monitor, or a pool or loop the monitor holds, goes away.
///
/// Names: a Monitor's families are named `supervisor_pool_*` and `supervisor_loop_*`.
/// prometheus-cpp does not merge families from several collectables: if the host's registry has
/// a family of one of these names too, the scrape shows it twice, which Prometheus rejects.
/// Keeping names apart is the host's business.
class SUPERVISOR_PROMETHEUS_API PrometheusCollectable : public prometheus::Collectable {
 public:
  /// What makes the set on each scrape. It must be thread-safe (see the class).
  using Source = std::function<MetricSet()>;

  /// Collects `monitor.metrics()`: every pool and loop it holds at the time of the scrape.
  explicit PrometheusCollectable(const Monitor& monitor);
  /// Collects what `source` returns. Errors (`errc::invalid_argument`): an empty `source`.
  explicit PrometheusCollectable(Source source);
  ~PrometheusCollectable() override;
  PrometheusCollectable(const PrometheusCollectable&) = delete;
  PrometheusCollectable& operator=(const PrometheusCollectable&) = delete;

  /// A collectable of `source` in a `shared_ptr` (what an Exposer registers), or null with `ec`
  /// set: `errc::invalid_argument` (an empty `source`), or out of memory.
  [[nodiscard]] static std::shared_ptr<PrometheusCollectable> make(Source source,
                                                                   std::error_code& ec) noexcept;

  /// The source's families, converted. Called by the exposer (any thread); never throws.
  [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;

  /// How many `Collect()` calls found their source throwing (any thread).
  [[nodiscard]] std::uint64_t errors() const noexcept;
  /// What the last failing source threw (`what()`), or "" (any thread).
  [[nodiscard]] std::string last_error() const;

 private:
  void note_failure(const char* what) const noexcept;

  Source source_;
  mutable std::mutex mutex_;  // guards the two below
  mutable std::uint64_t errors_ = 0;
  mutable std::string last_error_;
};

}  // namespace supervisor
