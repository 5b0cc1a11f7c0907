// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The Linux backend of a Loop: an epoll poller; children spawned with clone3 (or posix_spawn),
// watched through pidfds, contained in a fresh cgroup v2 group each (or their process group),
// with limits on cgroup v2, v1 and rlimits; the host-death sentinel and the sweep registry.

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <supervisor/loop.hpp>

#include "../posix/unique_fd.hpp"
#include "../process/backend.hpp"
#include "cgroup_v2.hpp"
#include "epoll_poller.hpp"
#include "limits.hpp"
#include "registry.hpp"
#include "sentinel.hpp"

namespace supervisor::detail {

// A snapshot of /proc's parent links: ppid -> (pid, pgrp), live processes only.
struct ProcTable {
  std::multimap<pid_t, std::pair<pid_t, pid_t>> by_parent;
  TimePoint taken{};
};

class LinuxBackend final : public Backend {
 public:
  LinuxBackend(LoopCore& loop, const LoopOptions& options, LoopInfo& info);
  ~LinuxBackend() override;
  LinuxBackend(const LinuxBackend&) = delete;
  LinuxBackend& operator=(const LinuxBackend&) = delete;

  // Backend
  [[nodiscard]] Poller& poller() override { return poller_; }
  void enter_loop_thread() override;
  void after_loop() override;
  [[nodiscard]] bool forked() const noexcept override { return ::getpid() != host_pid_; }
  std::unique_ptr<SpawnPlan> prepare(std::shared_ptr<const ProcessSpec> spec, ChildRequest& request,
                                     ErrorSink& err) override;
  std::unique_ptr<ChildOs> spawn(SpawnPlan& plan, ProcessInfo& info, ErrorSink& err) override;
  std::shared_ptr<GroupOs> make_group(const ResourceLimits& limits,
                                      const std::shared_ptr<GroupOs>& parent,
                                      ErrorSink& err) override;
  std::unique_ptr<NotifyChannel> open_notify(const std::string& name,
                                             std::function<void(const NotifyNote&)> on_note,
                                             ErrorSink& err) override;
  // Defined in host_fds.cpp: the one list of what a child holds open, to adjust with the spawn.
  [[nodiscard]] std::vector<std::string_view> host_fds(const ProcessSpec& spec,
                                                       Containment containment,
                                                       bool in_group) const override;

  // For the backend's own parts (children, groups, probes).
  [[nodiscard]] LoopCore& loop() noexcept { return loop_; }
  // This process's PID, read once: a spawn needs it (the child checks that its parent is still
  // the host), and a Loop does not survive a fork (its thread stays behind).
  [[nodiscard]] pid_t host_pid() const noexcept { return host_pid_; }
  Sentinel& sentinel() noexcept { return sentinel_; }
  Registry& registry() noexcept { return registry_; }
  LimitSupport& limit_support() noexcept { return limits_; }
  // Loop thread: the /proc table, rescanned when older than a few milliseconds.
  const ProcTable& proc_table();
  // Any thread: a group name never used before in this host process (a killed group must not
  // be entered again).
  std::string next_group_name(char prefix = 'w');

 private:
  void setup_cgroups();
  CgroupV2Group base_group(std::string& name, ErrorSink& err);

  LoopCore& loop_;
  LoopInfo& info_;
  const LinuxLoopOptions options_;
  EpollPoller poller_;
  UniqueFd null_;  // O_RDWR /dev/null, shared by every child's null streams (-1: each opens one)
  const pid_t host_pid_;
  bool own_base_ = false;      // we created info_.cgroup_base and remove it at shutdown
  std::string cgroup_parent_;  // the host's own cgroup v2 group (the base's parent)
  LimitSupport limits_;
  Sentinel sentinel_;
  Registry registry_;
  ProcTable proc_table_;  // (loop)
  bool proc_table_valid_ = false;
  std::atomic<std::uint64_t> group_counter_{0};
  CgroupV2Group spare_;        // (loop) a fresh group in our base, made ahead of the next start
  std::string spare_name_;     // (loop) its name
  bool spare_wanted_ = false;  // (loop) a refill is posted
};

}  // namespace supervisor::detail
