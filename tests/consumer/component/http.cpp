// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A downstream program of supervisor::http: a server of an empty Monitor on a free port,
// started and stopped.
#include <supervisor/http.hpp>

#include <cstdio>
#include <system_error>

int main() {
  namespace sv = supervisor;
  sv::Monitor monitor;
  sv::HttpServer server(monitor);
  std::error_code ec;
  server.start(ec);
  if (ec) {
    std::fprintf(stderr, "start: %s\n", ec.message().c_str());
    return 1;
  }
  if (!server.running() || server.port() == 0 || server.url().empty()) {
    std::fprintf(stderr, "not serving\n");
    return 1;
  }
  server.stop();
  if (server.running()) {
    std::fprintf(stderr, "still serving after stop\n");
    return 1;
  }
  std::puts("consumer OK");
  return 0;
}
