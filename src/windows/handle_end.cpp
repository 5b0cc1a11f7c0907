// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "handle_end.hpp"

#include <windows.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <system_error>

#include "../process/end_state.hpp"
#include "pipes.hpp"

namespace supervisor::detail::win {
SUPERVISOR_LOCAL_BEGIN

// How one overlapped operation ended.
struct HandleIo {
  enum class How { done, timed_out, closed, failed };
  How how = How::done;
  DWORD bytes = 0;  // what went, in every case (a write cut short by its timeout: a part)
  DWORD code = 0;   // failed: the Win32 error (ERROR_MORE_DATA: a message's first part was read)
};

// The child closed its end of the pipe, or ended.
SUPERVISOR_INLINE bool handle_end_peer_error(DWORD code) noexcept {
  return code == ERROR_BROKEN_PIPE || code == ERROR_NO_DATA || code == ERROR_PIPE_NOT_CONNECTED;
}

// A stdin write goes in pieces of at most the pipe's buffer: a piece the child is slow to read
// is the most that one cancelled write leaves in the balance.
constexpr std::size_t handle_end_write_piece = 65536;

class HandleEnd final : public CountedEnd {
 public:
  HandleEnd(UniqueHandle pipe, UniqueHandle closing)
      : pipe_(pipe.release()), closing_(std::move(closing)) {}
  ~HandleEnd() override {
    if (!released()) ::CloseHandle(pipe_);
  }
  HandleEnd(const HandleEnd&) = delete;
  HandleEnd& operator=(const HandleEnd&) = delete;

  std::size_t write(std::string_view data, Duration timeout, ErrorSink& err) override {
    if (!hold("write", err)) return 0;
    EndDeadline deadline(timeout);
    std::size_t written = 0;
    while (written < data.size()) {
      const auto piece =
          static_cast<DWORD>(std::min(data.size() - written, handle_end_write_piece));
      // WriteFile only reads the buffer.
      char* from = const_cast<char*>(data.data()) + written;
      const HandleIo io = transfer(true, from, piece, deadline);
      written += io.bytes;
      if (io.how == HandleIo::How::done) continue;
      if (io.how != HandleIo::How::timed_out) fail(io, "write", err);
      break;  // the timeout: what went, went
    }
    let_go();
    return written;
  }

  void close(bool host) noexcept override {
    // Every call waiting on this end wakes now, cancels its own I/O and says the end is closed.
    if (mark_closed(host)) ::SetEvent(closing_.get());
    let_go();
  }

 private:
  // The closing event goes too: a call to come fails before it would wait on it, and a Channel
  // kept past its process holds no handle of the host.
  void release_handle() noexcept override {
    ::CloseHandle(pipe_);
    closing_.reset();
  }

  bool check_send(std::string_view message, ErrorSink& err) const override {
    if (!check_message(message, err)) return false;
    if (message.size() <= channel_message_max) return true;
    fail_message_size(message.size(), "64 KiB, its pipe's buffer", err);
    return false;
  }

  // Waits for an operation under way (its `event`), the end's closing, or the deadline.
  HandleIo::How await(HANDLE event, EndDeadline& deadline, DWORD& code) {
    const HANDLE waits[2] = {event, closing_.get()};
    for (;;) {
      const int ms = deadline.wait_ms();
      const DWORD w =
          ::WaitForMultipleObjects(2, waits, FALSE, ms < 0 ? INFINITE : static_cast<DWORD>(ms));
      if (w == WAIT_OBJECT_0) return HandleIo::How::done;
      if (w == WAIT_OBJECT_0 + 1) return HandleIo::How::closed;
      if (w == WAIT_TIMEOUT) {
        if (ms == 0) return HandleIo::How::timed_out;
        continue;  // a wait cut at INT_MAX ms, or early: go on with what is left
      }
      code = ::GetLastError();
      return HandleIo::How::failed;
    }
  }

  // One overlapped ReadFile or WriteFile of `size` bytes at `data`, with an event of its own (so
  // that calls on other threads go on beside it), waited for within the deadline. Cut short
  // (timeout, close), it is cancelled, and waited for until Windows has let go of the buffer:
  // what it moved by then is reported, as Windows reports it.
  HandleIo transfer(bool write, char* data, DWORD size, EndDeadline& deadline) {
    UniqueHandle event{::CreateEventW(nullptr, TRUE, FALSE, nullptr)};
    if (!event) return {HandleIo::How::failed, 0, ::GetLastError()};
    OVERLAPPED ov{};
    ov.hEvent = event.get();
    const BOOL ok = write ? ::WriteFile(pipe_, data, size, nullptr, &ov)
                          : ::ReadFile(pipe_, data, size, nullptr, &ov);
    DWORD code = ok ? 0 : ::GetLastError();
    // ERROR_MORE_DATA: a message larger than `size` began, its first part read (as completed).
    if (!ok && code != ERROR_IO_PENDING && code != ERROR_MORE_DATA)
      return {HandleIo::How::failed, 0, code};
    HandleIo::How how = HandleIo::How::done;
    if (!ok && code == ERROR_IO_PENDING) {
      how = await(event.get(), deadline, code);
      if (how != HandleIo::How::done) ::CancelIoEx(pipe_, &ov);
    }
    DWORD bytes = 0;
    // It went after all (done before the cancel reached it): it counts.
    if (::GetOverlappedResult(pipe_, &ov, &bytes, TRUE)) return {HandleIo::How::done, bytes, 0};
    const DWORD result = ::GetLastError();
    if (result == ERROR_OPERATION_ABORTED && how != HandleIo::How::done) return {how, bytes, code};
    return {HandleIo::How::failed, bytes, result};
  }

  void send_held(std::string_view message, EndDeadline& deadline, ErrorSink& err) override {
    // WriteFile only reads the buffer.
    const HandleIo io = transfer(true, const_cast<char*>(message.data()),
                                 static_cast<DWORD>(message.size()), deadline);
    if (io.how == HandleIo::How::done) return;
    if (io.how == HandleIo::How::timed_out) {
      fail_timeout("send", "no room for the message", deadline, err);
      return;
    }
    fail(io, "send", err);
  }

  void receive_held(std::string& message, EndDeadline& deadline, ErrorSink& err) override {
    // One receive at a time: a message larger than the first read is read on in more reads,
    // which another thread's read must not cut in between.
    std::unique_lock<std::timed_mutex> one(receiving_, std::defer_lock);
    const int ms = deadline.wait_ms();
    if (ms < 0) {
      one.lock();
    } else if (!one.try_lock_for(std::chrono::milliseconds(ms))) {
      message.clear();
      if (closed()) {
        report_closed("receive", err);
      } else {
        fail_timeout("receive", "no message", deadline, err);
      }
      return;
    }
    message.resize(channel_message_max);
    HandleIo io = transfer(false, message.data(), static_cast<DWORD>(message.size()), deadline);
    std::size_t got = io.bytes;
    while (io.how == HandleIo::How::failed && io.code == ERROR_MORE_DATA) {
      // The rest of the message is in the pipe already: this read does not wait.
      DWORD left = 0;
      if (!::PeekNamedPipe(pipe_, nullptr, 0, nullptr, nullptr, &left)) {
        io = {HandleIo::How::failed, 0, ::GetLastError()};
        break;
      }
      message.resize(got + std::max<DWORD>(left, 1));
      io =
          transfer(false, message.data() + got, static_cast<DWORD>(message.size() - got), deadline);
      got += io.bytes;
    }
    if (io.how == HandleIo::How::done) {
      message.resize(got);
      return;
    }
    message.clear();
    if (io.how == HandleIo::How::timed_out) {
      fail_timeout("receive", "no message", deadline, err);
      return;
    }
    fail(io, "receive", err);
  }

  // A call cut short by the end's close, or failed: the error the contract names.
  void fail(const HandleIo& io, const char* what, ErrorSink& err) const {
    if (io.how == HandleIo::How::closed || closed()) {
      report_closed(what, err);
      return;
    }
    if (handle_end_peer_error(io.code)) {
      fail_peer_gone(what, err);
      return;
    }
    const std::error_code ec(static_cast<int>(io.code), std::system_category());
    err.fail(ec, [&] { return fmt::format("{}: {}: {}", label, what, ec.message()); });
  }

  HANDLE const pipe_;     // valid until released()
  UniqueHandle closing_;  // set by the first close: wakes every waiting call; until released()
  std::timed_mutex receiving_;
};

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_handle_end(UniqueHandle pipe, ErrorSink& err) {
  // Manual reset: once closed, it stays set for every call to come.
  UniqueHandle closing{::CreateEventW(nullptr, TRUE, FALSE, nullptr)};
  if (!closing) {
    const std::error_code ec(static_cast<int>(::GetLastError()), std::system_category());
    err.fail(ec,
             [&] { return fmt::format("CreateEventW (a pipe end's close): {}", ec.message()); });
    return nullptr;
  }
  return std::make_shared<HandleEnd>(std::move(pipe), std::move(closing));
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_pipe_end(UniqueHandle pipe, ErrorSink& err) {
  return make_handle_end(std::move(pipe), err);
}

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_channel_end(UniqueHandle pipe, ErrorSink& err) {
  return make_handle_end(std::move(pipe), err);
}

}  // namespace supervisor::detail::win
