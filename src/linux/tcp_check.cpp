// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The network checks' I/O on Linux: a non-blocking socket watched by the pool's loop.
#include <supervisor/health.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "../posix/errno_text.hpp"
#include "../posix/unique_fd.hpp"
#include "../process/loop_core.hpp"
#include "../process/probes.hpp"

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_LOCAL_END

// One connection attempt, owned by the loop's watch of its socket (loop thread only).
struct TcpCheck::Attempt : std::enable_shared_from_this<Attempt> {
  ProbeTarget target;
  std::shared_ptr<detail::LoopCore> loop;
  detail::UniqueFd fd;
  std::uint64_t watch = 0;
  ProbeCallback done;
  bool finished = false;
  std::string request;
  std::size_t sent = 0;
  std::string response;
  std::string endpoint;

  void finish(ProbeResult r) {
    if (finished) return;
    finished = true;
    if (watch) loop->unwatch(watch, fd.get());
    watch = 0;
    fd.reset();
    auto d = std::move(done);
    d(std::move(r));
  }

  void on_event(std::uint32_t events) {
    if (finished) return;
    if (!connected_) {
      int error = 0;
      socklen_t len = sizeof error;
      if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
      if (error != 0) {
        finish(ProbeResult::unhealthy(
            fmt::format("connect {}: {}", endpoint, detail::sys_message(error))));
        return;
      }
      if ((events & (detail::io::error | detail::io::hangup)) != 0 && request.empty()) {
        finish(ProbeResult::unhealthy(fmt::format("connect {}: connection failed", endpoint)));
        return;
      }
      connected();
      return;
    }
    if (sent < request.size()) {
      send_more();
      return;
    }
    read_response();
  }

  void connected() {
    connected_ = true;
    if (request.empty()) {
      finish(ProbeResult::healthy("connected to " + endpoint));
      return;
    }
    send_more();
  }

  void send_more() {
    while (sent < request.size()) {
      const ssize_t n =
          ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        loop->rewatch(watch, fd.get(), detail::io::writable);
        return;
      }
      if (n < 0) {
        finish(ProbeResult::unhealthy(
            fmt::format("send to {}: {}", endpoint, detail::sys_message(errno))));
        return;
      }
      sent += static_cast<std::size_t>(n);
    }
    loop->rewatch(watch, fd.get(), detail::io::readable | detail::io::peer_closed);
  }

  void read_response() {
    char buf[2048];
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) {
        finish(ProbeResult::unhealthy(
            fmt::format("read from {}: {}", endpoint, detail::sys_message(errno))));
        return;
      }
      if (n == 0) break;
      response.append(buf, static_cast<std::size_t>(n));
      if (detail::http_status_line_in(response)) break;
    }
    if (!detail::http_status_line_in(response)) {
      // More to come, unless the peer closed.
      char probe_byte;
      const ssize_t n = ::recv(fd.get(), &probe_byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n != 0) return;
    }
    finish(detail::judge_http_response(response, endpoint));
  }

  bool connected_ = false;
};

SUPERVISOR_INLINE TcpCheck::~TcpCheck() = default;

SUPERVISOR_INLINE void TcpCheck::probe(const ProbeTarget& target, ProbeCallback done) {
  if (!target.loop) {
    done(ProbeResult::unknown(name() + " checks need a real Loop"));
    return;
  }
  const ProbeEndpoint at = endpoint_of(target);  // what it throws, the pool reports
  const std::uint16_t port = at.port;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  const std::string host = at.address == "localhost" ? "127.0.0.1" : at.address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    addr_len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    addr_len = sizeof *v6;
  } else {
    done(ProbeResult::unknown(fmt::format(
        "\"{}\" is not a numeric address (names are not resolved: that could block)", at.address)));
    return;
  }
  auto a = std::make_shared<Attempt>();
  a->target = target;
  a->loop = target.loop;
  a->done = std::move(done);
  a->request = request_for(at);
  a->endpoint = detail::probe_endpoint_text(host, port, addr.ss_family == AF_INET6);
  a->fd.reset(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!a->fd) {
    a->finish(ProbeResult::unknown(fmt::format("socket: {}", detail::sys_message(errno))));
    return;
  }
  int r;
  do {
    r = ::connect(a->fd.get(), reinterpret_cast<const sockaddr*>(&addr), addr_len);
  } while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EINPROGRESS) {
    a->finish(ProbeResult::unhealthy(
        fmt::format("connect {}: {}", a->endpoint, detail::sys_message(errno))));
    return;
  }
  a->watch =
      a->loop->watch(a->fd.get(), detail::io::writable, [a](std::uint32_t ev) { a->on_event(ev); });
  if (a->watch == 0) {
    a->finish(ProbeResult::unknown("cannot watch the socket"));
    return;
  }
  std::lock_guard lock(mu_);
  detail::keep_attempt(attempts_, std::move(a));
}

SUPERVISOR_INLINE void TcpCheck::cancel(const ProbeTarget& target) {
  std::vector<std::shared_ptr<Attempt>> mine;
  {
    std::lock_guard lock(mu_);
    mine = detail::attempts_for(attempts_, target);
  }
  // Loop thread (the pool cancels there): closing the socket ends the attempt.
  for (auto& a : mine) a->finish(ProbeResult::unhealthy("timed out"));
}

}  // namespace supervisor
