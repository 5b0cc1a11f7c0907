// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The fake PoolHost behind `testing::FakeWorld`: a queue, timers on a ManualClock, and fake
// processes. Single-threaded: the test thread is the loop.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/testing.hpp>

#include "../core/timer_queue.hpp"
#include "../pool/pool_host.hpp"
#include "../process/exit_classify.hpp"
#include "../process/output_buffer.hpp"

namespace supervisor::detail {

class FakeHost final : public PoolHost, public std::enable_shared_from_this<FakeHost> {
 public:
  explicit FakeHost(TimePoint start);
  ~FakeHost() override;

  // PoolHost
  [[nodiscard]] TimePoint now() const override { return clock_.now(); }
  [[nodiscard]] WallTime wall_now() const override { return clock_.wall_now(); }
  void post(std::function<void()> fn) override { queue_.push_back(std::move(fn)); }
  [[nodiscard]] bool in_loop() const override { return true; }
  std::uint64_t add_timer(Duration after, std::function<void()> fn) override;
  void cancel_timer(std::uint64_t id) override;
  std::unique_ptr<WorkerProcess> spawn(std::shared_ptr<const ProcessSpec> spec,
                                       std::vector<std::string> extra_env, Containment containment,
                                       WorkerGroup* group,
                                       std::function<void(const ExitStatus&)> on_exit,
                                       OutputHook on_output, ErrorSink& err) override;
  std::unique_ptr<WorkerGroup> make_group(const ResourceLimits& limits, const ResourceGroup& parent,
                                          ErrorSink& err) override;
  std::unique_ptr<WorkerGroup> adopt_group(const ResourceGroup& group, ErrorSink& err) override;
  std::unique_ptr<NotifyChannel> open_notify(const std::string& name,
                                             std::function<void(const NotifyNote&)> on_note,
                                             ErrorSink& err) override;
  bool pump() override;

  // FakeWorld
  void advance(Duration d);
  void clear() noexcept;  // drops queued work and timers (they may own pools)
  ManualClock clock_;
  struct Proc {
    std::shared_ptr<const ProcessSpec> spec;
    std::function<void(const ExitStatus&)> on_exit;
    TimePoint started{};
    bool alive = true;
    bool stop_requested = false;
    bool killing = false;
    std::uint64_t stop_timer = 0;
    std::uint64_t wall_timer = 0;  // ResourceLimits::wall_time, as the real loop keeps it
    bool wall_time_hit = false;
    std::uint64_t memory_bytes = 0;
    double cpu_seconds = 0;
    std::vector<std::string> extra_env{};  // "NAME=value": what the pool set beyond its spec
    std::vector<Signal> signals{};         // sent by Pool::signal_worker, in order
    OutputHook on_output{};
    // Its piped streams (out, err), made with their first output (FakeWorld::output).
    std::unique_ptr<OutputBuffer> buffers[2]{};
  };
  std::map<int, Proc> procs_;
  std::map<std::string, std::function<void(const NotifyNote&)>> channels_;  // by address
  testing::StopBehavior stop_behavior_ = testing::StopBehavior::exit_on_term;
  int fail_spawns_ = 0;
  std::error_code fail_error_;
  std::size_t spawned_ = 0;
  int next_pid_ = 1000;

  // Ends `pid` with exactly `status` (its uptime and stop request filled in).
  void end(int pid, ExitStatus status);
  // Ends `pid` as the process layer would report these facts (the exit table decides).
  void end_with(int pid, ExitFacts facts);
  void on_stop_request(int pid);
  void on_kill_request(int pid);
  void on_signal(int pid, Signal s);
  // `pid` wrote `text` to `stream` (FakeWorld::output).
  void output(int pid, StdStream stream, std::string_view text);

 private:
  std::deque<std::function<void()>> queue_;
  TimerQueue timers_;
};

}  // namespace supervisor::detail
