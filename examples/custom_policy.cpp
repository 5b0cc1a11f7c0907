// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Writing your own strategy: a RestartPolicy subclass for workers that use exit codes as a
// protocol (75 = "temporary failure, retry soon"; anything else = a real bug, stop trying).
#include <supervisor/supervisor.hpp>

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace sv = supervisor;
using namespace std::chrono_literals;

// Called on the pool's loop thread only, one call at a time: no locking needed.
class RetryTemporaryFailures final : public sv::RestartPolicy {
 public:
  sv::RestartDecision on_exit(const sv::RestartContext& ctx) override {
    if (ctx.status.exit_code == 75 && ++retries_ <= 3) {
      return sv::RestartDecision::after(50ms, fmt::format("EX_TEMPFAIL, retry {} of 3", retries_));
    }
    return sv::RestartDecision::give_up(
        fmt::format("{}: not a temporary failure, or out of retries", ctx.status.describe()));
  }

 private:
  int retries_ = 0;
};

int main() {
  sv::Loop loop;
  sv::PoolOptions options;
  options.spec.argv = {"sh", "-c", "exit 75"};  // always a temporary failure
  options.spec.out = sv::StdioSpec::null();
  options.restart_policy = std::make_shared<RetryTemporaryFailures>();
  sv::Pool pool(loop, options);
  pool.subscribe([](const sv::PoolEvent& e) {
    if (const auto* r = std::get_if<sv::RestartScheduled>(&e.data))
      fmt::print("restart of worker {} in {}ms: {}\n", r->worker,
                 std::chrono::duration_cast<std::chrono::milliseconds>(r->delay).count(), r->why);
    if (const auto* g = std::get_if<sv::WorkerGaveUp>(&e.data))
      fmt::print("gave up on worker {}: {}\n", g->worker, g->why);
  });
  pool.start();
  for (int i = 0; i < 200 && pool.snapshot().workers[0].state != sv::WorkerState::failed; ++i)
    std::this_thread::sleep_for(10ms);
  const auto snap = pool.snapshot();
  fmt::print("worker 0: {} after {} restarts\n", sv::to_string(snap.workers[0].state),
             snap.restarts);
  return snap.workers[0].state == sv::WorkerState::failed && snap.restarts == 3 ? 0 : 1;
}
