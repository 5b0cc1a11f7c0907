// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What a TcpCheck with a request (an HttpCheck) makes of the answer: outside input, judged by a
// pure function (the backend's socket I/O calls it; tests/fuzz feeds it anything).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <system_error>

#include "probes.hpp"

namespace supervisor {

SUPERVISOR_INLINE ProbeResult detail::judge_http_response(std::string_view response,
                                                          std::string_view endpoint) {
  const std::string_view status_line =
      response.substr(0, std::min(response.find("\r\n"), std::size_t{200}));
  // "HTTP/1.1 204 No Content". The code is read as a decimal after the first space; one out of
  // int's range is no code at all (atoi's result would be undefined there).
  int code = 0;
  if (status_line.substr(0, 5) == "HTTP/") {
    const auto space = status_line.find(' ');
    if (space != std::string_view::npos) {
      std::string_view rest = status_line.substr(space + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (std::from_chars(rest.data(), rest.data() + rest.size(), code).ec != std::errc{}) code = 0;
    }
  }
  if (code == 0) {
    return ProbeResult::unhealthy(
        fmt::format("{}: not an HTTP response: \"{}\"", endpoint, status_line));
  }
  if (code >= 200 && code < 400) return ProbeResult::healthy(std::string(status_line));
  return ProbeResult::unhealthy(std::string(status_line));
}

SUPERVISOR_INLINE std::string detail::probe_endpoint_text(const std::string& host,
                                                          std::uint16_t port, bool ipv6) {
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

SUPERVISOR_INLINE bool detail::http_status_line_in(std::string_view response) {
  return response.find("\r\n") != std::string_view::npos || response.size() > 8192;
}

}  // namespace supervisor
