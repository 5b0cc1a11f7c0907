// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The Windows backend of a Loop (process/backend.hpp): one I/O completion port for the loop
// (windows_poller.hpp); each child started by CreateProcessW into a Job Object of its own
// (job_spawn.hpp), whose messages come to that port; the process handle as the pidfd analogue;
// overlapped named pipes for its output (pipes.hpp). What it does not offer yet says so with
// errc::unsupported, naming the field: see windows_backend.cpp.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <supervisor/loop.hpp>

#include "../process/backend.hpp"
#include "windows_poller.hpp"

namespace supervisor::detail::win {

class WindowsBackend final : public Backend {
 public:
  WindowsBackend(LoopCore& loop, const LoopOptions& options, LoopInfo& info);
  ~WindowsBackend() override;
  WindowsBackend(const WindowsBackend&) = delete;
  WindowsBackend& operator=(const WindowsBackend&) = delete;

  [[nodiscard]] Poller& poller() override { return poller_; }
  void enter_loop_thread() override {}
  void after_loop() override {}
  std::unique_ptr<SpawnPlan> prepare(std::shared_ptr<const ProcessSpec> spec, ChildRequest& request,
                                     ErrorSink& err) override;
  std::unique_ptr<ChildOs> spawn(SpawnPlan& plan, ProcessInfo& info, ErrorSink& err) override;
  std::shared_ptr<GroupOs> make_group(const ResourceLimits& limits,
                                      const std::shared_ptr<GroupOs>& parent,
                                      ErrorSink& err) override;
  std::unique_ptr<NotifyChannel> open_notify(const std::string& name,
                                             std::function<void(const NotifyNote&)> on_note,
                                             ErrorSink& err) override;

  [[nodiscard]] LoopCore& loop() noexcept { return loop_; }
  [[nodiscard]] CompletionPort& port() noexcept { return poller_.port(); }
  [[nodiscard]] WindowsPoller& poller_impl() noexcept { return poller_; }

 private:
  LoopCore& loop_;
  WindowsPoller poller_;
};

}  // namespace supervisor::detail::win
