// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Worker identity and the hooks around each incarnation, on a FakeWorld: the identity variables,
// PoolOptions::per_worker_spec, pre_start and post_stop (order, failures, exactly once), and
// health checks that address the worker they judge.
#include <supervisor/health.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "fake_pool.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::WorkerState;
using sv::testing::events_of;

namespace {

sv::PoolOptions options(std::size_t size) { return sv::testing::fake_pool(size); }

int pid(const sv::Pool& pool, std::size_t i) { return pool.snapshot().workers[i].pid; }

std::string env(const sv::testing::FakeWorld& world, int pid, const std::string& name) {
  const auto vars = world.env_of(pid);
  const auto it = vars.find(name);
  return it == vars.end() ? "<unset>" : it->second;
}

// What a start that must fail throws: its code and message.
std::pair<std::error_code, std::string> start_failure(sv::Pool& pool) {
  try {
    pool.start();
  } catch (const std::system_error& e) {
    return {e.code(), e.what()};
  }
  FAIL("start succeeded");
  return {};
}

// Kills `worker` and lets its restart fail: the one SpawnFailed that follows.
sv::SpawnFailed failed_restart(sv::testing::FakeWorld& world, sv::Pool& pool, std::size_t worker) {
  world.kill(pid(pool, worker));
  world.advance(100ms);
  const auto failed = events_of<sv::SpawnFailed>(pool);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].worker == worker);
  return failed[0];
}

// What the hooks and the events saw, in order: "pre 1/2", "spawned 1/2", "post 1/2 <reason>",
// "exited 1/2" (worker/incarnation).
struct Journal {
  std::vector<std::string> lines;
  void add(const std::string& what, std::size_t worker, std::uint64_t incarnation,
           const std::string& more = {}) {
    lines.push_back(what + " " + std::to_string(worker) + "/" + std::to_string(incarnation) +
                    (more.empty() ? "" : " " + more));
  }
  [[nodiscard]] std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& l : lines) n += l.rfind(prefix, 0) == 0 ? 1U : 0U;
    return n;
  }
  [[nodiscard]] std::ptrdiff_t at(const std::string& line) const {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i] == line) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
  }
};

// Hooks and events into `journal`; `fail_pre` decides a pre_start's answer.
void journal_hooks(sv::PoolOptions& o, Journal& journal,
                   std::function<std::error_code(const sv::WorkerContext&)> fail_pre = {}) {
  o.pre_start = [&journal, fail_pre](const sv::WorkerContext& w, const sv::ProcessSpec&) {
    journal.add("pre", w.index, w.incarnation);
    return fail_pre ? fail_pre(w) : std::error_code();
  };
  o.post_stop = [&journal](const sv::WorkerContext& w, const sv::ExitStatus& st) {
    journal.add("post", w.index, w.incarnation, std::string(sv::to_string(st.reason)));
  };
}

void journal_events(sv::Pool& pool, Journal& journal) {
  pool.subscribe([&journal](const sv::PoolEvent& ev) {
    if (const auto* s = std::get_if<sv::WorkerSpawned>(&ev.data))
      journal.add("spawned", s->worker, s->incarnation);
    if (const auto* e = std::get_if<sv::WorkerExited>(&ev.data))
      journal.add("exited", e->worker, e->incarnation);
  });
}

}  // namespace

TEST_CASE("identity: each worker's environment carries its index and incarnation",
          "[unit][pool][identity]") {
  sv::testing::FakeWorld world;
  sv::Pool pool(world, options(3));
  pool.start();
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(env(world, pid(pool, i), "SUPERVISOR_WORKER_INDEX") == std::to_string(i));
    CHECK(env(world, pid(pool, i), "SUPERVISOR_WORKER_INCARNATION") == "1");
    // Not written into the shared spec: every worker keeps sharing one.
    CHECK(world.spec_of(pid(pool, i))->env.set.empty());
  }
  world.kill(pid(pool, 1));
  world.advance(100ms);
  REQUIRE(pool.snapshot().workers[1].state == WorkerState::ready);
  CHECK(env(world, pid(pool, 1), "SUPERVISOR_WORKER_INDEX") == "1");
  CHECK(env(world, pid(pool, 1), "SUPERVISOR_WORKER_INCARNATION") == "2");
  CHECK(env(world, pid(pool, 0), "SUPERVISOR_WORKER_INCARNATION") == "1");
  pool.stop();

  auto off = options(1);
  off.identity_env = false;
  sv::Pool quiet(world, off);
  quiet.start();
  CHECK(world.env_of(pid(quiet, 0)).empty());
  quiet.stop();
}

TEST_CASE("identity: the spec may not set the pool's own variables while identity_env is on",
          "[unit][pool][identity]") {
  auto o = options(1);
  o.spec.env.set["SUPERVISOR_WORKER_INDEX"] = "7";
  std::error_code ec;
  sv::validate(o, ec);
  CHECK(ec == sv::errc::invalid_argument);
  try {
    sv::validate(o);
    FAIL("validate accepted it");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("PoolOptions.spec.env.set: SUPERVISOR_WORKER_INDEX") !=
          std::string::npos);
  }
  o.identity_env = false;
  sv::validate(o, ec);
  CHECK_FALSE(ec);
}

// An absolute directory of the platform (validate() checks the platform's rule).
#if defined(_WIN32)
constexpr const char* k_srv = "C:\\srv\\w";
#else
constexpr const char* k_srv = "/srv/w";
#endif

TEST_CASE("per_worker_spec derives each worker's spec before each start",
          "[unit][pool][identity]") {
  sv::testing::FakeWorld world;
  auto o = options(3);
  std::vector<std::pair<std::size_t, std::uint64_t>> calls;
  o.per_worker_spec = [&](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
    calls.emplace_back(w.index, w.incarnation);
    spec.argv.push_back("--port=" + std::to_string(8000 + w.index));
    spec.cwd = k_srv + std::to_string(w.index);
    spec.env.set["ROLE"] = w.index == 0 ? "leader" : "follower";
  };
  sv::Pool pool(world, o);
  pool.start();
  CHECK(calls == std::vector<std::pair<std::size_t, std::uint64_t>>{{0, 1}, {1, 1}, {2, 1}});
  for (std::size_t i = 0; i < 3; ++i) {
    const sv::ProcessSpec* spec = world.spec_of(pid(pool, i));
    REQUIRE(spec != nullptr);
    CHECK(spec->argv ==
          std::vector<std::string>{"/usr/bin/worker", "--port=" + std::to_string(8000 + i)});
    CHECK(spec->cwd == k_srv + std::to_string(i));
    CHECK(env(world, pid(pool, i), "SUPERVISOR_WORKER_INDEX") == std::to_string(i));
  }
  CHECK(env(world, pid(pool, 0), "ROLE") == "leader");
  CHECK(env(world, pid(pool, 2), "ROLE") == "follower");
  // A restart derives it again, for the new incarnation.
  world.kill(pid(pool, 2));
  world.advance(100ms);
  REQUIRE(calls.size() == 4);
  CHECK(calls.back() == std::pair<std::size_t, std::uint64_t>{2, 2});
  CHECK(world.spec_of(pid(pool, 2))->argv.back() == "--port=8002");
  // set_resources reaches the derived specs too: the hook starts from the latest spec.
  sv::ResourceLimits limits;
  limits.max_processes = 64;
  pool.set_resources(limits);
  world.kill(pid(pool, 0));
  world.advance(100ms);
  CHECK(world.spec_of(pid(pool, 0))->resources.max_processes == 64u);
  CHECK(world.spec_of(pid(pool, 0))->argv.back() == "--port=8000");
  pool.stop();
}

TEST_CASE("per_worker_spec: an invalid derived spec fails that worker's start, typed and named",
          "[unit][pool][identity]") {
  sv::testing::FakeWorld world;
  SECTION("on the first start, start() returns it and nothing keeps running") {
    auto o = options(3);
    o.per_worker_spec = [](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
      if (w.index == 1) spec.cwd = "relative/dir";
    };
    sv::Pool pool(world, o);
    std::error_code ec;
    pool.start(ec);
    CHECK(ec == sv::errc::invalid_spec);
    sv::Pool again(world, o);
    const std::string what = start_failure(again).second;
    CHECK(what.find("worker 1 (incarnation 1)") != std::string::npos);
    CHECK(what.find("PoolOptions.per_worker_spec") != std::string::npos);
    CHECK(what.find("ProcessSpec.cwd") != std::string::npos);
    CHECK(world.live_pids().empty());
  }
  SECTION("later, a SpawnFailed naming the worker, and the restart policy decides") {
    auto o = options(2);
    o.per_worker_spec = [](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
      if (w.index == 1 && w.incarnation == 2) spec.argv.clear();  // only this one is bad
    };
    sv::Pool pool(world, o);
    pool.start();
    const sv::SpawnFailed failed = failed_restart(world, pool, 1);
    CHECK(failed.error == sv::errc::invalid_spec);
    CHECK(failed.message.find("worker 1 (incarnation 2)") != std::string::npos);
    CHECK(pool.snapshot().workers[1].state == WorkerState::backoff);
    world.advance(100ms);  // the policy's backoff: incarnation 3 is fine again
    CHECK(pool.snapshot().workers[1].state == WorkerState::ready);
    CHECK(pool.snapshot().workers[1].incarnation == 3);
    CHECK(pool.snapshot().spawn_failures == 1);
    pool.stop();
  }
}

TEST_CASE("per_worker_spec: an exception fails the start with hook_failed and is reported",
          "[unit][pool][identity]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  std::vector<std::string> reported;
  o.error_handler = [&](std::exception_ptr, std::string_view where) {
    reported.emplace_back(where);
  };
  o.per_worker_spec = [](const sv::WorkerContext& w, sv::ProcessSpec&) {
    if (w.index == 1) throw std::runtime_error("no port left");
  };
  sv::Pool pool(world, o);
  const auto [code, what] = start_failure(pool);
  CHECK(code == sv::errc::hook_failed);
  CHECK(what.find("worker 1 (incarnation 1): PoolOptions.per_worker_spec threw: no port left") !=
        std::string::npos);
  CHECK(reported == std::vector<std::string>{"per_worker_spec"});
  CHECK(pool.snapshot().strategy_errors == 1);
  CHECK(world.live_pids().empty());
}

TEST_CASE("hooks: pre_start before each spawn, post_stop once after each exit, stop included",
          "[unit][pool][hooks]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  Journal j;
  journal_hooks(o, j);
  std::vector<std::string> spec_args;
  o.per_worker_spec = [](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
    spec.argv.push_back(std::to_string(w.index));
  };
  o.pre_start = [&j, &spec_args](const sv::WorkerContext& w, const sv::ProcessSpec& spec) {
    j.add("pre", w.index, w.incarnation);
    spec_args.push_back(spec.argv.back());  // the derived spec, the one about to start
    return std::error_code();
  };
  sv::Pool pool(world, o);
  journal_events(pool, j);
  pool.start();
  CHECK(j.lines == std::vector<std::string>{"pre 0/1", "spawned 0/1", "pre 1/1", "spawned 1/1"});
  CHECK(spec_args == std::vector<std::string>{"0", "1"});

  // An exit: post_stop first (the process is gone), before anything starts the next one.
  j.lines.clear();
  world.exit_code(pid(pool, 0), 3);
  world.advance(100ms);
  CHECK(j.lines ==
        std::vector<std::string>{"post 0/1 exit-code", "exited 0/1", "pre 0/2", "spawned 0/2"});

  // The immediate-restart fast path starts the next process inside the exit's own turn: its
  // post_stop still comes first.
  j.lines.clear();
  sv::StandardRestartOptions r;
  r.backoff = sv::BackoffOptions::fixed(sv::Duration::zero());
  r.min_uptime = sv::Duration::zero();
  auto fast = options(1);
  fast.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
  journal_hooks(fast, j);
  {
    sv::Pool quick(world, fast);
    quick.start();
    world.kill(pid(quick, 0));
    CHECK(j.at("post 0/1 signal") >= 0);
    CHECK(j.at("post 0/1 signal") < j.at("pre 0/2"));
    quick.stop();
    CHECK(j.count("pre ") == 2);
    CHECK(j.count("post ") == 2);
  }

  // Stop: one post_stop per incarnation still running, before stop() returns.
  j.lines.clear();
  pool.stop();
  CHECK(j.count("post ") == 2);
  CHECK(j.at("post 0/2 success") >= 0);
  CHECK(j.at("post 1/1 success") >= 0);
  CHECK(j.count("pre ") == 0);
}

TEST_CASE("hooks: a failing pre_start is a typed start failure, and post_stop still comes once",
          "[unit][pool][hooks]") {
  sv::testing::FakeWorld world;
  SECTION("on the first start, start() returns the hook's error; nothing is spawned") {
    auto o = options(2);
    Journal j;
    journal_hooks(o, j, [](const sv::WorkerContext& w) {
      return w.index == 1 ? std::make_error_code(std::errc::address_in_use) : std::error_code();
    });
    sv::Pool pool(world, o);
    std::error_code ec;
    pool.start(ec);
    CHECK(ec == std::errc::address_in_use);
    CHECK(world.spawn_count() == 1);  // worker 0 only; it was stopped again
    CHECK(world.live_pids().empty());
    // Every incarnation tried ends once: worker 1's at once (spawn-failed), worker 0's at stop.
    CHECK(j.lines == std::vector<std::string>{"pre 0/1", "pre 1/1", "post 1/1 spawn-failed",
                                              "post 0/1 success"});
    sv::Pool again(world, o);
    const auto [code, what] = start_failure(again);
    CHECK(code == std::errc::address_in_use);
    CHECK(what.find("worker 1 (incarnation 1): PoolOptions.pre_start failed") != std::string::npos);
  }
  SECTION("later, SpawnFailed with the hook's error, and the restart policy decides") {
    auto o = options(1);
    Journal j;
    journal_hooks(o, j, [](const sv::WorkerContext& w) {
      return w.incarnation == 2 ? std::make_error_code(std::errc::no_space_on_device)
                                : std::error_code();
    });
    sv::Pool pool(world, o);
    pool.start();
    const sv::SpawnFailed failed = failed_restart(world, pool, 0);
    CHECK(failed.error == std::errc::no_space_on_device);
    CHECK(failed.message.find("PoolOptions.pre_start failed") != std::string::npos);
    CHECK(world.spawn_count() == 1);
    world.advance(100ms);
    CHECK(pool.snapshot().workers[0].state == WorkerState::ready);
    CHECK(pool.snapshot().workers[0].incarnation == 3);
    pool.stop();
    CHECK(j.lines == std::vector<std::string>{"pre 0/1", "post 0/1 signal", "pre 0/2",
                                              "post 0/2 spawn-failed", "pre 0/3",
                                              "post 0/3 success"});
  }
  SECTION("an exception: hook_failed, reported where \"pre_start\"") {
    auto o = options(1);
    std::vector<std::string> reported;
    o.error_handler = [&](std::exception_ptr, std::string_view where) {
      reported.emplace_back(where);
    };
    o.pre_start = [](const sv::WorkerContext&, const sv::ProcessSpec&) -> std::error_code {
      throw std::runtime_error("disk full");
    };
    int posts = 0;
    o.post_stop = [&](const sv::WorkerContext&, const sv::ExitStatus& st) {
      ++posts;
      CHECK(st.reason == sv::ExitReason::spawn_failed);
    };
    sv::Pool pool(world, o);
    const auto [code, what] = start_failure(pool);
    CHECK(code == sv::errc::hook_failed);
    CHECK(what.find("pre_start threw: disk full") != std::string::npos);
    CHECK(reported == std::vector<std::string>{"pre_start"});
    CHECK(posts == 1);
  }
}

TEST_CASE("hooks: a throwing post_stop is reported and changes nothing else",
          "[unit][pool][hooks]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  std::vector<std::string> reported;
  o.error_handler = [&](std::exception_ptr, std::string_view where) {
    reported.emplace_back(where);
  };
  o.post_stop = [](const sv::WorkerContext&, const sv::ExitStatus&) {
    throw std::runtime_error("cleanup failed");
  };
  sv::Pool pool(world, o);
  pool.start();
  world.kill(pid(pool, 0));
  world.advance(100ms);
  CHECK(pool.snapshot().workers[0].state == WorkerState::ready);
  CHECK(pool.snapshot().workers[0].incarnation == 2);
  pool.stop();
  CHECK(reported == std::vector<std::string>{"post_stop", "post_stop"});
  CHECK(pool.snapshot().workers[0].state == WorkerState::retired);
}

TEST_CASE("a hook or subscriber that stops the pool while a worker starts leaves nothing running",
          "[unit][pool][hooks]") {
  sv::testing::FakeWorld world;
  SECTION("a subscriber of the `starting` transition of a restart") {
    sv::Pool pool(world, options(1));
    pool.start();
    bool armed = true;
    pool.subscribe([&](const sv::PoolEvent& ev) {
      const auto* t = std::get_if<sv::WorkerTransition>(&ev.data);
      if (armed && t != nullptr && t->to == WorkerState::starting) {
        armed = false;
        pool.stop();
      }
    });
    world.kill(pid(pool, 0));
    world.advance(1s);
    CHECK(pool.snapshot().invalid_transitions == 0);
    CHECK(world.live_pids().empty());
    CHECK(pool.snapshot().workers[0].state == WorkerState::retired);
  }
  SECTION("a pre_start, with the process it lets start, and one whose start it fails") {
    for (const bool fail : {false, true}) {
      auto o = options(1);
      sv::Pool* self = nullptr;
      int posts = 0;
      o.pre_start = [&](const sv::WorkerContext& w, const sv::ProcessSpec&) {
        if (w.incarnation == 2) self->stop();
        return fail && w.incarnation == 2 ? std::make_error_code(std::errc::io_error)
                                          : std::error_code();
      };
      o.post_stop = [&](const sv::WorkerContext&, const sv::ExitStatus&) { ++posts; };
      sv::Pool pool(world, o);
      self = &pool;
      pool.start();
      world.kill(pid(pool, 0));
      world.advance(1s);
      INFO("pre_start fails: " << fail);
      CHECK(pool.snapshot().invalid_transitions == 0);
      CHECK(world.live_pids().empty());
      CHECK(pool.snapshot().workers[0].state == WorkerState::retired);
      CHECK(posts == 2);
    }
  }
}

TEST_CASE("per-worker check targets: each probe addresses its own worker's endpoint",
          "[unit][pool][identity][health]") {
  // An endpoint table stands in for the network: the check resolves each worker's endpoint as
  // TcpCheck does (port_per_worker), and answers by that endpoint's state.
  struct TableCheck : sv::HealthCheckStrategy {
    sv::ProbeEndpointFn endpoint = sv::port_per_worker("127.0.0.1", 9000);
    std::map<std::uint16_t, bool> up;
    std::vector<std::pair<std::size_t, std::uint16_t>> probed;
    void probe(const sv::ProbeTarget& t, sv::ProbeCallback done) override {
      const sv::ProbeEndpoint at = endpoint(t);
      probed.emplace_back(t.worker, at.port);
      done(up[at.port] ? sv::ProbeResult::healthy() : sv::ProbeResult::unhealthy("refused"));
    }
    [[nodiscard]] std::string name() const override { return "table"; }
  };
  sv::testing::FakeWorld world;
  auto check = std::make_shared<TableCheck>();
  check->up = {{9000, true}, {9001, true}, {9002, true}};
  auto o = options(3);
  sv::ProbeTiming t;
  t.period = 1s;
  t.failure_threshold = 2;
  o.health_checks = {{check, sv::ProbeRole::liveness, t}};
  sv::Pool pool(world, o);
  pool.start();
  world.advance(1s);
  for (const auto& [worker, port] : check->probed) CHECK(port == 9000 + worker);
  check->up[9001] = false;  // worker 1's endpoint dies
  world.advance(2500ms);    // two failed probes (2 s, 3 s), the stop, the 100 ms backoff
  const auto snap = pool.snapshot();
  CHECK(snap.workers[0].incarnation == 1);
  CHECK(snap.workers[1].incarnation == 2);  // stopped as unhealthy, and restarted
  CHECK(snap.workers[2].incarnation == 1);
  CHECK(snap.health_stops == 1);
  pool.stop();
}

TEST_CASE("TcpCheck and HttpCheck resolve an endpoint per worker", "[unit][health][identity]") {
  sv::ProbeTarget target;
  target.worker = 4;
  sv::TcpCheck fixed("127.0.0.1", 7000);
  CHECK(fixed.endpoint_of(target).port == 7000);
  sv::TcpCheck per(sv::port_per_worker("::1", 7000));
  CHECK(per.endpoint_of(target).address == "::1");
  CHECK(per.endpoint_of(target).port == 7004);
  // From the worker's own spec, e.g. a port its per_worker_spec put into its argv.
  auto spec = std::make_shared<sv::ProcessSpec>();
  spec->argv = {"/w", "7123"};
  target.spec = spec;
  sv::HttpCheck from_spec(
      [](const sv::ProbeTarget& t) {
        return sv::ProbeEndpoint{"localhost",
                                 static_cast<std::uint16_t>(std::stoi(t.spec->argv[1]))};
      },
      "/healthz");
  CHECK(from_spec.endpoint_of(target).port == 7123);
  CHECK(from_spec.name() == "http");
  // A port past 65535 throws (the probe fails and the pool reports it); so does a bad path.
  target.worker = 10;
  sv::TcpCheck high(sv::port_per_worker("127.0.0.1", 65530));
  CHECK_THROWS_AS(high.endpoint_of(target), std::system_error);
  CHECK_THROWS_AS(sv::HttpCheck(sv::port_per_worker("127.0.0.1", 80), "no-slash"),
                  std::system_error);
  CHECK_THROWS_AS(sv::TcpCheck(sv::ProbeEndpointFn{}), std::system_error);
}
