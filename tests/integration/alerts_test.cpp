// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Alerts end to end: a real pool's restart storm reaches a real command through the exec sink,
// as JSON on its stdin; a command that hangs is killed with its tree at the sink's timeout.
// Every test ends with a leak audit.
#include <supervisor/alerts.hpp>
#include <supervisor/pool.hpp>

#include <chrono>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("alerts: a real restart storm reaches an exec sink as JSON once, then resolves",
          "[integration][alerts]") {
  const st::LeakAudit audit;
  const auto tag = st::unique_tag("alerts-storm");
  const st::TempDir dir(tag);
  const std::string file = (dir.path / "alerts.jsonl").string();
  std::size_t restarts = 0;
  {
    sv::Loop loop;
    sv::AlertManagerOptions mo;
    mo.throttle = 1h;
    mo.evaluate_period = 50ms;  // the delivery thread evaluates: the window slides by itself
    sv::AlertManager manager(mo);
    sv::RestartStormOptions storm;
    storm.threshold = 3;
    storm.window = 2s;
    manager.add_rule(sv::restart_storm_rule(storm));
    sv::ExecSinkOptions exec;
    exec.spec.argv = {"/bin/sh", "-c", "cat >> \"$0\"", file};
    exec.timeout = 30s;
    manager.add_sink(sv::exec_sink(loop, exec));
    // Workers that exit at once, restarted after 10 ms: the restart policy's start limit (5 per
    // 10 s) gives up on it after a few, which ends the storm.
    sv::Pool pool(loop, st::child_pool(tag, {"exit", "3"}, 1));
    manager.watch("api", pool);
    pool.start();
    REQUIRE(st::wait_until(
        [&] { return pool.snapshot().workers[0].state == sv::WorkerState::failed; }, 30s));
    // Resolved once the 2 s window has slid past the last restart.
    REQUIRE(st::wait_until([&] { return manager.stats().resolved == 1; }, 30s));
    REQUIRE(manager.flush(60s));
    restarts = st::events_of<sv::RestartScheduled>(pool).size();
    const auto stats = manager.stats();
    REQUIRE(stats.sinks.size() == 1);
    INFO(stats.sinks[0].last_error);
    CHECK(stats.sinks[0].delivered == 2);
    CHECK(stats.sinks[0].failed == 0);
    CHECK(stats.firing == 1);
    pool.stop();
  }
  REQUIRE(restarts >= 4);  // more than the threshold: some were suppressed
  const auto lines = lines_of(st::slurp(file));
  REQUIRE(lines.size() == 2);
  INFO(lines[0]);
  INFO(lines[1]);
  CHECK(has(lines[0],
            "{\"schema_version\":1,\"sequence\":1,\"state\":\"firing\","
            "\"rule\":\"restart_storm\",\"pool\":\"api\",\"severity\":\"critical\","
            "\"summary\":\"3 restarts within 2s (threshold 3)\""));
  CHECK(has(lines[0], "\"worker\":0,\"suppressed\":0,\"occurrences\":1,"));
  CHECK(has(lines[1], "{\"schema_version\":1,\"sequence\":2,\"state\":\"resolved\","));
  CHECK(has(lines[1], "\"suppressed\":" + std::to_string(restarts - 3) +
                          ",\"occurrences\":" + std::to_string(restarts - 2) + ","));
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("alerts: an exec sink command that hangs is killed with its tree at the timeout",
          "[integration][alerts]") {
  const st::LeakAudit audit;
  const auto tag = st::unique_tag("alerts-hang");
  {
    sv::Loop loop;
    sv::AlertManagerOptions mo;
    mo.evaluate_period = 0s;
    sv::AlertManager manager(mo);
    manager.add_rule(sv::limit_violation_rule());
    // A shell that waits for two children (one in the background), both tagged, none of which
    // ever reads the alert.
    sv::ExecSinkOptions hang;
    hang.name = "hang";
    hang.spec.argv = {"/bin/sh", "-c",
                      "\"$0\" --tag \"$1\" sleep 100000 & \"$0\" --tag \"$1\" sleep 100000; wait",
                      SUPERVISOR_TEST_CHILD, tag};
    hang.timeout = 5s;
    manager.add_sink(sv::exec_sink(loop, hang));
    sv::ExecSinkOptions fails;
    fails.name = "fails";
    fails.spec.argv = {"/bin/sh", "-c", "cat > /dev/null; exit 3"};
    manager.add_sink(sv::exec_sink(loop, fails));

    sv::LimitViolation v;
    v.kind = sv::LimitKind::memory_max;
    v.count = 1;
    sv::PoolEvent event;
    event.data = v;
    manager.observe("p", event);
    // The shell and its two children run...
    CHECK(st::wait_until([&] { return st::processes_with_tag(tag).size() == 3; }, 4000ms));
    // ... until the timeout kills them all.
    REQUIRE(manager.flush(60s));
    CHECK(st::processes_with_tag(tag).empty());
    const auto stats = manager.stats();
    REQUIRE(stats.sinks.size() == 2);
    CHECK(stats.sinks[0].failed == 1);
    CHECK(has(stats.sinks[0].last_error,
              "alert exec sink \"hang\": \"/bin/sh\" did not finish within 5s; its process tree "
              "was killed"));
    CHECK(stats.sinks[1].failed == 1);
    INFO(stats.sinks[1].last_error);
    CHECK(has(stats.sinks[1].last_error,
              "alert exec sink \"fails\": \"/bin/sh\" failed: exit-code (code 3)"));
  }
  REQUIRE_CLEAN(audit, tag);
}
