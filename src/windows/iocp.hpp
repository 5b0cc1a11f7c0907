// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// An I/O completion port: what the Windows loop will wait on. Job objects post their messages to
// it (job_spawn.hpp), overlapped pipe and socket operations their completions, and any thread
// its wake-ups.
//
// How it is meant to sit under the readiness-based Poller seam (process/backend.hpp), unchanged:
// a watch id is a completion key. add(h, events, id) associates `h` with the port under key `id`
// (CreateIoCompletionPort for a pipe or socket; a job is associated when it is made, with its
// child's id as key); the backend arms the overlapped reads itself and keeps their buffers, and
// wait() reports a packet as ReadyEvent{key, readable} for an I/O completion, or {key, priority}
// for a job message. The watch's callback then pulls state, as on Linux: read_output takes the
// bytes the finished read left, and a job message means "look at the process handle and the
// job's process list", never "this process ended" by itself (Windows does not guarantee their
// delivery, and Wine sends none for processes TerminateJobObject kills). wake() is Poller::wake.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <supervisor/error.hpp>

#include "unique_handle.hpp"

namespace supervisor::detail::win {

// One dequeued packet, as GetQueuedCompletionStatusEx returns it. For a job's message, `bytes` is
// the message (JobMessage), `key` the job's completion key and `overlapped` the process id.
struct Completion {
  std::uintptr_t key = 0;
  std::uint32_t bytes = 0;
  void* overlapped = nullptr;
};

// Owns one completion port. wait() on one thread (the loop's); wake() and post() from any.
class CompletionPort {
 public:
  // The key wake() posts with; no other packet may use it.
  static constexpr std::uintptr_t wake_key = 0;

  CompletionPort() = default;
  // A new port (one concurrent thread: the loop's); empty with `err` set on failure.
  static CompletionPort create(ErrorSink& err);

  [[nodiscard]] Handle native() const noexcept { return port_.get(); }
  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(port_); }

  // Waits at most `timeout_ms` (-1: no limit, 0: only looks) for packets, then appends up to
  // `max` of them to `out`; wake-ups end the wait and are not appended. Returns whether it
  // dequeued anything (a wake-up counts); false on timeout, and false with `err` set when the
  // port fails.
  bool wait(int timeout_ms, std::vector<Completion>& out, ErrorSink& err, std::size_t max = 64);
  // Any thread: queues a packet (false when the port refuses it).
  bool post(std::uintptr_t key, std::uint32_t bytes = 0, void* overlapped = nullptr) noexcept;
  // Any thread: makes the current or next wait() return.
  bool wake() noexcept { return post(wake_key); }

 private:
  explicit CompletionPort(UniqueHandle port) noexcept : port_(std::move(port)) {}
  UniqueHandle port_;
};

}  // namespace supervisor::detail::win
