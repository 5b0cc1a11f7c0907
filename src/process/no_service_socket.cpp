// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The host's own sd_notify client where there is no systemd (Windows, and platforms without a
// backend): never under a service manager, so nothing is opened and nothing is ever sent. The
// environment is not read: a NOTIFY_SOCKET there names nothing this process could reach.
#include "../core/service_endpoint.hpp"

#include <chrono>

namespace supervisor::detail {

SUPERVISOR_INLINE void open_service_endpoint(ServiceEndpoint& out, ErrorSink&) {
  out = ServiceEndpoint{};
}

SUPERVISOR_INLINE void send_service_datagram(const ServiceEndpoint&, std::string_view,
                                             ErrorSink& err) {
  // Unreachable: ServiceNotifier sends only when an endpoint was opened.
  err.fail(errc::unsupported, [] { return std::string("sd_notify: no systemd on this platform"); });
}

SUPERVISOR_INLINE void close_service_endpoint(ServiceEndpoint& endpoint) noexcept {
  endpoint.fd = -1;
}

SUPERVISOR_INLINE std::uint64_t service_monotonic_usec() noexcept {
  const auto now = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

SUPERVISOR_INLINE std::int64_t service_process_id() noexcept { return 0; }

SUPERVISOR_INLINE void name_service_thread() noexcept {}

}  // namespace supervisor::detail
