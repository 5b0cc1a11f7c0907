// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The persisted registry of live workers: one text file (mode 0600, never opened through a
// symlink) that names the host and every worker (pid, start time, cgroup). If the host dies
// without its sentinel finishing the job (e.g. the machine's OOM killer took both), the next
// start of the host sweeps what the file names, verifying each identity before any signal.
//
//   supervisor-registry 1
//   host <pid> <start-ticks>
//   worker <pid> <start-ticks> <cgroup dir or ->

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include <supervisor/error.hpp>

#include <supervisor/export.hpp>

namespace supervisor::detail {

struct SweepResult {
  int processes_killed = 0;  // verified leftovers SIGKILLed
  int groups_removed = 0;    // leftover cgroups killed and removed
  int stale_entries = 0;     // entries whose process was gone or was someone else (not touched)
};

class Registry {
 public:
  // Opens (and sweeps) the registry at `path`. Errors: a symlink or non-regular file at `path`,
  // or a registry whose host is still alive (another instance owns it).
  void open(const std::string& path, SweepResult& swept, ErrorSink& err);
  // Any thread (the posix_spawn path records a child on the thread that started it).
  void add(pid_t pid, const std::string& cgroup);
  void remove(pid_t pid);
  // Removes the file: a clean stop leaves nothing to sweep.
  void close();
  [[nodiscard]] bool enabled() const noexcept { return !path_.empty(); }

 private:
  void write();
  struct Entry {
    std::uint64_t start = 0;
    std::string cgroup;
  };
  std::string path_;
  std::uint64_t host_start_ = 0;
  std::mutex mu_;  // add/remove/write
  std::map<pid_t, Entry> workers_;
};

}  // namespace supervisor::detail
