// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Usage sampling (PoolOptions::usage_sample_period) with real processes: a worker that touches
// 64 MiB shows it, a spinning worker's CPU time grows and it uses a good part of a core, a
// sleeping one next to none, and a restarted worker's figures start afresh while the pool's CPU
// total keeps growing. Timing is only a failure guard: figures are checked for growth and with
// loose bounds, never for a rate at a given instant. Every test ends with a leak audit.
#include <supervisor/pool.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t k_mib = 1024 * 1024;

double seconds(sv::Duration d) { return std::chrono::duration<double>(d).count(); }

std::optional<sv::WorkerUsage> usage_of(const sv::Pool& pool, std::size_t worker) {
  return pool.snapshot().workers.at(worker).usage;
}

std::string scopes(const sv::WorkerUsage& u) {
  return std::string("memory scope ") +
         (u.memory_scope == sv::UsageScope::tree ? "tree" : "process") + ", cpu scope " +
         (u.cpu_scope == sv::UsageScope::tree ? "tree" : "process");
}

}  // namespace

TEST_CASE("usage with real processes: a worker that touches 64 MiB shows at least that",
          "[integration][pool][usage]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("usage-memory");
  {
    sv::Loop loop;
    auto o = st::child_pool(tag, {"alloc", "64", "forever"}, 1);
    o.usage_sample_period = 50ms;
    sv::Pool pool(loop, o);
    pool.start();
    std::optional<sv::WorkerUsage> u;
    const bool seen = st::wait_until(
        [&] {
          u = usage_of(pool, 0);
          return u && u->memory_bytes >= 64 * k_mib;
        },
        20000ms);
    INFO((u ? scopes(*u) + ", memory " + std::to_string(u->memory_bytes) : "no sample"));
    CHECK(seen);
    const sv::PoolSnapshot s = pool.snapshot();
    REQUIRE(s.usage.has_value());
    CHECK(s.usage->memory_bytes >= 64 * k_mib);
    CHECK(s.usage->workers == 1);
    const std::string text = sv::to_prometheus(s, "usage");
    CHECK(text.find("supervisor_pool_resident_memory_bytes{pool=\"usage\"} ") != std::string::npos);
    CHECK(text.find("supervisor_pool_cpu_seconds_total{pool=\"usage\"} ") != std::string::npos);
    pool.stop();
    CHECK_FALSE(pool.snapshot().workers[0].usage.has_value());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("usage with real processes: a spinning worker's cpu grows, a sleeping one's stays idle",
          "[integration][pool][usage]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("usage-cpu");
  {
    sv::Loop loop;
    auto spin_o = st::child_pool(tag, {"spin", "600000"}, 1);  // stopped long before it ends
    spin_o.usage_sample_period = 100ms;
    auto sleep_o = st::child_pool(tag, {"sleep", "forever"}, 1);
    sleep_o.usage_sample_period = 100ms;
    sv::Pool spinner(loop, spin_o);
    sv::Pool sleeper(loop, sleep_o);
    spinner.start();
    sleeper.start();
    // The spinner: its CPU time never goes back, grows, and at some sample it used more than
    // half a core (a generous bound, left to come on a loaded machine within the guard).
    sv::Duration last_cpu{};
    sv::TimePoint last_at{};
    int samples = 0;
    bool busy = false;
    std::string seen;
    const bool done = st::wait_until(
        [&] {
          const auto u = usage_of(spinner, 0);
          if (!u || u->sampled_at == last_at) return false;
          seen = scopes(*u);
          CHECK(u->cpu_time >= last_cpu);
          if (u->cpu_time > last_cpu) ++samples;
          last_cpu = u->cpu_time;
          last_at = u->sampled_at;
          if (u->cpu_cores && *u->cpu_cores > 0.5) busy = true;
          return busy && samples >= 3;
        },
        30000ms, 10ms);
    INFO(seen << ", cpu " << seconds(last_cpu) << " s over " << samples << " growing samples");
    CHECK(done);
    CHECK(busy);
    // The sleeper: once measured, next to no CPU (its start happened before its first sample).
    std::optional<sv::WorkerUsage> idle;
    REQUIRE(st::wait_until(
        [&] {
          idle = usage_of(sleeper, 0);
          return idle && idle->cpu_cores.has_value();
        },
        20000ms));
    INFO(scopes(*idle));
    CHECK(*idle->cpu_cores < 0.2);
    CHECK(seconds(idle->cpu_time) < 1.0);
    const sv::PoolSnapshot s = spinner.snapshot();
    REQUIRE(s.usage.has_value());
    CHECK(s.usage->cpu_time >= last_cpu);
    spinner.stop();
    sleeper.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("usage with real processes: a restarted worker starts afresh, the pool's total grows",
          "[integration][pool][usage]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("usage-restart");
  {
    sv::Loop loop;
    // Each incarnation spins 300 ms and exits; it is restarted after 10 ms.
    auto o = st::child_pool(tag, {"spin", "300"}, 1);
    o.usage_sample_period = 50ms;
    sv::Pool pool(loop, o);
    pool.start();
    // No incarnation ever shows more CPU than its own 300 ms of spinning could give (with room
    // for its start): figures that carried over would pass that by the third incarnation.
    double most = 0;
    sv::Duration total{};
    std::uint64_t incarnation = 0;
    const bool done = st::wait_until(
        [&] {
          const sv::PoolSnapshot s = pool.snapshot();
          REQUIRE(s.usage.has_value());
          CHECK(s.usage->cpu_time >= total);  // a counter
          total = s.usage->cpu_time;
          const auto& w = s.workers.at(0);
          if (w.usage) {
            most = std::max(most, seconds(w.usage->cpu_time));
            CHECK(seconds(w.usage->cpu_time) < 0.6);
            incarnation = std::max(incarnation, w.incarnation);
          }
          return incarnation >= 3 && seconds(total) > most;
        },
        30000ms, 5ms);
    INFO("most " << most << " s in one incarnation, total " << seconds(total) << " s, incarnation "
                 << incarnation);
    CHECK(done);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}
