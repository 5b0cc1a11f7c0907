// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include <supervisor/export.hpp>

namespace supervisor::detail {

// One sd_notify datagram, parsed: what the pool acts on.
struct NotifyNote {
  int sender = 0;  // from SCM_CREDENTIALS (the kernel's word, not the sender's)
  bool ready = false;
  bool watchdog = false;
  bool stopping = false;
  bool has_status = false;
  std::string status;
};

// Parses one datagram's "KEY=VALUE\n..." text (the real socket's and the fake world's parser).
NotifyNote parse_notify(std::string_view text, int sender);

// An open sd_notify channel of one worker incarnation (a backend's socket, or the fake world's);
// closing it (destruction, loop thread) stops delivery.
class NotifyChannel {
 public:
  virtual ~NotifyChannel() = default;
  // What the worker finds in NOTIFY_SOCKET.
  [[nodiscard]] virtual const std::string& address() const = 0;
};

}  // namespace supervisor::detail
