// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Monitor with real pools on real loops: one exposition of three pools on two loops that
// Prometheus' own checker (promtool, from Debian's `prometheus` package) accepts, and liveness
// that tells a stuck loop from a turning one. Every test ends with a leak audit.
#include <supervisor/monitor.hpp>

#include <sys/wait.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

struct CommandResult {
  int status = -1;  // the exit code, or -1 when it did not exit normally
  std::string output;
};

// Runs a shell command line (stdout and stderr together), as a test may: popen reaps its own
// child only.
CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string promtool() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    const std::string path = std::string(dir) + "/promtool";
    if (std::filesystem::exists(path)) return path;
  }
  return {};
}

}  // namespace

TEST_CASE("monitor: promtool accepts the exposition of three pools on two loops",
          "[integration][monitor]") {
  const std::string tool = promtool();
  if (tool.empty()) SUPERVISOR_SKIP("promtool not installed (Debian package prometheus)");
  st::LeakAudit audit;
  const auto tag = st::unique_tag("monitor-promtool");
  {
    sv::Loop main_loop;
    sv::Loop batch_loop;
    auto api_o = st::child_pool(tag, {"sleep", "forever"}, 2);
    api_o.usage_sample_period = 50ms;  // per-worker memory and CPU series too
    sv::Pool api(main_loop, api_o);
    sv::Pool bots(main_loop, st::child_pool(tag, {"sleep", "forever"}, 1));
    sv::Pool batch(batch_loop, st::child_pool(tag, {"exit", "3"}, 2));  // restarts, exits
    api.start();
    bots.start();
    batch.start();
    sv::Monitor monitor;
    monitor.add_pool("api", api);
    monitor.add_pool("bots", bots);
    monitor.add_pool("batch", batch, {.min_ready = 0, .required = false});
    monitor.add_loop("main", main_loop);
    monitor.add_loop("batch", batch_loop);
    CHECK(st::wait_until(
        [&] {
          const auto s = api.snapshot();
          return batch.snapshot().restarts >= 2 && s.workers[0].usage && s.workers[1].usage;
        },
        20000ms));

    const std::string text = monitor.prometheus();
    CHECK(text.find("supervisor_loop_up{loop=\"main\"} 1\n") != std::string::npos);
    CHECK(text.find("supervisor_loop_up{loop=\"batch\"} 1\n") != std::string::npos);
    CHECK(text.find("supervisor_loop_processes{loop=\"main\"} 3\n") != std::string::npos);
    CHECK(text.find("supervisor_pool_worker_resident_memory_bytes{pool=\"api\",worker=\"1\"}") !=
          std::string::npos);
    CHECK(text.find("supervisor_pool_exits_total{pool=\"batch\",reason=\"exit-code\"}") !=
          std::string::npos);
    const st::TempDir dir(tag);
    const std::string file = (dir.path / "metrics.txt").string();
    {
      std::ofstream out(file);
      out << text;
    }
    const CommandResult r = run_command(tool + " check metrics < " + file);
    INFO("promtool said: " << r.output);
    CHECK(r.status == 0);
    CHECK(r.output.empty());  // no lint complaint either

    // A broken exposition is refused: the check can fail.
    {
      std::ofstream out(file);
      out << text << text;  // every family twice
    }
    CHECK(run_command(tool + " check metrics < " + file).status != 0);
    api.stop();
    bots.stop();
    batch.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("monitor: liveness tells a stuck loop from a turning one", "[integration][monitor]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("monitor-liveness");
  {
    sv::Loop good;
    sv::Loop stuck;
    auto o = st::child_pool(tag, {"sleep", "forever"}, 1);
    // A host callback that blocks the loop thread while the test holds `gate`.
    std::mutex gate;
    std::unique_lock hold(gate);
    std::atomic<bool> blocked{false};
    sv::Pool pool(stuck, o);
    pool.subscribe([&](const sv::PoolEvent& e) {
      if (std::holds_alternative<sv::WorkerSpawned>(e.data)) {
        blocked = true;
        std::lock_guard wait_here(gate);
      }
    });
    sv::MonitorOptions mo;
    mo.heartbeat_timeout = 200ms;
    sv::Monitor monitor(mo);
    monitor.add_loop("good", good);
    monitor.add_loop("stuck", stuck);
    CHECK(monitor.liveness().alive);
    std::thread starter([&] { pool.start(); });  // start() waits for the blocked loop
    REQUIRE(st::wait_until([&] { return blocked.load(); }, 10000ms));
    const sv::LivenessReport l = monitor.liveness();
    CHECK_FALSE(l.alive);
    REQUIRE(l.loops.size() == 2);
    CHECK(l.loops[0].heartbeat.turning);
    CHECK_FALSE(l.loops[1].heartbeat.turning);
    CHECK(l.loops[1].heartbeat.lag == 200ms);
    CHECK(l.summary() == "not alive: loop \"stuck\" did not turn within 200ms");
    const std::string text = monitor.prometheus();  // pools: none added, loops only
    CHECK(text.find("supervisor_loop_up{loop=\"stuck\"} 0\n") != std::string::npos);
    CHECK(text.find("supervisor_loop_up{loop=\"good\"} 1\n") != std::string::npos);
    hold.unlock();
    starter.join();
    CHECK(monitor.liveness().alive);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

namespace {

// A loop whose thread a host callback blocks (until `release`): its pool's first spawn event
// waits on a gate the test holds.
class BlockedLoop {
 public:
  explicit BlockedLoop(const std::string& tag)
      : pool_(loop_, st::child_pool(tag, {"sleep", "forever"}, 1)) {
    pool_.subscribe([this](const sv::PoolEvent& e) {
      if (std::holds_alternative<sv::WorkerSpawned>(e.data)) {
        blocked_ = true;
        std::lock_guard wait_here(gate_);
      }
    });
    starter_ = std::thread([this] { pool_.start(); });  // returns once the loop is free again
  }
  ~BlockedLoop() {
    release();
    pool_.stop();
  }
  BlockedLoop(const BlockedLoop&) = delete;
  BlockedLoop& operator=(const BlockedLoop&) = delete;

  bool wait_blocked() {
    return st::wait_until([&] { return blocked_.load(); }, 10000ms);
  }
  void release() {
    if (hold_.owns_lock()) hold_.unlock();
    if (starter_.joinable()) starter_.join();
  }
  sv::Loop& loop() { return loop_; }

 private:
  std::mutex gate_;
  std::unique_lock<std::mutex> hold_{gate_};
  std::atomic<bool> blocked_{false};
  sv::Loop loop_;
  sv::Pool pool_;
  std::thread starter_;
};

double seconds_of(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("monitor: stuck loops cost one heartbeat timeout in all, and readiness none",
          "[integration][monitor]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("monitor-stuck");
  {
    sv::Loop good;
    sv::Pool pool(good, st::child_pool(tag, {"sleep", "forever"}, 2));
    pool.start();
    REQUIRE(pool.wait_ready(2, 10s));
    std::vector<std::unique_ptr<BlockedLoop>> stuck;
    for (int i = 0; i < 3; ++i) {
      stuck.push_back(std::make_unique<BlockedLoop>(tag));
      REQUIRE(stuck.back()->wait_blocked());
    }
    sv::MonitorOptions mo;
    mo.heartbeat_timeout = 1s;
    sv::Monitor monitor(mo);
    monitor.add_pool("api", pool);
    monitor.add_loop("good", good);
    for (std::size_t i = 0; i < 3; ++i)
      monitor.add_loop("stuck-" + std::to_string(i), stuck[i]->loop());
    // Asked one after another, three stuck loops would cost 3 s at least; asked at once, one
    // timeout. (The bounds leave the machine 1.5 s of slack either way.)
    sv::LivenessReport l;
    const double liveness_s = seconds_of([&] { l = monitor.liveness(); });
    CHECK(liveness_s < 2.5);
    CHECK_FALSE(l.alive);
    REQUIRE(l.loops.size() == 4);
    CHECK(l.loops[0].heartbeat.turning);
    for (std::size_t i = 1; i < 4; ++i) CHECK_FALSE(l.loops[i].heartbeat.turning);
    std::string text;
    const double metrics_s = seconds_of([&] { text = monitor.prometheus(); });
    CHECK(metrics_s < 2.5);
    CHECK(text.find("supervisor_loop_up{loop=\"stuck-2\"} 0\n") != std::string::npos);
    sv::Monitor::Status status;
    CHECK(seconds_of([&] { status = monitor.status(); }) < 2.5);
    CHECK(status.readiness.ready);
    // Readiness reads the pools' snapshots only: the stuck loops cost it nothing.
    sv::ReadinessReport r;
    const double readiness_s = seconds_of([&] { r = monitor.readiness(); });
    CHECK(readiness_s < 0.5);
    CHECK(r.ready);
    INFO("liveness " << liveness_s << " s, metrics " << metrics_s << " s, readiness " << readiness_s
                     << " s");
    for (auto& b : stuck) b->release();
    CHECK(monitor.liveness().alive);
    stuck.clear();
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}
