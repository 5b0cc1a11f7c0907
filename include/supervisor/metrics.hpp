// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 8  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Metric values a Pool keeps (read through `Pool::snapshot()`), a neutral model of metric
/// families (what an exposition is made of), and the Prometheus text exposition of any number of
/// them. Plain values: copy them, keep them, compare them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <supervisor/export.hpp>

namespace supervisor {

/// A fixed-bucket histogram of seconds (Prometheus semantics: cumulative `le` buckets).
struct SUPERVISOR_API Histogram {
  std::vector<double> bounds;         ///< Upper bounds in seconds, ascending.
  std::vector<std::uint64_t> counts;  ///< Per bucket (not cumulative); one more for +Inf.
  double sum = 0;                     ///< Sum of observed values, seconds.
  std::uint64_t count = 0;            ///< Number of observations.

  /// A histogram with `bounds` (seconds, ascending) and empty counts.
  static Histogram with_bounds(std::vector<double> bounds);
  /// Buckets from 1 ms to about 5 min, for latencies and lifetimes of processes.
  static Histogram default_seconds();
  /// Records one value (seconds; negative values count as 0).
  void observe(double seconds);
  /// Adds the observations of `other`, which must have the same bounds (else: ignored).
  void merge(const Histogram& other);
  /// The smallest bucket bound at or above quantile `q` (0..1) of the observations; +inf past
  /// the last bound, 0 when empty. A coarse estimate, as Prometheus' histogram_quantile.
  [[nodiscard]] double quantile_bound(double q) const;
};

/// The kind of a metric family (Prometheus' types).
enum class MetricType {
  counter,    ///< Only goes up (resets when its source starts again); names end in `_total`.
  gauge,      ///< Any value, up or down.
  histogram,  ///< Observations in cumulative buckets, with a sum and a count.
};

/// `"counter"`, `"gauge"`, `"histogram"`.
[[nodiscard]] SUPERVISOR_API std::string_view to_string(MetricType type) noexcept;

/// One label of a sample: a name (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`) and any
/// UTF-8 value (escaped on output).
struct MetricLabel {
  std::string name;
  std::string value;
  friend bool operator==(const MetricLabel&, const MetricLabel&) = default;
};

/// One series of a family: its labels and its value (for a histogram: `histogram`).
struct MetricSample {
  std::vector<MetricLabel> labels;
  double value = 0;
  std::optional<Histogram> histogram;  ///< Set for the samples of a histogram family.
};

/// A metric family: a name, its help text, its type, its unit (the last part of its name by the
/// Prometheus conventions, e.g. `seconds`, `bytes`; empty: a count) and its series.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::gauge;
  std::string unit;
  std::vector<MetricSample> samples;
};

/// Families from any number of sources, each family once: adding samples to a family that is
/// already there appends them (its name, type and help must then match). Sources add their
/// series labelled by what tells them apart (`pool="api"`, `loop="main"`), so that the
/// exposition of many pools and loops is one valid document. Not thread-safe (a value).
class SUPERVISOR_API MetricSet {
 public:
  /// Adds `family`, or appends its samples to the family of that name. Errors
  /// (`errc::invalid_argument`, naming the family): an invalid metric or label name, a label
  /// name twice in one sample, a histogram sample without its histogram (or a histogram in
  /// another type), a family of that name with another type or help, a counter whose name does
  /// not end in `_total`.
  void add(MetricFamily family);
  /// \overload
  void add(MetricFamily family, std::error_code& ec) noexcept;
  /// The family named `name`, or null.
  [[nodiscard]] const MetricFamily* find(std::string_view name) const noexcept;
  /// Every family, in the order each was first added.
  [[nodiscard]] const std::vector<MetricFamily>& families() const noexcept { return families_; }
  /// Takes the families out (the set is empty afterwards).
  [[nodiscard]] std::vector<MetricFamily> release() noexcept;
  /// The Prometheus text exposition (format 0.0.4) of every family (see `to_prometheus`).
  [[nodiscard]] std::string to_prometheus() const;

 private:
  std::vector<MetricFamily> families_;
  std::unordered_map<std::string, std::size_t> index_;
};

/// The Prometheus text exposition format (0.0.4) of `families`: `# HELP` and `# TYPE` once per
/// family, then its series; label values and help texts escaped; histograms as cumulative
/// `_bucket` series with `le` (the last `+Inf`), `_sum` and `_count`. Serve it with the content
/// type `text/plain; version=0.0.4; charset=utf-8`. Families are written as given (build them
/// with a `MetricSet` so that none repeats).
[[nodiscard]] SUPERVISOR_API std::string to_prometheus(const std::vector<MetricFamily>& families);
/// Appends the exposition of `families` to `out`.
SUPERVISOR_API void append_prometheus(std::string& out, const std::vector<MetricFamily>& families);

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 8
#  include <supervisor/detail/header_only_end.hpp>
#endif
