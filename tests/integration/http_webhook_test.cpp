// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// HttpWebhookSink against a real receiver on loopback (an httplib::Server of the test's own).
#include <supervisor/alerts.hpp>
#include <supervisor/http.hpp>
#include <supervisor/pool.hpp>

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

// A receiver on 127.0.0.1 that records what is POSTed to /hook and answers `codes` in turn
// (the last one for ever after).
class Receiver {
 public:
  explicit Receiver(std::vector<int> codes) : codes_(std::move(codes)) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      const std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      content_types_.push_back(req.get_header_value("Content-Type"));
      authorizations_.push_back(req.get_header_value("Authorization"));
      res.status = codes_[std::min(bodies_.size(), codes_.size()) - 1];
    });
    port_ = server_.bind_to_any_port("127.0.0.1");  // listening from here on
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<std::string> bodies() const {
    const std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::string> content_types() const {
    const std::lock_guard lock(mu_);
    return content_types_;
  }
  std::vector<std::string> authorizations() const {
    const std::lock_guard lock(mu_);
    return authorizations_;
  }

 private:
  httplib::Server server_;
  std::vector<int> codes_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> content_types_;
  std::vector<std::string> authorizations_;
};

sv::Alert storm_alert() {
  sv::Alert a;
  a.rule = "restart_storm";
  a.pool = "api";
  a.severity = sv::AlertSeverity::critical;
  a.summary = "5 restarts within 60s (threshold 5)";
  a.detail = "worker 2: exited with code 3";
  a.worker = 2;
  a.suppressed = 3;
  a.occurrences = 4;
  a.sequence = 7;
  return a;
}

// A port nobody listens on (bound, then closed).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("a webhook sink POSTs an alert's JSON and retries a 503", "[integration][http]") {
  st::LeakAudit audit;
  {
    Receiver receiver({503, 204});
    sv::HttpWebhookOptions o;
    o.url = receiver.url();
    o.retry_delay = 10ms;
    o.bearer_token = "hook-token";
    sv::HttpWebhookSink sink(o);
    CHECK(sink.name() == "webhook");
    const sv::Alert alert = storm_alert();
    sink.deliver(alert);
    const auto bodies = receiver.bodies();
    REQUIRE(bodies.size() == 2);  // the 503, then the 204
    CHECK(bodies[1] == sv::to_json(alert));
    CHECK(bodies[1].find(R"("rule":"restart_storm")") != std::string::npos);
    CHECK(receiver.content_types()[1] == "application/json");
    CHECK(receiver.authorizations()[1] == "Bearer hook-token");
    const auto stats = sink.stats();
    CHECK(stats.attempts == 2);
    CHECK(stats.delivered == 1);
    CHECK(stats.failed == 0);
    CHECK(stats.last_error == "answered 503");
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("a webhook sink gives up after its attempts, at once on a 4xx, and throws",
          "[integration][http]") {
  st::LeakAudit audit;
  {
    Receiver always_down({500});
    sv::HttpWebhookOptions o;
    o.url = always_down.url();
    o.retry_delay = 5ms;
    o.max_attempts = 3;
    sv::HttpWebhookSink sink(o);
    try {
      sink.deliver(storm_alert());
      FAIL("no error");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::peer_gone);
      CHECK(std::string(e.what()).find(always_down.url() + ": answered 500") != std::string::npos);
    }
    CHECK(always_down.bodies().size() == 3);
    CHECK(sink.stats().attempts == 3);
    CHECK(sink.stats().failed == 1);

    Receiver refuses({404});
    o.url = refuses.url();
    sv::HttpWebhookSink final_4xx(o);
    CHECK_THROWS_AS(final_4xx.deliver(storm_alert()), sv::Error);
    CHECK(refuses.bodies().size() == 1);  // a 4xx is final

    o.url = "http://127.0.0.1:" + std::to_string(free_port()) + "/hook";
    o.max_attempts = 2;
    sv::HttpWebhookSink nobody(o);
    try {
      nobody.deliver(storm_alert());
      FAIL("no error");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::peer_gone);
      CHECK(std::string(e.what()).find(o.url) != std::string::npos);
    }
    CHECK(nobody.stats().attempts == 2);
  }
  REQUIRE_CLEAN(audit, "");
}

TEST_CASE("a webhook sink refuses bad options with a typed error", "[integration][http]") {
  const auto bad = [](const sv::HttpWebhookOptions& o, const std::string& names) {
    try {
      sv::HttpWebhookSink sink(o);
      FAIL("no error");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      CHECK(std::string(e.what()).find(names) != std::string::npos);
    }
  };
  sv::HttpWebhookOptions o;
  bad(o, "url \"\"");
  o.url = "ftp://example.org/x";
  bad(o, "http:// or https://");
  o.url = "http://";
  bad(o, "no host");
  o.url = "http://example.org/a b";
  bad(o, "spaces");
  o.url = "http://127.0.0.1:9/hook";
  o.max_attempts = 0;
  bad(o, "max_attempts = 0");
  o.max_attempts = 3;
  o.timeout = 0s;
  bad(o, "timeout");
  o.timeout = 1s;
  o.retry_delay = -1s;
  bad(o, "retry_delay");
  o.retry_delay = 0s;
  o.name = "";
  bad(o, "name");
}

TEST_CASE("alerts end to end: a real restart storm reaches a webhook receiver, then resolves",
          "[integration][http][alerts]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("webhook-storm");
  std::vector<std::string> bodies;
  std::size_t restarts = 0;
  {
    Receiver receiver({204});
    sv::Loop loop;
    sv::AlertManagerOptions mo;
    mo.throttle = 1h;
    mo.evaluate_period = 50ms;  // the window slides by itself
    sv::AlertManager manager(mo);
    sv::RestartStormOptions storm;
    storm.threshold = 3;
    storm.window = 2s;
    manager.add_rule(sv::restart_storm_rule(storm));
    sv::HttpWebhookOptions o;
    o.url = receiver.url();
    manager.add_sink(std::make_shared<sv::HttpWebhookSink>(o));
    // Workers that exit at once, restarted after 10 ms, until the restart policy's start limit
    // gives up on them: a storm, then quiet.
    sv::Pool pool(loop, st::child_pool(tag, {"exit", "3"}, 1));
    manager.watch("api", pool);
    pool.start();
    REQUIRE(st::wait_until(
        [&] { return pool.snapshot().workers[0].state == sv::WorkerState::failed; }, 30s));
    REQUIRE(st::wait_until([&] { return manager.stats().resolved == 1; }, 30s));
    REQUIRE(manager.flush(60s));
    restarts = pool.snapshot().restarts;
    const auto stats = manager.stats();
    REQUIRE(stats.sinks.size() == 1);
    INFO(stats.sinks[0].last_error);
    CHECK(stats.sinks[0].delivered == 2);
    CHECK(stats.sinks[0].failed == 0);
    bodies = receiver.bodies();
    pool.stop();
  }
  REQUIRE(restarts >= 4);  // more than the threshold: some were suppressed
  REQUIRE(bodies.size() == 2);  // throttled: one firing notice, one resolved
  INFO(bodies[0]);
  INFO(bodies[1]);
  CHECK(bodies[0].find(R"("state":"firing","rule":"restart_storm","pool":"api")") !=
        std::string::npos);
  CHECK(bodies[0].find(R"("suppressed":0,)") != std::string::npos);
  CHECK(bodies[1].find(R"("state":"resolved","rule":"restart_storm","pool":"api")") !=
        std::string::npos);
  CHECK(bodies[1].find("\"suppressed\":" + std::to_string(restarts - 3) + ",") !=
        std::string::npos);
  REQUIRE_CLEAN(audit, tag);
}
