// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// One supervised child incarnation, portable half: its stop ladder, its wall_time, the wait for
// its whole tree to be gone, its output buffers, the final ExitStatus and the host's waiters. Its
// OS half (handles, signals, groups) is a ChildOs of the backend. Fields marked (loop) are touched
// by the loop thread only; (mu) ones under `mu`.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/exit_status.hpp>
#include <supervisor/process.hpp>

#include "backend.hpp"
#include "output_buffer.hpp"
#include "output_hook.hpp"

namespace supervisor::detail {

class LoopCore;

class ChildCore final : public ChildEvents,
                        public OutputSink,
                        public std::enable_shared_from_this<ChildCore> {
 public:
  ChildCore(std::shared_ptr<LoopCore> loop_core, std::shared_ptr<const ProcessSpec> s,
            ProcessOptions o, OutputHook hook = {});
  ~ChildCore() override;
  ChildCore(const ChildCore&) = delete;
  ChildCore& operator=(const ChildCore&) = delete;

  // The spawning thread, once the OS half exists: the loop adopts the child (at once when that
  // thread is the loop's, else by a command that need not wake it when nothing must be polled).
  void begin(std::unique_ptr<ChildOs> os);

  // Loop thread.
  void request_stop();
  void kill_now();
  void signal_leader(Signal s, ErrorSink& err);
  void resume_output(StdStream s);
  ResourceSample sample();
  // What usage sampling reads (none once the main process ended).
  std::optional<UsageReading> usage();
  void set_resources(const ResourceLimits& limits, ErrorSink& err);
  // Whether `pid` is the main process or another process of its tree, now.
  [[nodiscard]] bool in_tree(int pid);

  // ChildEvents (loop thread).
  void on_leader_exit(const LeaderExit& exit) override;
  void on_output(StdStream s) override;
  void on_tree_changed() override;
  // OutputSink (loop thread).
  bool on_chunk(StdStream s, std::string_view chunk, bool draining) override;

  // Host side: waits for the final status (at most `timeout`, when given).
  std::optional<ExitStatus> wait_for(std::optional<Duration> timeout);
  // Host side, under `mu`: a stream's buffer.
  [[nodiscard]] OutputBuffer& buffer(StdStream s) noexcept {
    return s == StdStream::err ? err_ : out_;
  }

  // The host's ends of its stdin pipe and channel (null: none): set by begin(), before the
  // Process is handed out, then fixed; themselves thread-safe; closed when the tree is gone.
  HostEnds ends;
  // The log files of out and err (StdioSpec::Mode::log_file; null: none): set before begin(),
  // then the loop's.
  std::unique_ptr<LogFile> out_log;
  std::unique_ptr<LogFile> err_log;

  const std::shared_ptr<LoopCore> loop;
  // Shared: a pool's workers all point at one spec instead of holding a copy each.
  const std::shared_ptr<const ProcessSpec> spec_ptr;
  const ProcessSpec& spec;
  const ProcessOptions options;
  ProcessInfo info;  // fixed once started, but for `limits` (mu)

  mutable std::mutex mu;
  std::condition_variable cv;
  std::optional<ExitStatus> final_status;  // (mu)

 private:
  void install();
  bool read_output(StdStream s, bool draining = false);
  void close_output(StdStream s);
  void step(std::size_t index);
  void final_kill();
  void check_tree();
  void finalize();
  void leader_stuck();
  void arm_wall_time();
  void arm_tree_poll();
  // Whether limits hold the tree (its own, or its ResourceGroup's), so that their counters tell
  // something: without any, they are not read.
  [[nodiscard]] bool reads_limit_counters() const {
    return !current_limits_.empty() || options.group.valid();
  }

  std::unique_ptr<ChildOs> os_;
  OutputHook hook_;
  OutputBuffer out_;  // (mu)
  OutputBuffer err_;  // (mu)
  bool out_open_ = false;
  bool err_open_ = false;
  TimePoint started_at_{};
  ResourceLimits current_limits_;   // (loop) as last set (at start, or set_resources)
  std::uint64_t stop_timer_ = 0;    // (loop)
  std::uint64_t wall_timer_ = 0;    // (loop) ResourceLimits::wall_time
  std::uint64_t tree_timer_ = 0;    // (loop)
  std::uint64_t leader_timer_ = 0;  // (loop) bounds the wait for the leader after the final kill
  Duration tree_poll_{std::chrono::milliseconds(1)};
  TimePoint tree_deadline_{};
  bool wall_time_hit_ = false;
  bool leader_exited_ = false;
  bool stopping_ = false;
  bool killing_ = false;
  bool finalized_ = false;
  bool abandoned_ = false;         // finalized while the leader still lived; reaped later if ever
  std::vector<int> step_signals_;  // the signals the stop plan sent (platform numbers)
  LeaderExit leader_;              // how the main process ended
  ExitStatus status_;              // (loop) being built
};

// Starts `spec` on `core` (Process::start without a Loop object). `spec_validated`: the caller
// validated this spec already (a pool, when it started), so a restart need not do it again.
// `join_cgroup`, `extra_env`: see ChildRequest.
Process start_process(const std::shared_ptr<LoopCore>& core,
                      std::shared_ptr<const ProcessSpec> spec, ProcessOptions options,
                      bool spec_validated, ErrorSink& err, const std::string& join_cgroup = {},
                      std::vector<std::string> extra_env = {}, OutputHook hook = {});

}  // namespace supervisor::detail
