// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The sd_notify protocol on Windows, receiving side: one named pipe per worker incarnation, in
// message mode, whose name the worker finds in NOTIFY_SOCKET
// (\\.\pipe\supervisor-notify-<host pid>-<n>-<random>). The wire format: each notification is
// one message (one WriteFile on a handle opened with CreateFileW(GENERIC_WRITE)) of the text
// systemd's sd_notify sends: "KEY=VALUE" lines separated by "\n" ("READY=1", "STATUS=...",
// "WATCHDOG=1", "STOPPING=1"). A client may keep its handle open for many messages, or open it
// for each one (as sd_notify does with its socket); several clients may be connected at once.
//
// Only processes of the host's user can write to it: a pipe's default security grants the
// creator (and SYSTEM, and administrators) full access and others read access only, which an
// inbound pipe's client cannot use. Remote clients are refused. The sender of each message is
// GetNamedPipeClientProcessId's (the system's word), which the pool checks against the worker's
// tree as on Linux.
//
// Loop thread only. Each pipe instance has one overlapped operation in flight (a connect, then
// reads), its completion reported under the instance's own watch (windows_poller.hpp); one
// instance always waits for the next client.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <supervisor/error.hpp>

#include "../process/notify_note.hpp"

namespace supervisor::detail {

class LoopCore;

namespace win {

struct NotifyInstance;

class NotifyPipe final : public NotifyChannel {
 public:
  NotifyPipe(LoopCore& loop, std::function<void(const NotifyNote&)> on_note);
  ~NotifyPipe() override;
  NotifyPipe(const NotifyPipe&) = delete;
  NotifyPipe& operator=(const NotifyPipe&) = delete;

  // Creates the pipe's first instance and starts waiting for a client.
  void open(ErrorSink& err);
  [[nodiscard]] const std::string& address() const override { return address_; }

 private:
  bool listen(ErrorSink& err);
  void on_packet(NotifyInstance* instance);
  void read_next(NotifyInstance* instance);
  void drop(NotifyInstance* instance);

  LoopCore& loop_;
  std::function<void(const NotifyNote&)> on_note_;
  std::string address_;
  std::vector<std::unique_ptr<NotifyInstance>> instances_;
};

}  // namespace win
}  // namespace supervisor::detail
