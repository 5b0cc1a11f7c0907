// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The public Loop, and the names of the process layer's enums.
#include <supervisor/loop.hpp>

#include "loop_core.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>

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
  LoopHeartbeat beat;
  if (core_->forked()) return beat;
  if (core_->in_loop()) {
    beat.turning = true;
    beat.processes = core_->child_count();
    return beat;
  }
  // Shared with the command, which may run after this call returned.
  struct Beat {
    std::mutex mu;
    std::condition_variable cv;
    bool ran = false;
    std::size_t processes = 0;
  };
  auto shared = std::make_shared<Beat>();
  const auto posted = std::chrono::steady_clock::now();
  core_->post([shared, core = core_.get()] {
    const std::size_t n = core->child_count();
    std::lock_guard lock(shared->mu);
    shared->ran = true;
    shared->processes = n;
    shared->cv.notify_all();
  });
  std::unique_lock lock(shared->mu);
  beat.turning = shared->cv.wait_for(lock, timeout, [&] { return shared->ran; });
  beat.lag = beat.turning ? std::chrono::duration_cast<Duration>(
                                std::chrono::steady_clock::now() - posted)
                          : timeout;
  beat.processes = shared->processes;
  return beat;
}

}  // namespace supervisor
