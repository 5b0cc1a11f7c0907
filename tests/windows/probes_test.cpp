// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The built-in probes on the Windows backend, through pools of real workers
// (tests/support/win_child.cpp): TCP and HTTP checks on overlapped Winsock sockets whose
// completions come through the pool's loop (src/windows/tcp_check.cpp), against listeners of the
// test's own and against the workers themselves; exec probes as children in jobs of their own,
// killed with their tree on timeout. Each test ends with no process of ours left and the handle
// count back to its baseline.
#include <supervisor/health.hpp>
#include <supervisor/pool.hpp>

// winsock2.h before windows.h (which audit.hpp includes).
#include <winsock2.h>
// After it:
#include <windows.h>
#include <ws2tcpip.h>
// After windows.h:
#include <tlhelp32.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "audit.hpp"
#include "catch_compat.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using namespace supervisor::win_testing;

namespace {

// Winsock for the test's own sockets, started before any audit's baseline (the library starts it
// on its first probe and keeps it: so does the test).
void winsock() {
  static const bool started = [] {
    WSADATA data{};
    REQUIRE(::WSAStartup(MAKEWORD(2, 2), &data) == 0);
    // The first socket of the process makes what Winsock keeps for good.
    const SOCKET s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    ::closesocket(s);
    return true;
  }();
  (void)started;
}

// A loopback listener on an ephemeral port; with a `status`, a thread answers each connection's
// request with it; without, nobody accepts (the connection completes into the backlog and is
// never answered).
class Listener {
 public:
  explicit Listener(int status = 0) {
    sock_ = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    REQUIRE(sock_ != INVALID_SOCKET);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(sock_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    int len = sizeof addr;
    REQUIRE(::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    REQUIRE(::listen(sock_, 16) == 0);
    if (status != 0) server_ = std::thread([this, status] { serve(status); });
  }
  ~Listener() {
    stop_ = true;
    if (server_.joinable()) server_.join();
    ::closesocket(sock_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] int served() const { return served_.load(); }

 private:
  void serve(int status) {
    const std::string answer = "HTTP/1.1 " + std::to_string(status) +
                               " Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    while (!stop_) {
      fd_set ready;
      FD_ZERO(&ready);
      FD_SET(sock_, &ready);
      timeval tick{0, 20000};
      if (::select(0, &ready, nullptr, nullptr, &tick) <= 0) continue;
      const SOCKET c = ::accept(sock_, nullptr, nullptr);
      if (c == INVALID_SOCKET) continue;
      std::string request;
      char buf[1024];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const int n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      ::send(c, answer.data(), static_cast<int>(answer.size()), 0);
      ::shutdown(c, SD_SEND);
      ::closesocket(c);
      ++served_;
    }
  }

  SOCKET sock_ = INVALID_SOCKET;
  std::uint16_t port_ = 0;
  std::thread server_;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
};

// A loopback port nobody listens on right now (bound, then closed).
std::uint16_t free_port() {
  std::uint16_t port = 0;
  { port = Listener().port(); }
  return port;
}

// `n` free loopback ports in a row (for port_per_worker), found by trying: base .. base+n-1 bound
// at once, then let go.
std::uint16_t free_ports(int n) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const std::uint16_t base = free_port();
    if (base > 65535 - n) continue;
    std::vector<SOCKET> held;
    bool all = true;
    for (int i = 0; i < n && all; ++i) {
      const SOCKET s = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<u_short>(base + i));
      all = ::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
      held.push_back(s);
    }
    for (const SOCKET s : held) ::closesocket(s);
    if (all) return base;
  }
  FAIL("no run of free loopback ports");
  return 0;
}

sv::ProbeTiming fast(int successes, int failures, sv::Duration timeout = 5s) {
  sv::ProbeTiming t;
  t.period = 100ms;
  t.timeout = timeout;
  t.success_threshold = successes;
  t.failure_threshold = failures;
  return t;
}

sv::PoolOptions pool_of(std::vector<std::string> args, std::size_t size = 1) {
  sv::PoolOptions o;
  o.spec = child(std::move(args));
  o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
  o.size = size;
  return o;
}

bool detail_has(const sv::Pool& pool, const std::string& text, std::size_t worker = 0) {
  return pool.snapshot().workers[worker].health_detail.find(text) != std::string::npos;
}

// How many processes run supervisor_win_child.exe right now (ours: the workers, the probes and
// their grandchildren; its tests run alone: RUN_SERIAL, tests/CMakeLists.txt).
int children_running() {
  const HANDLE snap = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snap == INVALID_HANDLE_VALUE) return -1;
  PROCESSENTRY32W e{};
  e.dwSize = sizeof e;
  int n = 0;
  for (BOOL more = ::Process32FirstW(snap, &e); more; more = ::Process32NextW(snap, &e)) {
    if (std::wstring(e.szExeFile).find(L"supervisor_win_child") != std::wstring::npos) ++n;
  }
  ::CloseHandle(snap);
  return n;
}

}  // namespace

TEST_CASE("windows: a TCP check connects through the loop, and a refused port is unhealthy",
          "[windows][probes]") {
  winsock();
  HandleAudit audit;
  {
    Listener listening;
    const std::uint16_t closed = free_port();
    sv::Loop loop;
    auto up = pool_of({"sleep", "600000"});
    up.health_checks = {{std::make_shared<sv::TcpCheck>("127.0.0.1", listening.port()),
                         sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool ok(loop, up);
    ok.start();
    REQUIRE(ok.wait_ready(1, 20s));
    CHECK(detail_has(ok, "connected to 127.0.0.1:" + std::to_string(listening.port())));
    CHECK(ok.snapshot().workers[0].serving);

    auto down = pool_of({"sleep", "600000"});
    down.health_checks = {{std::make_shared<sv::TcpCheck>("localhost", closed),
                           sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool refused(loop, down);
    refused.start();
    REQUIRE(wait_until([&] { return detail_has(refused, "connect 127.0.0.1:"); }));
    const auto w = refused.snapshot().workers[0];
    INFO(w.health_detail);
    CHECK(w.health_detail.find("connect 127.0.0.1:" + std::to_string(closed) + ": ") == 0);
    CHECK(w.health_detail.find("WSAECONNREFUSED") != std::string::npos);
    CHECK(w.health == sv::HealthStatus::unhealthy);
    CHECK(w.state == sv::WorkerState::starting);
    CHECK_FALSE(w.serving);
    ok.stop();
    refused.stop();
  }
  CHECK(children_running() == 0);
  CHECK(audit.clean());
}

TEST_CASE("windows: an HTTP check judges the status line, and one never answered times out",
          "[windows][probes]") {
  winsock();
  HandleAudit audit;
  {
    Listener good(200);
    Listener bad(503);
    Listener silent;  // accepts nothing: the request goes out, no answer comes
    sv::Loop loop;
    auto o = pool_of({"sleep", "600000"});
    o.health_checks = {{std::make_shared<sv::HttpCheck>("127.0.0.1", good.port(), "/healthz"),
                        sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool ok(loop, o);
    ok.start();
    REQUIRE(ok.wait_ready(1, 20s));
    CHECK(detail_has(ok, "HTTP/1.1 200 Test"));
    CHECK(good.served() >= 1);

    o.health_checks = {{std::make_shared<sv::HttpCheck>("127.0.0.1", bad.port(), "/healthz"),
                        sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool unavailable(loop, o);
    unavailable.start();
    REQUIRE(wait_until([&] { return detail_has(unavailable, "503"); }));
    auto w = unavailable.snapshot().workers[0];
    CHECK(w.health == sv::HealthStatus::unhealthy);
    CHECK(w.health_detail == "HTTP/1.1 503 Test");
    CHECK_FALSE(w.serving);

    o.health_checks = {{std::make_shared<sv::HttpCheck>("127.0.0.1", silent.port(), "/healthz"),
                        sv::ProbeRole::readiness, fast(1, 1, 500ms)}};
    sv::Pool hanging(loop, o);
    hanging.start();
    // Several probes time out in turn, each attempt's read cancelled and its socket closed.
    REQUIRE(wait_until([&] { return hanging.snapshot().probe_failures >= 3; }));
    w = hanging.snapshot().workers[0];
    CHECK(w.health_detail.find("timed out") != std::string::npos);
    CHECK(w.state == sv::WorkerState::starting);
    // Meanwhile the loop served the others' probes.
    CHECK(ok.snapshot().workers[0].serving);
    ok.stop();
    unavailable.stop();
    hanging.stop();
  }
  CHECK(children_running() == 0);
  CHECK(audit.clean());
}

TEST_CASE("windows: workers that serve HTTP on a port each are checked by TCP and HTTP",
          "[windows][probes][pool]") {
  winsock();
  HandleAudit audit;
  {
    const std::uint16_t base = free_ports(3);
    sv::Loop loop;
    auto o = pool_of({"http", std::to_string(base), "204"}, 3);
    o.health_checks = {
        {std::make_shared<sv::HttpCheck>(sv::port_per_worker("127.0.0.1", base), "/healthz"),
         sv::ProbeRole::readiness, fast(1, 1)},
        {std::make_shared<sv::TcpCheck>(sv::port_per_worker("127.0.0.1", base)),
         sv::ProbeRole::liveness, fast(1, 3)}};
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(3, 30s));
    for (std::size_t i = 0; i < 3; ++i) {
      INFO("worker " << i);
      CHECK(pool.snapshot().workers[i].serving);
    }
    // Each worker's own port answered (the HTTP check made it ready), and the TCP check connects.
    REQUIRE(wait_until([&] {
      for (std::size_t i = 0; i < 3; ++i) {
        if (!detail_has(pool, "connected to 127.0.0.1:" + std::to_string(base + i), i) &&
            !detail_has(pool, "HTTP/1.1 204", i))
          return false;
      }
      return true;
    }));
    CHECK(pool.snapshot().health_stops == 0);
    pool.stop();
  }
  CHECK(children_running() == 0);
  CHECK(audit.clean());
}

TEST_CASE("windows: exec probes pass, fail, and are killed with their tree on timeout",
          "[windows][probes][exec]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto passing = pool_of({"sleep", "600000"});
    passing.health_checks = {{std::make_shared<sv::ExecCheck>(child({"exit", "0"}).argv),
                              sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool good(loop, passing);
    good.start();
    REQUIRE(good.wait_ready(1, 20s));
    CHECK(detail_has(good, "exit 0"));
    good.stop();

    auto failing = pool_of({"sleep", "600000"});
    failing.health_checks = {{std::make_shared<sv::ExecCheck>(child({"exit", "1"}).argv),
                              sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool bad(loop, failing);
    bad.start();
    REQUIRE(wait_until([&] { return detail_has(bad, "exit-code"); }));
    CHECK(bad.snapshot().workers[0].health == sv::HealthStatus::unhealthy);
    CHECK_FALSE(bad.snapshot().workers[0].serving);
    bad.stop();

    // Hanging, with a grandchild: each probe times out and is killed with its job, grandchild
    // included. The worker, one probe and its grandchild are the most that ever run; leaked
    // grandchildren would pile up past that.
    auto hanging = pool_of({"sleep", "600000"});
    hanging.health_checks = {{std::make_shared<sv::ExecCheck>(child({"grandchild", "600000"}).argv),
                              sv::ProbeRole::liveness, fast(1, 1000, 400ms)}};
    sv::Pool stuck(loop, hanging);
    stuck.start();
    int most = 0;
    const auto until = std::chrono::steady_clock::now() + 4s;
    while (std::chrono::steady_clock::now() < until) {
      most = std::max(most, children_running());
      std::this_thread::sleep_for(20ms);
    }
    CHECK(most >= 3);  // the probe's grandchild was seen
    CHECK(most <= 3);
    CHECK(stuck.snapshot().probe_failures >= 3);
    CHECK(detail_has(stuck, "timed out"));
    stuck.stop();
  }
  CHECK(wait_until([] { return children_running() == 0; }, 10s));
  CHECK(audit.clean());
}
