// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A downstream program that uses the library header-only: no libsupervisor is linked. It checks
// the error category, a pool on the fake world, and, where there is a process backend, a real
// process; second.cpp includes the library too, so every definition must be inline.
#include <supervisor/pool.hpp>  // any public header brings the whole library along
#include <supervisor/testing.hpp>

#include <cstdio>
#include <string>
#include <system_error>

int fake_world_restarts();  // second.cpp
bool real_process_runs(std::string& why);

int main() {
  namespace sv = supervisor;
  int failures = 0;
  std::error_code ec = sv::errc::timeout;
  if (&ec.category() != &sv::error_category() || ec != std::errc::timed_out) {
    std::fprintf(stderr, "error category broken\n");
    ++failures;
  }
  // The same category object from the other translation unit.
  extern const std::error_category* second_category();
  if (second_category() != &sv::error_category()) {
    std::fprintf(stderr, "two error category objects\n");
    ++failures;
  }
  sv::testing::FakeWorld world;
  sv::PoolOptions options;
  options.spec.argv = {"worker"};
  options.size = 2;
  sv::Pool pool(world, options);
  pool.start();
  if (pool.snapshot().ready != 2) {
    std::fprintf(stderr, "fake pool not ready\n");
    ++failures;
  }
  if (fake_world_restarts() != 1) {
    std::fprintf(stderr, "fake pool did not restart its worker\n");
    ++failures;
  }
  std::string why;
  if (!real_process_runs(why)) {
    std::fprintf(stderr, "real process: %s\n", why.c_str());
    ++failures;
  }
  if (failures == 0)
    std::printf("consumer OK: header-only supervisor %s (%s)\n", sv::library_version_string(),
                why.c_str());
  return failures == 0 ? 0 : 1;
}
