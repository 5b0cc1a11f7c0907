// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The seam under ServiceNotifier (include/supervisor/service_notify.hpp): what the environment
// says about the host's own service manager, and the socket to it. The portable part
// (src/core/service_notify.cpp) parses the variables and builds the messages; the platform's
// (src/posix/service_socket.cpp; src/process/no_service_socket.cpp where there is no systemd)
// reads the environment, owns the socket and sends. Never used for the workers' notify sockets
// (src/linux/notify_socket.*), which are the receiving side.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>

namespace supervisor::detail {

struct ServiceEndpoint {
  std::string address;  // NOTIFY_SOCKET as read; empty: not under a service manager
  int fd = -1;          // the datagram socket to it (POSIX); -1: none
  std::optional<Duration> watchdog_interval;
};

// Portable. Checks the form of a non-empty NOTIFY_SOCKET: an absolute path or "@name"
// (errc::invalid_argument), not a "vsock:" address (errc::unsupported).
void check_notify_socket(std::string_view value, ErrorSink& err);
// Portable. WATCHDOG_USEC / WATCHDOG_PID (null: unset) for the process `self_pid`: the interval
// when it is meant for it, none when WATCHDOG_USEC is unset or WATCHDOG_PID names another
// process; errc::invalid_argument for a value that is not a (positive) number.
std::optional<Duration> parse_watchdog(const char* usec, const char* pid, std::int64_t self_pid,
                                       ErrorSink& err);

// Platform. Reads the environment and, when NOTIFY_SOCKET is set, checks it and opens the socket
// (close-on-exec). Leaves `out` empty outside a service manager.
void open_service_endpoint(ServiceEndpoint& out, ErrorSink& err);
// Platform. Sends `datagram` as one datagram to the endpoint; never blocks, never raises SIGPIPE.
void send_service_datagram(const ServiceEndpoint& to, std::string_view datagram, ErrorSink& err);
// Platform. Closes the socket.
void close_service_endpoint(ServiceEndpoint& endpoint) noexcept;
// Platform. CLOCK_MONOTONIC now, in microseconds (systemd's MONOTONIC_USEC clock).
std::uint64_t service_monotonic_usec() noexcept;
// Platform. This process's id (0 where there is no fork to tell apart).
std::int64_t service_process_id() noexcept;
// Platform. Names the calling thread "sv-notify" where threads have names.
void name_service_thread() noexcept;

}  // namespace supervisor::detail
