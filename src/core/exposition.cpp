// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Metric families: the set that merges them by name, and their Prometheus text exposition.
#include <supervisor/error.hpp>
#include <supervisor/metrics.hpp>

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE bool metric_name_ok(std::string_view n, bool colon_ok) noexcept {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                       (colon_ok && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

SUPERVISOR_INLINE bool ends_with(std::string_view s, std::string_view tail) noexcept {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Checks one family on its own; `err` names it and what is wrong.
SUPERVISOR_INLINE void check_family(const MetricFamily& f, detail::ErrorSink& err) {
  const auto fail = [&](std::string what) {
    err.fail(errc::invalid_argument,
             [&] { return fmt::format("metric family \"{}\": {}", f.name, what); });
  };
  if (!metric_name_ok(f.name, true)) return fail("invalid metric name");
  if (f.type == MetricType::counter && !ends_with(f.name, "_total"))
    return fail("a counter's name must end in _total");
  if (!f.unit.empty() && !metric_name_ok(f.unit, false)) return fail("invalid unit");
  for (const MetricSample& s : f.samples) {
    if ((f.type == MetricType::histogram) != s.histogram.has_value())
      return fail(f.type == MetricType::histogram ? "a histogram sample without its histogram"
                                                   : "a histogram in a sample of another type");
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      const std::string& n = s.labels[i].name;
      if (!metric_name_ok(n, false) || n.rfind("__", 0) == 0)
        return fail(fmt::format("invalid label name \"{}\"", n));
      if (f.type == MetricType::histogram && n == "le")
        return fail("a histogram's label \"le\" is its buckets'");
      for (std::size_t j = 0; j < i; ++j) {
        if (s.labels[j].name == n) return fail(fmt::format("label \"{}\" twice in a sample", n));
      }
    }
  }
}

SUPERVISOR_INLINE void put_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    const fmt::format_int n(static_cast<long long>(v));
    out.append(n.data(), n.size());
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

SUPERVISOR_INLINE void put_count(std::string& out, std::uint64_t v) {
  const fmt::format_int n(v);
  out.append(n.data(), n.size());
}

// Escapes a label value (backslash, quote, newline) or a help text (backslash, newline).
SUPERVISOR_INLINE void put_escaped(std::string& out, std::string_view v, bool quote) {
  const std::string_view special = quote ? std::string_view("\\\n\"") : std::string_view("\\\n");
  std::size_t from = 0;
  for (std::size_t at = v.find_first_of(special); at != std::string_view::npos;
       at = v.find_first_of(special, from)) {
    out.append(v.data() + from, at - from);
    out += v[at] == '\n' ? "\\n" : v[at] == '"' ? "\\\"" : "\\\\";
    from = at + 1;
  }
  out.append(v.data() + from, v.size() - from);
}

// `name{labels[,le="bound"]} ` ...: the series' name and labels, without the value.
SUPERVISOR_INLINE void put_series(std::string& out, std::string_view name,
                                  std::string_view suffix, const std::vector<MetricLabel>& labels,
                                  const double* le) {
  out += name;
  out += suffix;
  if (labels.empty() && le == nullptr) {
    out += ' ';
    return;
  }
  out += '{';
  bool first = true;
  for (const MetricLabel& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    put_escaped(out, l.value, true);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    put_number(out, *le);
    out += '"';
  }
  out += "} ";
}

// MetricSet::add's one body: checks `family`, then adds it or appends its samples.
SUPERVISOR_INLINE void add_family(std::vector<MetricFamily>& families,
                                  std::unordered_map<std::string, std::size_t>& index,
                                  MetricFamily& family, detail::ErrorSink& err) {
  check_family(family, err);
  if (err) return;
  const auto it = index.find(family.name);
  if (it == index.end()) {
    index.emplace(family.name, families.size());
    families.push_back(std::move(family));
    return;
  }
  MetricFamily& have = families[it->second];
  if (have.type != family.type || have.help != family.help || have.unit != family.unit) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "metric family \"{}\": added again with another type, unit or help ({} \"{}\", then "
          "{} \"{}\")",
          family.name, to_string(have.type), have.help, to_string(family.type), family.help);
    });
    return;
  }
  have.samples.reserve(have.samples.size() + family.samples.size());
  for (MetricSample& s : family.samples) have.samples.push_back(std::move(s));
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string_view to_string(MetricType type) noexcept {
  switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

SUPERVISOR_INLINE void MetricSet::add(MetricFamily family) {
  detail::or_throw([&](detail::ErrorSink& err) { add_family(families_, index_, family, err); });
}

SUPERVISOR_INLINE void MetricSet::add(MetricFamily family, std::error_code& ec) noexcept {
  detail::into_code(ec,
                    [&](detail::ErrorSink& err) { add_family(families_, index_, family, err); });
}

SUPERVISOR_INLINE const MetricFamily* MetricSet::find(std::string_view name) const noexcept {
  try {
    const auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &families_[it->second];
  } catch (...) {  // out of memory for the key
    return nullptr;
  }
}

SUPERVISOR_INLINE std::vector<MetricFamily> MetricSet::release() noexcept {
  index_.clear();
  return std::exchange(families_, {});
}

SUPERVISOR_INLINE std::string MetricSet::to_prometheus() const {
  return supervisor::to_prometheus(families_);
}

SUPERVISOR_INLINE void append_prometheus(std::string& out,
                                         const std::vector<MetricFamily>& families) {
  for (const MetricFamily& f : families) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    put_escaped(out, f.help, false);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += to_string(f.type);
    out += '\n';
    for (const MetricSample& s : f.samples) {
      if (!s.histogram) {
        put_series(out, f.name, "", s.labels, nullptr);
        put_number(out, s.value);
        out += '\n';
        continue;
      }
      const Histogram& h = *s.histogram;
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h.counts.size(); ++i) {
        cumulative += h.counts[i];
        const double le =
            i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity();
        put_series(out, f.name, "_bucket", s.labels, &le);
        put_count(out, cumulative);
        out += '\n';
      }
      if (h.counts.empty()) {  // no buckets kept: still the +Inf one Prometheus requires
        const double le = std::numeric_limits<double>::infinity();
        put_series(out, f.name, "_bucket", s.labels, &le);
        put_count(out, h.count);
        out += '\n';
      }
      put_series(out, f.name, "_sum", s.labels, nullptr);
      put_number(out, h.sum);
      out += '\n';
      put_series(out, f.name, "_count", s.labels, nullptr);
      put_count(out, h.count);
      out += '\n';
    }
  }
}

SUPERVISOR_INLINE std::string to_prometheus(const std::vector<MetricFamily>& families) {
  std::string out;
  std::size_t samples = 0;
  for (const MetricFamily& f : families) samples += f.samples.size();
  out.reserve(families.size() * 128 + samples * 96);  // about one line per sample
  append_prometheus(out, families);
  return out;
}

}  // namespace supervisor
