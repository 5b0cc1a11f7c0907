// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The built-in health checks against real workers: an HTTP endpoint served by the test child,
// TCP connects, exec probes (failing, hanging, passing) and a SIGSTOPped process. Every test ends
// with a leak audit, which also covers the probes' own processes.
#include <supervisor/health.hpp>
#include <supervisor/pool.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;
using st::events_of;

namespace {

std::vector<std::string> child(const std::string& tag, std::vector<std::string> args) {
  std::vector<std::string> argv{SUPERVISOR_TEST_CHILD, "--tag", tag};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

sv::PoolOptions pool_for(const std::string& tag, std::vector<std::string> args) {
  return st::child_pool(tag, std::move(args), 1);
}

sv::ProbeTiming fast(int successes, int failures, sv::Duration timeout = 2s) {
  sv::ProbeTiming t;
  t.period = 100ms;
  t.timeout = timeout;
  t.success_threshold = successes;
  t.failure_threshold = failures;
  return t;
}

using st::slurp;

// The cgroup v2 line ("0::/...") of a /proc/<pid>/cgroup text.
std::string v2_line(const std::string& cgroup_file) {
  std::istringstream in(cgroup_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line;
  }
  return {};
}

// A TCP socket bound to a free loopback port; `port` receives the port.
int bound_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port = ntohs(addr.sin_port);
  return fd;
}

// A loopback port nobody listens on right now (bound, then closed).
std::uint16_t free_port() {
  std::uint16_t port = 0;
  ::close(bound_loopback(port));
  return port;
}

bool has_health(const sv::Pool& pool, sv::HealthStatus status, const std::string& detail) {
  for (const auto& h : events_of<sv::HealthChanged>(pool)) {
    if (h.status == status && h.detail.find(detail) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("HTTP and TCP checks against a real endpoint gate readiness by status",
          "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("http");
  {
    sv::Loop loop;
    const std::uint16_t port = free_port();
    auto good = pool_for(tag, {"http-server", std::to_string(port), "200"});
    good.health_checks = {
        {std::make_shared<sv::HttpCheck>("127.0.0.1", port, "/healthz"), sv::ProbeRole::readiness,
         fast(1, 1)},
        {std::make_shared<sv::TcpCheck>("localhost", port), sv::ProbeRole::liveness, fast(1, 3)}};
    sv::Pool ok(loop, good);
    ok.start();
    REQUIRE(ok.wait_ready(1, 10s));
    CHECK(has_health(ok, sv::HealthStatus::healthy, "HTTP/1.1 200 OK"));
    CHECK(st::wait_until([&] { return has_health(ok, sv::HealthStatus::healthy, "connected"); },
                         5000ms));
    CHECK(ok.snapshot().workers[0].serving);
    ok.stop();

    // 503: started, never ready, never handed out; the process is left running.
    const std::uint16_t port2 = free_port();
    auto bad = pool_for(tag, {"http-server", std::to_string(port2), "503"});
    bad.health_checks = {{std::make_shared<sv::HttpCheck>("127.0.0.1", port2, "/healthz"),
                          sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool unavailable(loop, bad);
    unavailable.start();
    // (The first probes may find nobody listening yet; events come only on changes, so the
    // snapshot tells the latest answer.)
    CHECK(st::wait_until(
        [&] {
          return unavailable.snapshot().workers[0].health_detail.find("503") != std::string::npos;
        },
        5000ms));
    const auto w = unavailable.snapshot().workers[0];
    CHECK(w.state == sv::WorkerState::starting);
    CHECK_FALSE(w.serving);
    std::error_code ec;
    unavailable.acquire(0s, ec);
    CHECK(ec == sv::errc::lease_timeout);
    CHECK(events_of<sv::WorkerExited>(unavailable).empty());
    unavailable.stop();

    // Nobody listening: connection refused, and the check says so.
    const std::uint16_t closed = free_port();
    auto refused = pool_for(tag, {"sleep", "forever"});
    refused.health_checks = {{std::make_shared<sv::TcpCheck>("127.0.0.1", closed),
                              sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool nobody(loop, refused);
    nobody.start();
    CHECK(st::wait_until([&] { return has_health(nobody, sv::HealthStatus::unhealthy, "refused"); },
                         5000ms));
    nobody.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

// An endpoint that accepts connections (the kernel completes them into the backlog) and never
// answers: the HTTP check times out at its own timeout, its socket is closed, and meanwhile the
// loop it shares with another pool goes on serving that pool (its restarts are not held up).
// Kubernetes' rule: any status from 200 to 399 passes, 400 and above fail.
TEST_CASE("HTTP checks pass on 200-399 and fail from 400, at the edges", "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("http-edges");
  {
    sv::Loop loop;
    for (const auto& edge : std::vector<std::pair<int, bool>>{
             {200, true}, {301, true}, {399, true}, {400, false}, {500, false}}) {
      const int status = edge.first;  // (clang 14 cannot capture a structured binding)
      const bool passes = edge.second;
      INFO("status " << status);
      const std::uint16_t port = free_port();
      auto o = pool_for(tag, {"http-server", std::to_string(port), std::to_string(status)});
      o.health_checks = {{std::make_shared<sv::HttpCheck>("127.0.0.1", port, "/"),
                          sv::ProbeRole::readiness, fast(1, 1)}};
      sv::Pool pool(loop, o);
      pool.start();
      // The first probes may find nobody listening yet: wait for one that saw the status.
      REQUIRE(st::wait_until(
          [&] {
            return pool.snapshot().workers[0].health_detail.rfind(
                       "HTTP/1.1 " + std::to_string(status) + " ", 0) == 0;
          },
          5000ms));
      const auto w = pool.snapshot().workers[0];
      CHECK(w.serving == passes);
      CHECK(w.state == (passes ? sv::WorkerState::ready : sv::WorkerState::starting));
      pool.stop();
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("an HTTP check on an endpoint that never answers times out without blocking the loop",
          "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("http-hang");
  std::uint16_t port = 0;
  const int listener = bound_loopback(port);
  REQUIRE(::listen(listener, 16) == 0);  // never accepted
  {
    sv::Loop loop;
    auto silent = pool_for(tag, {"sleep", "forever"});
    silent.health_checks = {{std::make_shared<sv::HttpCheck>("127.0.0.1", port, "/healthz"),
                             sv::ProbeRole::readiness, fast(1, 1, 1500ms)}};
    sv::Pool hanging(loop, silent);
    auto other_opts = pool_for(tag, {"sleep", "forever"});
    sv::StandardRestartOptions r;
    r.backoff = sv::BackoffOptions::fixed(10ms);
    r.min_uptime = sv::Duration::zero();  // kills, not a crash loop: no budget to run out of
    other_opts.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
    sv::Pool other(loop, other_opts);
    other.start();
    REQUIRE(other.wait_ready(1, 10s));
    const auto t0 = std::chrono::steady_clock::now();
    hanging.start();
    // While the first probe waits for an answer, the shared loop restarts the other pool's
    // worker: 20 kills, each followed by its replacement becoming ready.
    std::uint64_t incarnation = other.snapshot().workers[0].incarnation;
    for (int i = 0; i < 20; ++i) {
      ::kill(other.snapshot().workers[0].pid, SIGKILL);
      REQUIRE(st::wait_until(
          [&] {
            const auto w = other.snapshot().workers[0];
            return w.incarnation > incarnation && w.state == sv::WorkerState::ready;
          },
          5000ms));
      incarnation = other.snapshot().workers[0].incarnation;
    }
    const auto restarts_done = std::chrono::steady_clock::now() - t0;
    CHECK(st::wait_until(
        [&] {
          return hanging.snapshot().workers[0].health_detail.find("timed out") != std::string::npos;
        },
        10000ms));
    const auto timed_out = std::chrono::steady_clock::now() - t0;
    // The restarts did not wait for the probe: all 20 were done before it timed out.
    CHECK(restarts_done < timed_out);
    CHECK(timed_out >= 1500ms);
    const auto w = hanging.snapshot().workers[0];
    CHECK(w.state == sv::WorkerState::starting);
    CHECK_FALSE(w.serving);
    hanging.stop();
    other.stop();
  }
  ::close(listener);
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("exec checks: a failing one stops the worker, a hanging one is killed with its tree",
          "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("exec");
  const auto probe_tag = st::unique_tag("exec-probe");
  {
    sv::Loop loop;
    // Passing: the worker becomes ready through its readiness check.
    auto passing = pool_for(tag, {"sleep", "forever"});
    passing.health_checks = {{std::make_shared<sv::ExecCheck>(child(probe_tag, {"exit", "0"})),
                              sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool good(loop, passing);
    good.start();
    REQUIRE(good.wait_ready(1, 10s));
    good.stop();

    // Failing twice in a row: stopped, reported `unhealthy`, restarted by the policy.
    auto failing = pool_for(tag, {"sleep", "forever"});
    failing.health_checks = {{std::make_shared<sv::ExecCheck>(child(probe_tag, {"exit", "1"})),
                              sv::ProbeRole::liveness, fast(1, 2)}};
    sv::Pool bad(loop, failing);
    bad.start();
    REQUIRE(st::wait_until([&] { return !events_of<sv::WorkerExited>(bad).empty(); }, 10000ms));
    const auto exit = events_of<sv::WorkerExited>(bad)[0].status;
    CHECK(exit.reason == sv::ExitReason::unhealthy);
    CHECK(has_health(bad, sv::HealthStatus::unhealthy, "exit-code"));
    CHECK(bad.snapshot().health_stops >= 1);
    bad.stop();

    // Hanging (and forking): every probe times out and is killed, grandchild included; never
    // more than one probe in flight.
    auto hanging = pool_for(tag, {"sleep", "forever"});
    hanging.health_checks = {
        {std::make_shared<sv::ExecCheck>(child(probe_tag, {"fork-grandchild", "forever"})),
         sv::ProbeRole::liveness, fast(1, 1000, 300ms)}};
    sv::Pool stuck(loop, hanging);
    stuck.start();
    // A probe's own process is this process's child; its grandchild is not. A killed probe is a
    // zombie (not counted) until reaped.
    std::size_t most = 0;
    std::size_t most_probes = 0;
    const auto until = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < until) {
      const auto tagged = st::processes_with_tag(probe_tag);
      std::size_t probes = 0;
      for (const int pid : tagged) {
        const auto stat = st::leak_detail::read_stat(pid);
        if (stat && stat->ppid == ::getpid()) ++probes;
      }
      most = std::max(most, tagged.size());
      most_probes = std::max(most_probes, probes);
      std::this_thread::sleep_for(20ms);
    }
    CHECK(most >= 2);         // the probe and its grandchild
    CHECK(most_probes == 1);  // never two probes at once
    CHECK(stuck.snapshot().probe_failures >= 3);
    CHECK(has_health(stuck, sv::HealthStatus::unhealthy, "timed out"));
    stuck.stop();
    CHECK(st::wait_until([&] { return st::processes_with_tag(probe_tag).empty(); }, 5000ms));
  }
  REQUIRE_CLEAN(audit, tag);
  REQUIRE_CLEAN(audit, probe_tag);
}

TEST_CASE("a SIGSTOPped worker fails the process check and is replaced", "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("stopped");
  {
    sv::Loop loop;
    auto o = pool_for(tag, {"sleep", "forever"});
    o.health_checks = {
        {std::make_shared<sv::ProcessAliveCheck>(), sv::ProbeRole::liveness, fast(1, 2)}};
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(1, 10s));
    const int first = pool.snapshot().workers[0].pid;
    REQUIRE(::kill(first, SIGSTOP) == 0);  // ours, unreaped: cannot be a reused PID
    REQUIRE(st::wait_until(
        [&] {
          const auto w = pool.snapshot().workers[0];
          return w.pid != first && w.state == sv::WorkerState::ready;
        },
        10000ms));
    const auto exits = events_of<sv::WorkerExited>(pool);
    REQUIRE(exits.size() == 1);
    CHECK(exits[0].status.reason == sv::ExitReason::unhealthy);
    CHECK(has_health(pool, sv::HealthStatus::unhealthy, "stopped"));
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("resource thresholds: a worker over its memory or CPU limit fails its check",
          "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("thresholds");
  {
    sv::Loop loop;
    sv::ResourceThresholdCheck::Limits memory;
    memory.max_rss_bytes = 32ull << 20;
    auto hog = pool_for(tag, {"alloc", "64", "forever"});
    hog.health_checks = {{std::make_shared<sv::ResourceThresholdCheck>(memory),
                          sv::ProbeRole::liveness, fast(1, 2)}};
    sv::Pool big(loop, hog);
    big.start();
    REQUIRE(st::wait_until([&] { return !events_of<sv::WorkerExited>(big).empty(); }, 10000ms));
    CHECK(events_of<sv::WorkerExited>(big)[0].status.reason == sv::ExitReason::unhealthy);
    // (Under a sanitizer the child may be over the limit before it allocates: any RSS reading.)
    CHECK(has_health(big, sv::HealthStatus::unhealthy, "rss "));
    big.stop();

    sv::ResourceThresholdCheck::Limits cpu;
    cpu.max_cpu_cores = 0.2;
    auto spinner = pool_for(tag, {"spin", "60000"});
    spinner.health_checks = {
        {std::make_shared<sv::ResourceThresholdCheck>(cpu), sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool busy(loop, spinner);
    busy.start();
    CHECK(st::wait_until([&] { return has_health(busy, sv::HealthStatus::unhealthy, "cores"); },
                         10000ms));
    busy.stop();

    // Within limits: healthy, and the detail shows the readings.
    sv::ResourceThresholdCheck::Limits roomy;
    roomy.max_rss_bytes = 1ull << 30;
    roomy.max_cpu_cores = 4;
    auto calm = pool_for(tag, {"sleep", "forever"});
    calm.health_checks = {{std::make_shared<sv::ResourceThresholdCheck>(roomy),
                           sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool ok(loop, calm);
    ok.start();
    REQUIRE(ok.wait_ready(1, 10s));
    CHECK(has_health(ok, sv::HealthStatus::healthy, "rss"));
    ok.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a composite check in a pool: a degraded part still passes, the worst part decides",
          "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("composite");
  {
    sv::Loop loop;
    // 64 MiB resident against a 1 GiB limit whose degraded mark is 1% of it: degraded, not
    // unhealthy (with room for a sanitizer's own memory).
    sv::ResourceThresholdCheck::Limits heavy;
    heavy.max_rss_bytes = 1ull << 30;
    heavy.degraded_fraction = 0.01;
    auto hog = pool_for(tag, {"alloc", "64", "forever"});
    hog.health_checks = {
        {std::make_shared<sv::CompositeCheck>(std::vector<std::shared_ptr<sv::HealthCheckStrategy>>{
             std::make_shared<sv::ProcessAliveCheck>(),
             std::make_shared<sv::ResourceThresholdCheck>(heavy)}),
         sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool degraded(loop, hog);
    degraded.start();
    CHECK(st::wait_until([&] { return has_health(degraded, sv::HealthStatus::degraded, "rss"); },
                         10000ms));
    REQUIRE(degraded.wait_ready(1, 10s));  // degraded is a pass
    CHECK(degraded.snapshot().workers[0].serving);
    degraded.stop();

    // One part answers 503: the composite fails, and says why.
    const std::uint16_t port = free_port();
    auto server = pool_for(tag, {"http-server", std::to_string(port), "503"});
    server.health_checks = {
        {std::make_shared<sv::CompositeCheck>(std::vector<std::shared_ptr<sv::HealthCheckStrategy>>{
             std::make_shared<sv::ProcessAliveCheck>(),
             std::make_shared<sv::HttpCheck>("127.0.0.1", port, "/")}),
         sv::ProbeRole::readiness, fast(1, 1)}};
    sv::Pool failing(loop, server);
    failing.start();
    CHECK(st::wait_until(
        [&] {
          return failing.snapshot().workers[0].health_detail.find("HTTP/1.1 503") !=
                 std::string::npos;
        },
        5000ms));
    const auto w = failing.snapshot().workers[0];
    CHECK_FALSE(w.serving);
    CHECK(w.state == sv::WorkerState::starting);
    failing.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

// The health score with real probes: every failed exec probe takes 25 points; at 25 <= 30 the
// worker is replaced gracefully (the new one first), and its replacement starts afresh at 100.
TEST_CASE("failing probes sink a real worker's health score into a graceful replacement",
          "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("score");
  const auto probe_tag = st::unique_tag("score-probe");
  {
    sv::Loop loop;
    auto o = pool_for(tag, {"sleep", "forever"});
    o.health_score.enabled = true;
    // Failing, but never often enough in a row to stop the worker: only the score acts.
    o.health_checks = {{std::make_shared<sv::ExecCheck>(child(probe_tag, {"exit", "1"})),
                        sv::ProbeRole::liveness, fast(1, 1000)}};
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(1, 10s));
    const int first = pool.snapshot().workers[0].pid;
    REQUIRE(st::wait_until(
        [&] { return !events_of<sv::ReplacementFinished>(pool.history()).empty(); }, 10000ms));
    const auto recycled = events_of<sv::WorkerRecycled>(pool.history());
    REQUIRE(!recycled.empty());
    CHECK(recycled[0].worker == 0);
    CHECK(recycled[0].why == "health score 25 <= 30");
    CHECK(st::wait_until(
        [&] { return pool.snapshot().workers[0].state == sv::WorkerState::retired; }, 5000ms));
    CHECK(::kill(first, 0) != 0);  // the old process is gone
    CHECK(pool.snapshot().health_stops == 0);
    CHECK(events_of<sv::WorkerExited>(pool.history())[0].status.stop_requested);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
  REQUIRE_CLEAN(audit, probe_tag);
}

// A check every worker fails (a shared dependency is down): max_out_for_health 1 lets it stop
// one worker at a time, the others keep serving; counted from the transitions on the loop.
TEST_CASE("max_out_for_health keeps real workers serving while a failing check stops one",
          "[integration][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("out-for-health");
  const auto probe_tag = st::unique_tag("out-probe");
  {
    sv::Loop loop;
    auto o = pool_for(tag, {"sleep", "forever"});
    o.size = 3;
    o.max_out_for_health = 1;
    o.health_checks = {{std::make_shared<sv::ExecCheck>(child(probe_tag, {"exit", "1"})),
                        sv::ProbeRole::liveness, fast(1, 1)}};
    sv::StandardRestartOptions r;
    r.backoff = sv::BackoffOptions::fixed(300ms);  // the stopped one stays out a while
    r.min_uptime = sv::Duration::zero();
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
    sv::Pool pool(loop, o);
    st::UpCounter up(pool);
    pool.start();
    REQUIRE(pool.wait_ready(3, 10s));
    REQUIRE(up.watch() == 3);
    REQUIRE(st::wait_until([&] { return pool.snapshot().health_stops >= 3; }, 15000ms));
    const auto snap = pool.snapshot();
    CHECK(snap.health_stops_deferred >= 1);  // the cap held a stop back
    CHECK(up.fewest() == 2);                 // never two out at once
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
  REQUIRE_CLEAN(audit, probe_tag);
}

TEST_CASE("an exec probe runs as the worker: its user, environment and cgroup, unless run_as_host",
          "[integration][health][exec]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("health-exec-as");
  if (::geteuid() != 0)
    SUPERVISOR_SKIP("running a worker as another user needs root; running as uid " +
                    std::to_string(::geteuid()));
  const std::string dir = "/tmp/" + tag;
  REQUIRE(::mkdir(dir.c_str(), 0777) == 0);
  REQUIRE(::chmod(dir.c_str(), 0777) == 0);  // the probe may run as nobody
  const std::string host_cgroup = v2_line(slurp("/proc/self/cgroup"));
  for (const bool as_host : {false, true}) {
    const std::string out = dir + (as_host ? "/host" : "/worker");
    {
      sv::Loop loop;
      auto o = pool_for(tag, {"sleep", "forever"});
      o.spec.identity.user = "nobody";
      o.spec.env.set["SV_WORKER_ONLY"] = "worker";
      sv::ExecCheckOptions eo;
      eo.run_as_host = as_host;
      // Writes what it runs as, then succeeds; `out` is written once (the first probe).
      const std::string script =
          "[ -e \"$0.done\" ] && exit 0; id -u > \"$0.uid\"; env > \"$0.env\"; "
          "cat /proc/self/cgroup > \"$0.cgroup\"; touch \"$0.done\"";
      o.health_checks = {{std::make_shared<sv::ExecCheck>(
                              std::vector<std::string>{"/bin/sh", "-c", script, out, tag}, eo),
                          sv::ProbeRole::liveness, fast(1, 3)}};
      sv::Pool pool(loop, o);
      pool.start();
      REQUIRE(pool.wait_ready(1, 10s));
      const int pid = pool.snapshot().workers[0].pid;
      REQUIRE(
          st::wait_until([&] { return ::access((out + ".done").c_str(), F_OK) == 0; }, 10000ms));
      const std::string worker_cgroup = v2_line(slurp("/proc/" + std::to_string(pid) + "/cgroup"));
      const std::string uid = slurp(out + ".uid");
      const std::string env = "\n" + slurp(out + ".env");
      const std::string probe_cgroup = v2_line(slurp(out + ".cgroup"));
      INFO("as_host " << as_host << " uid " << uid << " probe " << probe_cgroup << " worker "
                      << worker_cgroup << " host " << host_cgroup);
      CHECK(env.find("\nSUPERVISOR_WORKER_PID=" + std::to_string(pid) + "\n") != std::string::npos);
      if (!as_host) {
        CHECK(uid == "65534\n");
        CHECK(env.find("\nSV_WORKER_ONLY=worker\n") != std::string::npos);
        CHECK(env.find("\nUSER=nobody\n") != std::string::npos);
        CHECK(probe_cgroup == worker_cgroup);
      } else {
        CHECK(uid == "0\n");
        CHECK(env.find("\nSV_WORKER_ONLY=") == std::string::npos);
        // A group of its own (or the host's), never the worker's.
        if (worker_cgroup != host_cgroup) CHECK(probe_cgroup != worker_cgroup);
      }
      pool.stop();
      CHECK(pool.snapshot().workers[0].incarnation == 1);  // the probes passed
      if (worker_cgroup == host_cgroup)
        UNSCOPED_INFO("the worker has no cgroup of its own: the cgroup part compared equal ones");
    }
    for (const char* ext : {".uid", ".env", ".cgroup", ".done"}) ::unlink((out + ext).c_str());
  }
  ::rmdir(dir.c_str());
  REQUIRE_CLEAN(audit, tag);
}
