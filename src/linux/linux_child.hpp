// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// One child incarnation's Linux half: its pidfd (or its PID, polled, without pidfds), its
// output pipes, its fresh cgroup v2 group or process group, the v1 groups of its limits, and
// the descendants that escaped its process group. Loop thread, but for reserve().

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <supervisor/process_spec.hpp>

#include "../posix/unique_fd.hpp"
#include "../process/backend.hpp"
#include "cgroup_v2.hpp"
#include "limits.hpp"
#include "spawn.hpp"

namespace supervisor::detail {

class LinuxBackend;
class LoopCore;

class LinuxChild final : public ChildOs {
 public:
  LinuxChild(LinuxBackend& backend, std::shared_ptr<const ProcessSpec> spec,
             const ProcessInfo& info, SpawnResult&& r, std::optional<CgroupV2Group> group,
             bool lean_group, TreeLimits limits, UniqueFd out, UniqueFd err);
  ~LinuxChild() override;
  LinuxChild(const LinuxChild&) = delete;
  LinuxChild& operator=(const LinuxChild&) = delete;

  HostEnds take_ends() override { return std::move(ends_); }
  bool reserve() override;
  void install(const std::shared_ptr<ChildEvents>& events) override;
  std::error_code signal_leader(Signal s) override;
  void signal_tree(Signal s) override;
  void prepare_stop() override;
  int others_in_tree() override;
  bool in_tree(int pid) override;
  int kill_tree() override;
  int kill_rest(bool count, bool& empty) override;
  bool tree_empty() override;
  void watch_tree() override;
  int count_left() override;
  bool read_output(StdStream s, bool draining, OutputSink& sink) override;
  void pause_output(StdStream s, bool paused) override;
  void close_output(StdStream s) override;
  TreeCounters counters() override;
  void release_tree() override;
  void abandoned_exit() override;
  void change_limits(const ResourceLimits& previous, const ResourceLimits& next,
                     std::vector<LimitStatus>& statuses, ErrorSink& err) override;
  ResourceSample sample(bool limit_counters) override;
  std::optional<UsageReading> usage() override;
  // Set by the spawn, before take_ends().
  void set_ends(HostEnds ends) { ends_ = std::move(ends); }

 private:
  struct Pipe {
    UniqueFd fd;                 // the read end, non-blocking
    std::uint64_t watch_id = 0;  // reserved by reserve(), installed by install()
    bool suspended = false;      // out of the poller while the reader is paused
  };
  Pipe& pipe(StdStream s) noexcept { return s == StdStream::err ? err_ : out_; }
  void on_pidfd();
  void poll_exit();
  void arm_exit_poll();
  void expect_exit();
  int signal_main(int sig);
  void on_reaped(long r, const siginfo_t& si, const rusage& ru);
  void signal_tree_native(int sig);
  bool remove_if_empty();

  LinuxBackend& backend_;
  LoopCore& loop_;
  const std::shared_ptr<const ProcessSpec> spec_;
  const pid_t pid_;
  const pid_t pgid_;
  const std::string cgroup_;
  UniqueFd pidfd_;
  std::optional<CgroupV2Group> group_;
  // Nothing is read of group_ but whether it is empty (no limits, no ResourceGroup): an rmdir
  // answers that and removes it in one system call. Cleared when limits are set on the tree.
  bool lean_group_ = false;
  TreeLimits limits_;  // the v1 groups carrying its limits
  Pipe out_;
  Pipe err_;
  // The portable half, which owns this object. Each watch and timer holds it alive (a strong
  // reference from `weak_events_`) for as long as it may fire, as the only owner if need be (a
  // main process that outlived its stop); this object holds none, or it would never go.
  ChildEvents* events_ = nullptr;
  std::weak_ptr<ChildEvents> weak_events_;
  std::uint64_t pidfd_watch_ = 0;
  std::uint64_t events_watch_ = 0;     // cgroup.events
  std::uint64_t exit_poll_timer_ = 0;  // no pidfd: the next waitid(P_PID, WNOHANG)
  Duration exit_poll_{std::chrono::milliseconds(1)};
  bool leader_exited_ = false;
  bool no_memory_current_ = false;  // its v2 group has no memory controller: not read again
  std::vector<UniqueFd> escapees_;  // pidfds of descendants outside the process group
  HostEnds ends_;                   // until take_ends()
};

}  // namespace supervisor::detail
