// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Wall-clock times as RFC 3339 (the date-time of its section 5.6), in UTC when written.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include <supervisor/error.hpp>

#include "codec.hpp"

namespace supervisor::json {
namespace detail {
namespace {

// Reads the `width` digits at `pos`; false if any is not a digit.
bool digits(std::string_view s, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

WallTime read_rfc3339(std::string_view text, supervisor::detail::ErrorSink& err) {
  const auto bad = [&](std::string_view what) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("\"{}\" is not an RFC 3339 date-time ({})", valid_utf8(text), what);
    });
    return WallTime{};
  };
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !digits(text, 11, 2, hour) || text[13] != ':' ||
      !digits(text, 14, 2, minute) || text[16] != ':' || !digits(text, 17, 2, second)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS, then a fraction, then Z or an offset");
  }
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return bad("no such date");
  if (hour > 23 || minute > 59 || second > 60) return bad("no such time of day");  // 60: leap
  std::size_t pos = 19;
  std::int64_t fraction = 0;  // nanoseconds
  if (text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    std::int64_t scale = 100'000'000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      fraction += (text[pos] - '0') * scale;  // digits past nanoseconds: scale 0, cut
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad("no digit after the decimal point");
  }
  std::int64_t offset = 0;  // seconds east of UTC
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0;
    int om = 0;
    if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad("the offset is not +HH:MM or -HH:MM");
    }
    offset = (text[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad("no time zone: Z or an offset such as +02:00 must follow the time");
  }
  if (pos != text.size()) return bad("text after the time zone");

  const std::int64_t secs = std::chrono::sys_days(date).time_since_epoch().count() * 86400 +
                            hour * 3600 + minute * 60 + second - offset;
  // A WallTime counts int64 nanoseconds: about 1677-09-21 to 2262-04-11.
  constexpr std::int64_t max_secs = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;
  if (secs > max_secs || secs < -max_secs) {
    return bad("outside the years a WallTime holds, about 1678 to 2261");
  }
  return WallTime(std::chrono::nanoseconds(secs * 1'000'000'000 + fraction));
}

}  // namespace detail

std::string to_rfc3339(WallTime t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day date{day};
  const std::int64_t ns = (t - day).count();  // within the day: 0 .. 86'399'999'999'999
  const std::int64_t secs = ns / 1'000'000'000;
  std::int64_t fraction = ns % 1'000'000'000;
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                                static_cast<unsigned>(date.month()),
                                static_cast<unsigned>(date.day()), secs / 3600, secs / 60 % 60,
                                secs % 60);
  if (fraction != 0) {
    int width = 9;
    while (fraction % 1000 == 0) {  // milliseconds or microseconds when they are enough
      fraction /= 1000;
      width -= 3;
    }
    fmt::format_to(std::back_inserter(out), ".{:0{}}", fraction, width);
  }
  out += 'Z';
  return out;
}

WallTime parse_rfc3339(std::string_view text) {
  return supervisor::detail::or_throw(
      [&](supervisor::detail::ErrorSink& err) { return detail::read_rfc3339(text, err); });
}

WallTime parse_rfc3339(std::string_view text, std::error_code& ec) noexcept {
  return supervisor::detail::into_code(
      ec, [&](supervisor::detail::ErrorSink& err) { return detail::read_rfc3339(text, err); });
}

}  // namespace supervisor::json
