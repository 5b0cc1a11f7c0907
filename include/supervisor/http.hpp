// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// `supervisor::http` (optional component, CMake option `SUPERVISOR_HTTP`, target
/// `supervisor::http`, built on cpp-httplib): a small HTTP server that serves a `Monitor` to
/// operators and orchestrators.
///
/// | Endpoint        | 200                                   | else                                  |
/// |-----------------|---------------------------------------|---------------------------------------|
/// | `GET /metrics`  | the Prometheus exposition (0.0.4)     |                                       |
/// | `GET /healthz`  | `ok: <liveness summary>`              | 503 naming the loop that is stuck     |
/// | `GET /readyz`   | `ok: <readiness summary>`             | 503 naming the short pool and why     |
/// | `GET /status`   | JSON: `supervisor::json`'s Monitor status document (every pool's snapshot, readiness, liveness); `?brief`: counts, health, readiness, lag only | |
///
/// `HEAD` is answered on each of them (no body); another method gets 405, another path 404, a
/// missing or wrong bearer token 401, a request over the size limit 413 or 431, one that is not
/// read in time 408, a malformed one 400. Each connection serves one request (`Connection:
/// close`).
///
/// `HttpWebhookSink`: an `AlertSink` that POSTs each alert's JSON (`to_json(const Alert&)`) to a
/// URL, with a timeout and a bounded number of attempts.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

#include <supervisor/alerts.hpp>
#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>
#include <supervisor/monitor.hpp>

#if defined(SUPERVISOR_BUILDING_HTTP)
#  define SUPERVISOR_HTTP_API SUPERVISOR_COMPONENT_EXPORT
#else
#  define SUPERVISOR_HTTP_API SUPERVISOR_COMPONENT_IMPORT
#endif

namespace supervisor {

/// Options of an `HttpServer`. `HttpServer::start` checks them (`errc::invalid_argument`, naming
/// the field and its value).
struct HttpServerOptions {
  /// The IPv4 or IPv6 address to listen on (a literal, no host name). Loopback by default:
  /// expose it on purpose (`0.0.0.0`), ideally with a `bearer_token`.
  std::string address = "127.0.0.1";
  /// The TCP port; 0 (the default): a free one, which `HttpServer::port()` reports.
  std::uint16_t port = 0;
  /// When not empty, every request must carry `Authorization: Bearer <token>` (compared in
  /// constant time); else 401 with `WWW-Authenticate: Bearer`. Printable ASCII, no space.
  std::string bearer_token;
  /// Whether `/healthz` and `/readyz` need the token too. False (the default): the probes are
  /// open, since kubelet probes seldom carry a token and they tell little; `/metrics` and
  /// `/status` always need it when there is one.
  bool probes_need_token = false;
  /// Connections served at once (1 to 1024), each by a worker thread of its own. A connection
  /// beyond them is answered a fast 503 on the listener thread and closed; none is queued.
  std::size_t max_connections = 8;
  /// How long a client has to send its whole request (line, headers and body), counted from
  /// the accept: a client that dribbles (a byte per second) is answered 408 and cut off then.
  /// 1 ms to 1 h.
  Duration read_timeout = std::chrono::seconds(5);
  /// How long writing a response may take, counted from its first byte: a client that does
  /// not read is cut off then. 1 ms to 1 h.
  Duration write_timeout = std::chrono::seconds(5);
  /// The largest request (request line, headers and body together), 1 KiB to 16 MiB: beyond
  /// it, 431 (headers) or 413 (body), and the connection is closed.
  std::size_t max_request_bytes = 64 * 1024;
};

/// Counters of the server itself (also on `/metrics`, as `supervisor_http_*`).
struct HttpServerCounters {
  std::uint64_t requests = 0;  ///< Requests answered (any code).
  std::uint64_t refused = 0;   ///< Connections refused over `max_connections`.
  std::uint64_t unauthorized = 0;  ///< Requests answered 401.
  std::uint64_t bad_requests = 0;  ///< Requests answered 400, 408, 413 or 431 (or dropped).
};

/// Serves a `Monitor` over HTTP (see the file's table). Threads: `start()` creates one listener
/// thread and `max_connections` worker threads (named `sv-http`), `stop()` (or the destructor)
/// joins them all. A request takes the monitor's answers on a worker thread: a pool's loop is
/// only asked for its snapshot, never blocked by a client. Thread-safe: `start`, `stop` and the
/// accessors may be called from any thread (never from a `Monitor` question's own path).
/// The monitor must outlive the server.
class SUPERVISOR_HTTP_API HttpServer {
 public:
  /// A server of `monitor`, not started.
  explicit HttpServer(Monitor& monitor, HttpServerOptions options = {});
  /// Stops it (`stop()`).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Checks the options, binds the address and port and starts serving. Errors: an invalid
  /// option (`errc::invalid_argument`, naming it), `errc::already_running`, the OS's own when
  /// the socket cannot be made or bound (e.g. `std::errc::address_in_use` when the port is
  /// taken, `std::errc::address_not_available` for an address of no interface), the message
  /// naming the address and port.
  void start();
  /// \overload
  void start(std::error_code& ec) noexcept;
  /// Stops listening, cuts the connections under way and joins every thread. Idempotent.
  void stop() noexcept;
  /// Whether it is serving (between `start` and `stop`).
  [[nodiscard]] bool running() const noexcept;
  /// The port it listens on (the one picked when `options.port` was 0); 0 when not running.
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// `http://<address>:<port>` (IPv6 addresses in brackets); empty when not running.
  [[nodiscard]] std::string url() const;
  /// Its counters so far (they stay across `stop` and `start`).
  [[nodiscard]] HttpServerCounters counters() const noexcept;
  /// The options it was made with.
  [[nodiscard]] const HttpServerOptions& options() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/// Options of an `HttpWebhookSink`, checked by its constructor (`errc::invalid_argument`,
/// naming the field and its value).
struct HttpWebhookOptions {
  /// Where to POST: `http://host[:port][/path]`, or `https://...` when cpp-httplib was built
  /// with TLS (Debian's is; the server's certificate is then verified against the system's CA
  /// store). A host name is resolved at each attempt.
  std::string url;
  /// Bound of each phase of one attempt (connecting, sending, reading the answer), 1 ms to
  /// 10 min.
  Duration timeout = std::chrono::seconds(5);
  /// Attempts per alert, 1 to 10: after a connection failure, a timeout or a 5xx/429 answer the
  /// next one follows `retry_delay` later (doubling each time); another 4xx is final.
  int max_attempts = 3;
  /// Wait before the second attempt (0 to 1 min), doubled before each further one.
  Duration retry_delay = std::chrono::milliseconds(500);
  /// Sent as `Authorization: Bearer <token>` when not empty (printable ASCII, no space).
  std::string bearer_token;
  /// The sink's name in `AlertStats` (not empty).
  std::string name = "webhook";
};

/// What an `HttpWebhookSink` did so far.
struct HttpWebhookStats {
  std::uint64_t attempts = 0;   ///< POSTs tried (retries included).
  std::uint64_t delivered = 0;  ///< Alerts answered 2xx.
  std::uint64_t failed = 0;     ///< Alerts given up on (every attempt failed, or a final 4xx).
  std::string last_error;       ///< Why the last failed attempt failed; empty if none did.
};

/// An `AlertSink` that POSTs each alert as JSON (`to_json`, `Content-Type: application/json`) to
/// a URL. `deliver` blocks its caller (the alert manager's delivery thread) for at most
/// `max_attempts` attempts, each bounded by 3 x `timeout`, plus the retry delays; when every
/// attempt fails it throws (`errc::timeout` when connecting timed out, else `errc::peer_gone`:
/// a refused, broken or silent connection, an error answer; naming the URL and what happened),
/// which the manager counts as the sink's failure. Thread-safe: a connection per attempt.
class SUPERVISOR_HTTP_API HttpWebhookSink final : public AlertSink {
 public:
  /// Errors: an invalid option (`errc::invalid_argument`, naming it; an `https` URL when
  /// cpp-httplib has no TLS: `errc::unsupported`).
  explicit HttpWebhookSink(HttpWebhookOptions options);
  ~HttpWebhookSink() override;
  /// `options.name`.
  [[nodiscard]] std::string name() const override;
  /// POSTs `alert` (see the class).
  void deliver(const Alert& alert) override;
  /// What it did so far.
  [[nodiscard]] HttpWebhookStats stats() const;
  /// The options it was made with.
  [[nodiscard]] const HttpWebhookOptions& options() const noexcept { return options_; }

 private:
  HttpWebhookOptions options_;
  std::string origin_;  // scheme://host:port
  std::string path_;
  mutable std::mutex mu_;
  HttpWebhookStats stats_;
};

}  // namespace supervisor
