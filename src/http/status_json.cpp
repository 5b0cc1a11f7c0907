// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "status_json.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iterator>

namespace supervisor::http_detail {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;  // UTF-8 passes through as it is
        }
    }
  }
  out += '"';
}

namespace {

const char* json_bool(bool b) { return b ? "true" : "false"; }

const PoolReadiness* readiness_of(const ReadinessReport& r, const std::string& pool) {
  for (const auto& p : r.pools) {
    if (p.pool == pool) return &p;
  }
  return nullptr;
}

}  // namespace

std::string status_json(const Monitor::Status& status) {
  std::string out;
  out.reserve(256 + status.pools.size() * 256);
  fmt::format_to(std::back_inserter(out), R"({{"schema_version":1,"ready":{},"alive":{},"pools":[)",
                 json_bool(status.readiness.ready), json_bool(status.liveness.alive));
  bool first = true;
  for (const auto& [name, s] : status.pools) {
    if (!first) out += ',';
    first = false;
    out += R"({"name":)";
    append_json_string(out, name);
    fmt::format_to(std::back_inserter(out),
                   R"(,"running":{},"size":{},"ready":{},"leased":{},"restarts":{},"health":)",
                   json_bool(s.running), s.size, s.ready, s.leased, s.restarts);
    append_json_string(out, to_string(s.health));
    if (const PoolReadiness* r = readiness_of(status.readiness, name)) {
      fmt::format_to(std::back_inserter(out),
                     R"(,"readiness":{{"ready":{},"required":{},"up":{},"needed":{},"why":)",
                     json_bool(r->ready), json_bool(r->required), r->up, r->needed);
      append_json_string(out, r->why);
      out += '}';
    }
    out += '}';
  }
  out += R"(],"loops":[)";
  first = true;
  for (const auto& l : status.liveness.loops) {
    if (!first) out += ',';
    first = false;
    out += R"({"name":)";
    append_json_string(out, l.loop);
    fmt::format_to(std::back_inserter(out), R"(,"turning":{},"lag_seconds":{},"processes":{}}})",
                   json_bool(l.heartbeat.turning),
                   std::chrono::duration<double>(l.heartbeat.lag).count(),
                   l.heartbeat.processes);
  }
  out += "]}\n";
  return out;
}

}  // namespace supervisor::http_detail
