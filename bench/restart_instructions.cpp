// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A harness for counting instructions, not time: a Pool of one worker on a posix_spawn Loop
// without cgroups, SIGKILLed `n` times (argument 1), each replacement awaited through a
// subscriber. bench/run.sh runs it under valgrind's callgrind twice (n = 10 and 60) and reports
// the user-space instructions per restart from the difference: a figure that does not move with
// the machine's load, for comparing two versions of the restart path. Under valgrind there are no
// pidfds (it answers ENOSYS), so the loop polls for exits: the path differs from the default one
// there, but the same for both versions. With a second argument `default`, the Loop is the default
// one (clone3, a cgroup per incarnation where usable): run it under `strace -f -c` or `perf` to
// see the default path's system calls per restart. Not a supervisor_bench_* program: run.sh does
// not time it.
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/restart_policy.hpp>

#include <signal.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <variant>

namespace sv = supervisor;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 50;
  const bool default_loop = argc > 2 && std::strcmp(argv[2], "default") == 0;
  sv::LoopOptions lo;
  if (!default_loop) {
    lo.on_linux.disable_cgroups = true;
    lo.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
  }
  sv::Loop loop(std::move(lo));
  sv::PoolOptions o;
  o.spec.argv = {"/bin/sleep", "1000"};
  o.spec.in = o.spec.out = o.spec.err = sv::StdioSpec::null();
  sv::StandardRestartOptions restart;
  restart.backoff = sv::BackoffOptions::fixed(sv::Duration::zero());
  restart.min_uptime = sv::Duration::zero();
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(std::move(restart));
  sv::Pool pool(loop, o);
  std::mutex mu;
  std::condition_variable cv;
  int pid = 0;
  std::uint64_t ready = 0;  // the incarnation last ready
  pool.subscribe([&](const sv::PoolEvent& ev) {
    std::lock_guard lock(mu);
    if (const auto* s = std::get_if<sv::WorkerSpawned>(&ev.data)) pid = s->pid;
    const auto* t = std::get_if<sv::WorkerTransition>(&ev.data);
    if (t != nullptr && t->to == sv::WorkerState::ready) {
      ready = t->incarnation;
      cv.notify_all();
    }
  });
  pool.start();
  for (int i = 1; i <= n + 1; ++i) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ready >= static_cast<std::uint64_t>(i); });
    const int victim = pid;
    lock.unlock();
    if (i <= n) ::kill(victim, SIGKILL);
  }
  pool.stop();
  std::printf("%d restarts\n", n);
  return 0;
}
