// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The sd_notify protocol, receiving side: one datagram socket per worker incarnation, bound to
// an abstract address that the worker finds in NOTIFY_SOCKET ("@supervisor/..."). Daemons
// written for systemd send "READY=1", "STATUS=...", "WATCHDOG=1" to it unchanged.

#include <sys/types.h>

#include <string>
#include <vector>

#include <supervisor/error.hpp>

#include "../posix/unique_fd.hpp"
#include "../process/notify_note.hpp"

namespace supervisor::detail {

class NotifySocket {
 public:
  // Creates and binds the socket (non-blocking, close-on-exec, credentials passed).
  void open(const std::string& abstract_name, ErrorSink& err);
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  // The value for NOTIFY_SOCKET.
  [[nodiscard]] const std::string& address() const noexcept { return address_; }
  // Reads every pending datagram (never blocks).
  std::vector<NotifyNote> receive();
  void close() noexcept { fd_.reset(); }

 private:
  UniqueFd fd_;
  std::string address_;
};

}  // namespace supervisor::detail
