// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// What an HTTP /status costs with supervisor::json: the status document of 1,000 workers in 10
// pools (on fake worlds, each worker restarted once and sampled, so that every worker has a
// last exit and a usage object), written as compact text and read back. Medians of 30 runs.
#include <supervisor/json.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.hpp"

namespace sv = supervisor;
namespace sj = supervisor::json;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t k_pools = 10;
constexpr std::size_t k_workers = 100;
constexpr int k_runs = 30;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main() {
  std::vector<std::unique_ptr<sv::testing::FakeWorld>> worlds;
  std::vector<std::unique_ptr<sv::Pool>> pools;
  std::vector<sj::NamedSnapshot> snapshots;
  for (std::size_t p = 0; p < k_pools; ++p) {
    auto& world = *worlds.emplace_back(std::make_unique<sv::testing::FakeWorld>());
    sv::PoolOptions o;
    o.spec.argv = {"/usr/bin/worker"};  // never executed: the world is fake
    o.size = k_workers;
    o.usage_sample_period = 1s;
    auto& pool = *pools.emplace_back(std::make_unique<sv::Pool>(world, o));
    pool.start();
    for (int pid : world.live_pids()) world.exit_code(pid, 3);
    world.advance(1s);
    for (int pid : world.live_pids()) world.set_usage(pid, 64u << 20, 0.5);
    world.advance(2s);
    snapshots.push_back({"pool-" + std::to_string(p), pool.snapshot()});
  }
  const sj::StatusDocument status = sj::make_status(snapshots);

  std::vector<double> tree_ms;
  std::vector<double> write_ms;
  std::vector<double> read_ms;
  std::size_t bytes = 0;
  for (int r = 0; r < k_runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    const nlohmann::json tree = sj::to_json(status);
    tree_ms.push_back(ms_since(start));
    if (tree.at("pools").size() != k_pools) return 1;
    start = std::chrono::steady_clock::now();
    const std::string text = sj::to_json_string(status);
    write_ms.push_back(ms_since(start));
    bytes = text.size();
    start = std::chrono::steady_clock::now();
    const sj::StatusDocument back = sj::parse_status(text);
    read_ms.push_back(ms_since(start));
    if (back.pools.size() != k_pools) return 1;
  }
  std::printf("status document of %zu workers in %zu pools: %zu bytes\n", k_pools * k_workers,
              k_pools, bytes);
  sv::bench::metric("json.status_1000_workers_ms", sv::bench::median(write_ms), "ms");
  sv::bench::metric("json.status_tree_1000_workers_ms", sv::bench::median(tree_ms), "ms");
  sv::bench::metric("json.parse_status_1000_workers_ms", sv::bench::median(read_ms), "ms");
  sv::bench::metric("json.status_1000_workers_bytes", static_cast<double>(bytes), "bytes");
  for (auto& pool : pools) pool->stop();
  return 0;
}
