// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Resource limits enforced by the kernel on real processes (label `limits`): memory, pids and CPU
// through whichever cgroup hierarchy this host offers (cgroup v2 controllers, or the v1
// hierarchies of a hybrid host), and rlimits. A mechanism the host lacks is a SKIP naming it.
// Every test ends with a leak audit.
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/restart_policy.hpp>
#include <supervisor/testing.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "leak_audit.hpp"
#include "linux/cgroup_v1.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t k_mib = 1024 * 1024;

sv::ProcessSpec spec_for(const std::string& tag, std::vector<std::string> args) {
  sv::ProcessSpec spec;
  spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 2s, true}};
  return spec;
}

// Whether this host can carry `controller` limits through some cgroup hierarchy; else the reason.
std::string missing_controller(const sv::LoopInfo& li, const std::string& controller) {
  const auto has = [&](const std::string& list) {
    return (" " + list + " ").find(" " + controller + " ") != std::string::npos;
  };
  if (has(li.cgroup_v2_controllers) || has(li.cgroup_v1_controllers)) return {};
  return "no cgroup hierarchy with the " + controller + " controller is usable here (v2: \"" +
         li.cgroup_v2_controllers + "\", v1: \"" + li.cgroup_v1_controllers + "\")";
}

std::optional<sv::LimitStatus> status_in(const std::vector<sv::LimitStatus>& all,
                                         sv::LimitKind kind) {
  for (const auto& s : all) {
    if (s.kind == kind) return s;
  }
  return std::nullopt;
}

std::optional<sv::LimitStatus> status_of(const sv::Process& p, sv::LimitKind kind) {
  return status_in(p.info().limits, kind);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string dir_of(const std::string& file) { return file.substr(0, file.find_last_of('/')); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of `key` in a flat keyed cgroup file ("key value" lines); 0 when absent.
std::uint64_t keyed(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  std::uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

// Whether this process may raise hard rlimits (CAP_SYS_RESOURCE in its effective set).
bool has_cap_sys_resource() {
  std::istringstream status(read_file("/proc/self/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> 24) & 1U;
  }
  return false;
}

sv::LoopOptions without_cgroups() {
  sv::LoopOptions o;
  o.on_linux.disable_cgroups = true;
  return o;
}

sv::PoolOptions pool_of(const std::string& tag, std::vector<std::string> args) {
  sv::PoolOptions o;
  o.spec = spec_for(tag, std::move(args));
  o.spec.out = sv::StdioSpec::null();
  return o;
}

}  // namespace

TEST_CASE("a memory hog above memory_max is OOM-killed and classified oom-kill",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("oom");
  std::string group_dir;
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    auto spec = spec_for(tag, {"alloc", "256", "forever"});
    spec.resources.memory_max = 64 * k_mib;
    spec.resources.enforcement = sv::LimitEnforcement::required;
    auto p = sv::Process::start(loop, spec);
    const auto st = status_of(p, sv::LimitKind::memory_max);
    REQUIRE(st.has_value());
    CHECK(st->backend != sv::LimitBackend::none);
    INFO(st->note);
    group_dir = dir_of(st->note.substr(0, st->note.find(' ')));
    CHECK(exists(group_dir));
    const auto status = p.wait_for(30s);
    REQUIRE(status.has_value());
    INFO(status->describe());
    CHECK(status->reason == sv::ExitReason::oom_kill);
    CHECK(status->signal == SIGKILL);
    CHECK(status->oom_kills >= 1);
    CHECK(status->usage.max_rss_kib < 256 * 1024);  // it never got all it asked for
  }
  CHECK_FALSE(exists(group_dir));  // the incarnation's group is removed with it
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("below memory_max the same program runs to its end", "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("mem-ok");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    auto spec = spec_for(tag, {"alloc", "16", "0"});
    spec.resources.memory_max = 128 * k_mib;
    auto p = sv::Process::start(loop, spec);
    const auto status = p.wait_for(30s);
    REQUIRE(status.has_value());
    INFO(status->describe());
    CHECK(status->reason == sv::ExitReason::success);
    CHECK(status->oom_kills == 0);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a fork bomb is contained by max_processes, and its whole tree dies at stop",
          "[integration][limits]") {
  // Also with the posix_spawn path forced (no clone3): the child still joins its groups before
  // its program runs, so nothing it forks is left out of the count.
  for (const auto path : {sv::SpawnPath::clone3, sv::SpawnPath::posix_spawn}) {
    SECTION(std::string(sv::to_string(path)) + " path") {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("forkbomb");
      {
        sv::LoopOptions lo;
        lo.on_linux.spawn_path = path;
        sv::Loop loop(lo);
        if (const auto why = missing_controller(loop.info(), "pids"); !why.empty())
          SUPERVISOR_SKIP(why);
        std::string said;
        std::mutex m;
        auto spec = spec_for(tag, {"fork-until-refused", "500"});
        spec.out = sv::StdioSpec::pipe([&](std::string_view line) {
          std::lock_guard lock(m);
          if (line.rfind("forked ", 0) == 0) said = std::string(line);
        });
        spec.resources.max_processes = 12;
        auto p = sv::Process::start(loop, spec);
        CHECK(p.info().path == (path == sv::SpawnPath::clone3 && loop.info().clone3_available
                                    ? sv::SpawnPath::clone3
                                    : sv::SpawnPath::clone));
        const auto st = status_of(p, sv::LimitKind::max_processes);
        REQUIRE(st.has_value());
        CHECK(st->backend != sv::LimitBackend::none);
        REQUIRE(st::wait_until(
            [&] {
              std::lock_guard lock(m);
              return !said.empty();
            },
            10000ms));
        std::size_t forked = 0;
        {
          std::lock_guard lock(m);
          INFO(said);
          // pids.max counts tasks: the worker and its threads (a sanitizer runtime adds some) take
          // part of the 12, its children the rest, and then the kernel refuses the fork.
          CHECK(said.find(" refused Resource temporarily unavailable") != std::string::npos);
          forked = std::stoul(said.substr(7));
          CHECK(forked >= 1);
          CHECK(forked <= 11);
        }
        CHECK(st::processes_with_tag(tag).size() == forked + 1);
        const auto sample = p.sample();
        REQUIRE(sample.fork_refusals.has_value());
        CHECK(*sample.fork_refusals >= 1);
        REQUIRE(sample.tree_pids.has_value());
        CHECK(*sample.tree_pids >= forked + 1);
        CHECK(*sample.tree_pids <= 12);
        const auto status = p.stop();
        INFO(status.describe());
        CHECK(status.fork_refusals >= 1);
        CHECK(status.escaped_descendants == 0);  // and the audit below finds none of the 12
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("a spinning worker is held to its cpu_cores quota", "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("cpu");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "cpu"); !why.empty()) SUPERVISOR_SKIP(why);
    auto spec = spec_for(tag, {"spin", "1500"});
    spec.resources.cpu_cores = 0.2;
    auto p = sv::Process::start(loop, spec);
    const auto st = status_of(p, sv::LimitKind::cpu_cores);
    REQUIRE(st.has_value());
    CHECK(st->backend != sv::LimitBackend::none);
    std::this_thread::sleep_for(1000ms);
    const auto sample = p.sample();
    const auto status = p.wait_for(30s);
    REQUIRE(status.has_value());
    INFO(status->describe());
    CHECK(status->reason == sv::ExitReason::success);
    // The kernel's own counters: throttled in some of the ~10 periods seen so far.
    REQUIRE(sample.cpu_throttled_periods.has_value());
    CHECK(*sample.cpu_throttled_periods >= 1);
    REQUIRE(sample.cpu_throttled_seconds.has_value());
    CHECK(*sample.cpu_throttled_seconds > 0.0);
    // 1.5 s of wall time at 0.2 cores: about 0.3 s of CPU. Load on the machine can only lower
    // it; without the quota it would be about 1.5 s.
    const double cpu =
        std::chrono::duration<double>(status->usage.user_cpu + status->usage.system_cpu).count();
    CHECK(cpu < 0.75);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("max_open_files and cpu_time are rlimits of the child", "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("rlimit");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"rlimits"});
    spec.resources.max_open_files = 64;
    spec.resources.cpu_time = 30s;
    spec.resources.enforcement = sv::LimitEnforcement::required;
    auto p = sv::Process::start(loop, spec);
    const auto nofile = status_of(p, sv::LimitKind::max_open_files);
    REQUIRE(nofile.has_value());
    CHECK(nofile->backend == sv::LimitBackend::rlimit);
    const auto status = p.wait_for(30s);
    REQUIRE(status.has_value());
    CHECK(status->ok());
    const std::string out = p.output(sv::StdStream::out);
    INFO(out);
    CHECK(out.find("rlimit nofile 64 64\n") != std::string::npos);
    CHECK(out.find("rlimit cpu 30 31\n") != std::string::npos);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a worker past its cpu_time ends with reason resource-limit", "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("cputime");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"spin", "20000"});
    spec.resources.cpu_time = 1s;
    auto p = sv::Process::start(loop, spec);
    const auto status = p.wait_for(30s);
    REQUIRE(status.has_value());
    INFO(status->describe());
    CHECK(status->reason == sv::ExitReason::resource_limit);
    CHECK(status->signal == SIGXCPU);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a limit no mechanism can enforce: required fails naming it, best_effort says why",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("required");
  {
    sv::Loop loop(without_cgroups());
    auto spec = spec_for(tag, {"exit", "0"});
    spec.resources.memory_max = 64 * k_mib;
    spec.resources.enforcement = sv::LimitEnforcement::required;
    std::error_code ec;
    auto refused = sv::Process::start(loop, spec, {}, ec);
    CHECK(ec == sv::errc::controller_unavailable);
    CHECK(refused.pid() == 0);
    try {
      sv::Process::start(loop, spec);
      FAIL("start succeeded");
    } catch (const sv::Error& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(what.find("ResourceLimits.memory_max is required") != std::string::npos);
      CHECK(what.find("LoopOptions::on_linux.disable_cgroups") != std::string::npos);
    }
    spec.resources.enforcement = sv::LimitEnforcement::best_effort;
    auto p = sv::Process::start(loop, spec);
    const auto st = status_of(p, sv::LimitKind::memory_max);
    REQUIRE(st.has_value());
    CHECK(st->backend == sv::LimitBackend::none);
    CHECK(st->note.find("memory") != std::string::npos);
    CHECK(p.wait().ok());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("memory_high in required mode: cgroup v2 only, else an error naming the v2 fix",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("high");
  {
    sv::Loop loop;
    const auto li = loop.info();
    auto spec = spec_for(tag, {"exit", "0"});
    spec.resources.memory_high = 64 * k_mib;
    spec.resources.enforcement = sv::LimitEnforcement::required;
    if ((" " + li.cgroup_v2_controllers + " ").find(" memory ") != std::string::npos) {
      // Delegated (as in the VM stage): enforced through the worker's v2 group.
      auto p = sv::Process::start(loop, spec);
      const auto st = status_of(p, sv::LimitKind::memory_high);
      REQUIRE(st.has_value());
      CHECK(st->backend == sv::LimitBackend::cgroup_v2);
      CHECK(p.wait().ok());
    } else {
      try {
        sv::Process::start(loop, spec);
        FAIL("start succeeded");
      } catch (const sv::Error& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(e.code() == sv::errc::controller_unavailable);
        CHECK(what.find("ResourceLimits.memory_high") != std::string::npos);
        if (li.cgroup_usable) {
          CHECK(what.find("+memory") != std::string::npos);
          CHECK(what.find("cgroup.subtree_control") != std::string::npos);
          CHECK(what.find("Delegate=yes") != std::string::npos);
        }
      }
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("invalid limits are typed errors naming the field", "[integration][limits]") {
  sv::Loop loop;
  const auto refused = [&](const std::function<void(sv::ResourceLimits&)>& set,
                           const std::string& field) {
    auto spec = spec_for("invalid", {"exit", "0"});
    set(spec.resources);
    std::error_code ec;
    auto p = sv::Process::start(loop, spec, {}, ec);
    CHECK(ec == sv::errc::invalid_spec);
    try {
      sv::Process::start(loop, spec);
      FAIL("start succeeded");
    } catch (const sv::Error& e) {
      CHECK(std::string(e.what()).find("ProcessSpec.resources." + field) != std::string::npos);
    }
  };
  refused([](auto& r) { r.memory_max = 1000; }, "memory_max");
  refused(
      [](auto& r) {
        r.memory_max = 64 * k_mib;
        r.memory_high = 128 * k_mib;
      },
      "memory_high");
  refused([](auto& r) { r.cpu_cores = 0.0; }, "cpu_cores");
  refused([](auto& r) { r.cpu_weight = 0; }, "cpu_weight");
  refused([](auto& r) { r.max_processes = 0; }, "max_processes");
  refused([](auto& r) { r.max_open_files = 2; }, "max_open_files");
  refused([](auto& r) { r.cpu_time = 10ms; }, "cpu_time");
}

TEST_CASE("limits change on a running worker, and lifted ones go back to unlimited",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("live");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    if (const auto why = missing_controller(loop.info(), "cpu"); !why.empty()) SUPERVISOR_SKIP(why);
    auto spec = spec_for(tag, {"sleep", "forever"});
    spec.resources.memory_max = 64 * k_mib;
    spec.resources.cpu_cores = 0.5;
    spec.resources.max_open_files = 64;
    auto p = sv::Process::start(loop, spec);
    const auto file_of = [&](sv::LimitKind kind) {
      const auto st = status_of(p, kind);
      REQUIRE(st.has_value());
      return st->note.substr(0, st->note.find(' '));
    };
    const std::string memory_file = file_of(sv::LimitKind::memory_max);
    const std::string cpu_file = file_of(sv::LimitKind::cpu_cores);
    CHECK(read_file(memory_file) == "67108864\n");

    sv::ResourceLimits next;
    next.memory_max = 128 * k_mib;  // raised
    next.max_open_files = 128;      // raised, on the running main process
    next.max_processes = 50;        // new
    p.set_resources(next);
    CHECK(read_file(memory_file) == "134217728\n");
    // cpu_cores was lifted: the quota is unlimited again (v1 -1, v2 "max").
    const std::string cpu_now = read_file(cpu_file);
    CHECK((cpu_now == "-1\n" || cpu_now.rfind("max", 0) == 0));
    const std::string limits = read_file("/proc/" + std::to_string(p.pid()) + "/limits");
    const auto nofile = status_of(p, sv::LimitKind::max_open_files);
    REQUIRE(nofile.has_value());
    if (has_cap_sys_resource()) {
      CHECK(nofile->backend == sv::LimitBackend::rlimit);
      CHECK(limits.find("Max open files            128                  128") != std::string::npos);
    } else {
      // Raising a hard rlimit needs CAP_SYS_RESOURCE: the running worker keeps 64, says why.
      CHECK(nofile->backend == sv::LimitBackend::none);
      CHECK(nofile->note.find("CAP_SYS_RESOURCE") != std::string::npos);
      CHECK(limits.find("Max open files            64                   64") != std::string::npos);
    }
    const auto info = p.info();
    CHECK(info.limits.size() == 3);  // memory_max, max_processes, max_open_files
    const auto pids = status_of(p, sv::LimitKind::max_processes);
    REQUIRE(pids.has_value());
    if (pids->backend == sv::LimitBackend::none) {
      // v1: the worker started without a pids group; only its next start gets one.
      CHECK(pids->note.find("next start") != std::string::npos);
    }
    // A bad value changes nothing.
    sv::ResourceLimits bad = next;
    bad.cpu_weight = 0;
    std::error_code ec;
    p.set_resources(bad, ec);
    CHECK(ec == sv::errc::invalid_spec);
    CHECK(read_file(memory_file) == "134217728\n");
    p.stop();
    p.set_resources(next, ec);
    CHECK(ec == sv::errc::not_running);
  }
  REQUIRE_CLEAN(audit, tag);
}

// ------------------------------------------------------------------------------------------
// A Pool with limits: the kernel's acts are events and counters, and unenforced limits are said.

TEST_CASE("a pool reports an OOM kill as a limit violation, and the exit as oom-kill",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-oom");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    auto o = pool_of(tag, {"alloc", "256", "forever"});
    o.spec.resources.memory_max = 64 * k_mib;
    sv::StandardRestartOptions never;
    never.mode = sv::RestartMode::never;
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(never);
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(
        st::wait_until([&] { return !st::events_of<sv::WorkerExited>(pool).empty(); }, 30000ms));
    const auto exited = st::events_of<sv::WorkerExited>(pool);
    CHECK(exited.front().status.reason == sv::ExitReason::oom_kill);
    const auto violations = st::events_of<sv::LimitViolation>(pool);
    REQUIRE(violations.size() == 1);
    CHECK(violations.front().kind == sv::LimitKind::memory_max);
    CHECK(violations.front().count >= 1);
    CHECK(violations.front().detail.find("memory_max 67108864") != std::string::npos);
    const auto snap = pool.snapshot();
    CHECK(snap.limit_violations.at("memory_max") >= 1);
    CHECK(snap.exits_by_reason.at("oom-kill") == 1);
    CHECK(sv::to_prometheus(snap, "p").find(
              "supervisor_pool_limit_violations_total{pool=\"p\",limit=\"memory_max\"}") !=
          std::string::npos);
    CHECK(st::events_of<sv::LimitsNotEnforced>(pool).empty());
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pool says once which best-effort limits this host cannot enforce",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-degraded");
  {
    sv::Loop loop(without_cgroups());
    auto o = pool_of(tag, {"sleep", "forever"});
    o.spec.resources.memory_max = 64 * k_mib;
    o.spec.resources.max_open_files = 100;
    o.size = 2;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(2, 10s));
    const auto said = st::events_of<sv::LimitsNotEnforced>(pool);
    REQUIRE(said.size() == 1);  // not once per worker
    REQUIRE(said.front().limits.size() == 1);
    CHECK(said.front().limits.front().kind == sv::LimitKind::memory_max);
    CHECK(said.front().limits.front().note.find("disable_cgroups") != std::string::npos);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pool in required mode fails to start when a limit cannot be enforced",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-required");
  {
    sv::Loop loop(without_cgroups());
    auto o = pool_of(tag, {"sleep", "forever"});
    o.spec.resources.max_processes = 10;
    o.spec.resources.enforcement = sv::LimitEnforcement::required;
    sv::Pool pool(loop, o);
    try {
      pool.start();
      FAIL("start succeeded");
    } catch (const sv::Error& e) {
      INFO(e.what());
      CHECK(e.code() == sv::errc::controller_unavailable);
      CHECK(std::string(e.what()).find("ResourceLimits.max_processes is required") !=
            std::string::npos);
    }
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a real worker above its soft memory limit is replaced after its lease, two tiers",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-soft");
  {
    sv::Loop loop;
    auto o = pool_of(tag, {"alloc", "64", "forever"});
    sv::SamplingLimiterOptions lo;
    lo.memory_bytes = 32 * k_mib;  // the soft tier, below ...
    lo.window = 300ms;
    lo.period = 100ms;
    o.limiters = {std::make_shared<sv::SamplingLimiter>(lo)};
    o.spec.resources.memory_max = 256 * k_mib;  // ... the hard tier, which never acts here
    o.lease_fast_path = false;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(1, 10s));
    sv::Lease lease = pool.acquire(5s);
    const int old_pid = lease.pid();
    REQUIRE(st::wait_until([&] { return !st::events_of<sv::ReplacementStarted>(pool).empty(); },
                           20000ms));
    const auto recycled = st::events_of<sv::WorkerRecycled>(pool);
    REQUIRE_FALSE(recycled.empty());
    CHECK(recycled.front().why.find("soft limit: memory") != std::string::npos);
    // The replacement becomes ready; the leased worker keeps running until the lease ends.
    REQUIRE(st::wait_until([&] { return pool.snapshot().ready >= 1; }, 20000ms));
    std::this_thread::sleep_for(300ms);
    CHECK(::kill(old_pid, 0) == 0);
    CHECK(lease.pid() == old_pid);
    lease.release(sv::LeaseOutcome::success);
    REQUIRE(st::wait_until(
        [&] {
          for (const auto& e : st::events_of<sv::WorkerExited>(pool)) {
            if (e.status.stop_requested && e.status.reason == sv::ExitReason::success) return true;
          }
          return false;
        },
        20000ms));
    CHECK(st::events_of<sv::ReplacementFinished>(pool).size() >= 1);
    CHECK(pool.snapshot().soft_recycles >= 1);
    CHECK(st::events_of<sv::LimitViolation>(pool).empty());  // the kernel never had to act
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("usage sampling reads a worker with a memory limit as its tree, from its memory group",
          "[integration][limits][pool][usage]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("usage-tree");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    auto o = pool_of(tag, {"alloc", "64", "forever"});
    o.spec.resources.memory_max = 256 * k_mib;
    o.usage_sample_period = 50ms;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(1, 10s));
    std::optional<sv::WorkerUsage> u;
    const bool seen = st::wait_until(
        [&] {
          u = pool.snapshot().workers.at(0).usage;
          return u && u->memory_bytes >= 64 * k_mib;
        },
        20000ms);
    REQUIRE(seen);
    // The memory limit gave the worker a group with the memory controller (v2 memory.current,
    // or v1 memory.usage_in_bytes): its figure is the tree's.
    CHECK(u->memory_scope == sv::UsageScope::tree);
    CHECK(u->memory_bytes < 256 * k_mib);  // under its limit
    // Its own v2 group (automatic containment where the loop can make one) gives the tree's CPU:
    // cpu.stat needs no controller.
    if (loop.info().cgroup_usable) CHECK(u->cpu_scope == sv::UsageScope::tree);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pool changes its workers' limits while they run, and starts new ones with them",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-live");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    auto o = pool_of(tag, {"sleep", "forever"});
    o.spec.resources.memory_max = 64 * k_mib;
    o.size = 2;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(2, 10s));
    sv::ResourceLimits next;
    next.memory_max = 96 * k_mib;
    pool.set_resources(next);
    // Each running worker's memory group says so.
    const auto groups_at = [&](const std::string& value) {
      int found = 0;
      for (const auto& w : pool.snapshot().workers) {
        if (w.pid <= 0) continue;
        const std::string cg = read_file("/proc/" + std::to_string(w.pid) + "/cgroup");
        std::istringstream lines(cg);
        std::string line;
        while (std::getline(lines, line)) {
          const auto colon = line.find(':', line.find(':') + 1);
          const std::string controllers =
              line.substr(line.find(':') + 1, colon - line.find(':') - 1);
          const std::string path = line.substr(colon + 1);
          const std::string file =
              controllers == "memory"
                  ? "/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes"
                  : (controllers.empty() ? "/sys/fs/cgroup" + path + "/memory.max" : std::string());
          if (!file.empty() && read_file(file) == value + "\n") ++found;
        }
      }
      return found;
    };
    CHECK(groups_at("100663296") == 2);
    // A restarted worker starts with the new limits.
    ::kill(pool.snapshot().workers[0].pid, SIGKILL);
    REQUIRE(st::wait_until(
        [&] { return pool.snapshot().workers[0].incarnation == 2 && pool.snapshot().ready == 2; },
        10000ms));
    CHECK(groups_at("100663296") == 2);
    sv::ResourceLimits bad;
    bad.memory_max = 10;
    std::error_code ec;
    pool.set_resources(bad, ec);
    CHECK(ec == sv::errc::invalid_spec);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

// ------------------------------------------------------------------------------------------
// Finding the v1 hierarchies (pure parsing of mountinfo and /proc/self/cgroup).

namespace {

constexpr const char* hybrid_mountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 /outer /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/blkio ro,relatime - cgroup cgroup ro,blkio\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* hybrid_self =
    "9:blkio:/\n"
    "8:pids:/outer/inner\n"
    "4:memory:/host/app\n"
    "2:cpu,cpuacct:/\n"
    "0::/\n";

}  // namespace

TEST_CASE("parse_cgroup_v1 finds each controller's hierarchy and our group in it",
          "[limits][parse]") {
  std::string why;
  const auto mem = sv::detail::parse_cgroup_v1(hybrid_mountinfo, hybrid_self, "memory", &why);
  REQUIRE(mem.has_value());
  CHECK(mem->mount_point == "/sys/fs/cgroup/memory");
  CHECK(mem->self_relative == "/host/app");
  CHECK(mem->self_dir() == "/sys/fs/cgroup/memory/host/app");
  // A hierarchy shared by two controllers, named by either.
  const auto cpu = sv::detail::parse_cgroup_v1(hybrid_mountinfo, hybrid_self, "cpu", &why);
  REQUIRE(cpu.has_value());
  CHECK(cpu->self_dir() == "/sys/fs/cgroup/cpu,cpuacct");
  // Mounted from a subdirectory: the mount's root is cut from our path.
  const auto pids = sv::detail::parse_cgroup_v1(hybrid_mountinfo, hybrid_self, "pids", &why);
  REQUIRE(pids.has_value());
  CHECK(pids->self_dir() == "/sys/fs/cgroup/pids/inner");
  // `cpu` must not match `cpuset`, nor a controller in the mount point's name.
  CHECK_FALSE(sv::detail::parse_cgroup_v1(hybrid_mountinfo, hybrid_self, "cpuset", &why));
  CHECK(why.find("cpuset") != std::string::npos);
  CHECK_FALSE(sv::detail::parse_cgroup_v1(hybrid_mountinfo, hybrid_self, "blkio", &why));
  CHECK(why.find("read-only") != std::string::npos);
}

TEST_CASE("parse_cgroup_v1 says why a hierarchy is unusable", "[limits][parse]") {
  std::string why;
  // Hidden by a later mount over it.
  const std::string hidden =
      std::string(hybrid_mountinfo) + "50 31 0:40 / /sys/fs/cgroup/memory rw - tmpfs tmpfs rw\n";
  CHECK_FALSE(sv::detail::parse_cgroup_v1(hidden, hybrid_self, "memory", &why));
  CHECK(why.find("hidden") != std::string::npos);
  // Our group lies outside what the mount shows.
  CHECK_FALSE(sv::detail::parse_cgroup_v1(hybrid_mountinfo, "8:pids:/elsewhere\n", "pids", &why));
  CHECK(why.find("not reachable") != std::string::npos);
  // No line for the controller in /proc/self/cgroup.
  CHECK_FALSE(sv::detail::parse_cgroup_v1(hybrid_mountinfo, "0::/\n", "memory", &why));
  CHECK(why.find("/proc/self/cgroup") != std::string::npos);
  // A pure cgroup2 host.
  CHECK_FALSE(sv::detail::parse_cgroup_v1("41 23 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
                                          "0::/\n", "memory", &why));
  CHECK(why == "no cgroup v1 hierarchy has the memory controller");
}

// ------------------------------------------------------------------------------------------
// The VM stage (tests/vm/run-in-vm.sh): a pure cgroup v2 hierarchy with every controller
// delegated. Hidden from ordinary runs ("[.vm]"); the VM runs them with the rest of this file.

TEST_CASE("in the VM, every cgroup limit goes through cgroup v2 controllers", "[.vm]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("vm-v2");
  {
    sv::Loop loop;
    const auto li = loop.info();
    INFO(li.cgroup_why_not);
    REQUIRE(li.cgroup_usable);
    CHECK(li.cgroup_v2_controllers == "cpu memory pids");
    auto spec = spec_for(tag, {"sleep", "forever"});
    spec.resources.memory_max = 256 * k_mib;
    spec.resources.memory_high = 128 * k_mib;
    spec.resources.swap_max = 0;
    spec.resources.cpu_cores = 0.5;
    spec.resources.cpu_weight = 50;
    spec.resources.max_processes = 20;
    spec.resources.enforcement = sv::LimitEnforcement::required;
    auto p = sv::Process::start(loop, spec);
    const auto info = p.info();
    REQUIRE(info.limits.size() == 6);
    for (const auto& l : info.limits) {
      INFO(std::string(sv::to_string(l.kind)) + ": " + l.note);
      CHECK(l.backend == sv::LimitBackend::cgroup_v2);
      CHECK(l.note.rfind(info.cgroup + "/", 0) == 0);  // in the incarnation's own group
    }
    CHECK(read_file(info.cgroup + "/memory.max") == "268435456\n");
    CHECK(read_file(info.cgroup + "/memory.high") == "134217728\n");
    CHECK(read_file(info.cgroup + "/cpu.max") == "50000 100000\n");
    CHECK(read_file(info.cgroup + "/pids.max") == "20\n");
    // Changed while it runs: each controller file of its v2 group, including ones it had none of.
    sv::ResourceLimits next;
    next.memory_max = 512 * k_mib;
    next.max_processes = 40;
    p.set_resources(next);
    CHECK(read_file(info.cgroup + "/memory.max") == "536870912\n");
    CHECK(read_file(info.cgroup + "/memory.high") == "max\n");  // lifted
    CHECK(read_file(info.cgroup + "/cpu.max") == "max 100000\n");
    CHECK(read_file(info.cgroup + "/cpu.weight") == "100\n");
    CHECK(read_file(info.cgroup + "/pids.max") == "40\n");
    for (const auto& l : p.info().limits) CHECK(l.backend == sv::LimitBackend::cgroup_v2);
    p.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("in the VM, a tree above memory_high is throttled, not killed", "[.vm]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("vm-high");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"alloc", "48", "forever"});
    spec.resources.memory_high = 16 * k_mib;
    spec.resources.enforcement = sv::LimitEnforcement::required;
    auto p = sv::Process::start(loop, spec);
    const std::string events = p.info().cgroup + "/memory.events";
    // The kernel counts each time the tree went over memory.high and was pushed back.
    CHECK(st::wait_until([&] { return keyed(read_file(events), "high") > 0; }, 60000ms));
    CHECK(p.running());
    const auto status = p.stop();
    CHECK(status.oom_kills == 0);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("in the VM, a host inside its group hands controllers down only from a leaf", "[.vm]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("vm-leaf");
  // Like a service's host: in a group of its own, which offers the controllers but, holding a
  // process, may not enable them for groups below it.
  const std::string group = "/sys/fs/cgroup/svc-test";
  REQUIRE(::mkdir(group.c_str(), 0755) == 0);
  const auto move_self = [](const std::string& dir) {
    std::ofstream procs(dir + "/cgroup.procs");
    procs << ::getpid();
  };
  move_self(group);
  REQUIRE(read_file("/proc/self/cgroup") == "0::/svc-test\n");
  auto spec = spec_for(tag, {"sleep", "forever"});
  spec.resources.memory_max = 64 * k_mib;
  spec.resources.enforcement = sv::LimitEnforcement::required;
  {
    sv::Loop plain;
    CHECK(plain.info().cgroup_v2_controllers.empty());
    CHECK(plain.info().host_leaf.empty());
    try {
      sv::Process::start(plain, spec);
      FAIL("start succeeded");
    } catch (const sv::Error& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(e.code() == sv::errc::controller_unavailable);
      CHECK(what.find("+memory to \"/sys/fs/cgroup/svc-test/cgroup.subtree_control\"") !=
            std::string::npos);
    }
  }
  {
    sv::LoopOptions o;
    o.on_linux.host_leaf = "host";
    sv::Loop leaf(o);
    INFO(leaf.info().host_leaf_note);
    CHECK(leaf.info().host_leaf == group + "/host");
    CHECK(read_file("/proc/self/cgroup") == "0::/svc-test/host\n");
    CHECK(leaf.info().cgroup_v2_controllers == "cpu memory pids");
    auto p = sv::Process::start(leaf, spec);
    const auto st = status_of(p, sv::LimitKind::memory_max);
    REQUIRE(st.has_value());
    CHECK(st->backend == sv::LimitBackend::cgroup_v2);
    p.stop();
  }
  // Back to the root group, for whatever runs after this.
  move_self("/sys/fs/cgroup");
  CHECK(::rmdir((group + "/host").c_str()) == 0);
  CHECK(::rmdir(group.c_str()) == 0);
  REQUIRE_CLEAN(audit, tag);
}

// ------------------------------------------------------------------------------------------
// ResourceGroup: limits shared by several trees (the pool-wide tier)

namespace {

// The directory a limit's file is in, from its note ("<dir>/<file> = <value>").
std::string group_dir_of(const sv::LimitStatus& s) {
  return dir_of(s.note.substr(0, s.note.find(' ')));
}

// A piped stdout whose text can be waited on.
struct Said {
  std::mutex m;
  std::string text;
  sv::StdioSpec spec() {
    return sv::StdioSpec::pipe([this](std::string_view line) {
      std::lock_guard lock(m);
      text.append(line).push_back('\n');
    });
  }
  bool has(const std::string& what) {
    std::lock_guard lock(m);
    return text.find(what) != std::string::npos;
  }
};

// The status of the first of `procs` to end within `bound`.
std::optional<sv::ExitStatus> first_exit(std::vector<sv::Process>& procs, sv::Duration bound) {
  std::optional<sv::ExitStatus> ended;
  st::wait_until(
      [&] {
        for (auto& p : procs) {
          if (auto s = p.exit_status()) ended = s;
        }
        return ended.has_value();
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(bound));
  return ended;
}

}  // namespace

TEST_CASE("a ResourceGroup holds several trees to one memory_max", "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("group-oom");
  std::string group_dir;
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    sv::ResourceLimits shared;
    shared.memory_max = 96 * k_mib;
    shared.enforcement = sv::LimitEnforcement::required;
    auto group = sv::ResourceGroup::create(loop, shared);
    const auto mem = status_in(group.limits(), sv::LimitKind::memory_max);
    REQUIRE(mem.has_value());
    INFO(mem->note);
    CHECK(mem->backend != sv::LimitBackend::none);
    group_dir = group_dir_of(*mem);
    CHECK(exists(group_dir));
    // Three trees of 40 MiB each: any one fits, all three together do not (a sanitizer
    // runtime in the child adds its own memory, so even two may not). None has a limit of its own.
    sv::ProcessOptions in_group;
    in_group.group = group;
    std::vector<sv::Process> procs;
    for (int k = 0; k < 3; ++k) {
      procs.push_back(
          sv::Process::start(loop, spec_for(tag, {"alloc", "40", "forever"}), in_group));
      CHECK(procs.back().info().limits.empty());
      if (!group.cgroup().empty())
        CHECK(procs.back().info().cgroup.rfind(group.cgroup() + "/", 0) == 0);
    }
    // The kernel's OOM killer picks a victim among all three trees.
    const std::optional<sv::ExitStatus> killed = first_exit(procs, 30s);
    REQUIRE(killed.has_value());
    INFO(killed->describe());
    CHECK(killed->reason == sv::ExitReason::oom_kill);
    CHECK(killed->oom_kills >= 1);
    const auto gs = group.sample();
    REQUIRE(gs.memory_limit_hits.has_value());
    CHECK(*gs.memory_limit_hits >= 1);  // the group's own limit, not a tree's
    REQUIRE(gs.memory_bytes.has_value());
    CHECK(*gs.memory_bytes <= 96 * k_mib);
    for (auto& p : procs) p.stop();
  }
  CHECK_FALSE(exists(group_dir));  // gone with the last handle and the last tree
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a ResourceGroup's max_processes counts the tasks of all its trees",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("group-pids");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "pids"); !why.empty())
      SUPERVISOR_SKIP(why);
    sv::ResourceLimits shared;
    shared.max_processes = 16;
    auto group = sv::ResourceGroup::create(loop, shared);
    REQUIRE(status_in(group.limits(), sv::LimitKind::max_processes).has_value());
    sv::ProcessOptions in_group;
    in_group.group = group;
    // A takes 7 tasks and stops; B forks until the group is full. (A tree joins its groups
    // when it starts: on cgroup v1 that is a migration, which pids.max does not refuse, so the
    // test lets B start while the group still has room.)
    Said a;
    Said b;
    auto spec = spec_for(tag, {"fork-until-refused", "6"});
    spec.out = a.spec();
    auto pa = sv::Process::start(loop, spec, in_group);
    REQUIRE(st::wait_until([&] { return a.has("forked "); }, 10000ms));
    spec = spec_for(tag, {"fork-until-refused", "500"});
    spec.out = b.spec();
    auto pb = sv::Process::start(loop, spec, in_group);
    REQUIRE(st::wait_until([&] { return b.has("forked "); }, 10000ms));
    INFO(a.text << b.text);
    CHECK(a.has("forked 6\n"));
    CHECK(b.has("refused Resource temporarily unavailable"));
    // Both trees together, workers included, within the group's 16 tasks (B alone would have
    // forked up to 500).
    const auto tagged = st::processes_with_tag(tag).size();
    CHECK(tagged >= 9);
    CHECK(tagged <= 16);
    const auto gs = group.sample();
    REQUIRE(gs.pids.has_value());
    CHECK(*gs.pids <= 16);
    CHECK(*gs.pids >= tagged);
    pa.stop();
    pb.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a ResourceGroup changes its limits live and rejects what it cannot be",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("group-live");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    sv::ResourceLimits shared;
    shared.memory_max = 256 * k_mib;
    auto group = sv::ResourceGroup::create(loop, shared);
    sv::ProcessOptions in_group;
    in_group.group = group;
    auto p = sv::Process::start(loop, spec_for(tag, {"sleep", "forever"}), in_group);
    const auto before = status_in(group.limits(), sv::LimitKind::memory_max);
    REQUIRE(before.has_value());
    const std::string file = before->note.substr(0, before->note.find(' '));
    CHECK(std::stoull(read_file(file)) == 256 * k_mib);
    shared.memory_max = 128 * k_mib;
    group.set_resources(shared);
    CHECK(std::stoull(read_file(file)) == 128 * k_mib);
    CHECK(*group.resources().memory_max == 128 * k_mib);
    group.set_resources(sv::ResourceLimits{});  // lifted: back to the kernel's unlimited
    const std::string lifted = read_file(file);
    CHECK((lifted == "max\n" || std::stoull(lifted) > 1024 * 1024 * k_mib));
    CHECK(group.limits().empty());
    CHECK(p.running());

    // Per-process limits, bad values, foreign loops, and process-group containment.
    sv::ResourceLimits per_process;
    per_process.max_open_files = 64;
    std::error_code ec;
    CHECK_FALSE(sv::ResourceGroup::create(loop, per_process, ec).valid());
    CHECK(ec == sv::errc::invalid_argument);
    try {
      group.set_resources(per_process);
      FAIL("accepted");
    } catch (const sv::Error& e) {
      CHECK(std::string(e.what()).find("max_open_files") != std::string::npos);
    }
    sv::ResourceLimits tiny;
    tiny.memory_max = 1000;
    CHECK_FALSE(sv::ResourceGroup::create(loop, tiny, ec).valid());
    CHECK(ec == sv::errc::invalid_argument);
    sv::Loop other;
    auto foreign = sv::Process::start(other, spec_for(tag, {"exit", "0"}), in_group, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK_FALSE(foreign.valid());
    if (!group.cgroup().empty()) {
      sv::ProcessOptions pg = in_group;
      pg.containment = sv::Containment::process_group;
      auto refused = sv::Process::start(loop, spec_for(tag, {"exit", "0"}), pg, ec);
      CHECK(ec == sv::errc::invalid_argument);
    }
    p.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a ResourceGroup in required mode fails to be made where no mechanism exists",
          "[integration][limits]") {
  sv::Loop loop(without_cgroups());
  sv::ResourceLimits shared;
  shared.cpu_cores = 1;
  shared.enforcement = sv::LimitEnforcement::required;
  std::error_code ec;
  CHECK_FALSE(sv::ResourceGroup::create(loop, shared, ec).valid());
  CHECK(ec == sv::errc::controller_unavailable);
  try {
    sv::ResourceGroup::create(loop, shared);
    FAIL("made");
  } catch (const sv::Error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("ResourceLimits.cpu_cores is required") != std::string::npos);
  }
  shared.enforcement = sv::LimitEnforcement::best_effort;
  auto group = sv::ResourceGroup::create(loop, shared);
  const auto cpu = status_in(group.limits(), sv::LimitKind::cpu_cores);
  REQUIRE(cpu.has_value());
  CHECK(cpu->backend == sv::LimitBackend::none);
}

TEST_CASE("a pool's group_resources hold all its workers to one cpu quota",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-group-cpu");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "cpu"); !why.empty()) SUPERVISOR_SKIP(why);
    auto o = pool_of(tag, {"spin", "100000"});
    o.size = 2;
    o.group_resources.cpu_cores = 0.2;
    o.group_resources.enforcement = sv::LimitEnforcement::required;
    sv::Pool pool(loop, o);
    const auto t0 = std::chrono::steady_clock::now();
    pool.start();
    REQUIRE(pool.wait_ready(2, 10s));
    std::this_thread::sleep_for(1500ms);
    const auto gs = pool.group_sample();
    const auto snap = pool.snapshot();
    pool.stop();
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    REQUIRE(snap.group_limits.size() == 1);
    CHECK(snap.group_limits.front().backend != sv::LimitBackend::none);
    REQUIRE(gs.cpu_throttled_periods.has_value());
    CHECK(*gs.cpu_throttled_periods >= 1);
    double cpu = 0;
    for (const auto& e : st::events_of<sv::WorkerExited>(pool))
      cpu += std::chrono::duration<double>(e.status.usage.user_cpu + e.status.usage.system_cpu)
                 .count();
    INFO("cpu " << cpu << " s in " << wall << " s");
    // Two spinners on two cores would take ~2 s per wall second; the pool's 0.2 cores hold
    // both together to about 0.2 (load on the machine can only lower it).
    CHECK(cpu < 0.5 * wall);
    CHECK(st::events_of<sv::LimitsNotEnforced>(pool).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pool's group memory_max is a pool-wide violation when it OOM-kills a worker",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-group-oom");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    auto o = pool_of(tag, {"alloc", "40", "forever"});
    o.size = 3;
    o.group_resources.memory_max = 96 * k_mib;
    sv::StandardRestartOptions never;
    never.mode = sv::RestartMode::never;
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(never);
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(
        st::wait_until([&] { return !st::events_of<sv::LimitViolation>(pool).empty(); }, 30000ms));
    const auto v = st::events_of<sv::LimitViolation>(pool).front();
    INFO(v.detail);
    CHECK(v.group);
    CHECK(v.kind == sv::LimitKind::memory_max);
    CHECK(v.detail.find("the pool's memory_max 100663296") != std::string::npos);
    const auto snap = pool.snapshot();
    CHECK(snap.limit_violations.at("group.memory_max") >= 1);
    CHECK(snap.exits_by_reason.at("oom-kill") >= 1);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

// ------------------------------------------------------------------------------------------
// wall_time: the loop's own limit

TEST_CASE("a tree past its wall_time is stopped with its StopPlan, reason resource-limit",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("walltime");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"fork-grandchild", "forever"});
    spec.resources.wall_time = 300ms;
    spec.resources.enforcement = sv::LimitEnforcement::required;
    auto p = sv::Process::start(loop, spec);
    const auto wt = status_of(p, sv::LimitKind::wall_time);
    REQUIRE(wt.has_value());
    CHECK(wt->backend == sv::LimitBackend::loop_timer);
    const auto status = p.wait_for(20s);
    REQUIRE(status.has_value());
    INFO(status->describe());
    CHECK(status->reason == sv::ExitReason::resource_limit);
    CHECK(status->wall_time_exceeded);
    CHECK(status->uptime >= 300ms);
    CHECK(status->describe().find("wall_time") != std::string::npos);
  }
  REQUIRE_CLEAN(audit, tag);  // the grandchild went with the tree
}

TEST_CASE("wall_time changes on a running tree count from its start, lifted, it runs on",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("walltime-live");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"sleep", "forever"});
    spec.resources.wall_time = 200ms;
    auto lifted = sv::Process::start(loop, spec);
    spec.resources.wall_time = 60s;
    auto shortened = sv::Process::start(loop, spec);
    lifted.set_resources(sv::ResourceLimits{});
    sv::ResourceLimits shorter;
    shorter.wall_time = 100ms;
    std::this_thread::sleep_for(150ms);
    shortened.set_resources(shorter);  // already past 100 ms since its start: stops now
    const auto status = shortened.wait_for(20s);
    REQUIRE(status.has_value());
    CHECK(status->wall_time_exceeded);
    std::this_thread::sleep_for(400ms);  // well past the 200 ms it started with
    CHECK(lifted.running());
    CHECK(lifted.stop().reason == sv::ExitReason::success);
    sv::ResourceLimits zero;
    zero.wall_time = 0ms;
    std::error_code ec;
    spec.resources = zero;
    sv::Process::start(loop, spec, {}, ec);
    CHECK(ec == sv::errc::invalid_spec);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pool counts a wall_time stop as a limit violation the restart policy sees",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-walltime");
  {
    sv::Loop loop;
    auto o = pool_of(tag, {"sleep", "forever"});
    o.spec.resources.wall_time = 200ms;
    sv::StandardRestartOptions on_failure;
    on_failure.mode = sv::RestartMode::on_failure;
    on_failure.backoff.initial = 0ms;
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(on_failure);
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(st::wait_until([&] { return pool.snapshot().restarts >= 1; }, 20000ms));
    const auto v = st::events_of<sv::LimitViolation>(pool);
    REQUIRE_FALSE(v.empty());
    CHECK(v.front().kind == sv::LimitKind::wall_time);
    CHECK(v.front().detail == "stopped at wall_time 200ms");
    const auto snap = pool.snapshot();
    CHECK(snap.limit_violations.at("wall_time") >= 1);
    CHECK(snap.exits_by_reason.at("resource-limit") >= 1);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("throttling at cpu_cores is reported as violations every limit_watch_period",
          "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-throttle");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "cpu"); !why.empty()) SUPERVISOR_SKIP(why);
    auto o = pool_of(tag, {"spin", "100000"});
    o.size = 2;
    o.spec.resources.cpu_cores = 0.5;   // each worker's own
    o.group_resources.cpu_cores = 0.3;  // and both together
    o.limit_watch_period = 300ms;
    sv::Pool pool(loop, o);
    pool.start();
    const auto seen = [&](bool group) {
      for (const auto& v : st::events_of<sv::LimitViolation>(pool)) {
        if (v.kind == sv::LimitKind::cpu_cores && v.group == group) return true;
      }
      return false;
    };
    // The group's quota binds (0.3 for two spinners): the group is throttled for sure.
    REQUIRE(st::wait_until([&] { return seen(true); }, 20000ms));
    const auto v = st::events_of<sv::LimitViolation>(pool);
    for (const auto& e : v) {
      if (e.kind != sv::LimitKind::cpu_cores || !e.group) continue;
      INFO(e.detail);
      CHECK(e.count >= 1);
      CHECK(e.detail.find("at the pool's cpu_cores 0.3") != std::string::npos);
      break;
    }
    pool.stop();
    CHECK(pool.snapshot().limit_violations.at("group.cpu_cores") >= 1);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("in the VM, memory_high throttling is reported as violations", "[.vm]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-high");
  {
    sv::Loop loop;
    if ((" " + loop.info().cgroup_v2_controllers + " ").find(" memory ") == std::string::npos)
      FAIL("the VM's cgroup v2 hierarchy must delegate memory");
    auto o = pool_of(tag, {"alloc", "48", "forever"});
    o.spec.resources.memory_high = 16 * k_mib;
    o.limit_watch_period = 200ms;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(st::wait_until(
        [&] {
          for (const auto& v : st::events_of<sv::LimitViolation>(pool)) {
            if (v.kind == sv::LimitKind::memory_high) return true;
          }
          return false;
        },
        30000ms));
    CHECK(pool.snapshot().limit_violations.at("memory_high") >= 1);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("with posix_spawn forced, a tree joins its groups before its program runs",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("posix-limits");
  {
    sv::LoopOptions lo;
    lo.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
    sv::Loop loop(lo);
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    sv::ResourceLimits shared;
    shared.memory_max = 64 * k_mib;
    shared.enforcement = sv::LimitEnforcement::required;
    sv::ProcessOptions in_group;
    in_group.group = sv::ResourceGroup::create(loop, shared);
    auto spec = spec_for(tag, {"alloc", "256", "forever"});
    spec.resources.max_processes = 50;  // its own limit too, in a group of its own below
    auto p = sv::Process::start(loop, spec, in_group);
    // posix_spawn could only move it after its program started: clone(2) starts it instead.
    CHECK(p.info().path == sv::SpawnPath::clone);
    const auto status = p.wait_for(30s);
    REQUIRE(status.has_value());
    INFO(status->describe());
    CHECK(status->reason == sv::ExitReason::oom_kill);
    CHECK(status->oom_kills >= 1);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("ResourceGroups nest: a child's trees are held to its limits and its parent's",
          "[integration][limits]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("group-nest");
  std::string parent_dir;
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    sv::ResourceLimits budget;
    budget.memory_max = 96 * k_mib;
    budget.enforcement = sv::LimitEnforcement::required;
    auto parent = sv::ResourceGroup::create(loop, budget);
    parent_dir = group_dir_of(*status_in(parent.limits(), sv::LimitKind::memory_max));
    sv::ResourceLimits share;
    share.memory_max = 48 * k_mib;
    share.enforcement = sv::LimitEnforcement::required;
    auto small = parent.create_child(share);
    auto open = parent.create_child(sv::ResourceLimits{});
    const auto small_mem = status_in(small.limits(), sv::LimitKind::memory_max);
    REQUIRE(small_mem.has_value());
    INFO(small_mem->note);
    CHECK(small_mem->note.rfind(parent_dir + "/", 0) == 0);  // made inside the parent's group
    if (!parent.cgroup().empty()) CHECK(open.cgroup().rfind(parent.cgroup() + "/", 0) == 0);

    // The child's own limit: 64 MiB does not fit in its 48 MiB (the parent's 96 would allow it).
    sv::ProcessOptions in_small;
    in_small.group = small;
    auto hog = sv::Process::start(loop, spec_for(tag, {"alloc", "64", "forever"}), in_small);
    const auto hog_status = hog.wait_for(30s);
    REQUIRE(hog_status.has_value());
    INFO(hog_status->describe());
    CHECK(hog_status->reason == sv::ExitReason::oom_kill);

    // The parent's limit: three trees of 40 MiB in the child without limits do not fit in 96.
    sv::ProcessOptions in_open;
    in_open.group = open;
    std::vector<sv::Process> procs;
    for (int k = 0; k < 3; ++k)
      procs.push_back(sv::Process::start(loop, spec_for(tag, {"alloc", "40", "forever"}), in_open));
    const std::optional<sv::ExitStatus> killed = first_exit(procs, 30s);
    REQUIRE(killed.has_value());
    CHECK(killed->reason == sv::ExitReason::oom_kill);
    for (auto& p : procs) p.stop();
    std::error_code ec;
    CHECK_FALSE(sv::ResourceGroup().create_child(share, ec).valid());
    CHECK(ec == sv::errc::invalid_argument);
  }
  CHECK_FALSE(exists(parent_dir));  // children first, then the parent, once all handles are gone
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("pools in one shared ResourceGroup share its limits", "[integration][limits][pool]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("pool-shared");
  {
    sv::Loop loop;
    if (const auto why = missing_controller(loop.info(), "memory"); !why.empty())
      SUPERVISOR_SKIP(why);
    sv::ResourceLimits budget;
    budget.memory_max = 96 * k_mib;
    auto fleet = sv::ResourceGroup::create(loop, budget);
    sv::StandardRestartOptions never;
    never.mode = sv::RestartMode::never;
    auto a = pool_of(tag, {"alloc", "40", "forever"});
    a.size = 2;
    a.group = fleet;
    a.restart_policy = std::make_shared<sv::StandardRestartPolicy>(never);
    auto b = a;
    b.size = 1;
    b.group_resources.max_processes = 100;  // b's own group, inside the fleet's
    b.restart_policy = std::make_shared<sv::StandardRestartPolicy>(never);
    sv::Pool pool_a(loop, a);
    sv::Pool pool_b(loop, b);
    pool_a.start();
    pool_b.start();
    // Three workers of 40 MiB in a 96 MiB budget: the kernel OOM-kills one, in either pool.
    const auto violations = [&] {
      auto v = st::events_of<sv::LimitViolation>(pool_a);
      for (auto& e : st::events_of<sv::LimitViolation>(pool_b)) v.push_back(e);
      return v;
    };
    REQUIRE(st::wait_until([&] { return !violations().empty(); }, 30000ms));
    const auto v = violations().front();
    INFO(v.detail);
    CHECK(v.kind == sv::LimitKind::memory_max);
    CHECK(v.detail.find("enclosing group") != std::string::npos);
    std::error_code ec;
    pool_a.set_group_resources(budget, ec);  // the fleet's limits are the host's to change
    CHECK(ec == sv::errc::invalid_argument);
    CHECK(pool_a.snapshot().group_limits.empty());
    CHECK(pool_b.snapshot().group_limits.size() == 1);
    pool_a.stop();
    pool_b.stop();
    // A real Loop's group means nothing to a fake world: a typed error at start, nothing runs.
    st::FakeWorld world;
    sv::PoolOptions fake;
    fake.spec.argv = {"/usr/bin/worker"};
    fake.group = fleet;
    sv::Pool fake_pool(world, fake);
    fake_pool.start(ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK(world.spawn_count() == 0);
  }
  REQUIRE_CLEAN(audit, tag);
}
