// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The neutral metric families as prometheus-cpp's, and a Collectable that makes them per scrape.
#include <supervisor/error.hpp>
#include <supervisor/prometheus.hpp>

#include <prometheus/text_serializer.h>

#include <cstddef>
#include <exception>
#include <limits>
#include <new>
#include <utility>

namespace supervisor {

namespace {

prometheus::MetricType type_of(MetricType type) noexcept {
  switch (type) {
    case MetricType::counter: return prometheus::MetricType::Counter;
    case MetricType::gauge: return prometheus::MetricType::Gauge;
    case MetricType::histogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

// The buckets exactly as our own exposition writes them (src/core/exposition.cpp): cumulative,
// one per count, the bound past the last one +Inf; counts past that one fold into it, and a
// histogram that kept no counts still has its +Inf bucket, which Prometheus requires.
prometheus::ClientMetric::Histogram histogram_of(const Histogram& h) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  prometheus::ClientMetric::Histogram out;
  out.sample_count = h.count;
  out.sample_sum = h.sum;
  out.bucket.reserve(h.bounds.size() + 1);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    cumulative += h.counts[i];
    if (i < h.bounds.size()) out.bucket.push_back({cumulative, h.bounds[i]});
  }
  if (h.counts.size() > h.bounds.size()) {
    out.bucket.push_back({cumulative, inf});
  } else if (out.bucket.empty() || out.bucket.back().upper_bound != inf) {
    // No count kept for +Inf (none at all, or a short vector): every observation is below it.
    out.bucket.push_back({h.count, inf});
  }
  return out;
}

// prometheus-cpp 1.0's TextSerializer escapes label values but writes help texts as they are,
// so a backslash or a newline in one would break the whole scrape. Asked once, of the serializer
// linked, so that a version that escapes them itself is given them as they are.
bool serializer_writes_help_verbatim() {
  static const bool verbatim = [] {
    prometheus::MetricFamily probe;
    probe.name = "probe";
    probe.help = "a\nb";
    probe.type = prometheus::MetricType::Gauge;
    return prometheus::TextSerializer().Serialize({probe}).find("a\nb\n") != std::string::npos;
  }();
  return verbatim;
}

std::string help_for_serializer(std::string help) {
  if (help.find_first_of("\\\n") == std::string::npos || !serializer_writes_help_verbatim())
    return help;
  std::string out;
  out.reserve(help.size() + 8);
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

prometheus::MetricFamily convert(MetricFamily&& family) {
  prometheus::MetricFamily out;
  out.name = std::move(family.name);
  out.help = help_for_serializer(std::move(family.help));
  out.type = type_of(family.type);
  out.metric.reserve(family.samples.size());
  for (MetricSample& s : family.samples) {
    prometheus::ClientMetric& m = out.metric.emplace_back();
    m.label.reserve(s.labels.size());
    for (MetricLabel& l : s.labels) m.label.push_back({std::move(l.name), std::move(l.value)});
    switch (family.type) {
      case MetricType::counter: m.counter.value = s.value; break;
      case MetricType::gauge: m.gauge.value = s.value; break;
      case MetricType::histogram:
        // A MetricSet never holds a histogram sample without its histogram; a hand-made
        // family might: an empty histogram then.
        m.histogram = histogram_of(s.histogram ? *s.histogram : Histogram{});
        break;
    }
  }
  return out;
}

}  // namespace

prometheus::MetricFamily to_prometheus_family(const MetricFamily& family) {
  return convert(MetricFamily(family));
}

std::vector<prometheus::MetricFamily> to_prometheus_families(
    const std::vector<MetricFamily>& families) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (const MetricFamily& f : families) out.push_back(to_prometheus_family(f));
  return out;
}

PrometheusCollectable::PrometheusCollectable(const Monitor& monitor)
    : source_([&monitor] { return monitor.metrics(); }) {}

PrometheusCollectable::PrometheusCollectable(Source source) : source_(std::move(source)) {
  if (!source_) throw_error(errc::invalid_argument, "PrometheusCollectable: an empty source");
}

PrometheusCollectable::~PrometheusCollectable() = default;

std::shared_ptr<PrometheusCollectable> PrometheusCollectable::make(Source source,
                                                                   std::error_code& ec) noexcept {
  ec.clear();
  if (!source) {
    ec = make_error_code(errc::invalid_argument);
    return nullptr;
  }
  try {
    return std::make_shared<PrometheusCollectable>(std::move(source));
  } catch (...) {
    ec = detail::current_exception_code();
    return nullptr;
  }
}

std::vector<prometheus::MetricFamily> PrometheusCollectable::Collect() const {
  try {
    std::vector<MetricFamily> families = source_().release();
    std::vector<prometheus::MetricFamily> out;
    out.reserve(families.size());
    for (MetricFamily& f : families) out.push_back(convert(std::move(f)));
    return out;
  } catch (const std::bad_alloc&) {
    note_failure("out of memory");
  } catch (const std::exception& e) {
    note_failure(e.what());
  } catch (...) {
    note_failure("an exception not derived from std::exception");
  }
  return {};
}

void PrometheusCollectable::note_failure(const char* what) const noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  ++errors_;
  try {
    last_error_ = what;
  } catch (...) {  // no memory for the message: the count is what matters
    last_error_.clear();
  }
}

std::uint64_t PrometheusCollectable::errors() const noexcept {
  const std::lock_guard<std::mutex> lock(mutex_);
  return errors_;
}

std::string PrometheusCollectable::last_error() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

}  // namespace supervisor
