// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "windows_poller.hpp"

#include <windows.h>

#include <supervisor/export.hpp>

#include "job_limit_math.hpp"

namespace supervisor::detail::win {

SUPERVISOR_INLINE WindowsPoller::WindowsPoller() {
  or_throw([&](ErrorSink& err) { port_ = CompletionPort::create(err); });
  packets_.reserve(64);
}

SUPERVISOR_INLINE bool WindowsPoller::add(NativeHandle h, std::uint32_t, std::uint64_t id) {
  if (h == 0) return true;  // an id for packets the backend posts itself
  const auto handle = reinterpret_cast<HANDLE>(h);
  if (::CreateIoCompletionPort(handle, port_.native(), ULONG_PTR{id}, 0) != nullptr) return true;
  return false;
}

SUPERVISOR_INLINE void WindowsPoller::wait(int timeout_ms, std::vector<ReadyEvent>& ready) {
  packets_.clear();
  ErrorSink err;
  port_.wait(timeout_ms, packets_, err);
  if (err) {
    // The port itself failed (it never does while its handle lives): do not spin.
    ::Sleep(1);
    return;
  }
  for (const Completion& c : packets_) {
    const std::uint64_t key = c.key;
    if ((key & job_key_bit) != 0) {
      const std::uint64_t id = key & ~job_key_bit;
      if (limit_of_message(static_cast<JobMessage>(c.bytes))) {
        job_notes_[id].push_back(JobNote{
            c.bytes, static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(c.overlapped))});
      }
      ready.push_back(ReadyEvent{id, io::priority});
    } else {
      ready.push_back(ReadyEvent{key, io::readable});
    }
  }
}

SUPERVISOR_INLINE void WindowsPoller::take_job_notes(std::uint64_t id, std::vector<JobNote>& out) {
  auto it = job_notes_.find(id);
  if (it == job_notes_.end()) return;
  out.insert(out.end(), it->second.begin(), it->second.end());
  job_notes_.erase(it);
}

}  // namespace supervisor::detail::win
