// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "pipes.hpp"

#include <windows.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

#include <supervisor/export.hpp>

#include "status_map.hpp"
#include "utf16.hpp"

namespace supervisor::detail::win {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void fail_win32(ErrorSink& err, std::uint32_t code, std::string_view field,
                                  std::string_view what, std::string_view path = {}) {
  const std::error_code ec(static_cast<int>(code), std::system_category());
  err.fail(win32_error(code, ec), [&] {
    if (path.empty())
      return fmt::format("ProcessSpec.{}: {}: {} ({})", field, what, ec.message(),
                         win32_error_note(code));
    return fmt::format("ProcessSpec.{}: {} \"{}\": {} ({})", field, what, path, ec.message(),
                       win32_error_note(code));
  });
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::wstring unique_pipe_name(std::string_view kind) {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 bits{
      std::random_device{}() ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  const std::string name = fmt::format("\\\\.\\pipe\\supervisor-{}-{}-{}-{:016x}", kind,
                                       ::GetCurrentProcessId(), ++counter, bits());
  return std::wstring(name.begin(), name.end());  // ASCII
}

SUPERVISOR_INLINE PipePair make_pipe(bool host_reads, std::string_view field, ErrorSink& err) {
  const std::wstring name = unique_pipe_name(host_reads ? "out" : "in");
  const DWORD direction = host_reads ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND;
  UniqueHandle host{::CreateNamedPipeW(
      name.c_str(), direction | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, 65536, 65536,
      0, nullptr)};
  if (!host) {
    fail_win32(err, ::GetLastError(), field, "CreateNamedPipeW");
    return {};
  }
  UniqueHandle child{::CreateFileW(name.c_str(), host_reads ? GENERIC_WRITE : GENERIC_READ, 0,
                                   nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr)};
  if (!child) {
    fail_win32(err, ::GetLastError(), field, "open the pipe's client end");
    return {};
  }
  return {std::move(host), std::move(child)};
}

SUPERVISOR_INLINE PipePair make_channel_pipe(ErrorSink& err) {
  const std::wstring name = unique_pipe_name("channel");
  constexpr auto size = static_cast<DWORD>(channel_message_max);
  UniqueHandle host{::CreateNamedPipeW(
      name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
      PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, size,
      size, 0, nullptr)};
  if (!host) {
    fail_win32(err, ::GetLastError(), "channel", "CreateNamedPipeW");
    return {};
  }
  UniqueHandle child{::CreateFileW(name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                                   OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr)};
  if (!child) {
    fail_win32(err, ::GetLastError(), "channel", "open the pipe's client end");
    return {};
  }
  // A client end reads bytes until told otherwise; the child's reads must end at a message's end
  // (the mode belongs to the handle's file object, which the child's inherited copy shares).
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (!::SetNamedPipeHandleState(child.get(), &mode, nullptr, nullptr)) {
    fail_win32(err, ::GetLastError(), "channel", "SetNamedPipeHandleState(PIPE_READMODE_MESSAGE)");
    return {};
  }
  return {std::move(host), std::move(child)};
}

SUPERVISOR_INLINE UniqueHandle open_null(std::string_view field, ErrorSink& err) {
  UniqueHandle h{::CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE,
                               FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                               FILE_ATTRIBUTE_NORMAL, nullptr)};
  if (!h) fail_win32(err, ::GetLastError(), field, "open", "NUL");
  return h;
}

SUPERVISOR_INLINE UniqueHandle open_std_file(const std::string& path, bool read, bool append,
                                             bool follow_symlinks, std::string_view field,
                                             ErrorSink& err) {
  ErrorSink conversion;
  const std::u16string wide =
      utf8_to_utf16(path, fmt::format("ProcessSpec.{}.path", field), conversion);
  if (conversion) {
    err = std::move(conversion);
    return {};
  }
  const std::wstring w(wide.begin(), wide.end());
  const DWORD access = read ? GENERIC_READ : GENERIC_WRITE;
  const DWORD disposition = read ? OPEN_EXISTING : (append ? OPEN_ALWAYS : CREATE_ALWAYS);
  const DWORD flags = FILE_ATTRIBUTE_NORMAL | (follow_symlinks ? 0 : FILE_FLAG_OPEN_REPARSE_POINT);
  UniqueHandle h{::CreateFileW(w.c_str(), access | SYNCHRONIZE,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                               disposition, flags, nullptr)};
  if (!h) {
    fail_win32(err, ::GetLastError(), field, "open", path);
    return {};
  }
  BY_HANDLE_FILE_INFORMATION info{};
  if (!follow_symlinks && ::GetFileInformationByHandle(h.get(), &info) &&
      (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
    err.fail(std::make_error_code(std::errc::too_many_symbolic_link_levels), [&] {
      return fmt::format(
          "ProcessSpec.{}: \"{}\" is a symbolic link (a reparse point), which is not followed "
          "unless StdioSpec::follow_symlinks is set",
          field, path);
    });
    return {};
  }
  if (!read) {
    LARGE_INTEGER zero{};
    ::SetFilePointerEx(h.get(), zero, nullptr, FILE_END);
  }
  return h;
}

}  // namespace supervisor::detail::win
