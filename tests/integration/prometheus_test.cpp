// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// supervisor::prometheus: a Monitor's families through prometheus-cpp (its own TextSerializer and
// Exposer), compared series by series with our own exposition, checked by the real promtool and
// scraped by the real curl.
#include <supervisor/monitor.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/prometheus.hpp>
#include <supervisor/testing.hpp>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

// A text exposition read back: every series (its name and its labels, sorted, `le` as a number)
// with its value, the families' TYPE and HELP lines, and what was wrong with the text.
struct Exposition {
  std::map<std::string, double> series;
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> helps;
  std::vector<std::string> problems;
};

// Reads `name="value",...}` from `line` at `pos` (just past the `{`), unescaping the values.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_labels(std::string_view line,
                                                                             std::size_t& pos) {
  std::vector<std::pair<std::string, std::string>> labels;
  while (pos < line.size() && line[pos] != '}') {
    const std::size_t eq = line.find('=', pos);
    if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return {};
    std::string name(line.substr(pos, eq - pos));
    std::string value;
    pos = eq + 2;
    for (;;) {
      if (pos >= line.size()) return {};
      const char c = line[pos++];
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos >= line.size()) return {};
      const char e = line[pos++];
      value += e == 'n' ? '\n' : e;
    }
    if (name == "le") {  // the same bound, however it was written
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g", std::strtod(value.c_str(), nullptr));
      value = buf;
    }
    labels.emplace_back(std::move(name), std::move(value));
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
  if (pos >= line.size()) return {};
  ++pos;  // the '}'
  return labels;
}

Exposition parse(std::string_view text) {
  Exposition out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    if (line.rfind("# TYPE ", 0) == 0 || line.rfind("# HELP ", 0) == 0) {
      const std::string_view rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      auto& into = line[2] == 'T' ? out.types : out.helps;
      const std::string name(rest.substr(0, space));
      if (into.count(name) != 0) out.problems.push_back("a second line for " + name);
      into[name] = space == std::string_view::npos ? "" : std::string(rest.substr(space + 1));
      continue;
    }
    if (line[0] == '#') continue;
    std::size_t pos = line.find_first_of("{ ");
    if (pos == std::string_view::npos) {
      out.problems.push_back("no value: " + std::string(line));
      continue;
    }
    std::string key(line.substr(0, pos));
    if (line[pos] == '{') {
      ++pos;
      auto labels = parse_labels(line, pos);
      if (!labels) {
        out.problems.push_back("bad labels: " + std::string(line));
        continue;
      }
      std::sort(labels->begin(), labels->end());
      key += '{';
      for (const auto& [n, v] : *labels) key += n + "=\"" + v + "\",";
      key += '}';
    }
    const std::string value(line.substr(pos));
    char* value_end = nullptr;
    const double v = std::strtod(value.c_str(), &value_end);
    if (value_end == value.c_str()) {
      out.problems.push_back("bad value: " + std::string(line));
      continue;
    }
    if (!out.series.emplace(key, v).second) out.problems.push_back("twice: " + key);
  }
  return out;
}

bool same_number(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;  // infinities too
  return std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b));
}

// Checks that both texts hold the same families (type, help) and the same series and values.
void check_same(const std::string& ours, const std::string& theirs) {
  INFO("ours:\n" << ours << "\nprometheus-cpp's:\n" << theirs);
  const Exposition a = parse(ours);
  const Exposition b = parse(theirs);
  CHECK(a.problems.empty());
  CHECK(b.problems.empty());
  CHECK(a.types == b.types);
  CHECK(a.helps == b.helps);
  CHECK(a.series.size() == b.series.size());
  for (const auto& [key, value] : a.series) {
    const auto it = b.series.find(key);
    if (it == b.series.end()) {
      FAIL_CHECK("missing from prometheus-cpp's: " << key);
      continue;
    }
    if (!same_number(value, it->second))
      FAIL_CHECK(key << ": ours " << value << ", prometheus-cpp's " << it->second);
  }
  for (const auto& [key, value] : b.series) {
    if (a.series.count(key) == 0) FAIL_CHECK("only in prometheus-cpp's: " << key);
  }
}

std::string serialize(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

// Runs `command` through the shell; its exit code (-1: it did not exit) and its output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  return r;
}

// The program `name` on PATH (or at its Debian place), or "".
std::string find_program(std::string_view name) {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string candidate = path.substr(start, end - start) + "/" + std::string(name);
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

sv::PoolOptions fake_options(std::size_t size) {
  sv::PoolOptions o;
  o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
  o.size = size;
  return o;
}

// Two pools on a fake world with some history: a crash and its restart, time gone by.
struct TwoFakePools {
  st::FakeWorld world;
  sv::Pool api{world, fake_options(3)};
  sv::Pool batch{world, fake_options(2)};
  sv::Monitor monitor;
  TwoFakePools() {
    api.start();
    batch.start();
    world.advance(1500ms);
    world.kill(api.snapshot().workers[1].pid);
    world.advance(1s);
    world.exit_code(batch.snapshot().workers[0].pid, 3);
    world.advance(250ms);
    monitor.add_pool("api", api);
    monitor.add_pool("batch", batch, {1, false});
  }
  ~TwoFakePools() {
    monitor.remove_pool("api");
    monitor.remove_pool("batch");
    api.stop();
    batch.stop();
  }
};

const prometheus::MetricFamily* find(const std::vector<prometheus::MetricFamily>& families,
                                     std::string_view name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string label(const prometheus::ClientMetric& m, std::string_view name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return "";
}

}  // namespace

TEST_CASE("prometheus: a Monitor's two pools through prometheus-cpp's serializer, as ours",
          "[integration][prometheus]") {
  TwoFakePools pools;
  const auto collectable = std::make_shared<sv::PrometheusCollectable>(pools.monitor);
  const std::vector<prometheus::MetricFamily> families = collectable->Collect();
  CHECK(collectable->errors() == 0);
  REQUIRE(families.size() == pools.monitor.metrics().families().size());

  // The families' kinds, and both pools as labels of one family.
  const auto* workers = find(families, "supervisor_pool_workers");
  REQUIRE(workers != nullptr);
  CHECK(workers->type == prometheus::MetricType::Gauge);
  CHECK_FALSE(workers->help.empty());
  bool api = false;
  bool batch = false;
  for (const auto& m : workers->metric) {
    api = api || label(m, "pool") == "api";
    batch = batch || label(m, "pool") == "batch";
  }
  CHECK(api);
  CHECK(batch);
  const auto* exits = find(families, "supervisor_pool_exits_total");
  REQUIRE(exits != nullptr);
  CHECK(exits->type == prometheus::MetricType::Counter);
  const auto* uptime = find(families, "supervisor_pool_worker_uptime_seconds");
  REQUIRE(uptime != nullptr);
  CHECK(uptime->type == prometheus::MetricType::Histogram);
  REQUIRE(uptime->metric.size() == 2);
  for (const auto& m : uptime->metric) {
    const auto& h = m.histogram;
    REQUIRE_FALSE(h.bucket.empty());
    CHECK(std::isinf(h.bucket.back().upper_bound));
    CHECK(h.bucket.back().cumulative_count == h.sample_count);
    CHECK(h.sample_count == 1);  // each pool lost one worker
    for (std::size_t i = 1; i < h.bucket.size(); ++i) {
      CHECK(h.bucket[i - 1].upper_bound < h.bucket[i].upper_bound);
      CHECK(h.bucket[i - 1].cumulative_count <= h.bucket[i].cumulative_count);
    }
  }

  // Series by series, the same as our own exposition (the world's clock stands still).
  check_same(pools.monitor.prometheus(), serialize(families));
}

TEST_CASE("prometheus: promtool check metrics accepts prometheus-cpp's text of our families",
          "[integration][prometheus]") {
  const std::string promtool = find_program("promtool");
  if (promtool.empty()) {
    SUPERVISOR_SKIP("promtool (Debian package prometheus) is not installed");
  }
  TwoFakePools pools;
  const std::string text = serialize(sv::PrometheusCollectable(pools.monitor).Collect());
  REQUIRE(text.find("supervisor_pool_workers{") != std::string::npos);
  // promtool lints, and lets a series written twice pass: that is ours to check.
  CHECK(parse(text).problems.empty());
  const st::TempDir dir(st::unique_tag("promcpp"));
  const auto file = dir.path / "metrics.prom";
  std::ofstream(file) << text;
  const CommandResult r = run(promtool + " check metrics < '" + file.string() + "' 2>&1");
  INFO(text);
  CHECK(r.output.empty());
  CHECK(r.exit_code == 0);
}

TEST_CASE("prometheus: a host's own set of every type with escaped labels and help",
          "[integration][prometheus]") {
  sv::MetricSet set;
  sv::MetricFamily requests{
      "host_requests_total", "Requests \\ by \"path\"\nand code.", sv::MetricType::counter, "", {}};
  requests.samples.push_back({{{"path", "/a\"b\\c\nd"}, {"code", "200"}}, 7, std::nullopt});
  requests.samples.push_back({{{"path", "/"}, {"code", "500"}}, 0.5, std::nullopt});
  set.add(requests);
  set.add({"host_temperature",
           "A gauge without labels.",
           sv::MetricType::gauge,
           "",
           {{{}, -3.25, std::nullopt}}});
  sv::Histogram h = sv::Histogram::with_bounds({0.01, 0.1, 1});
  for (const double v : {0.005, 0.05, 0.05, 0.5, 2.0, 30.0}) h.observe(v);
  sv::Histogram empty = sv::Histogram::with_bounds({0.5});
  set.add({"host_latency_seconds",
           "Latency.",
           sv::MetricType::histogram,
           "seconds",
           {{{{"route", "x"}}, 0, h}, {{{"route", "y"}}, 0, empty}}});
  const std::string ours = set.to_prometheus();

  const auto collectable = std::make_shared<sv::PrometheusCollectable>([set] { return set; });
  const auto families = collectable->Collect();
  REQUIRE(families.size() == 3);

  const auto& c = families[0];
  CHECK(c.name == "host_requests_total");
  // The help on one line, escaped as the text format wants it, whether or not the serializer
  // escapes it itself (prometheus-cpp 1.0 does not).
  CHECK(serialize(families).find("# HELP host_requests_total Requests \\\\ by \"path\"\\nand "
                                 "code.\n") != std::string::npos);
  CHECK(c.type == prometheus::MetricType::Counter);
  REQUIRE(c.metric.size() == 2);
  REQUIRE(c.metric[0].label.size() == 2);
  CHECK(c.metric[0].label[0].name == "path");  // the order kept
  CHECK(c.metric[0].label[0].value == "/a\"b\\c\nd");
  CHECK(c.metric[0].label[1].name == "code");
  CHECK(c.metric[0].counter.value == 7);
  CHECK(c.metric[1].counter.value == 0.5);

  const auto& g = families[1];
  CHECK(g.type == prometheus::MetricType::Gauge);
  REQUIRE(g.metric.size() == 1);
  CHECK(g.metric[0].label.empty());
  CHECK(g.metric[0].gauge.value == -3.25);

  const auto& hf = families[2];
  CHECK(hf.type == prometheus::MetricType::Histogram);
  REQUIRE(hf.metric.size() == 2);
  const auto& ph = hf.metric[0].histogram;
  CHECK(ph.sample_count == 6);
  CHECK(ph.sample_sum == Approx(32.605));
  REQUIRE(ph.bucket.size() == 4);
  const std::vector<std::pair<double, std::uint64_t>> want{{0.01, 1}, {0.1, 3}, {1, 4}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    CHECK(ph.bucket[i].upper_bound == want[i].first);
    CHECK(ph.bucket[i].cumulative_count == want[i].second);
  }
  CHECK(std::isinf(ph.bucket[3].upper_bound));
  CHECK(ph.bucket[3].cumulative_count == 6);
  const auto& pe = hf.metric[1].histogram;
  CHECK(pe.sample_count == 0);
  REQUIRE(pe.bucket.size() == 2);
  CHECK(pe.bucket[1].cumulative_count == 0);

  // The free functions say the same; the texts agree, escapes included.
  CHECK(sv::to_prometheus_families(set.families()).size() == 3);
  CHECK(sv::to_prometheus_family(set.families()[2]).metric[0].histogram.bucket.size() == 4);
  check_same(ours, serialize(families));
}

TEST_CASE("prometheus: a source that throws makes an empty scrape and is counted",
          "[integration][prometheus]") {
  int calls = 0;
  sv::PrometheusCollectable collectable([&calls]() -> sv::MetricSet {
    if (++calls == 2) throw std::runtime_error("the host's source failed");
    return {};
  });
  CHECK(collectable.Collect().empty());
  CHECK(collectable.errors() == 0);
  CHECK(collectable.last_error().empty());
  CHECK(collectable.Collect().empty());
  CHECK(collectable.errors() == 1);
  CHECK(collectable.last_error() == "the host's source failed");
  CHECK(calls == 2);

  // An empty source is refused, both ways.
  CHECK_THROWS_AS(sv::PrometheusCollectable(sv::PrometheusCollectable::Source{}),
                  std::system_error);
  std::error_code ec;
  CHECK(sv::PrometheusCollectable::make({}, ec) == nullptr);
  CHECK(ec == sv::errc::invalid_argument);
  const auto made = sv::PrometheusCollectable::make([] { return sv::MetricSet{}; }, ec);
  CHECK(made != nullptr);
  CHECK_FALSE(ec);
}

TEST_CASE("prometheus: a real Exposer serves the host's counter and our pools to curl",
          "[integration][prometheus]") {
  const std::string curl = find_program("curl");
  if (curl.empty()) SUPERVISOR_SKIP("curl (Debian package curl) is not installed");
  const st::LeakAudit audit;
  const auto tag = st::unique_tag("promcpp-exposer");
  {
    sv::Loop loop;
    sv::Pool api(loop, st::child_pool(tag, {"sleep", "forever"}, 2));
    sv::Pool batch(loop, st::child_pool(tag, {"sleep", "forever"}, 1));
    api.start();
    batch.start();
    REQUIRE(api.wait_ready(2, 10s));
    REQUIRE(batch.wait_ready(1, 10s));
    sv::Monitor monitor;
    monitor.add_pool("api", api);
    monitor.add_pool("batch", batch);
    monitor.add_loop("main", loop);
    {
      // What a host does: its own registry and metrics, and our collectable beside them.
      prometheus::Exposer exposer{"127.0.0.1:0"};
      const std::vector<int> ports = exposer.GetListeningPorts();
      REQUIRE(ports.size() == 1);
      REQUIRE(ports[0] > 0);
      auto registry = std::make_shared<prometheus::Registry>();
      auto& requests = prometheus::BuildCounter()
                           .Name("host_requests_total")
                           .Help("Requests the host served.")
                           .Register(*registry);
      requests.Add({{"path", "/"}}).Increment(3);
      auto pools = std::make_shared<sv::PrometheusCollectable>(monitor);
      exposer.RegisterCollectable(registry);
      exposer.RegisterCollectable(pools);

      // Collect from several threads at once while curl scrapes (the exposer's threads do too).
      std::atomic<int> empty_collects{0};
      std::vector<std::thread> collectors;
      for (int t = 0; t < 3; ++t) {
        collectors.emplace_back([&pools, &empty_collects] {
          for (int i = 0; i < 10; ++i) {
            if (find(pools->Collect(), "supervisor_pool_workers") == nullptr) ++empty_collects;
          }
        });
      }
      const CommandResult r =
          run(curl + " -sS --max-time 30 http://127.0.0.1:" + std::to_string(ports[0]) +
              "/metrics 2>&1");
      for (auto& t : collectors) t.join();
      CHECK(empty_collects == 0);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      const Exposition e = parse(r.output);
      CHECK(e.problems.empty());
      CHECK(e.series.at("host_requests_total{path=\"/\",}") == 3);
      CHECK(e.types.at("host_requests_total") == "counter");
      CHECK(e.types.at("supervisor_pool_workers") == "gauge");
      CHECK(e.series.at("supervisor_pool_size{pool=\"api\",}") == 2);
      CHECK(e.series.at("supervisor_pool_size{pool=\"batch\",}") == 1);
      CHECK(e.series.at("supervisor_pool_ready{pool=\"api\",}") == 1);
      CHECK(e.series.at("supervisor_loop_up{loop=\"main\",}") == 1);
      bool workers = false;
      for (const auto& [key, value] : e.series) {
        workers = workers || key.rfind("supervisor_pool_workers{", 0) == 0;
      }
      CHECK(workers);
      CHECK(pools->errors() == 0);
      exposer.RemoveCollectable(pools);  // before the monitor and its pools go
    }
    monitor.remove_loop("main");
    monitor.remove_pool("api");
    monitor.remove_pool("batch");
    api.stop();
    batch.stop();
  }
  CHECK(audit.check(tag).empty());
}
