// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Metric families (MetricSet, the text exposition) and the Monitor on the fake world: one
// exposition for many pools, per-worker series, readiness with its reasons.
#include <supervisor/monitor.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "fake_pool.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// "name{labels} value" lines, by series.
std::map<std::string, std::string> series_of(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

sv::MetricFamily gauge(std::string name, std::vector<sv::MetricLabel> labels, double v) {
  sv::MetricFamily f;
  f.name = std::move(name);
  f.help = "A gauge.";
  f.type = sv::MetricType::gauge;
  f.samples.push_back({std::move(labels), v, std::nullopt});
  return f;
}

}  // namespace

TEST_CASE("metric set: families merge by name, each once in the text", "[unit][metrics]") {
  sv::MetricSet set;
  set.add(gauge("x_things", {{"pool", "a"}}, 1));
  set.add(gauge("x_things", {{"pool", "b"}}, 2.5));
  sv::MetricFamily c;
  c.name = "x_events_total";
  c.help = "Events, with a \\ and a\nnewline.";
  c.type = sv::MetricType::counter;
  c.samples.push_back({{{"pool", "q\"uote\\back\nnl"}}, 7, std::nullopt});
  set.add(c);
  sv::MetricFamily h;
  h.name = "x_wait_seconds";
  h.help = "Waits.";
  h.type = sv::MetricType::histogram;
  h.unit = "seconds";
  sv::Histogram hist = sv::Histogram::with_bounds({0.1, 1});
  hist.observe(0.05);
  hist.observe(0.5);
  hist.observe(3);
  h.samples.push_back({{{"pool", "a"}}, 0, hist});
  set.add(h);
  REQUIRE(set.families().size() == 3);
  REQUIRE(set.find("x_things") != nullptr);
  CHECK(set.find("x_things")->samples.size() == 2);
  CHECK(set.find("nope") == nullptr);

  const std::string text = set.to_prometheus();
  CHECK(count_of(text, "# TYPE x_things gauge\n") == 1);
  CHECK(count_of(text, "# HELP x_things A gauge.\n") == 1);
  CHECK(text.find("x_things{pool=\"a\"} 1\nx_things{pool=\"b\"} 2.5\n") != std::string::npos);
  CHECK(text.find("# HELP x_events_total Events, with a \\\\ and a\\nnewline.\n") !=
        std::string::npos);
  CHECK(text.find("x_events_total{pool=\"q\\\"uote\\\\back\\nnl\"} 7\n") != std::string::npos);
  CHECK(text.find("x_wait_seconds_bucket{pool=\"a\",le=\"0.1\"} 1\n"
                  "x_wait_seconds_bucket{pool=\"a\",le=\"1\"} 2\n"
                  "x_wait_seconds_bucket{pool=\"a\",le=\"+Inf\"} 3\n"
                  "x_wait_seconds_sum{pool=\"a\"} 3.55\n"
                  "x_wait_seconds_count{pool=\"a\"} 3\n") != std::string::npos);
  CHECK(sv::to_prometheus(set.families()) == text);
  const auto taken = set.release();
  CHECK(taken.size() == 3);
  CHECK(set.families().empty());
  CHECK(set.find("x_things") == nullptr);
}

TEST_CASE("metric set: bad families are typed errors naming them", "[unit][metrics]") {
  sv::MetricSet set;
  const auto refused = [&](sv::MetricFamily f, const std::string& says) {
    std::error_code ec;
    set.add(f, ec);
    CHECK(ec == sv::errc::invalid_argument);
    try {
      set.add(f);
      FAIL("no exception");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      CHECK(std::string(e.what()).find(says) != std::string::npos);
    }
  };
  refused(gauge("9lives", {}, 1), "\"9lives\": invalid metric name");
  refused(gauge("ok_name", {{"bad-label", "x"}}, 1), "invalid label name \"bad-label\"");
  refused(gauge("ok_name", {{"__reserved", "x"}}, 1), "invalid label name \"__reserved\"");
  refused(gauge("ok_name", {{"a", "x"}, {"a", "y"}}, 1), "label \"a\" twice");
  sv::MetricFamily c = gauge("events", {}, 1);
  c.type = sv::MetricType::counter;
  refused(c, "a counter's name must end in _total");
  sv::MetricFamily h = gauge("lat_seconds", {}, 1);
  h.type = sv::MetricType::histogram;
  refused(h, "a histogram sample without its histogram");
  set.add(gauge("shared", {{"pool", "a"}}, 1));
  sv::MetricFamily other = gauge("shared", {{"pool", "b"}}, 1);
  other.help = "Another help.";
  refused(other, "added again with another type, unit or help");
  CHECK(set.families().size() == 1);
  CHECK(set.families()[0].samples.size() == 1);  // nothing of the refused ones was added
}

TEST_CASE("monitor: three pools in one exposition, each family once, per-worker series",
          "[unit][monitor]") {
  sv::testing::FakeWorld world;
  auto o = sv::testing::fake_pool(2);
  o.usage_sample_period = 1s;
  sv::Pool api(world, o);
  sv::Pool batch(world, sv::testing::fake_pool(3));
  sv::Pool bots(world, sv::testing::fake_pool(1));
  api.start();
  batch.start();
  bots.start();
  world.run_pending();
  for (int pid : world.live_pids()) world.set_usage(pid, 4096, 0.25);
  world.advance(1s);
  sv::Monitor monitor;
  monitor.add_pool("api", api);
  monitor.add_pool("batch", batch);
  monitor.add_pool("bots", bots, {.min_ready = 0, .required = false});
  CHECK(monitor.pool_names() == std::vector<std::string>{"api", "batch", "bots"});

  const std::string text = monitor.prometheus();
  std::set<std::string> types;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    CHECK(types.insert(line).second);  // no family twice
  }
  CHECK(types.size() > 30);
  const auto series = series_of(text);
  CHECK(series.at("supervisor_pool_size{pool=\"batch\"}") == "3");
  CHECK(series.at("supervisor_pool_workers{pool=\"api\",state=\"ready\"}") == "2");
  CHECK(series.at("supervisor_pool_worker_state{pool=\"batch\",worker=\"2\",state=\"ready\"}") ==
        "1");
  CHECK(series.at("supervisor_pool_worker_state{pool=\"batch\",worker=\"2\",state=\"backoff\"}") ==
        "0");
  CHECK(series.at("supervisor_pool_worker_restarts_total{pool=\"bots\",worker=\"0\"}") == "0");
  CHECK(series.at("supervisor_pool_worker_up_seconds_total{pool=\"api\",worker=\"1\"}") == "1");
  CHECK(series.at("supervisor_pool_worker_resident_memory_bytes{pool=\"api\",worker=\"0\"}") ==
        "4096");
  CHECK(series.at("supervisor_pool_worker_cpu_seconds_total{pool=\"api\",worker=\"0\"}") ==
        "0.25");
  CHECK(series.count("supervisor_pool_worker_start_time_seconds{pool=\"api\",worker=\"0\"}") == 1);
  // Sampling is the api pool's only: the others have no memory series.
  CHECK(series.count("supervisor_pool_worker_resident_memory_bytes{pool=\"batch\",worker=\"0\"}") ==
        0);
  CHECK(series.at("supervisor_pool_ready{pool=\"api\"}") == "1");
  CHECK(series.at("supervisor_pool_required_workers{pool=\"batch\"}") == "3");
  // No PID anywhere: a worker is its slot index.
  for (int pid : world.live_pids())
    CHECK(text.find("\"" + std::to_string(pid) + "\"") == std::string::npos);

  const auto snaps = monitor.snapshots();
  REQUIRE(snaps.size() == 3);
  CHECK(snaps[1].name == "batch");
  CHECK(snaps[1].snapshot.size == 3);
  CHECK(snaps[0].snapshot.workers[0].uptime == 1s);
  CHECK(snaps[0].snapshot.workers[0].started_at.has_value());

  CHECK(monitor.remove_pool("batch"));
  CHECK_FALSE(monitor.remove_pool("batch"));
  CHECK(monitor.prometheus().find("pool=\"batch\"") == std::string::npos);
  api.stop();
  batch.stop();
  bots.stop();
}

TEST_CASE("monitor: readiness names the short pool and why, and recovers", "[unit][monitor]") {
  sv::testing::FakeWorld world;
  sv::Pool api(world, sv::testing::fake_pool(3));
  sv::Pool batch(world, sv::testing::fake_pool(2));
  sv::Monitor monitor;
  monitor.add_pool("api", api);
  monitor.add_pool("batch", batch, {.min_ready = 1, .required = false});

  auto r = monitor.readiness();
  CHECK_FALSE(r.ready);
  REQUIRE(r.pools.size() == 2);
  CHECK(r.pools[0].why == "not running");
  CHECK(r.summary() == "not ready: pool \"api\": not running");  // batch is not required

  api.start();
  batch.start();
  world.run_pending();
  r = monitor.readiness();
  CHECK(r.ready);
  CHECK(r.summary() == "ready: 2 pools");

  const auto pids = world.live_pids();
  world.kill(pids[0]);
  world.kill(pids[1]);
  world.run_pending();
  r = monitor.readiness();
  CHECK_FALSE(r.ready);
  CHECK(r.pools[0].up == 1);
  CHECK(r.pools[0].needed == 3);
  CHECK(r.pools[0].why == "1 of 3 workers up (needs 3): 2 backoff");
  CHECK(r.summary() == "not ready: pool \"api\": 1 of 3 workers up (needs 3): 2 backoff");
  CHECK(series_of(monitor.prometheus()).at("supervisor_pool_ready{pool=\"api\"}") == "0");

  world.advance(100ms);  // the restarts
  world.run_pending();
  CHECK(monitor.readiness().ready);

  // A pool that is not required may be short without making the host unready.
  for (const auto& w : batch.snapshot().workers) world.kill(w.pid);
  world.run_pending();
  r = monitor.readiness();
  CHECK(r.ready);
  CHECK(r.pools[1].ready == false);  // none of its 2 up, min_ready 1
  CHECK(r.pools[1].why == "0 of 2 workers up (needs 1): 2 backoff");
  CHECK(r.summary() == "ready: 2 pools (1 optional pool(s) short)");

  CHECK(api.drain(0s));
  r = monitor.readiness();
  CHECK_FALSE(r.ready);
  CHECK(r.pools[0].why == "draining");
  api.stop();
  batch.stop();
  CHECK(monitor.liveness().alive);  // no loop: nothing to be stuck
  CHECK(monitor.liveness().summary() == "alive: 0 loops turning");
}

TEST_CASE("monitor: bad names and double adds are typed errors", "[unit][monitor]") {
  sv::testing::FakeWorld world;
  sv::Pool a(world, sv::testing::fake_pool(1));
  sv::Pool b(world, sv::testing::fake_pool(1));
  sv::Monitor monitor;
  monitor.add_pool("a", a);
  const auto refused = [&](std::string name, sv::Pool& pool, const std::string& says) {
    std::error_code ec;
    monitor.add_pool(name, pool, {}, ec);
    CHECK(ec == sv::errc::invalid_argument);
    try {
      monitor.add_pool(name, pool);
      FAIL("no exception");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      CHECK(std::string(e.what()).find(says) != std::string::npos);
    }
  };
  refused("a", b, "a pool named \"a\" was added already");
  refused("b", a, "pool \"b\" is the pool added already as \"a\"");
  refused("", b, "pool name \"\": empty");
  refused("with\"quote", b, "only printable ASCII");
  refused(std::string(129, 'x'), b, "longer than 128 bytes");
  CHECK(monitor.pool_names().size() == 1);
  sv::MonitorOptions o;
  o.heartbeat_timeout = 0s;
  CHECK_THROWS_AS(sv::Monitor(o), sv::Error);
}
