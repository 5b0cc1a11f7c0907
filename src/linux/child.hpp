// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// One supervised child on the loop: its pidfd, pipes, cgroup, stop ladder and final status.
// Fields marked (loop) are touched by the loop thread only; (mu) ones under `mu`.

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <supervisor/exit_status.hpp>
#include <supervisor/process.hpp>

#include "linux/cgroup_v2.hpp"
#include "linux/limits.hpp"
#include "linux/loop_core.hpp"
#include "linux/spawn.hpp"
#include "posix/unique_fd.hpp"

namespace supervisor::detail {

struct OutputChannel {
  StdStream stream = StdStream::out;
  UniqueFd fd;                 // (loop) read end, non-blocking
  std::uint64_t watch_id = 0;  // (loop)
  bool paused = false;         // (loop) backpressure: not reading
  std::string partial;         // (loop) an unfinished line
  std::function<void(std::string_view)> on_line;
  std::string ring;   // (mu) recent output
  OutputStats stats;  // (mu)

  // (mu) Keeps `line` among the last `keep` lines (stderr's, for ExitStatus::stderr_tail).
  void keep_line(const std::string& line, std::size_t keep);
  // (mu) Those lines, oldest first.
  [[nodiscard]] std::vector<std::string> kept_lines() const;

 private:
  // A ring, allocated with the first line: a std::deque would allocate its first block with
  // every channel of every worker, output or not.
  std::vector<std::string> tail_;
  std::size_t tail_next_ = 0;  // the oldest once full
};

struct ChildState : std::enable_shared_from_this<ChildState> {
  ChildState(std::shared_ptr<LoopCore> loop_core, std::shared_ptr<const ProcessSpec> s,
             ProcessOptions o);
  ~ChildState();

  // Loop thread.
  // Any thread (see child.cpp).
  void begin(SpawnResult&& r, std::optional<CgroupV2Group> group, TreeLimits limits, UniqueFd out,
             UniqueFd err);
  void request_stop();
  void kill_now();
  void signal_leader(int sig, ErrorSink& err);
  void resume_output(StdStream s);
  ResourceSample sample();
  void set_resources(const ResourceLimits& limits, ErrorSink& error);

  // Host side.
  std::optional<ExitStatus> wait_for(std::optional<Duration> timeout);

  std::shared_ptr<LoopCore> loop;
  // Shared: a pool's workers all point at one spec instead of holding a copy each.
  const std::shared_ptr<const ProcessSpec> spec_ptr;
  const ProcessSpec& spec;
  const ProcessOptions options;
  ProcessInfo info;  // fixed once started

  mutable std::mutex mu;
  std::condition_variable cv;
  std::optional<ExitStatus> final_status;  // (mu)
  OutputChannel out;
  OutputChannel err;

 private:
  void install(std::uint64_t pid_id, std::uint64_t out_id, std::uint64_t err_id);
  void on_pidfd();
  void poll_exit();
  void arm_exit_poll();
  void expect_exit();
  int signal_main(int sig);
  void on_reaped(long r, const siginfo_t& si, const rusage& ru);
  void after_leader_exit();
  void on_output(OutputChannel& ch, std::uint32_t events);
  bool read_output(OutputChannel& ch, bool draining = false);
  void close_output(OutputChannel& ch);
  void step(std::size_t index);
  void final_kill();
  void signal_tree(int sig);
  bool tree_empty();
  void check_tree();
  void finalize();
  void snapshot_escapees();
  void leader_stuck();
  int others_in_tree();
  void release_tree();
  [[nodiscard]] bool hit_cpu_time_limit() const;
  void arm_wall_time();
  // Whether limits hold the tree (its own, or its ResourceGroup's), so that their counters tell
  // something: without any, the files are not read.
  [[nodiscard]] bool reads_limit_counters() const {
    return !current_limits_.empty() || options.group.valid();
  }

  TimePoint started_at_{};
  UniqueFd pidfd_;                      // (loop)
  std::uint64_t pidfd_watch_ = 0;       // (loop)
  std::optional<CgroupV2Group> group_;  // (loop)
  TreeLimits limits_;                   // (loop) the v1 groups carrying its limits
  ResourceLimits current_limits_;       // (loop) as last set (at start, or set_resources)
  std::uint64_t events_watch_ = 0;      // (loop)
  std::uint64_t stop_timer_ = 0;        // (loop)
  std::uint64_t wall_timer_ = 0;        // (loop) ResourceLimits::wall_time
  bool wall_time_hit_ = false;          // (loop)
  std::uint64_t tree_timer_ = 0;        // (loop)
  std::uint64_t exit_poll_timer_ = 0;   // (loop) no pidfd: the next waitid(P_PID, WNOHANG)
  Duration exit_poll_{std::chrono::milliseconds(1)};
  std::uint64_t leader_timer_ = 0;  // (loop) bounds the wait for the leader after SIGKILL
  Duration tree_poll_{std::chrono::milliseconds(1)};
  TimePoint tree_deadline_{};
  bool leader_exited_ = false;
  bool stopping_ = false;
  bool killing_ = false;
  bool finalized_ = false;
  bool reap_stolen_ = false;
  bool abandoned_ = false;          // finalized while the leader still lived; reaped later if ever
  std::vector<int> step_signals_;   // signals the stop plan sent
  std::vector<UniqueFd> escapees_;  // pidfds of descendants outside the process group
  ExitStatus status_;               // (loop) being built
};

}  // namespace supervisor::detail
