// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A C++ gateway in front of a pool of Python 3 workers (python_worker.py, next to this file).
// Each worker gets a private channel (ProcessSpec::channel); a job is sent to exactly the worker
// a lease holds, over that worker's channel, and its answer comes back the same way. A worker
// that dies mid-job fails that job (errc::peer_gone), and the pool starts a new one in its place.
//
//   supervisor_example_python_pool [path/to/python_worker.py]
//
// python3 is found along PATH (Debian: `apt-get install python3`). Exit status: 0 when every job
// went as expected, 1 when one did not, 4 when python3 is not installed (the test is skipped,
// and says why).
#include <supervisor/supervisor.hpp>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

struct JobResult {
  bool ok = false;
  std::string answer;  // the worker's result, when ok
  std::string why;     // why not, otherwise
};

std::atomic<std::uint64_t> next_job_id{0};

// One job, as a gateway runs it: a lease on a ready worker, the job over that worker's channel,
// its answer (matched by id: an answer that came after its job timed out is skipped), and the
// lease given back with how it went.
JobResult run_job(sv::Pool& pool, const std::string& job) {
  std::error_code ec;
  sv::Lease lease = pool.acquire(10s, ec);
  if (ec) return {false, {}, "no worker: " + ec.message()};
  sv::Channel channel = lease.channel();
  const std::string id = std::to_string(++next_job_id) + " ";
  channel.send(id + job, 10s, ec);
  std::string answer;
  while (!ec) {
    answer = channel.receive(10s, ec);
    if (!ec && answer.rfind(id, 0) == 0) break;
  }
  if (ec) {
    // The pool restarts a worker that died; one that hangs could be replaced (Pool::replace).
    lease.release(sv::LeaseOutcome::failure);
    return {false,
            {},
            ec == sv::errc::peer_gone
                ? fmt::format("worker {} (pid {}) died mid-job", lease.worker(), lease.pid())
                : ec.message()};
  }
  lease.release(sv::LeaseOutcome::success);
  answer.erase(0, id.size());  // "ok RESULT" or "error WHY"
  if (answer.rfind("ok ", 0) == 0) return {true, answer.substr(3), {}};
  return {false, {}, answer};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string script = argc > 1 ? argv[1] : "python_worker.py";
  if (!std::filesystem::is_regular_file(script)) {
    fmt::print(stderr, "no worker script at \"{}\" (give its path as the first argument)\n",
               script);
    return 1;
  }

  sv::PoolOptions options;
  options.spec.argv = {"python3", script};  // looked up in PATH
  options.spec.channel.enabled = true;      // fd 3, $SUPERVISOR_CHANNEL_FD
  options.spec.out = sv::StdioSpec::null();
  options.spec.err = sv::StdioSpec::pipe(
      [](std::string_view line) { fmt::print(stderr, "  [python] {}\n", line); });
  options.size = 3;
  options.readiness = sv::Readiness::notify(20s);  // the worker says READY=1 when it can work
  sv::StandardRestartOptions restart;
  restart.backoff = sv::BackoffOptions::fixed(50ms);
  options.restart_policy = std::make_shared<sv::StandardRestartPolicy>(restart);
  sv::Pool pool(options);
  pool.subscribe([](const sv::PoolEvent& e) {
    if (const auto* x = std::get_if<sv::WorkerExited>(&e.data))
      fmt::print("worker {} (incarnation {}) ended: {}\n", x->worker, x->incarnation,
                 x->status.describe());
    if (const auto* s = std::get_if<sv::WorkerSpawned>(&e.data))
      fmt::print("worker {} (incarnation {}) started: pid {}\n", s->worker, s->incarnation, s->pid);
  });

  std::error_code ec;
  pool.start(ec);
  if (ec == std::errc::no_such_file_or_directory) {
    fmt::print("SUPERVISOR-SKIP: python3 is not installed (not found in PATH): {}\n", ec.message());
    return 4;
  }
  if (ec) {
    fmt::print(stderr, "start: {}\n", ec.message());
    return 1;
  }
  if (!pool.wait_ready(options.size, 30s)) {
    fmt::print(stderr, "the Python workers did not become ready\n");
    return 1;
  }

  // Three gateway threads, ten jobs each, spread over the workers by their leases.
  std::mutex mu;
  int failures = 0;
  const auto check = [&](const std::string& job, const JobResult& r, const std::string& want) {
    std::lock_guard lock(mu);
    if (r.ok && r.answer == want) return;
    ++failures;
    fmt::print(stderr, "job \"{}\": {} (expected \"{}\")\n", job, r.ok ? r.answer : r.why, want);
  };
  const auto serve = [&](int gateway) {
    for (int i = 0; i < 10; ++i) {
      const int a = gateway * 100 + i;
      const std::string sum = fmt::format("sum {} {} {}", a, a + 1, a + 2);
      check(sum, run_job(pool, sum), std::to_string(3 * a + 3));
      check("upper job", run_job(pool, "upper job"), "JOB");
    }
  };
  std::vector<std::thread> gateways;
  for (int g = 0; g < 3; ++g) gateways.emplace_back(serve, g);
  for (auto& t : gateways) t.join();

  // A job that kills its worker: the job fails, typed, and the pool replaces the worker.
  const JobResult crashed = run_job(pool, "crash");
  fmt::print("job \"crash\": {}\n", crashed.ok ? crashed.answer : crashed.why);
  const bool crash_reported = !crashed.ok && crashed.why.find("died mid-job") != std::string::npos;
  // Its successor starts after the restart policy's backoff, and says READY=1 when it can work.
  bool replaced = false;
  for (auto until = std::chrono::steady_clock::now() + 30s;
       !replaced && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(10ms)) {
    const sv::PoolSnapshot s = pool.snapshot();
    replaced = s.restarts >= 1 && s.ready + s.leased == options.size;
  }
  serve(9);  // the pool serves on, with the new worker among the others

  const sv::PoolSnapshot snap = pool.snapshot();
  pool.stop();
  fmt::print("{} jobs served, {} failed unexpectedly; the crash job {}; {} restart(s)\n",
             snap.leases, failures, crash_reported ? "failed as it should" : "DID NOT FAIL",
             snap.restarts);
  return failures == 0 && crash_reported && replaced && snap.restarts >= 1 ? 0 : 1;
}
