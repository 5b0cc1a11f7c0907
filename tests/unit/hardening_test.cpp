// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Bad input refused with an error that names it, and misuse that ends well (issue 14): numeric
// ids out of range, HTTP probe requests, health-check entries, a lease dropped by an exception,
// the sd_notify start timeout. Portable: no process, no OS header.
#include <supervisor/health.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "catch_compat.hpp"
#include "process/probes.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

sv::ProcessSpec spec_as(const char* user) {
  sv::ProcessSpec s;
  s.argv = {"/usr/bin/worker"};
  s.identity.user = user;
  return s;
}

// What validate() says of `o`, or "" when it accepts it.
std::string refusal(const sv::PoolOptions& o) {
  std::error_code ec;
  sv::validate(o, ec);
  if (!ec) return {};
  CHECK(ec == sv::errc::invalid_argument);
  try {
    sv::validate(o);
  } catch (const std::system_error& e) {
    return e.what();
  }
  FAIL("the throwing overload accepted what the error_code one refused");
  return {};
}

class NeverCalled : public sv::HealthCheckStrategy {
 public:
  void probe(const sv::ProbeTarget&, sv::ProbeCallback done) override {
    done(sv::ProbeResult::healthy());
  }
  [[nodiscard]] std::string name() const override { return "never"; }
};

sv::PoolOptions pool_with_check(const sv::ProbeTiming& timing) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  o.health_checks.push_back({std::make_shared<NeverCalled>(), sv::ProbeRole::liveness, timing});
  return o;
}

}  // namespace

TEST_CASE("a numeric uid or gid beyond 32 bits is refused, not wrapped to another id",
          "[unit][hardening]") {
  // 4294967296 wrapped to 0 (root); 4294967295 is (uid_t)-1, "unchanged" to setresuid.
  for (const char* bad : {"4294967296", "4294967295", "18446744073709551616", "99999999999"}) {
    std::error_code ec;
    sv::validate(spec_as(bad), ec);
    CHECK(ec == sv::errc::invalid_spec);
    CHECK_THROWS_WITH(sv::validate(spec_as(bad)),
                      Catch::Matchers::Contains("ProcessSpec.identity.user: numeric id") &&
                          Catch::Matchers::Contains(bad) &&
                          Catch::Matchers::Contains("out of range"));
  }
  sv::ProcessSpec group = spec_as("0");
  group.identity.group = "4294967296";
  CHECK_THROWS_WITH(sv::validate(group),
                    Catch::Matchers::Contains("ProcessSpec.identity.group: numeric id"));
  sv::ProcessSpec supp = spec_as("0");
  supp.identity.supplementary = {"12", "4294967296"};
  CHECK_THROWS_WITH(sv::validate(supp),
                    Catch::Matchers::Contains("ProcessSpec.identity.supplementary: numeric id"));
  std::error_code ec;
  sv::validate(spec_as("4294967294"), ec);  // the largest valid id
  CHECK_FALSE(ec);
  sv::validate(spec_as("nobody"), ec);  // a name is looked up when the worker starts
  CHECK_FALSE(ec);
}

TEST_CASE("the HTTP probe brackets an IPv6 Host and refuses a path that could inject headers",
          "[unit][hardening][health]") {
  const std::string v6 = sv::detail::http_probe_request("::1", 8080, "/healthz");
  CHECK(v6.rfind("GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\n", 0) == 0);
  const std::string v4 = sv::detail::http_probe_request("127.0.0.1", 80, "");
  CHECK(v4.rfind("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n", 0) == 0);
  CHECK(v4.find("\r\n\r\n") == v4.size() - 4);  // one header block, nothing after it
  for (const char* bad : {"/x\r\nX-Injected: 1", "/x\nHost: evil", "/a b", "healthz", "/\x7f"}) {
    try {
      (void)sv::HttpCheck("127.0.0.1", 80, bad);
      FAIL("accepted the path " << bad);
    } catch (const std::system_error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      CHECK_THAT(e.what(), Catch::Matchers::Contains("HttpCheck: path"));
      CHECK(std::string(e.what()).find('\r') == std::string::npos);  // shown escaped
    }
  }
}

TEST_CASE("every health-check entry is validated, each error naming its field and value",
          "[unit][hardening][health]") {
  CHECK(refusal(pool_with_check({})).empty());  // the defaults are fine
  sv::PoolOptions null_strategy = pool_with_check({});
  null_strategy.health_checks[0].strategy.reset();
  CHECK_THAT(refusal(null_strategy),
             Catch::Matchers::Contains("PoolOptions.health_checks[0].strategy: null"));

  sv::ProbeTiming t;
  t.period = 0s;
  CHECK_THAT(refusal(pool_with_check(t)),
             Catch::Matchers::Contains("PoolOptions.health_checks[0].timing.period: 0s") &&
                 Catch::Matchers::Contains("must be positive"));
  t = {};
  t.timeout = -5ms;
  CHECK_THAT(refusal(pool_with_check(t)),
             Catch::Matchers::Contains("health_checks[0].timing.timeout: -5ms"));
  t = {};
  t.timeout = 0s;
  CHECK_THAT(refusal(pool_with_check(t)), Catch::Matchers::Contains("timing.timeout: 0s"));
  t = {};
  t.initial_delay = -1s;
  CHECK_THAT(refusal(pool_with_check(t)),
             Catch::Matchers::Contains("timing.initial_delay: -1s (must not be negative)"));
  t = {};
  t.success_threshold = 0;
  CHECK_THAT(refusal(pool_with_check(t)),
             Catch::Matchers::Contains("timing.success_threshold: 0 (at least 1)"));
  t = {};
  t.failure_threshold = -3;
  CHECK_THAT(refusal(pool_with_check(t)),
             Catch::Matchers::Contains("timing.failure_threshold: -3 (at least 1)"));

  // The second entry is named by its own index.
  sv::PoolOptions two = pool_with_check({});
  two.health_checks.push_back(two.health_checks[0]);
  two.health_checks[1].timing.period = 0s;
  CHECK_THAT(refusal(two), Catch::Matchers::Contains("health_checks[1].timing.period"));

  // A pool refuses them at construction.
  sv::testing::FakeWorld world;
  CHECK_THROWS_WITH(sv::Pool(world, null_strategy), Catch::Matchers::Contains("strategy: null"));
}

TEST_CASE("a lease dropped by an exception's unwinding ends as a failure, not a success",
          "[unit][hardening][lease]") {
  sv::testing::FakeWorld world;
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  o.health_score.enabled = true;  // success +2 (capped at 100), failure -15
  sv::Pool pool(world, o);
  pool.start();
  {
    sv::Lease ok = pool.acquire(0s);
    REQUIRE(ok.valid());
  }  // destroyed normally: success
  world.run_pending();
  CHECK(pool.snapshot().workers[0].health_score == 100);
  try {
    sv::Lease job = pool.acquire(0s);
    REQUIRE(job.valid());
    throw std::runtime_error("the job failed");
  } catch (const std::runtime_error&) {
  }
  world.run_pending();
  CHECK(pool.snapshot().workers[0].health_score == 85);
  // A lease taken inside a handler (the exception already caught) and ended normally: success.
  try {
    throw std::runtime_error("earlier");
  } catch (const std::runtime_error&) {
    sv::Lease in_handler = pool.acquire(0s);
    REQUIRE(in_handler.valid());
  }
  world.run_pending();
  CHECK(pool.snapshot().workers[0].health_score == 87);
  pool.stop();
}

TEST_CASE("an sd_notify start without a timeout is bounded by systemd's 90 s",
          "[unit][hardening][pool]") {
  sv::testing::FakeWorld world;
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  o.readiness = sv::Readiness::notify();
  sv::Pool pool(world, o);
  pool.start();
  CHECK(pool.snapshot().workers[0].state == sv::WorkerState::starting);
  world.advance(sv::Readiness::default_start_timeout - 1ms);
  CHECK(pool.snapshot().workers[0].state == sv::WorkerState::starting);
  world.advance(1ms);
  const auto last = pool.snapshot().workers[0].last_exit;
  REQUIRE(last.has_value());
  CHECK(last->reason == sv::ExitReason::timeout);
  pool.stop();

  // Duration::max() keeps the old "wait for ever", on purpose.
  sv::testing::FakeWorld world2;
  o.readiness = sv::Readiness::notify(sv::Duration::max());
  sv::Pool patient(world2, o);
  patient.start();
  world2.advance(24h);
  CHECK(patient.snapshot().workers[0].state == sv::WorkerState::starting);
  CHECK_FALSE(patient.snapshot().workers[0].last_exit.has_value());
  patient.stop();
}

TEST_CASE(
    "blocking Pool calls where the caller is the loop fail with resource_deadlock_would_occur",
    "[unit][hardening][pool]") {
  // On a fake world the test thread is the loop, as a callback is on a real one.
  sv::testing::FakeWorld world;
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};
  sv::Pool pool(world, o);
  pool.start();
  sv::Lease held = pool.acquire(0s);  // never blocks: allowed
  REQUIRE(held.valid());
  std::error_code ec;
  (void)pool.acquire(1s, ec);
  CHECK(ec == std::errc::resource_deadlock_would_occur);
  try {
    (void)pool.replace(0);
    FAIL("replace blocked on the loop");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::resource_deadlock_would_occur);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("use replace_async"));
  }
  try {
    (void)pool.rolling_restart();
    FAIL("rolling_restart blocked on the loop");
  } catch (const std::system_error& e) {
    CHECK(e.code() == std::errc::resource_deadlock_would_occur);
  }
  held.release();
  pool.stop();
}
