// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The Windows loop's Poller (process/backend.hpp) on one I/O completion port (iocp.hpp).
//
// Windows reports completions, not readiness, so the seam's words mean:
// - add(h, events, id): `h` (a pipe or socket opened for overlapped I/O) is associated with the
//   port under completion key `id`; its owner then starts the overlapped operations itself, ONE
//   at a time per handle, and learns the result with GetOverlappedResult on its own OVERLAPPED
//   when the watch reports `readable`. A null `h` only reserves the id: packets that the backend
//   posts itself (a job's messages, a process handle's wait) use it.
// - modify and remove do nothing: a handle stays associated until it is closed (Windows cannot
//   take it back), and a packet for an id whose watch is gone is ignored by the loop.
// - wait(): each packet becomes ReadyEvent{key, readable}, or {key, priority} for a job's
//   message (posted under key | job_key_bit, see job_key()): "look again", never the news itself.
//   A job's limit messages (memory, active process, time) are also kept, with the process each
//   names, until the job's owner takes them (take_job_notes), since the seam's events carry no
//   payload.
// - wake(): a packet under key 0.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "../process/backend.hpp"
#include "iocp.hpp"

namespace supervisor::detail::win {

// A job's completion key: its watch id with this bit set (ids count up from 1 and never reach it).
inline constexpr std::uint64_t job_key_bit = std::uint64_t{1} << 62;
// (64-bit Windows only: a key is as wide as an id.)
static_assert(sizeof(std::uintptr_t) == sizeof(std::uint64_t));
[[nodiscard]] constexpr std::uintptr_t job_key(std::uint64_t watch_id) noexcept {
  return watch_id | job_key_bit;
}

// One limit message of a job's port: the JOB_OBJECT_MSG_* value and the process it names.
struct JobNote {
  std::uint32_t message = 0;
  std::uint32_t pid = 0;
};

class WindowsPoller final : public Poller {
 public:
  // Throws std::system_error when the port cannot be made.
  WindowsPoller();

  bool add(NativeHandle h, std::uint32_t events, std::uint64_t id) override;
  void modify(NativeHandle, std::uint32_t, std::uint64_t) override {}
  void remove(NativeHandle) override {}
  void wake() override { port_.wake(); }
  void wait(int timeout_ms, std::vector<ReadyEvent>& ready) override;

  [[nodiscard]] CompletionPort& port() noexcept { return port_; }

  // Loop thread: moves the limit messages kept for watch `id` to `out`.
  void take_job_notes(std::uint64_t id, std::vector<JobNote>& out);
  // Loop thread: the job is gone: drops what is kept for it.
  void forget_job_notes(std::uint64_t id) { job_notes_.erase(id); }

 private:
  CompletionPort port_;
  std::vector<Completion> packets_;  // (loop) reused by every wait
  std::unordered_map<std::uint64_t, std::vector<JobNote>> job_notes_;  // (loop)
};

}  // namespace supervisor::detail::win
