// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the built-in checks (process/probes.cpp, and a backend's network I/O) share.

#include <supervisor/health.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace supervisor::detail {

// Whether two probe targets are the same worker incarnation (a cancel is for one).
bool same_worker(const ProbeTarget& a, const ProbeTarget& b);

// The whole request an HttpCheck sends; throws errc::invalid_argument for a path that is not a
// request target.
std::string http_probe_request(const std::string& address, std::uint16_t port,
                               const std::string& path);

// Judges what an HTTP server answered a TcpCheck's request with (all of it read so far, headers
// and body included): healthy for a status code of 200..399, as Kubernetes' httpGet. Only the
// status line counts (up to the first CRLF, at most 200 bytes kept in the result's detail);
// `endpoint` names the peer in the "not an HTTP response" detail.
ProbeResult judge_http_response(std::string_view response, std::string_view endpoint);

// Whether a TcpCheck has read enough of an HTTP answer to judge it (its status line is in, or it
// has read more than any status line takes); until then it reads on, unless the peer closed.
bool http_status_line_in(std::string_view response);

// How a network check names its peer in results: "127.0.0.1:80", "[::1]:80".
std::string probe_endpoint_text(const std::string& host, std::uint16_t port, bool ipv6);

// A TcpCheck's attempts in flight (each backend's Attempt has `target` and `finished`), under the
// check's mutex: keeps `a` unless it has finished already, and drops those that have.
template <class Attempt>
void keep_attempt(std::vector<std::shared_ptr<Attempt>>& all, std::shared_ptr<Attempt> a) {
  all.erase(std::remove_if(all.begin(), all.end(),
                           [](const std::shared_ptr<Attempt>& x) { return x->finished; }),
            all.end());
  if (!a->finished) all.push_back(std::move(a));
}

// The attempts of `all` for `target`'s worker incarnation (what a cancel ends).
template <class Attempt>
std::vector<std::shared_ptr<Attempt>> attempts_for(const std::vector<std::shared_ptr<Attempt>>& all,
                                                   const ProbeTarget& target) {
  std::vector<std::shared_ptr<Attempt>> mine;
  for (const auto& a : all) {
    if (same_worker(a->target, target)) mine.push_back(a);
  }
  return mine;
}

}  // namespace supervisor::detail
