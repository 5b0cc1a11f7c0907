// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "codec.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include <supervisor/error.hpp>

namespace supervisor::json {
namespace detail {
namespace {

// Codes read back from a category this library does not know keep their value here.
class ForeignCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "foreign"; }
  [[nodiscard]] std::string message(int value) const override {
    return fmt::format("error {} of a category this program does not know", value);
  }
};

void append_path(std::string& out, const Where* where) {
  if (where == nullptr) return;
  append_path(out, where->parent);
  if (where->is_index) {
    fmt::format_to(std::back_inserter(out), "[{}]", where->index);
  } else {
    if (where->parent != nullptr) out += '.';
    out.append(where->key);
  }
}

// The length of the valid UTF-8 sequence at the start of `s` (not empty), or 0 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i) {
    if (b(i) < 0x80 || b(i) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string path_of(const Where& where) {
  std::string out;
  append_path(out, &where);
  return out;
}

void fail(const Where& where, std::string_view what) {
  throw_error(errc::invalid_argument, fmt::format("JSON {}: {}", path_of(where), what));
}

void fail_type(const Where& where, const json& value, std::string_view expected) {
  fail(where, fmt::format("expected {}, not {}", expected, value.type_name()));
}

std::string valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_sequence(text.substr(i));
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return std::string(text);
  std::string out(text.substr(0, i));
  while (i < text.size()) {
    const std::size_t n = utf8_sequence(text.substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string_view name_of(UsageScope s) noexcept {
  switch (s) {
    case UsageScope::process: return "process";
    case UsageScope::tree: return "tree";
  }
  return "?";
}

void fail_name(const Where& where, std::string_view name, const std::string_view* names,
               std::size_t count) {
  std::string known;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) known += ", ";
    known.append(names[i]);
  }
  fail(where, fmt::format("unknown value \"{}\" (known: {})", valid_utf8(name), known));
}

// Seconds as a double: exact for durations up to 2^53 ns (the double's integer range).
json encode_seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }

Duration decode_seconds(const json& value, const Where& where) {
  if (!value.is_number()) fail_type(where, value, "a number of seconds");
  // long double where it is wider: seconds * 1e9 then rounds back to the nanoseconds written.
  const long double ns = static_cast<long double>(value.get<double>()) * 1e9L;
  constexpr auto limit = static_cast<long double>(std::numeric_limits<std::int64_t>::max());
  // Duration::max() and min() come back as themselves (their double is 2^63 seconds * 1e-9).
  if (ns >= limit) {
    if (ns > limit * 1.000001L) fail(where, "too large for a duration (at most 292 years)");
    return Duration::max();
  }
  if (ns <= -limit) {
    if (ns < -limit * 1.000001L) fail(where, "too small for a duration (at least -292 years)");
    return Duration::min();
  }
  return Duration(std::llround(ns));
}

json encode_number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double decode_number(const json& value, const Where& where) {
  if (!value.is_number()) fail_type(where, value, "a number");
  return value.get<double>();
}

std::uint64_t decode_unsigned(const json& value, const Where& where, std::uint64_t max) {
  std::uint64_t v = 0;
  if (value.is_number_unsigned()) {
    v = value.get<std::uint64_t>();
  } else if (value.is_number_integer()) {
    fail(where, fmt::format("expected an unsigned integer, not {}", value.get<std::int64_t>()));
  } else {
    fail_type(where, value, "an unsigned integer");
  }
  if (v > max) fail(where, fmt::format("{} is out of range (at most {})", v, max));
  return v;
}

std::int64_t decode_signed(const json& value, const Where& where, std::int64_t min,
                           std::int64_t max) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(max)) {
      fail(where, fmt::format("{} is out of range (at most {})", v, max));
    }
    return static_cast<std::int64_t>(v);
  }
  if (!value.is_number_integer()) fail_type(where, value, "an integer");
  const auto v = value.get<std::int64_t>();
  if (v < min || v > max) {
    fail(where, fmt::format("{} is out of range ({} to {})", v, min, max));
  }
  return v;
}

const std::string& decode_string(const json& value, const Where& where) {
  if (!value.is_string()) fail_type(where, value, "a string");
  return value.get_ref<const std::string&>();
}

const json& expect_object(const json& value, const Where& where) {
  if (!value.is_object()) fail_type(where, value, "an object");
  return value;
}

const json& expect_array(const json& value, const Where& where) {
  if (!value.is_array()) fail_type(where, value, "an array");
  return value;
}

json encode_error(const std::error_code& ec) {
  json out = json::object();
  out.emplace("category", ec.category().name());
  out.emplace("value", ec.value());
  out.emplace("message", valid_utf8(ec.message()));
  return out;
}

std::error_code decode_error(const json& value, const Where& where) {
  const json& object = expect_object(value, where);
  std::string category;
  int code = 0;
  const Reader reader{object, where};
  reader("category", category);
  reader("value", code);
  // "message" is for people: the category gives it again.
  if (category == error_category().name()) return {code, error_category()};
  if (category == std::system_category().name()) return {code, std::system_category()};
  if (category == std::generic_category().name()) return {code, std::generic_category()};
  return {code, foreign_category()};
}

void check_record(const Histogram& h, const Where& where) {
  if (h.counts.size() != h.bounds.size() + 1) {
    fail(Where{&where, "counts"},
         fmt::format("{} buckets for {} bounds (one per bound, and one for +Inf)",
                     h.counts.size(), h.bounds.size()));
  }
  const Where bounds{&where, "bounds_seconds"};
  for (std::size_t i = 1; i < h.bounds.size(); ++i) {
    if (!(h.bounds[i - 1] < h.bounds[i])) fail(Where{&bounds, {}, i, true}, "bounds must ascend");
  }
}

WallTime parse_wall_time(const json& value, const Where& where) {
  supervisor::detail::ErrorSink err;
  const WallTime t = read_rfc3339(decode_string(value, where), err);
  if (err) fail(where, err.context);
  return t;
}

}  // namespace detail

const std::error_category& foreign_category() noexcept {
  static const detail::ForeignCategory instance;
  return instance;
}

}  // namespace supervisor::json
