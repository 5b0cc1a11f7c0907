// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the pool integration tests share: a pool of the test child (SUPERVISOR_TEST_CHILD),
// reading a whole file, and a temporary directory.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <supervisor/pool.hpp>

namespace supervisor::testing {

// `size` workers of the test child in mode `args`, tagged `tag` (the leak audit finds them by
// it): no stdout, a 2 s SIGTERM rung, restarts after a fixed 10 ms.
inline PoolOptions child_pool(const std::string& tag, std::vector<std::string> args,
                              std::size_t size) {
  using namespace std::chrono_literals;
  PoolOptions o;
  o.spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag};
  o.spec.argv.insert(o.spec.argv.end(), args.begin(), args.end());
  o.spec.out = StdioSpec::null();
  o.spec.stop.steps = {StopStep{Signal::terminate, 2s, true}};
  o.size = size;
  StandardRestartOptions r;
  r.backoff = BackoffOptions::fixed(10ms);
  o.restart_policy = std::make_shared<StandardRestartPolicy>(r);
  return o;
}

// The same, under the name the pool tests use.
inline PoolOptions pool_for(const std::string& tag, std::vector<std::string> args,
                            std::size_t size) {
  return child_pool(tag, std::move(args), size);
}

// A whole file, or empty.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A fresh directory under the temporary one, named `tag` (unique_tag), removed by the destructor.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) : path(std::filesystem::temp_directory_path() / tag) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace supervisor::testing
