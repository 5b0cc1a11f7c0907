// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// supervisor::http: a full GET /metrics over a loopback TCP connection (connect, request, the
// whole response read until the server closes) of a Monitor of 10 pools of 100 workers each.
// The pools live in the fake world (supervisor/testing.hpp): their snapshots and series are those
// of real pools, without 1,000 real processes on the machine. While the server's worker takes
// the snapshots this thread only waits on its socket, so the single-threaded world is used by one
// thread at a time. Median of 30 scrapes.
#include <supervisor/http.hpp>
#include <supervisor/monitor.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/restart_policy.hpp>
#include <supervisor/testing.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"

namespace sv = supervisor;

namespace {

// One GET /metrics on a fresh connection; the whole response (empty on failure). `gzip`: as
// Prometheus asks (Accept-Encoding: gzip), the server compressing the exposition.
std::string scrape(std::uint16_t port, bool gzip = false) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
    const std::string request = std::string("GET /metrics HTTP/1.1\r\nHost: localhost\r\n") +
                                (gzip ? "Accept-Encoding: gzip\r\n\r\n" : "\r\n");
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[65536];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
        out.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  constexpr int pools = 10;
  constexpr std::size_t workers = 100;
  constexpr int scrapes = 30;
  sv::testing::FakeWorld world;
  std::vector<std::unique_ptr<sv::Pool>> owned;
  sv::Monitor monitor;
  for (int i = 0; i < pools; ++i) {
    sv::PoolOptions o;
    o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
    o.size = workers;
    sv::StandardRestartOptions r;
    r.backoff = sv::BackoffOptions::fixed(100ms);
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
    owned.push_back(std::make_unique<sv::Pool>(world, o));
    owned.back()->start();
    monitor.add_pool("pool" + std::to_string(i), *owned.back());
  }
  world.run_pending();
  // For comparison: the exposition rendered in this thread, no server involved.
  std::vector<double> render_ms;
  for (int i = 0; i < 10; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const std::string text = monitor.prometheus();
    render_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  sv::HttpServer server(monitor);
  server.start();
  const std::string first = scrape(server.port());  // warm-up
  if (first.rfind("HTTP/1.1 200", 0) != 0) {
    std::fprintf(stderr, "GET /metrics failed: %.200s\n", first.c_str());
    return 1;
  }
  std::vector<double> ms;
  for (int i = 0; i < scrapes; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const std::string body = scrape(server.port());
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    if (body.size() < first.size() / 2) {
      std::fprintf(stderr, "short response (%zu bytes)\n", body.size());
      return 1;
    }
  }
  std::vector<double> gzip_ms;
  std::size_t gzip_bytes = 0;
  for (int i = 0; i < scrapes / 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    gzip_bytes = scrape(server.port(), true).size();
    gzip_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  server.stop();
  for (auto& p : owned) p->stop();
  world.run_pending();
  std::printf("GET /metrics of %d pools x %zu workers (fake world): %zu bytes, median %.2f ms "
              "(goal <= 20 ms)\n",
              pools, workers, first.size(), sv::bench::median(ms));
  std::printf("of which Monitor::prometheus() alone: median %.2f ms\n",
              sv::bench::median(render_ms));
  std::printf("with Accept-Encoding: gzip (as Prometheus asks): %zu bytes, median %.2f ms\n",
              gzip_bytes, sv::bench::median(gzip_ms));
  sv::bench::metric("http.metrics_scrape_ms", sv::bench::median(ms), "ms");
  sv::bench::metric("http.metrics_render_ms", sv::bench::median(render_ms), "ms");
  sv::bench::metric("http.metrics_scrape_gzip_ms", sv::bench::median(gzip_ms), "ms");
  return 0;
}
