// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The public Loop, and the names of the process layer's enums.
#include <supervisor/loop.hpp>

#include "access.hpp"
#include "loop_core.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace supervisor {

SUPERVISOR_INLINE std::string_view to_string(SpawnPath p) noexcept {
  switch (p) {
    case SpawnPath::clone3: return "clone3";
    case SpawnPath::posix_spawn: return "posix_spawn";
    case SpawnPath::clone: return "clone";
    case SpawnPath::job_list: return "job-list";
    case SpawnPath::job_assign: return "job-assign";
  }
  return "clone3";
}

SUPERVISOR_INLINE std::string_view to_string(Containment c) noexcept {
  switch (c) {
    case Containment::automatic: return "automatic";
    case Containment::cgroup: return "cgroup";
    case Containment::process_group: return "process-group";
    case Containment::job_object: return "job-object";
  }
  return "?";
}

SUPERVISOR_INLINE Loop::Loop() : Loop(LoopOptions{}) {}

SUPERVISOR_INLINE Loop::Loop(LoopOptions options)
    : core_(std::make_shared<detail::LoopCore>(std::move(options))) {
  core_->start();
}

SUPERVISOR_INLINE Loop::~Loop() {
  if (core_->forked()) {
    // A child the host forked (without exec) holds a copy of the loop, whose thread exists only
    // in the parent. Shutting it down here would wait for that thread for ever, or stop the
    // parent's workers, sentinel and registry. The copy is left as it is: nothing of the
    // parent's is touched, and the memory goes with the child's exec or exit.
    static_cast<void>(new std::shared_ptr<detail::LoopCore>(std::move(core_)));
    return;
  }
  core_->shutdown();
}

SUPERVISOR_INLINE LoopInfo Loop::info() const { return core_->info(); }

SUPERVISOR_INLINE std::uint64_t Loop::stolen_reaps() const noexcept {
  return core_->stolen_reaps.load(std::memory_order_relaxed);
}

SUPERVISOR_INLINE std::uint64_t Loop::callback_errors() const noexcept {
  return core_->callback_errors.load(std::memory_order_relaxed);
}

SUPERVISOR_INLINE LoopHeartbeat Loop::heartbeat(Duration timeout) const {
  return detail::heartbeats({this}, timeout).front();
}

SUPERVISOR_INLINE std::vector<LoopHeartbeat> detail::heartbeats(
    const std::vector<const Loop*>& loops, Duration timeout) {
  // Shared with the command, which may run after this call returned.
  struct Beat {
    std::mutex mu;
    std::condition_variable cv;
    bool ran = false;
    std::size_t processes = 0;
    std::chrono::steady_clock::time_point ran_at{};
  };
  std::vector<LoopHeartbeat> out(loops.size());
  std::vector<std::shared_ptr<Beat>> beats(loops.size());
  const auto posted = std::chrono::steady_clock::now();
  // Every loop is asked first, then all are waited for together: k stuck loops cost one
  // timeout, not k.
  for (std::size_t i = 0; i < loops.size(); ++i) {
    const auto& core = LoopAccess::core(*loops[i]);
    if (core->forked()) continue;
    if (core->in_loop()) {
      out[i].turning = true;
      out[i].processes = core->child_count();
      continue;
    }
    auto shared = std::make_shared<Beat>();
    beats[i] = shared;
    core->post([shared, c = core.get()] {
      const std::size_t n = c->child_count();
      std::lock_guard lock(shared->mu);
      shared->ran = true;
      shared->processes = n;
      shared->ran_at = std::chrono::steady_clock::now();
      shared->cv.notify_all();
    });
  }
  const auto deadline = posted + timeout;
  for (std::size_t i = 0; i < loops.size(); ++i) {
    if (!beats[i]) continue;
    Beat& b = *beats[i];
    std::unique_lock lock(b.mu);
    out[i].turning = b.cv.wait_until(lock, deadline, [&] { return b.ran; });
    out[i].lag = out[i].turning ? std::chrono::duration_cast<Duration>(b.ran_at - posted) : timeout;
    out[i].processes = b.processes;
  }
  return out;
}

}  // namespace supervisor
