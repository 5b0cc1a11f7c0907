// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "iocp.hpp"

#include <windows.h>

#include <fmt/format.h>

#include <system_error>

namespace supervisor::detail::win {

SUPERVISOR_INLINE CompletionPort CompletionPort::create(ErrorSink& err) {
  // One concurrent thread: only the loop thread dequeues.
  UniqueHandle port{::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1)};
  if (!port) {
    const std::error_code ec(static_cast<int>(::GetLastError()), std::system_category());
    err.fail(ec, [&] { return fmt::format("CreateIoCompletionPort: {}", ec.message()); });
    return {};
  }
  return CompletionPort(std::move(port));
}

SUPERVISOR_INLINE bool CompletionPort::wait(int timeout_ms, std::vector<Completion>& out,
                                            ErrorSink& err, std::size_t max) {
  OVERLAPPED_ENTRY entries[64];
  const ULONG room = static_cast<ULONG>(max < 64 ? (max == 0 ? 1 : max) : 64);
  ULONG got = 0;
  const DWORD timeout = timeout_ms < 0 ? INFINITE : static_cast<DWORD>(timeout_ms);
  if (!::GetQueuedCompletionStatusEx(port_.get(), entries, room, &got, timeout, FALSE)) {
    const DWORD code = ::GetLastError();
    if (code == WAIT_TIMEOUT) return false;
    const std::error_code ec(static_cast<int>(code), std::system_category());
    err.fail(ec, [&] { return fmt::format("GetQueuedCompletionStatusEx: {}", ec.message()); });
    return false;
  }
  for (ULONG i = 0; i < got; ++i) {
    if (entries[i].lpCompletionKey == wake_key) continue;
    out.push_back(Completion{entries[i].lpCompletionKey, entries[i].dwNumberOfBytesTransferred,
                             entries[i].lpOverlapped});
  }
  return got > 0;
}

SUPERVISOR_INLINE bool CompletionPort::post(std::uintptr_t key, std::uint32_t bytes,
                                            void* overlapped) noexcept {
  return ::PostQueuedCompletionStatus(port_.get(), bytes, key,
                                      static_cast<LPOVERLAPPED>(overlapped)) != 0;
}

}  // namespace supervisor::detail::win
