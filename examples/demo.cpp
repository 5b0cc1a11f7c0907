// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The README's demo: real supervision. It starts real processes, captures their output, stops a
// whole process tree, shows a typed spawn error, restarts a crashing worker by hand, then runs a
// Pool that replaces a worker killed in the middle of a lease, printing what the library saw.
#include <supervisor/supervisor.hpp>

#include <fmt/format.h>

#include <signal.h>

#include <chrono>
#include <string>
#include <system_error>
#include <thread>

namespace sv = supervisor;
using namespace std::chrono_literals;

int main() {
  fmt::print("supervisor {} — supervision demo\n\n", sv::library_version_string());
  sv::Loop loop;
  const sv::LoopInfo li = loop.info();
  fmt::print("loop: spawn via {}, containment: {}, host-death sentinel: {}\n\n",
             !li.clone3_available             ? "clone or posix_spawn"
             : li.clone_into_cgroup_available ? "clone3 (CLONE_PIDFD, CLONE_INTO_CGROUP)"
                                              : "clone3 (CLONE_PIDFD)",
             li.cgroup_usable ? fmt::format("cgroup v2 under {}", li.cgroup_base)
                              : fmt::format("process groups ({})", li.cgroup_why_not),
             li.sentinel_running ? "running" : "not running");
  int failures = 0;

  // 1. A worker whose output arrives line by line on the loop thread.
  {
    sv::ProcessSpec spec;
    spec.name = "ticker";
    spec.argv = {"sh", "-c",
                 "for i in 1 2 3; do echo tick $i; sleep 0.1; done; echo bye >&2; exit 3"};
    spec.out =
        sv::StdioSpec::pipe([](std::string_view line) { fmt::print("  [ticker] {}\n", line); });
    auto p = sv::Process::start(loop, spec);
    fmt::print("1. started ticker, pid {}{}\n", p.pid(),
               p.info().cgroup.empty() ? "" : fmt::format(", cgroup {}", p.info().cgroup));
    const auto st = p.wait();
    fmt::print("   exited: {}; last stderr line: \"{}\"\n\n", st.describe(),
               st.stderr_tail.empty() ? "" : st.stderr_tail.back());
    failures += st.exit_code == 3 ? 0 : 1;
  }

  // 2. A tree: the stop ladder (SIGTERM, wait, kill the tree) takes every descendant with it.
  {
    sv::ProcessSpec spec;
    spec.name = "tree";
    spec.argv = {"sh", "-c", "trap '' TERM; sleep 30 & sleep 30 & wait"};
    spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 500ms, true}};
    auto p = sv::Process::start(loop, spec);
    std::this_thread::sleep_for(200ms);
    const auto sample = p.sample();
    fmt::print("2. tree worker pid {}: rss {} KiB, {} process(es) in its cgroup\n", p.pid(),
               sample.rss_bytes / 1024, sample.tree_processes);
    const auto st = p.stop();
    fmt::print("   stopped: {}\n\n", st.describe());
    failures += st.reason == sv::ExitReason::timeout ? 0 : 1;
  }

  // 3. Spawn errors are typed and synchronous.
  {
    sv::ProcessSpec spec;
    spec.argv = {"/opt/nowhere/worker", "--serve"};
    std::error_code ec;
    auto p = sv::Process::start(loop, spec, {}, ec);
    fmt::print("3. start /opt/nowhere/worker -> error_code {} ({}), ENOENT: {}\n", ec.value(),
               ec.message(), ec == std::errc::no_such_file_or_directory);
    try {
      (void)sv::Process::start(loop, spec);
    } catch (const std::system_error& e) {
      fmt::print("   as an exception: {}\n\n", e.what());
    }
    failures += ec == std::errc::no_such_file_or_directory ? 0 : 1;
  }

  // 4. A crashing worker, restarted by hand with a growing delay (a Pool's RestartPolicy does it
  //    for you, see 5).
  {
    sv::ProcessSpec spec;
    spec.name = "crasher";
    spec.argv = {"sh", "-c", "echo working; kill -SEGV $$"};
    auto delay = 50ms;
    for (int incarnation = 1; incarnation <= 3; ++incarnation) {
      auto p = sv::Process::start(loop, spec);
      const auto st = p.wait();
      fmt::print("4. crasher #{} (pid {}): {}; restarting in {}ms\n", incarnation, p.pid(),
                 st.describe(), delay.count());
      std::this_thread::sleep_for(delay);
      delay *= 2;
    }
  }
  // 5. A pool: three workers kept running; leases; a worker killed mid-lease is replaced.
  {
    sv::PoolOptions options;
    options.spec.argv = {"sleep", "600"};
    options.spec.out = sv::StdioSpec::null();
    options.size = 3;
    sv::Pool pool(loop, options);
    pool.subscribe([](const sv::PoolEvent& e) {
      if (const auto* t = std::get_if<sv::WorkerTransition>(&e.data)) {
        fmt::print("   [event {:>2}] worker {} #{}: {} -> {} ({})\n", e.sequence, t->worker,
                   t->incarnation, sv::to_string(t->from), sv::to_string(t->to), t->cause);
      }
    });
    fmt::print("\n5. pool of 3 workers\n");
    pool.start();
    pool.wait_ready(3, 10s);
    auto lease = pool.acquire(1s);
    fmt::print("   leased worker {} (pid {}); killing it with SIGKILL mid-job\n", lease.worker(),
               lease.pid());
    ::kill(lease.pid(), SIGKILL);
    const auto killed_worker = lease.worker();
    lease.release(sv::LeaseOutcome::failure);
    for (int i = 0; i < 100 && pool.snapshot().workers[killed_worker].incarnation < 2; ++i)
      std::this_thread::sleep_for(20ms);
    pool.wait_ready(3, 10s);
    const auto snap = pool.snapshot();
    fmt::print("   after the kill: {} ready, {} restart(s); worker {} now pid {}\n", snap.ready,
               snap.restarts, killed_worker, snap.workers[killed_worker].pid);
    failures += snap.restarts == 1 ? 0 : 1;
    pool.stop();
    fmt::print("   pool stopped: every worker retired\n");
  }

  fmt::print("\nloop: {} reaps stolen by the host; every process reaped, none left running\n",
             loop.stolen_reaps());
  return failures == 0 ? 0 : 1;
}
