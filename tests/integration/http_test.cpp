// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// supervisor::http against real clients: the curl program for the endpoints, raw sockets for the
// malformed, slow and surplus ones. Every test ends with a leak audit (the server's threads and
// sockets gone).
#include <supervisor/http.hpp>
#include <supervisor/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <supervisor/loop.hpp>
#include <supervisor/monitor.hpp>
#include <supervisor/pool.hpp>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

// What curl got: the status code, the headers (lower-case names) and the body.
struct Reply {
  int code = 0;  // 0: curl failed
  std::string headers;
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    std::string lower = headers;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("\n" + name + ":");
    if (at == std::string::npos) return {};
    auto from = at + name.size() + 2;
    while (from < headers.size() && headers[from] == ' ') ++from;
    const auto end = headers.find_first_of("\r\n", from);
    return headers.substr(from, end - from);
  }
};

bool have_curl() { return ::access("/usr/bin/curl", X_OK) == 0; }

// Runs `curl -sS -i --max-time 10 <args> <url>` and parses its output.
Reply curl(const std::string& url, const std::string& args = "") {
  const std::string cmd = "/usr/bin/curl -sS -i --max-time 10 " + args + " '" + url + "' 2>&1";
  Reply r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  if (::pclose(p) != 0 || out.rfind("HTTP/1.1 ", 0) != 0) {
    r.body = out;
    return r;
  }
  r.code = std::stoi(out.substr(9, 3));
  auto split = out.find("\r\n\r\n");
  if (split == std::string::npos) split = out.size();
  r.headers = "\n" + out.substr(0, split);
  r.body = split + 4 <= out.size() ? out.substr(split + 4) : "";
  return r;
}

// curl's reply once it has `code` (asking every 20 ms), or its last one after `timeout`.
Reply curl_until(const std::string& url, int code, std::chrono::milliseconds timeout) {
  Reply r;
  st::wait_until(
      [&] {
        r = curl(url);
        return r.code == code;
      },
      timeout, 20ms);
  return r;
}

// A raw TCP connection to 127.0.0.1:port (-1 on failure).
int connect_to(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// What the server says on `fd` until it closes it (or `timeout` passes): "" when it closed (or
// reset) without a word.
std::string read_all(int fd, std::chrono::milliseconds timeout = 10000ms) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Sends `request` on a fresh connection and returns the answer ("" when closed without one).
std::string ask(std::uint16_t port, const std::string& request) {
  const int fd = connect_to(port);
  if (fd < 0) return "connect failed";
  static_cast<void>(::send(fd, request.data(), request.size(), MSG_NOSIGNAL));
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

// "closed" or the status code of an answer.
std::string status_of(const std::string& answer) {
  if (answer.empty()) return "closed";
  return answer.substr(0, std::min<std::size_t>(answer.size(), 12)).substr(9);
}

}  // namespace

TEST_CASE("curl gets each endpoint of a monitored pool", "[integration][http]") {
  if (!have_curl()) SUPERVISOR_SKIP("the curl program (/usr/bin/curl)");
  st::LeakAudit audit;
  const auto tag = st::unique_tag("http-endpoints");
  {
    sv::Loop loop;
    sv::Pool pool(loop, st::child_pool(tag, {"sleep", "forever"}, 2));
    pool.start();
    REQUIRE(pool.wait_ready(2, 10s));
    sv::Monitor monitor;
    monitor.add_pool("api", pool);
    monitor.add_loop("main", loop);
    sv::HttpServer server(monitor);
    server.start();
    REQUIRE(server.running());
    REQUIRE(server.port() != 0);
    const std::string url = server.url();
    CHECK(url == "http://127.0.0.1:" + std::to_string(server.port()));

    const Reply metrics = curl(url + "/metrics");
    CHECK(metrics.code == 200);
    CHECK(metrics.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(metrics.body.find("pool=\"api\"") != std::string::npos);
    CHECK(metrics.body.find("loop=\"main\"") != std::string::npos);
    CHECK(metrics.body.find("# TYPE supervisor_http_requests_total counter") != std::string::npos);

    const Reply health = curl(url + "/healthz");
    CHECK(health.code == 200);
    CHECK(health.body.rfind("ok: alive", 0) == 0);
    CHECK(health.header("content-type") == "text/plain; charset=utf-8");

    const Reply ready = curl(url + "/readyz");
    CHECK(ready.code == 200);
    CHECK(ready.body.rfind("ok: ready", 0) == 0);
    const Reply verbose = curl(url + "/readyz?verbose");
    CHECK(verbose.code == 200);
    CHECK(verbose.body.find("[+] pool \"api\": 2 of 2 up (needs 2)") != std::string::npos);

    const Reply full = curl(url + "/status");
    CHECK(full.code == 200);
    CHECK(full.header("content-type") == "application/json");
    const nlohmann::json doc = nlohmann::json::parse(full.body);
    CHECK(doc.at("schema_version") == 1);
    CHECK(doc.at("ready") == true);
    CHECK(doc.at("alive") == true);
    CHECK(doc.at("readiness").at("pools").at(0).at("pool") == "api");
    CHECK(doc.at("readiness").at("pools").at(0).at("up") == 2);
    CHECK(doc.at("liveness").at("loops").at(0).at("loop") == "main");
    const supervisor::json::StatusDocument back = supervisor::json::parse_status(full.body);
    REQUIRE(back.pools.size() == 1);
    CHECK(back.pools[0].name == "api");
    CHECK(back.pools[0].snapshot.size == 2);
    CHECK(back.pools[0].snapshot.workers.size() == 2);
    CHECK(back.pools[0].snapshot.workers[0].pid > 0);

    const Reply status = curl(url + "/status?brief");
    CHECK(status.code == 200);
    CHECK(status.header("content-type") == "application/json");
    CHECK(status.body.rfind(R"({"schema_version":1,"ready":true,"alive":true,"pools":[)", 0) == 0);
    CHECK(status.body.find(R"("name":"api","running":true,"size":2,"ready":2)") !=
          std::string::npos);
    CHECK(status.body.find(R"("name":"main","turning":true)") != std::string::npos);

    const Reply head = curl(url + "/metrics", "-I");
    CHECK(head.code == 200);
    CHECK(head.body.empty());

    const Reply missing = curl(url + "/nowhere");
    CHECK(missing.code == 404);
    const Reply post = curl(url + "/metrics", "-X POST -d x=1");
    CHECK(post.code == 405);
    CHECK(post.header("allow") == "GET, HEAD");

    // The server's own counters, on /metrics too.
    const Reply again = curl(url + "/metrics");
    CHECK(again.body.find(R"(supervisor_http_requests_total{path="/metrics",code="200"} )") !=
          std::string::npos);
    CHECK(again.body.find(R"(supervisor_http_requests_total{path="other",code="404"} 1)") !=
          std::string::npos);
    CHECK(server.counters().requests == 10);  // /status twice: whole and brief
    server.stop();
    CHECK_FALSE(server.running());
    CHECK(server.port() == 0);
    monitor.remove_pool("api");
    monitor.remove_loop("main");
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("/readyz turns 503 while a pool's workers are down and 200 once they are back",
          "[integration][http]") {
  if (!have_curl()) SUPERVISOR_SKIP("the curl program (/usr/bin/curl)");
  st::LeakAudit audit;
  const auto tag = st::unique_tag("http-readyz");
  {
    sv::Loop loop;
    auto o = st::child_pool(tag, {"sleep", "forever"}, 2);
    sv::StandardRestartOptions r;
    r.backoff = sv::BackoffOptions::fixed(2s);  // long enough to see them down
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(2, 10s));
    sv::Monitor monitor;
    monitor.add_pool("api", pool);
    sv::HttpServer server(monitor);
    server.start();
    const std::string url = server.url() + "/readyz";
    REQUIRE(curl(url).code == 200);

    const auto snap = pool.snapshot();
    for (const auto& w : snap.workers) ::kill(w.pid, SIGKILL);
    const Reply down = curl_until(url, 503, 5000ms);
    CHECK(down.code == 503);
    CHECK(down.body.rfind("not ready: pool \"api\"", 0) == 0);
    CHECK(down.body.find("backoff") != std::string::npos);
    const Reply up = curl_until(url, 200, 15000ms);
    CHECK(up.code == 200);
    CHECK(up.body.rfind("ok: ready", 0) == 0);
    CHECK(pool.snapshot().restarts == 2);
    server.stop();
    monitor.remove_pool("api");
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a bearer token guards /metrics and /status, the probes stay open unless asked",
          "[integration][http]") {
  if (!have_curl()) SUPERVISOR_SKIP("the curl program (/usr/bin/curl)");
  st::LeakAudit audit;
  {
    sv::Monitor monitor;
    sv::HttpServerOptions o;
    o.bearer_token = "s3cret-token";
    sv::HttpServer server(monitor, o);
    server.start();
    const std::string url = server.url();
    const Reply none = curl(url + "/metrics");
    CHECK(none.code == 401);
    CHECK(none.header("www-authenticate") == "Bearer");
    CHECK(curl(url + "/metrics", "-H 'Authorization: Bearer wrong-token!'").code == 401);
    CHECK(curl(url + "/metrics", "-H 'Authorization: Bearer s3cret-toke'").code == 401);
    CHECK(curl(url + "/metrics", "-H 'Authorization: Basic s3cret-token'").code == 401);
    CHECK(curl(url + "/status").code == 401);
    const Reply good = curl(url + "/metrics", "-H 'Authorization: Bearer s3cret-token'");
    CHECK(good.code == 200);
    CHECK(good.body.find("supervisor_http_requests_total{path=\"/metrics\",code=\"401\"} 4") !=
          std::string::npos);
    CHECK(curl(url + "/healthz").code == 200);
    CHECK(curl(url + "/readyz").code == 200);
    CHECK(server.counters().unauthorized == 5);
    server.stop();

    o.probes_need_token = true;
    sv::HttpServer strict(monitor, o);
    strict.start();
    CHECK(curl(strict.url() + "/healthz").code == 401);
    CHECK(curl(strict.url() + "/readyz").code == 401);
    CHECK(curl(strict.url() + "/healthz", "-H 'Authorization: Bearer s3cret-token'").code == 200);
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("malformed and oversized requests get a 4xx, and the server keeps serving",
          "[integration][http]") {
  st::LeakAudit audit;
  {
    sv::Monitor monitor;
    sv::HttpServer server(monitor);
    server.start();
    const auto port = server.port();
    const std::string garbage = status_of(ask(port, "\x01\x02 garbage\r\n\r\n"));
    INFO(garbage);
    CHECK(garbage == "400");
    const std::string no_colon =
        status_of(ask(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"));
    INFO(no_colon);
    CHECK(no_colon == "400");
    const std::string long_line =
        status_of(ask(port, "GET /" + std::string(100'000, 'a') + " HTTP/1.1\r\n\r\n"));
    INFO(long_line);
    CHECK((long_line == "414" || long_line == "431"));
    const std::string long_header = status_of(ask(
        port, "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(100'000, 'b') + "\r\n\r\n"));
    INFO(long_header);
    CHECK(long_header == "431");
    const std::string big_body = status_of(
        ask(port, "GET /healthz HTTP/1.1\r\nContent-Length: 10000000\r\n\r\nxx"));
    INFO(big_body);
    CHECK(big_body == "413");
    // Still serving, well-formed requests too.
    const std::string fine = ask(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(status_of(fine) == "200");
    CHECK(fine.find("ok: alive") != std::string::npos);
    CHECK(server.counters().bad_requests == 5);
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("a slow client is cut off after the read timeout and stalls nobody meanwhile",
          "[integration][http]") {
  if (!have_curl()) SUPERVISOR_SKIP("the curl program (/usr/bin/curl)");
  st::LeakAudit audit;
  {
    sv::Monitor monitor;
    sv::HttpServerOptions o;
    o.read_timeout = 1s;
    o.max_connections = 2;
    sv::HttpServer server(monitor, o);
    server.start();
    // Cut in its request line, then in its headers (the line sent at once): 408 either way.
    for (const std::string at_once : {"", "GET /healthz HTTP/1.1\r\n"}) {
      const int fd = connect_to(server.port());
      REQUIRE(fd >= 0);
      if (!at_once.empty()) REQUIRE(::send(fd, at_once.data(), at_once.size(), MSG_NOSIGNAL) > 0);
      const std::string slowly = at_once.empty()
                                     ? "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                     : "Host: localhost\r\nX-Slow: yes, very slow\r\n\r\n";
      std::atomic<std::size_t> sent{0};
      std::thread dribbler([&] {
        for (const char c : slowly) {
          if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) return;
          ++sent;
          std::this_thread::sleep_for(200ms);
        }
      });
      // Others are served while it dribbles.
      for (int i = 0; i < 3; ++i) CHECK(curl(server.url() + "/healthz").code == 200);
      const std::string answer = read_all(fd, 20000ms);
      const std::size_t sent_when_cut = sent;
      dribbler.join();
      ::close(fd);
      INFO(answer);
      CHECK(answer.rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
      CHECK(sent_when_cut < slowly.size());  // cut before it finished its request
    }
    CHECK(server.counters().bad_requests == 2);
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("connections beyond max_connections are refused at once", "[integration][http]") {
  st::LeakAudit audit;
  {
    sv::Monitor monitor;
    sv::HttpServerOptions o;
    o.max_connections = 2;
    o.read_timeout = 10s;
    sv::HttpServer server(monitor, o);
    server.start();
    const auto port = server.port();
    // Two silent clients hold both workers.
    const int a = connect_to(port);
    const int b = connect_to(port);
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    std::vector<std::string> extra;
    const auto began = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) {
      extra.push_back(status_of(ask(port, "GET /healthz HTTP/1.1\r\n\r\n")));
    }
    const auto took = std::chrono::steady_clock::now() - began;
    for (const auto& s : extra) {
      INFO(s);
      CHECK((s == "503" || s == "closed"));
    }
    CHECK(took < 8s);  // not served by the workers (they are held for 10 s)
    CHECK(server.counters().refused == 3);
    ::close(a);
    ::close(b);
    // Freed: served again.
    CHECK(st::wait_until(
        [&] { return status_of(ask(port, "GET /healthz HTTP/1.1\r\n\r\n")) == "200"; },
        5000ms));
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("start reports a taken port and every bad option with a typed error",
          "[integration][http]") {
  st::LeakAudit audit;
  {
    sv::Monitor monitor;
    sv::HttpServer first(monitor);
    first.start();
    sv::HttpServerOptions o;
    o.port = first.port();
    sv::HttpServer second(monitor, o);
    std::error_code ec;
    second.start(ec);
    CHECK(ec == std::errc::address_in_use);
    CHECK_FALSE(second.running());
    try {
      second.start();
      FAIL("no error");
    } catch (const sv::Error& e) {
      CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())) !=
            std::string::npos);
    }
    first.start(ec);
    CHECK(ec == sv::errc::already_running);

    const auto bad = [&](const sv::HttpServerOptions& opts, const std::string& names) {
      sv::HttpServer s(monitor, opts);
      std::error_code e;
      s.start(e);
      CHECK(e == sv::errc::invalid_argument);
      try {
        s.start();
        FAIL("no error");
      } catch (const sv::Error& ex) {
        CHECK(std::string(ex.what()).find(names) != std::string::npos);
      }
    };
    sv::HttpServerOptions b;
    b.max_connections = 0;
    bad(b, "max_connections = 0");
    b = {};
    b.max_connections = 5000;
    bad(b, "max_connections = 5000");
    b = {};
    b.address = "localhost";
    bad(b, "address \"localhost\"");
    b = {};
    b.read_timeout = 0s;
    bad(b, "read_timeout");
    b = {};
    b.write_timeout = 2h;
    bad(b, "write_timeout");
    b = {};
    b.max_request_bytes = 10;
    bad(b, "max_request_bytes = 10");
    b = {};
    b.bearer_token = "has space";
    bad(b, "bearer_token");
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("a server started and stopped again leaves no thread and no descriptor",
          "[integration][http]") {
  st::LeakAudit audit;
  {
    sv::Monitor monitor;
    sv::HttpServerOptions o;
    o.max_connections = 4;
    sv::HttpServer server(monitor, o);
    for (int round = 0; round < 3; ++round) {
      server.start();
      CHECK(st::snapshot_self().thread_count == audit.baseline().thread_count + 5);
      // A connection under way when it stops is cut.
      const int fd = connect_to(server.port());
      REQUIRE(fd >= 0);
      server.stop();
      CHECK(read_all(fd, 5000ms).empty());
      ::close(fd);
      server.stop();  // again: nothing
    }
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("the server listens on an IPv6 address too", "[integration][http]") {
  if (!have_curl()) SUPERVISOR_SKIP("the curl program (/usr/bin/curl)");
  st::LeakAudit audit;
  {
    sv::Monitor monitor;
    sv::HttpServerOptions o;
    o.address = "::1";
    sv::HttpServer server(monitor, o);
    std::error_code ec;
    server.start(ec);
    if (ec == std::errc::address_not_available || ec == std::errc::address_family_not_supported) {
      SUPERVISOR_SKIP("an IPv6 loopback address (::1)");
    }
    REQUIRE_FALSE(ec);
    CHECK(server.url() == "http://[::1]:" + std::to_string(server.port()));
    const Reply health = curl(server.url() + "/healthz", "-g");
    CHECK(health.code == 200);
  }
  REQUIRE_CLEAN(audit, "");
}
