// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The host's own sd_notify client, POSIX side: the environment, the datagram socket, the
// monotonic clock systemd's MONOTONIC_USEC is read against.
#include "../core/service_endpoint.hpp"
#include "errno_text.hpp"
#include "unique_fd.hpp"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// The address NOTIFY_SOCKET names ("@name": abstract, a leading NUL and no trailing one, as
// systemd binds it; "/path": a NUL-terminated path). False when it does not fit sun_path.
SUPERVISOR_INLINE bool service_sockaddr(const std::string& address, sockaddr_un& addr,
                                        socklen_t& len) {
  addr = sockaddr_un{};
  addr.sun_family = AF_UNIX;
  const bool abstract = address.front() == '@';
  // A path needs its NUL; an abstract name takes the leading NUL's place of the '@'.
  if (address.size() + (abstract ? 0 : 1) > sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, address.data(), address.size());
  if (abstract) addr.sun_path[0] = '\0';
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() +
                               (abstract ? 0 : 1));
  return true;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void open_service_endpoint(ServiceEndpoint& out, ErrorSink& err) {
  out = ServiceEndpoint{};
  // Read once; the environment is never changed (unsetting NOTIFY_SOCKET, as sd_notify's
  // unset_environment does, would race with every other thread of the host reading it).
  const char* socket_var = ::getenv("NOTIFY_SOCKET");
  if (socket_var == nullptr || *socket_var == '\0') return;  // not under a service manager
  const std::string address(socket_var);
  check_notify_socket(address, err);
  if (err) return;
  sockaddr_un addr{};
  socklen_t len = 0;
  if (!service_sockaddr(address, addr, len)) {
    return err.fail(errc::invalid_argument, [&] {
      return fmt::format("NOTIFY_SOCKET \"{}\": longer than a socket address holds ({} bytes)",
                         address, sizeof addr.sun_path - 1);
    });
  }
  const auto watchdog = parse_watchdog(::getenv("WATCHDOG_USEC"), ::getenv("WATCHDOG_PID"),
                                       service_process_id(), err);
  if (err) return;
  // Non-blocking: a service manager that stops reading makes a send fail (EAGAIN) rather than
  // stall the host's thread. Close-on-exec: the workers never inherit the host's socket.
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    const int e = errno;
    return err.fail(std::error_code(e, std::system_category()), [&] {
      return fmt::format("sd_notify socket for NOTIFY_SOCKET \"{}\": {}", address,
                         sys_message(e));
    });
  }
  out.address = address;
  out.watchdog_interval = watchdog;
  out.fd = fd.release();
}

SUPERVISOR_INLINE void send_service_datagram(const ServiceEndpoint& to, std::string_view datagram,
                                             ErrorSink& err) {
  sockaddr_un addr{};
  socklen_t len = 0;
  if (to.fd < 0 || !service_sockaddr(to.address, addr, len)) {
    return err.fail(errc::not_running, [] { return std::string("sd_notify: no socket"); });
  }
  for (;;) {
    // MSG_NOSIGNAL: a send must never raise SIGPIPE in the host.
    const ssize_t n = ::sendto(to.fd, datagram.data(), datagram.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&addr), len);
    if (n >= 0) return;  // a datagram goes whole or not at all
    if (errno == EINTR) continue;
    const int e = errno;
    return err.fail(std::error_code(e, std::system_category()), [&] {
      const std::string_view first = datagram.substr(0, datagram.find('\n'));
      return fmt::format("sd_notify \"{}\" to \"{}\": {}", first.substr(0, 64), to.address,
                         sys_message(e));
    });
  }
}

SUPERVISOR_INLINE void close_service_endpoint(ServiceEndpoint& endpoint) noexcept {
  UniqueFd(endpoint.fd).reset();
  endpoint.fd = -1;
}

SUPERVISOR_INLINE std::uint64_t service_monotonic_usec() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

SUPERVISOR_INLINE std::int64_t service_process_id() noexcept {
  return static_cast<std::int64_t>(::getpid());
}

SUPERVISOR_INLINE void name_service_thread() noexcept {
#if defined(__linux__)
  ::pthread_setname_np(::pthread_self(), "sv-notify");
#endif
}

}  // namespace supervisor::detail
