// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Worker identity and the hooks around each incarnation, with real processes: the identity
// variables a worker prints, a spec derived per worker (its own port, its own output file),
// health checks that probe each worker's own port, and pre_start / post_stop around real
// spawns and exits. Every test ends with a leak audit.
#include <supervisor/health.hpp>
#include <supervisor/pool.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
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
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using st::events_of;

namespace {

using st::child_pool;
using st::TempDir;

std::string slurp(const fs::path& path) { return st::slurp(path.string()); }

// Binds a TCP socket to loopback `port` (0: any) and closes it again: the port it had, or 0 when
// the port is taken.
std::uint16_t try_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return ok ? ntohs(addr.sin_port) : std::uint16_t{0};
}

// A loopback port such that it and the `count - 1` after it are free right now.
std::uint16_t free_ports(std::uint16_t count) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint16_t base = try_loopback(0);
    if (base == 0 || base > 65535 - count) continue;
    bool all = true;
    for (std::uint16_t i = 1; i < count && all; ++i)
      all = try_loopback(static_cast<std::uint16_t>(base + i)) != 0;
    if (all) return base;
  }
  FAIL("no free run of loopback ports");
  return 0;
}

}  // namespace

TEST_CASE("a real worker sees its index and incarnation in its environment, and the host's",
          "[integration][pool][identity]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("identity-env");
  {
    TempDir dir(tag);
    sv::Loop loop;
    // Each worker prints its identity and exits; each incarnation writes a file of its own.
    auto o = child_pool(
        tag, {"print-env", "SUPERVISOR_WORKER_INDEX", "SUPERVISOR_WORKER_INCARNATION", "PATH"}, 2);
    o.per_worker_spec = [&dir](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
      spec.out = sv::StdioSpec::file(
          (dir.path / ("w" + std::to_string(w.index) + "-" + std::to_string(w.incarnation)))
              .string(),
          false);
    };
    sv::Pool pool(loop, o);
    pool.start();
    // Exits restart it (10 ms backoff) until the start limit gives up: incarnations 1, 2, 3 ...
    REQUIRE(st::wait_until(
        [&] {
          for (const char* name : {"w0-3", "w1-3"}) {
            if (slurp(dir.path / name).find("SUPERVISOR_WORKER_INCARNATION") == std::string::npos)
              return false;
          }
          return true;
        },
        10000ms));
    pool.stop();
    for (std::size_t w = 0; w < 2; ++w) {
      for (int n = 1; n <= 3; ++n) {
        const std::string out =
            slurp(dir.path / ("w" + std::to_string(w) + "-" + std::to_string(n)));
        INFO(out);
        CHECK(out.find("\nSUPERVISOR_WORKER_INDEX=" + std::to_string(w) + "\n") !=
              std::string::npos);
        CHECK(out.find("\nSUPERVISOR_WORKER_INCARNATION=" + std::to_string(n) + "\n") !=
              std::string::npos);
        CHECK(out.find("\nPATH=") != std::string::npos);  // the host's environment came too
      }
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("per-worker ports: each check probes its own worker, and a dead listener fails only it",
          "[integration][pool][identity][health]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("identity-ports");
  {
    sv::Loop loop;
    const std::uint16_t base = free_ports(3);
    auto o = child_pool(tag, {"http-server"}, 3);
    o.per_worker_spec = [base](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
      spec.argv.push_back(std::to_string(base + w.index));
      spec.argv.push_back("200");
    };
    sv::ProbeTiming startup;
    startup.period = 50ms;
    startup.failure_threshold = 200;  // until it listens
    sv::ProbeTiming liveness;
    liveness.period = 100ms;
    liveness.timeout = 2s;
    liveness.failure_threshold = 3;
    o.health_checks = {
        {std::make_shared<sv::TcpCheck>(sv::port_per_worker("127.0.0.1", base)),
         sv::ProbeRole::startup, startup},
        {std::make_shared<sv::HttpCheck>(sv::port_per_worker("127.0.0.1", base), "/healthz"),
         sv::ProbeRole::liveness, liveness}};
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(3, 20s));
    // Every worker passed its HTTP check on its own port.
    REQUIRE(st::wait_until(
        [&] {
          std::size_t seen = 0;
          for (std::size_t w = 0; w < 3; ++w) {
            for (const auto& h : events_of<sv::HealthChanged>(pool)) {
              if (h.worker == w && h.check == "http" && h.status == sv::HealthStatus::healthy &&
                  h.detail.find("200") != std::string::npos) {
                ++seen;
                break;
              }
            }
          }
          return seen == 3;
        },
        10000ms));
    const auto before = pool.snapshot();
    // Worker 1's listener dies; its process lives on. Only its own check fails, and only it is
    // stopped (unhealthy) and started again, listening anew.
    REQUIRE(::kill(before.workers[1].pid, SIGUSR1) == 0);
    REQUIRE(st::wait_until(
        [&] {
          const auto s = pool.snapshot();
          return s.workers[1].incarnation >= 2 && s.workers[1].state == sv::WorkerState::ready;
        },
        20000ms));
    const auto after = pool.snapshot();
    for (const std::size_t w : {std::size_t{0}, std::size_t{2}}) {
      CHECK(after.workers[w].incarnation == 1);
      CHECK(after.workers[w].pid == before.workers[w].pid);
    }
    const auto exits = events_of<sv::WorkerExited>(pool);
    REQUIRE_FALSE(exits.empty());
    CHECK(exits.front().worker == 1);
    CHECK(exits.front().status.reason == sv::ExitReason::unhealthy);
    for (const auto& h : events_of<sv::HealthChanged>(pool)) {
      // (Startup probes may have found a worker not listening yet: only the HTTP check counts.)
      if (h.worker != 1 && h.check == "http") CHECK(h.status == sv::HealthStatus::healthy);
      if (h.worker == 1 && h.status != sv::HealthStatus::healthy) {
        CHECK(h.detail.find(std::to_string(base + 1)) != std::string::npos);  // its own port
      }
    }
    CHECK(after.health_stops == 1);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("hooks with real processes: pre_start before the spawn, post_stop once the tree is gone",
          "[integration][pool][hooks]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("hooks");
  {
    TempDir dir(tag);
    sv::Loop loop;
    struct Shared {
      std::mutex mu;
      std::vector<std::string> journal;
      std::map<std::pair<std::size_t, std::uint64_t>, int> pids;
      std::vector<std::thread::id> threads;
      std::vector<std::string> problems;
    } s;
    const auto key = [](std::size_t w, std::uint64_t n) {
      return std::to_string(w) + "/" + std::to_string(n);
    };
    auto o = child_pool(tag, {"sleep", "forever"}, 2);
    // Each incarnation gets a working directory that pre_start makes and post_stop removes.
    o.per_worker_spec = [&dir](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
      spec.cwd = (dir.path / ("w" + std::to_string(w.index) + "-" + std::to_string(w.incarnation)))
                     .string();
    };
    o.pre_start = [&](const sv::WorkerContext& w, const sv::ProcessSpec& spec) {
      std::lock_guard lock(s.mu);
      s.threads.push_back(std::this_thread::get_id());
      s.journal.push_back("pre " + key(w.index, w.incarnation));
      std::error_code ec;
      fs::create_directory(spec.cwd, ec);
      return ec;
    };
    o.post_stop = [&](const sv::WorkerContext& w, const sv::ExitStatus& st) {
      std::lock_guard lock(s.mu);
      s.threads.push_back(std::this_thread::get_id());
      s.journal.push_back("post " + key(w.index, w.incarnation));
      const auto it = s.pids.find({w.index, w.incarnation});
      // Its process is gone, reaped: no such pid any more.
      if (it == s.pids.end() || ::kill(it->second, 0) == 0 || errno != ESRCH)
        s.problems.push_back("post_stop " + key(w.index, w.incarnation) + " before its end");
      if (st.reason == sv::ExitReason::spawn_failed) s.problems.push_back("spawn failed");
      fs::remove_all(dir.path /
                     ("w" + std::to_string(w.index) + "-" + std::to_string(w.incarnation)));
    };
    sv::Pool pool(loop, o);
    pool.subscribe([&](const sv::PoolEvent& ev) {
      std::lock_guard lock(s.mu);
      if (const auto* sp = std::get_if<sv::WorkerSpawned>(&ev.data)) {
        s.pids[{sp->worker, sp->incarnation}] = sp->pid;
        s.journal.push_back("spawned " + key(sp->worker, sp->incarnation));
      }
      if (const auto* ex = std::get_if<sv::WorkerExited>(&ev.data))
        s.journal.push_back("exited " + key(ex->worker, ex->incarnation));
    });
    pool.start();
    REQUIRE(pool.wait_ready(2, 10s));
    const int first = pool.snapshot().workers[0].pid;
    REQUIRE(fs::is_directory("/proc/" + std::to_string(first)));
    REQUIRE(fs::read_symlink("/proc/" + std::to_string(first) + "/cwd") == dir.path / "w0-1");
    REQUIRE(::kill(first, SIGKILL) == 0);
    REQUIRE(st::wait_until(
        [&] {
          const auto snap = pool.snapshot();
          return snap.workers[0].incarnation == 2 &&
                 snap.workers[0].state == sv::WorkerState::ready;
        },
        10000ms));
    pool.stop();
    std::lock_guard lock(s.mu);
    INFO([&] {
      std::string all;
      for (const auto& l : s.journal) all += l + "\n";
      return all;
    }());
    CHECK(s.problems.empty());
    const auto at = [&](const std::string& line) {
      const auto it = std::find(s.journal.begin(), s.journal.end(), line);
      return it == s.journal.end() ? -1 : static_cast<int>(it - s.journal.begin());
    };
    for (const std::string inc : {"0/1", "0/2", "1/1"}) {
      CHECK(std::count(s.journal.begin(), s.journal.end(), "pre " + inc) == 1);
      CHECK(std::count(s.journal.begin(), s.journal.end(), "post " + inc) == 1);
      CHECK(at("pre " + inc) < at("spawned " + inc));
      CHECK(at("post " + inc) < at("exited " + inc));
      CHECK(at("spawned " + inc) < at("post " + inc));
    }
    CHECK(at("post 0/1") < at("pre 0/2"));
    CHECK(s.journal.size() == 12);  // 3 incarnations: pre, spawned, post, exited each
    for (const auto& id : s.threads) {
      CHECK(id == s.threads.front());  // the loop thread
      CHECK(id != std::this_thread::get_id());
    }
    CHECK(fs::is_empty(dir.path));  // post_stop cleaned what pre_start made
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pre_start that fails the first start: start() returns it, nothing keeps running",
          "[integration][pool][hooks]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("hooks-fail");
  {
    sv::Loop loop;
    auto o = child_pool(tag, {"sleep", "forever"}, 3);
    int posts = 0;
    o.pre_start = [](const sv::WorkerContext& w, const sv::ProcessSpec&) {
      return w.index == 2 ? std::make_error_code(std::errc::address_in_use) : std::error_code();
    };
    o.post_stop = [&posts](const sv::WorkerContext&, const sv::ExitStatus&) { ++posts; };
    sv::Pool pool(loop, o);
    try {
      pool.start();
      FAIL("start succeeded");
    } catch (const std::system_error& e) {
      CHECK(e.code() == std::errc::address_in_use);
      CHECK(std::string(e.what()).find("worker 2 (incarnation 1): PoolOptions.pre_start") !=
            std::string::npos);
    }
    CHECK(posts == 3);  // the two started and stopped again, and the one that never started
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}
