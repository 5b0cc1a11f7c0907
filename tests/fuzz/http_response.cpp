// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What an HTTP server answers an HttpCheck (src/process/http_status.cpp judge_http_response: the
// status line, with headers and body after it): any bytes a peer sends.
#include <string>

#include "fuzz_check.hpp"
#include "process/probes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using supervisor::HealthStatus;
  const std::string_view text = supervisor::fuzz::as_text(data, size);
  const supervisor::ProbeResult result =
      supervisor::detail::judge_http_response(text, "127.0.0.1:8080");
  SUPERVISOR_FUZZ_CHECK(result.status == HealthStatus::healthy ||
                        result.status == HealthStatus::unhealthy);
  if (result.status == HealthStatus::healthy) {
    // Healthy only for an "HTTP/" status line, which is then the detail, cut at CRLF or 200 bytes.
    SUPERVISOR_FUZZ_CHECK(text.substr(0, 5) == "HTTP/");
    SUPERVISOR_FUZZ_CHECK(result.detail.size() <= 200 &&
                          text.substr(0, result.detail.size()) == result.detail);
    SUPERVISOR_FUZZ_CHECK(result.detail.find("\r\n") == std::string::npos);
  }
  return 0;
}
