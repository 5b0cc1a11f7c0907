// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The network checks' I/O on Windows: an overlapped Winsock socket whose completions come through
// the loop's completion port (windows_poller.hpp), one operation in flight at a time: ConnectEx,
// then WSASend until the request is out, then WSARecv until the status line is in (or the peer
// closes). A cancelled or timed-out attempt cancels its operation (CancelIoEx) and waits for it to
// end before the socket is closed: the OVERLAPPED it names lives in the attempt until then. The
// packet that cancellation still queues comes under a watch that is gone, which the loop ignores.
//
// Winsock is started once per process, on the first probe (WSAStartup, thread-safe through a
// function-local static) and never cleaned up: WSACleanup is reference-counted, and a library
// that called it while the host (or another library) uses sockets would not break anything, but
// one that called it at exit could race the host's own sockets; the process's end releases it.
#include <supervisor/health.hpp>

// winsock2.h before windows.h (which would otherwise bring the old winsock.h).
#include <winsock2.h>
// After it:
#include <mswsock.h>
#include <windows.h>
#include <ws2tcpip.h>

#include <fmt/format.h>

#include <cstring>
#include <system_error>

#include "../process/loop_core.hpp"
#include "../process/probes.hpp"
#include "status_map.hpp"
#include "unique_handle.hpp"

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

// Winsock's names for the errors a probe meets (the system's message may be missing: Wine has
// no text for most of them).
SUPERVISOR_INLINE const char* wsa_error_name(int code) noexcept {
  switch (code) {
    case WSAECONNREFUSED: return "WSAECONNREFUSED";
    case WSAECONNRESET: return "WSAECONNRESET";
    case WSAECONNABORTED: return "WSAECONNABORTED";
    case WSAETIMEDOUT: return "WSAETIMEDOUT";
    case WSAENETUNREACH: return "WSAENETUNREACH";
    case WSAEHOSTUNREACH: return "WSAEHOSTUNREACH";
    case WSAEADDRNOTAVAIL: return "WSAEADDRNOTAVAIL";
    case WSAEAFNOSUPPORT: return "WSAEAFNOSUPPORT";
    case WSA_OPERATION_ABORTED: return "WSA_OPERATION_ABORTED";
    default: return nullptr;
  }
}

// "No connection could be made ... (Winsock error 10061 WSAECONNREFUSED)".
SUPERVISOR_INLINE std::string wsa_message(int code) {
  std::string text = std::system_category().message(code);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == '.'))
    text.pop_back();
  const char* name = wsa_error_name(code);
  if (name == nullptr) return fmt::format("{} (Winsock error {})", text, code);
  return fmt::format("{} (Winsock error {} {})", text, code, name);
}

// WSAStartup, once per process; its error (0 when started).
SUPERVISOR_INLINE int winsock_started() {
  static const int error = [] {
    WSADATA data{};
    return ::WSAStartup(MAKEWORD(2, 2), &data);
  }();
  return error;
}

SUPERVISOR_LOCAL_END

// One connection attempt, owned by the loop's watch of its socket (loop thread only).
struct TcpCheck::Attempt : std::enable_shared_from_this<Attempt> {
  enum class Step { connect, send, receive };

  ProbeTarget target;
  std::shared_ptr<detail::LoopCore> loop;
  SOCKET sock = INVALID_SOCKET;
  std::uint64_t watch = 0;
  ProbeCallback done;
  bool finished = false;
  std::string request;
  std::size_t sent = 0;
  std::string response;
  std::string endpoint;

  // The one overlapped operation in flight (`pending`), and what it is. Its event lets a cancel
  // wait for its end (WSAGetOverlappedResult may wait only on an event); the completion still
  // goes to the port.
  OVERLAPPED ov{};
  detail::win::UniqueHandle op_event{::CreateEventW(nullptr, TRUE, FALSE, nullptr)};
  bool pending = false;
  Step step = Step::connect;
  char buf[2048];

  Attempt() = default;
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;
  ~Attempt() { close(); }

  // Ends the operation in flight (cancelled, and waited for), then closes the socket.
  void close() noexcept {
    if (sock == INVALID_SOCKET) return;
    if (pending) {
      ::CancelIoEx(reinterpret_cast<HANDLE>(sock), &ov);
      DWORD n = 0;
      DWORD flags = 0;
      ::WSAGetOverlappedResult(sock, &ov, &n, TRUE, &flags);
      pending = false;
    }
    ::closesocket(std::exchange(sock, INVALID_SOCKET));
  }

  void finish(ProbeResult r) {
    if (finished) return;
    finished = true;
    close();
    if (watch) loop->unwatch(std::exchange(watch, 0), 0);
    auto d = std::move(done);
    d(std::move(r));
  }

  // Arms `ov` for the next operation.
  OVERLAPPED* next_op(Step s) noexcept {
    ov = OVERLAPPED{};
    ov.hEvent = op_event.get();
    ::ResetEvent(op_event.get());
    step = s;
    return &ov;
  }

  // After starting an operation: `ok` its immediate answer. Without
  // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, one that finished at once still posts its packet, so
  // both ways wait for it; a failure to start posts none.
  void started(bool ok, std::string_view what) {
    const int error = ok ? 0 : ::WSAGetLastError();
    if (ok || error == WSA_IO_PENDING) {
      pending = true;
      return;
    }
    finish(ProbeResult::unhealthy(fmt::format("{} {}: {}", what, endpoint, wsa_message(error))));
  }

  // The watch's packet: the operation in flight ended (or a stale packet: looked at, ignored).
  void on_packet() {
    if (finished || !pending) return;
    DWORD n = 0;
    DWORD flags = 0;
    const BOOL ok = ::WSAGetOverlappedResult(sock, &ov, &n, FALSE, &flags);
    const int error = ok ? 0 : ::WSAGetLastError();
    if (!ok && error == WSA_IO_INCOMPLETE) return;
    pending = false;
    switch (step) {
      case Step::connect: return connected(error);
      case Step::send: return sent_some(error, n);
      case Step::receive: return received(error, n);
    }
  }

  void connected(int error) {
    if (error != 0) {
      finish(ProbeResult::unhealthy(fmt::format("connect {}: {}", endpoint, wsa_message(error))));
      return;
    }
    // What getpeername, shutdown and the like need on a ConnectEx socket.
    ::setsockopt(sock, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, nullptr, 0);
    if (request.empty()) {
      finish(ProbeResult::healthy("connected to " + endpoint));
      return;
    }
    send_more();
  }

  void send_more() {
    WSABUF b{static_cast<ULONG>(request.size() - sent), request.data() + sent};
    DWORD n = 0;
    started(::WSASend(sock, &b, 1, &n, 0, next_op(Step::send), nullptr) == 0, "send to");
  }

  void sent_some(int error, DWORD n) {
    if (error != 0) {
      finish(ProbeResult::unhealthy(fmt::format("send to {}: {}", endpoint, wsa_message(error))));
      return;
    }
    sent += n;
    if (sent < request.size()) {
      send_more();
      return;
    }
    receive_more();
  }

  void receive_more() {
    WSABUF b{static_cast<ULONG>(sizeof buf), buf};
    DWORD n = 0;
    DWORD flags = 0;
    started(::WSARecv(sock, &b, 1, &n, &flags, next_op(Step::receive), nullptr) == 0, "read from");
  }

  void received(int error, DWORD n) {
    if (error != 0) {
      finish(ProbeResult::unhealthy(fmt::format("read from {}: {}", endpoint, wsa_message(error))));
      return;
    }
    response.append(buf, n);
    // More to come, unless the peer closed (0 bytes) or the status line is in.
    if (n != 0 && !detail::http_status_line_in(response)) {
      receive_more();
      return;
    }
    finish(detail::judge_http_response(response, endpoint));
  }
};

SUPERVISOR_INLINE TcpCheck::~TcpCheck() = default;

SUPERVISOR_INLINE void TcpCheck::probe(const ProbeTarget& target, ProbeCallback done) {
  if (!target.loop) {
    done(ProbeResult::unknown(name() + " checks need a real Loop"));
    return;
  }
  const ProbeEndpoint at = endpoint_of(target);  // what it throws, the pool reports
  if (const int error = winsock_started(); error != 0) {
    done(ProbeResult::unknown(fmt::format("WSAStartup: {}", wsa_message(error))));
    return;
  }
  const std::uint16_t port = at.port;
  sockaddr_storage addr{};
  int addr_len = 0;
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
  if (!a->op_event) {
    a->finish(ProbeResult::unknown(
        fmt::format("CreateEventW: {}", detail::win32_error_note(::GetLastError()))));
    return;
  }
  // Not inherited: a child spawned meanwhile must not hold the probe's connection open.
  a->sock = ::WSASocketW(addr.ss_family, SOCK_STREAM, IPPROTO_TCP, nullptr, 0,
                         WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (a->sock == INVALID_SOCKET) {
    a->finish(ProbeResult::unknown(fmt::format("socket: {}", wsa_message(::WSAGetLastError()))));
    return;
  }
  // ConnectEx wants a bound socket: the family's wildcard address, any port.
  sockaddr_storage any{};
  any.ss_family = addr.ss_family;
  GUID connect_ex_id = WSAID_CONNECTEX;
  LPFN_CONNECTEX connect_ex = nullptr;
  DWORD got = 0;
  if (::bind(a->sock, reinterpret_cast<const sockaddr*>(&any), addr_len) != 0 ||
      ::WSAIoctl(a->sock, SIO_GET_EXTENSION_FUNCTION_POINTER, &connect_ex_id, sizeof connect_ex_id,
                 &connect_ex, sizeof connect_ex, &got, nullptr, nullptr) != 0) {
    a->finish(
        ProbeResult::unknown(fmt::format("socket setup: {}", wsa_message(::WSAGetLastError()))));
    return;
  }
  a->watch = a->loop->watch(static_cast<detail::NativeHandle>(a->sock), detail::io::readable,
                            [a](std::uint32_t) { a->on_packet(); });
  if (a->watch == 0) {
    a->finish(ProbeResult::unknown(
        fmt::format("cannot watch the socket: {}", detail::win32_error_note(::GetLastError()))));
    return;
  }
  a->started(connect_ex(a->sock, reinterpret_cast<const sockaddr*>(&addr), addr_len, nullptr, 0,
                        nullptr, a->next_op(Attempt::Step::connect)) != FALSE,
             "connect");
  std::lock_guard lock(mu_);
  detail::keep_attempt(attempts_, std::move(a));
}

SUPERVISOR_INLINE void TcpCheck::cancel(const ProbeTarget& target) {
  std::vector<std::shared_ptr<Attempt>> mine;
  {
    std::lock_guard lock(mu_);
    mine = detail::attempts_for(attempts_, target);
  }
  // Loop thread (the pool cancels there): cancelling the operation and closing the socket ends
  // the attempt.
  for (auto& a : mine) a->finish(ProbeResult::unhealthy("timed out"));
}

}  // namespace supervisor
