// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The host-death sentinel: a tiny process forked (not exec'd) by the Loop. It waits on a pidfd of
// the host and on a pipe whose write end the host holds (a byte on it is a clean stop; its EOF,
// where there is no pidfd, the host's death). When the host dies, even by SIGKILL, the sentinel
// wakes and kills every worker tree: it writes "1" to the
// Loop's base cgroup.kill (all worker groups sit below it) and SIGKILLs every process group in
// a table the host keeps in memory shared with it (so that a worker's start or exit never wakes
// the sentinel). PR_SET_PDEATHSIG covers the direct children; this covers their descendants.

#include <sys/types.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <supervisor/export.hpp>

#include "../posix/unique_fd.hpp"

namespace supervisor::detail {

class Sentinel {
 public:
  Sentinel() = default;
  ~Sentinel();
  Sentinel(const Sentinel&) = delete;
  Sentinel& operator=(const Sentinel&) = delete;

  // Starts the sentinel; `cgroup_base` may be empty (process groups only). False on failure.
  bool start(const std::string& cgroup_base);
  // Tells the sentinel about a process group to kill if the host dies / one that is gone. Any
  // thread. At most 8192 groups are tracked at once.
  void add_group(pid_t pgid);
  void remove_group(pid_t pgid);
  // Closes the pipe (the sentinel kills what is left, which is nothing on a clean stop) and reaps.
  void stop();
  [[nodiscard]] bool running() const noexcept { return static_cast<bool>(pipe_); }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

 private:
  UniqueFd pipe_;          // write end; never written to, only closed
  int* groups_ = nullptr;  // MAP_SHARED with the sentinel
  std::mutex mu_;          // the host-side index below
  std::unordered_map<pid_t, int> slot_of_;
  std::vector<int> free_;
  int used_ = 0;
  UniqueFd pidfd_;
  pid_t pid_ = -1;
  pid_t owner_ = -1;  // the process that started it
};

}  // namespace supervisor::detail
