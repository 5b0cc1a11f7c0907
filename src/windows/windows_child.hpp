// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// One child incarnation's Windows half: its process handle (the pidfd analogue: the pid cannot be
// reused while it is open), its Job Object (the cgroup analogue: the whole tree, killed at once,
// and killed with the host, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE on a handle only the host holds),
// and the overlapped host ends of its output pipes. Loop thread, but for reserve().
//
// How the loop hears of it (windows_poller.hpp): the job's messages and the process handle's
// wait come as packets under one watch id (the job's key); each means "look again": the process
// handle says whether the main process ended (its exit code is read then), the job's process
// list whether the tree is gone. The wait is RegisterWaitForSingleObject, whose callback runs on
// the system thread pool's wait thread (Windows' own, shared by the process) and only posts a
// packet; it is there because a job does not always say that its main process ended (Wine sends
// nothing for processes TerminateJobObject kills). Each output pipe has one overlapped read in
// flight at a time, its completion reported under the pipe's own watch id.

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <supervisor/process_spec.hpp>

#include "../process/backend.hpp"
#include "job_limit_math.hpp"
#include "unique_handle.hpp"

namespace supervisor::detail {

class LoopCore;

namespace win {

class WindowsBackend;
struct PipeReader;
struct ExitWait;

class WindowsChild final : public ChildOs {
 public:
  WindowsChild(WindowsBackend& backend, std::shared_ptr<const ProcessSpec> spec, std::uint32_t pid,
               UniqueHandle process, UniqueHandle job, std::uint64_t job_watch, UniqueHandle out,
               UniqueHandle err, HostEnds ends);
  ~WindowsChild() override;
  WindowsChild(const WindowsChild&) = delete;
  WindowsChild& operator=(const WindowsChild&) = delete;

  HostEnds take_ends() override { return std::move(ends_); }
  bool reserve() override;
  void install(const std::shared_ptr<ChildEvents>& events) override;
  std::error_code signal_leader(Signal s) override;
  void signal_tree(Signal s) override;
  void prepare_stop() override {}
  int others_in_tree() override;
  bool in_tree(int pid) override;
  int kill_tree() override;
  int kill_rest(bool count, bool& empty) override;
  bool tree_empty() override;
  void watch_tree() override {}  // the job's messages come anyway
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

 private:
  PipeReader* reader(StdStream s) noexcept;
  void on_job_packet();
  void on_pipe_packet(StdStream s);
  void stop_exit_wait() noexcept;
  std::vector<std::uint32_t> tree_ids();
  void take_job_notes();
  std::error_code send_break();

  WindowsBackend& backend_;
  LoopCore& loop_;
  const std::shared_ptr<const ProcessSpec> spec_;
  const std::uint32_t pid_;
  UniqueHandle process_;
  UniqueHandle job_;
  std::uint64_t job_watch_ = 0;
  std::unique_ptr<PipeReader> out_;
  std::unique_ptr<PipeReader> err_;
  std::unique_ptr<ExitWait> exit_wait_;
  // The portable half, which owns this object; the watches hold it alive (see LinuxChild).
  ChildEvents* events_ = nullptr;
  std::weak_ptr<ChildEvents> weak_events_;
  bool leader_exited_ = false;
  JobLimitHits hits_;  // what the job's limit messages said
  HostEnds ends_;      // until take_ends()
};

}  // namespace win
}  // namespace supervisor::detail
