// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The sd_notify protocol, receiving side: one datagram socket per worker incarnation, bound to
// an abstract address that the worker finds in NOTIFY_SOCKET ("@supervisor/<random>"). Daemons
// written for systemd send "READY=1", "STATUS=...", "WATCHDOG=1" to it unchanged.
//
// Abstract names are machine-wide (per network namespace), listed in /proc/net/unix, and carry no
// permissions: anyone may bind a name first or send to one. So the names are random (128 bits
// from getrandom(2): nothing to guess, nothing about the host to learn), a name found taken is
// replaced by a fresh one rather than failing the start, and the pool checks each datagram's
// sender (SCM_CREDENTIALS, the kernel's word) against the worker's tree.

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/error.hpp>

#include "../posix/unique_fd.hpp"
#include "../process/notify_note.hpp"

namespace supervisor::detail {

class NotifySocket {
 public:
  // Creates and binds the socket (non-blocking, close-on-exec, credentials passed) to
  // "<prefix>/<32 random hex digits>", with a fresh name for each one found taken.
  void open(std::string_view prefix, ErrorSink& err);
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

// Test hook (never set outside tests): when set, each bind attempt takes the random part of its
// name from here, so that a test can make a name collide. Set it before the pool starts.
std::function<std::string()>& notify_name_source_for_tests();

}  // namespace supervisor::detail
