// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A host run by systemd (examples/systemd/supervisor-host.service): a pool of workers, a Monitor
// that judges it, and a ServiceKeeper that tells systemd READY=1 once the pool is up, a STATUS=
// line whenever the summary changes, WATCHDOG=1 while the loop turns, and STOPPING=1 on the way
// out. Outside systemd the keeper does nothing and the host runs all the same.
//
//   service_host [--workers N] [--host-leaf NAME] [--for MS]
//
// Runs until SIGTERM or SIGINT (what `systemctl stop` and Ctrl-C send), or for MS milliseconds.
#include <supervisor/supervisor.hpp>

#include <fmt/format.h>

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace sv = supervisor;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::size_t workers = 2;
  long run_for_ms = -1;
  sv::LoopOptions loop_options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--workers") workers = static_cast<std::size_t>(std::atol(argv[i + 1]));
    if (flag == "--for") run_for_ms = std::atol(argv[i + 1]);
    // Under systemd with Delegate=yes: the host moves into this leaf of its unit's cgroup, so
    // that its workers' groups can have controllers (see the unit file).
    if (flag == "--host-leaf") loop_options.on_linux.host_leaf = argv[i + 1];
  }

  // The host (not the library) handles its signals: blocked here, before any thread exists, so
  // every thread inherits the mask and sigwait below is the one place they arrive.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  sv::Loop loop(loop_options);
  sv::PoolOptions options;
  options.spec.name = "worker";
  options.spec.argv = {"sh", "-c", "exec sleep 3600"};
  options.size = workers;
  sv::Pool pool(loop, options);
  pool.start();

  sv::Monitor monitor;
  monitor.add_loop("main", loop);
  monitor.add_pool("workers", pool);

  sv::ServiceKeeperOptions keep;
  keep.ready = [&](std::string& status_line) {
    const sv::ReadinessReport r = monitor.readiness();
    status_line = r.summary();
    return r.ready;
  };
  keep.alive = [&] { return monitor.liveness().alive; };
  keep.on_error = [](const std::error_code&, std::string_view what) {
    fmt::print(stderr, "service_host: {}\n", what);
  };
  sv::ServiceKeeper keeper = sv::ServiceKeeper::start(keep);
  fmt::print("service_host: {} workers; {}\n", workers,
             keeper.running() ? "reporting to systemd" : "not under systemd (nothing to report)");

  if (run_for_ms >= 0) {
    const timespec wait{run_for_ms / 1000, (run_for_ms % 1000) * 1000000};
    (void)sigtimedwait(&stop_signals, nullptr, &wait);
  } else {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
  }

  // STOPPING=1 first: systemd then knows the stop it sees is on purpose.
  keeper.stop();
  const sv::ReadinessReport last = monitor.readiness();
  fmt::print("service_host: stopping ({})\n", last.summary());
  monitor.remove_pool("workers");
  monitor.remove_loop("main");
  pool.stop();
  return last.ready ? 0 : 1;
}
