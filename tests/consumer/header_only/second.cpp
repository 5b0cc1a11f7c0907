// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/supervisor.hpp>
#include <supervisor/testing.hpp>

#include <cstdlib>
#include <string>
#include <system_error>

namespace sv = supervisor;

const std::error_category* second_category() { return &sv::error_category(); }

int fake_world_restarts() {
  sv::testing::FakeWorld world;
  sv::PoolOptions options;
  options.spec.argv = {"worker"};
  options.restart_policy = std::make_shared<sv::StandardRestartPolicy>();
  sv::Pool pool(world, options);
  pool.start();
  world.kill(pool.snapshot().workers[0].pid);
  world.advance(std::chrono::seconds(5));
  return static_cast<int>(pool.snapshot().restarts);
}

bool real_process_runs(std::string& why) {
  std::error_code ec;
  try {
    sv::Loop loop;
    sv::ProcessSpec spec;
#if defined(_WIN32)
    const char* comspec = std::getenv("ComSpec");  // cmd.exe, wherever Windows is
    if (comspec == nullptr) {
      why = "no ComSpec in the environment";
      return false;
    }
    spec.argv = {comspec, "/c", "exit", "3"};
#else
    spec.argv = {"/bin/sh", "-c", "exit 3"};
#endif
    sv::Process p = sv::Process::start(loop, spec, {}, ec);
    if (ec) {
      why = "start: " + ec.message();
      return false;
    }
    const sv::ExitStatus st = p.wait();
    why = "a real child: " + st.describe();
    return st.reason == sv::ExitReason::exit_code && st.exit_code == 3;
  } catch (const std::system_error& e) {
    if (e.code() != sv::errc::unsupported) throw;
    why = "no process backend here";
    return true;
  }
}
