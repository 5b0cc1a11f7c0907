// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The portable parsers of outside input, which tests/fuzz also feeds anything: an HTTP server's
// answer to an HttpCheck (judge_http_response) and an sd_notify datagram (parse_notify).
#include <supervisor/health.hpp>

#include <string>
#include <string_view>

#include "catch_compat.hpp"
#include "process/notify_note.hpp"
#include "process/probes.hpp"

namespace sv = supervisor;
using sv::HealthStatus;
using sv::detail::judge_http_response;

TEST_CASE("http answer: a 2xx or 3xx status line is healthy, and is the detail",
          "[unit][health][parse]") {
  const auto ok = judge_http_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "h:1");
  CHECK(ok.status == HealthStatus::healthy);
  CHECK(ok.detail == "HTTP/1.1 200 OK");
  CHECK(judge_http_response("HTTP/1.0 399 x\r\n", "h:1").status == HealthStatus::healthy);
  // The whole answer may still be on its way: a status line without its CRLF counts.
  CHECK(judge_http_response("HTTP/2 204", "h:1").status == HealthStatus::healthy);
}

TEST_CASE("http answer: other codes are unhealthy with the status line as detail",
          "[unit][health][parse]") {
  const auto down = judge_http_response("HTTP/1.1 503 Service Unavailable\r\n\r\n", "h:1");
  CHECK(down.status == HealthStatus::unhealthy);
  CHECK(down.detail == "HTTP/1.1 503 Service Unavailable");
  CHECK(judge_http_response("HTTP/1.1 199 x\r\n", "h:1").status == HealthStatus::unhealthy);
  CHECK(judge_http_response("HTTP/1.1 -200 x\r\n", "h:1").status == HealthStatus::unhealthy);
}

TEST_CASE("http answer: a code beyond int is no code, not an undefined atoi result",
          "[unit][health][parse]") {
  // Found while writing the fuzz target: atoi's result is undefined out of int's range (glibc
  // gave -1 here, and could as well have wrapped into 200..399).
  const auto big = judge_http_response("HTTP/1.1 4294967496 Huge\r\n", "127.0.0.1:80");
  CHECK(big.status == HealthStatus::unhealthy);
  CHECK(big.detail == "127.0.0.1:80: not an HTTP response: \"HTTP/1.1 4294967496 Huge\"");
}

TEST_CASE("http answer: anything else is not an HTTP response, cut at 200 bytes",
          "[unit][health][parse]") {
  const auto ssh = judge_http_response("SSH-2.0-OpenSSH_9.2\r\n", "h:22");
  CHECK(ssh.status == HealthStatus::unhealthy);
  CHECK(ssh.detail == "h:22: not an HTTP response: \"SSH-2.0-OpenSSH_9.2\"");
  CHECK(judge_http_response("", "h:1").status == HealthStatus::unhealthy);
  CHECK(judge_http_response("HTTP/1.1", "h:1").status == HealthStatus::unhealthy);
  const std::string reason(300, 'A');
  const auto long_line = judge_http_response("HTTP/1.1 200 " + reason, "h:1");
  CHECK(long_line.status == HealthStatus::healthy);
  CHECK(long_line.detail.size() == 200);
}

TEST_CASE("notify datagram: known lines set their flags, the last STATUS wins", "[unit][parse]") {
  const auto note = sv::detail::parse_notify(
      "MAINPID=1\nREADY=1\nSTATUS=one\nWATCHDOG=1\nSTATUS=two=2\nREADY=0\n", 7);
  CHECK(note.sender == 7);
  CHECK(note.ready);
  CHECK(note.watchdog);
  CHECK_FALSE(note.stopping);
  CHECK(note.has_status);
  CHECK(note.status == "two=2");
  const auto empty = sv::detail::parse_notify(std::string_view("STOPPING=1\nSTATUS=\n\0", 20), 1);
  CHECK(empty.stopping);
  CHECK(empty.has_status);
  CHECK(empty.status.empty());
  CHECK_FALSE(sv::detail::parse_notify("READY=1 \n", 1).ready);
}
