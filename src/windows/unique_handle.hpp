// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// A Windows HANDLE without <windows.h>: HANDLE is `void*`, and only the .cpp files of
// src/windows include the OS header.

#include <cstdint>
#include <utility>

namespace supervisor::detail::win {

using Handle = void*;

// CloseHandle, for a handle that is set (neither null nor INVALID_HANDLE_VALUE).
void close_handle(Handle h) noexcept;

// Whether `h` names something: both null and INVALID_HANDLE_VALUE (-1) mean "none" here, as
// Windows APIs return one or the other on failure. (GetCurrentProcess()'s pseudo handle is -1
// too: it is never owned by a UniqueHandle.)
[[nodiscard]] inline bool handle_set(Handle h) noexcept {
  return h != nullptr && h != reinterpret_cast<Handle>(static_cast<std::intptr_t>(-1));
}

/// Owns one kernel handle; closes it once. Move-only; not thread-safe.
class UniqueHandle {
 public:
  UniqueHandle() noexcept = default;
  explicit UniqueHandle(Handle h) noexcept : h_(handle_set(h) ? h : nullptr) {}
  ~UniqueHandle() { reset(); }
  UniqueHandle(UniqueHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  UniqueHandle& operator=(UniqueHandle&& o) noexcept {
    if (this != &o) reset(std::exchange(o.h_, nullptr));
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;

  [[nodiscard]] Handle get() const noexcept { return h_; }
  [[nodiscard]] explicit operator bool() const noexcept { return h_ != nullptr; }
  Handle release() noexcept { return std::exchange(h_, nullptr); }
  void reset(Handle h = nullptr) noexcept {
    if (h_ != nullptr) close_handle(h_);
    h_ = handle_set(h) ? h : nullptr;
  }

 private:
  Handle h_ = nullptr;
};

}  // namespace supervisor::detail::win
