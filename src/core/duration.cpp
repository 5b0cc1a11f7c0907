// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "duration.hpp"

#include <charconv>
#include <string_view>

namespace supervisor::detail {

SUPERVISOR_INLINE void append_duration(std::string& out, Duration d) {
  if (d == Duration::max()) {
    out += "max";
    return;
  }
  if (d == Duration::min()) {
    out += "min";
    return;
  }
  if (d < Duration::zero()) {
    out += '-';
    d = -d;
  }
  const auto n = d.count();
  constexpr Duration::rep us = 1'000;
  constexpr Duration::rep ms = 1'000'000;
  constexpr Duration::rep s = 1'000'000'000;
  constexpr Duration::rep min = 60 * s;
  const auto append = [&](Duration::rep v, std::string_view unit) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
    out += unit;
  };
  if (n == 0) {
    out += "0s";
  } else if (n % min == 0) {
    append(n / min, "min");
  } else if (n % s == 0) {
    append(n / s, "s");
  } else if (n % ms == 0) {
    append(n / ms, "ms");
  } else if (n % us == 0) {
    append(n / us, "us");
  } else {
    append(n, "ns");
  }
}

SUPERVISOR_INLINE std::string format_duration(Duration d) {
  std::string out;
  append_duration(out, d);
  return out;
}

}  // namespace supervisor::detail
