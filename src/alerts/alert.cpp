// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Alert values and their two renderings: the JSON of schema version 1 and the log line.
#include <supervisor/alerts.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF are not valid either).
SUPERVISOR_INLINE std::size_t utf8_length(std::string_view s) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  std::size_t n = 0;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf)
    n = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef)
    n = 3;
  else if (b0 >= 0xf0 && b0 <= 0xf4)
    n = 4;
  else
    return 0;
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i)
    if ((byte(i) & 0xc0) != 0x80) return 0;
  const unsigned char b1 = byte(1);
  if (b0 == 0xe0 && b1 < 0xa0) return 0;   // overlong
  if (b0 == 0xed && b1 >= 0xa0) return 0;  // surrogates
  if (b0 == 0xf0 && b1 < 0x90) return 0;   // overlong
  if (b0 == 0xf4 && b1 >= 0x90) return 0;  // past U+10FFFF
  return n;
}

// `s` as a JSON string, quotes included: `"` `\` and control characters escaped, invalid UTF-8
// replaced by U+FFFD (a JSON text must be Unicode; a worker's output or an OS message need not).
SUPERVISOR_INLINE void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(s.substr(i));
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
}

// RFC 3339 in UTC with milliseconds: 2026-12-07T17:11:07.123Z.
SUPERVISOR_INLINE std::string rfc3339(WallTime t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

// A log value: bare when it is plain, else quoted with `"` and `\` escaped (and control
// characters as \n, \xNN), so that a line stays one line and splits on spaces.
SUPERVISOR_INLINE void append_log_value(std::string& out, std::string_view v) {
  bool plain = !v.empty();
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c == 0x7f) plain = false;
  }
  if (plain) {
    out.append(v);
    return;
  }
  out += '"';
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
    } else {
      out += ch;
    }
  }
  out += '"';
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string_view to_string(AlertSeverity s) noexcept {
  switch (s) {
    case AlertSeverity::info: return "info";
    case AlertSeverity::warning: return "warning";
    case AlertSeverity::critical: return "critical";
  }
  return "unknown";
}

SUPERVISOR_INLINE std::string_view to_string(AlertState s) noexcept {
  switch (s) {
    case AlertState::firing: return "firing";
    case AlertState::resolved: return "resolved";
  }
  return "unknown";
}

SUPERVISOR_INLINE std::string to_json(const Alert& a) {
  std::string out;
  out.reserve(256 + a.summary.size() + a.detail.size());
  out += fmt::format("{{\"schema_version\":1,\"sequence\":{},\"state\":", a.sequence);
  append_json_string(out, to_string(a.state));
  out += ",\"rule\":";
  append_json_string(out, a.rule);
  out += ",\"pool\":";
  append_json_string(out, a.pool);
  out += ",\"severity\":";
  append_json_string(out, to_string(a.severity));
  out += ",\"summary\":";
  append_json_string(out, a.summary);
  out += ",\"detail\":";
  append_json_string(out, a.detail);
  out += ",\"worker\":";
  out += a.worker ? std::to_string(*a.worker) : std::string("null");
  const double duration = std::chrono::duration<double>(a.last_at - a.first_at).count();
  out += fmt::format(
      ",\"suppressed\":{},\"occurrences\":{},\"first_at\":\"{}\",\"last_at\":\"{}\","
      "\"duration_seconds\":{:.3f}}}",
      a.suppressed, a.occurrences, rfc3339(a.first_wall), rfc3339(a.last_wall),
      duration > 0 ? duration : 0.0);
  return out;
}

SUPERVISOR_INLINE std::string to_log_line(const Alert& a) {
  std::string out = "alert ";
  out += to_string(a.state);
  out += " rule=";
  append_log_value(out, a.rule);
  out += " pool=";
  append_log_value(out, a.pool);
  out += " severity=";
  out += to_string(a.severity);
  out += fmt::format(" suppressed={} occurrences={}", a.suppressed, a.occurrences);
  if (a.worker) out += fmt::format(" worker={}", *a.worker);
  out += fmt::format(" seq={} summary=", a.sequence);
  append_log_value(out, a.summary);
  if (!a.detail.empty()) {
    out += " detail=";
    append_log_value(out, a.detail);
  }
  return out;
}

SUPERVISOR_INLINE AlertContext::~AlertContext() = default;
SUPERVISOR_INLINE AlertRule::~AlertRule() = default;
SUPERVISOR_INLINE void AlertRule::on_time(AlertContext&) {}
SUPERVISOR_INLINE void AlertRule::forget(std::string_view) noexcept {}
SUPERVISOR_INLINE AlertSink::~AlertSink() = default;

}  // namespace supervisor
