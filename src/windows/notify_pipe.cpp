// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "notify_pipe.hpp"

#include <windows.h>

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include <supervisor/export.hpp>

#include "../process/loop_core.hpp"
#include "pipes.hpp"
#include "status_map.hpp"
#include "unique_handle.hpp"

namespace supervisor::detail::win {

// One instance of the pipe: waiting for a client, or reading a connected client's messages.
struct NotifyInstance {
  UniqueHandle handle;
  OVERLAPPED ov{};
  char buf[4096];
  std::uint64_t watch = 0;
  bool connected = false;
  bool pending = false;
  bool oversized = false;  // the current message is longer than `buf`: dropped whole
  ULONG client = 0;        // the client's pid, once connected
};

SUPERVISOR_INLINE NotifyPipe::NotifyPipe(LoopCore& loop,
                                         std::function<void(const NotifyNote&)> on_note)
    : loop_(loop), on_note_(std::move(on_note)) {}

SUPERVISOR_INLINE NotifyPipe::~NotifyPipe() {
  while (!instances_.empty()) drop(instances_.back().get());
}

SUPERVISOR_INLINE void NotifyPipe::open(ErrorSink& err) {
  const std::wstring name = unique_pipe_name("notify");
  address_.assign(name.begin(), name.end());  // ASCII
  listen(err);
}

// A new instance, waiting for the next client.
SUPERVISOR_INLINE bool NotifyPipe::listen(ErrorSink& err) {
  const std::wstring name(address_.begin(), address_.end());
  auto inst = std::make_unique<NotifyInstance>();
  inst->handle.reset(::CreateNamedPipeW(
      name.c_str(),
      PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED |
          (instances_.empty() ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
      PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      PIPE_UNLIMITED_INSTANCES, 0, sizeof inst->buf, 0, nullptr));
  if (!inst->handle) {
    const DWORD code = ::GetLastError();
    const std::error_code ec(static_cast<int>(code), std::system_category());
    err.fail(win32_error(code, ec), [&] {
      return fmt::format("NOTIFY_SOCKET: CreateNamedPipeW \"{}\": {} ({})", address_, ec.message(),
                         win32_error_note(code));
    });
    return false;
  }
  NotifyInstance* raw = inst.get();
  raw->watch = loop_.watch(reinterpret_cast<NativeHandle>(raw->handle.get()), io::readable,
                           [this, raw](std::uint32_t) { on_packet(raw); });
  if (raw->watch == 0) {
    err.fail(errc::internal,
             [&] { return fmt::format("NOTIFY_SOCKET: cannot watch \"{}\"", address_); });
    return false;
  }
  instances_.push_back(std::move(inst));
  if (::ConnectNamedPipe(raw->handle.get(), &raw->ov)) {
    raw->pending = true;  // its completion comes to the port all the same
  } else if (const DWORD code = ::GetLastError(); code == ERROR_IO_PENDING) {
    raw->pending = true;
  } else if (code == ERROR_PIPE_CONNECTED) {
    // A client came between the creation and the connect: no completion will come for it.
    raw->connected = true;
    ::GetNamedPipeClientProcessId(raw->handle.get(), &raw->client);
    read_next(raw);
    ErrorSink ignored;
    return listen(ignored);
  } else {
    drop(raw);
    return false;
  }
  return true;
}

SUPERVISOR_INLINE void NotifyPipe::read_next(NotifyInstance* inst) {
  inst->ov = OVERLAPPED{};
  if (::ReadFile(inst->handle.get(), inst->buf, sizeof inst->buf, nullptr, &inst->ov) ||
      ::GetLastError() == ERROR_IO_PENDING || ::GetLastError() == ERROR_MORE_DATA) {
    inst->pending = true;  // a completion comes to the port either way
  } else {
    drop(inst);  // the client is gone
  }
}

SUPERVISOR_INLINE void NotifyPipe::on_packet(NotifyInstance* inst) {
  if (!inst->pending) return;
  inst->pending = false;
  DWORD n = 0;
  const bool ok = ::GetOverlappedResult(inst->handle.get(), &inst->ov, &n, FALSE) != 0;
  const DWORD code = ok ? 0 : ::GetLastError();
  if (!inst->connected) {
    if (!ok && code != ERROR_PIPE_CONNECTED) {
      drop(inst);
    } else {
      inst->connected = true;
      ::GetNamedPipeClientProcessId(inst->handle.get(), &inst->client);
      read_next(inst);
    }
    ErrorSink ignored;
    listen(ignored);  // the next client's instance
    return;
  }
  if (!ok && code != ERROR_MORE_DATA) {
    drop(inst);  // ERROR_BROKEN_PIPE: the client closed its handle
    return;
  }
  if (ok && !inst->oversized) {
    const NotifyNote note =
        parse_notify(std::string_view(inst->buf, n), static_cast<int>(inst->client));
    read_next(inst);
    on_note_(note);  // last: it may close this channel (the pool's stop, say)
    return;
  }
  // A message longer than the buffer is no notification: its pieces are read and dropped.
  inst->oversized = !ok;
  read_next(inst);
}

SUPERVISOR_INLINE void NotifyPipe::drop(NotifyInstance* inst) {
  if (inst->pending) {
    ::CancelIoEx(inst->handle.get(), &inst->ov);
    DWORD n = 0;
    ::GetOverlappedResult(inst->handle.get(), &inst->ov, &n, TRUE);
    inst->pending = false;
  }
  if (inst->watch != 0)
    loop_.unwatch(std::exchange(inst->watch, 0),
                  reinterpret_cast<NativeHandle>(inst->handle.get()));
  auto it = std::find_if(instances_.begin(), instances_.end(),
                         [&](const auto& p) { return p.get() == inst; });
  if (it != instances_.end()) instances_.erase(it);
}

}  // namespace supervisor::detail::win
