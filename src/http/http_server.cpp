// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// HttpServer: a listener thread of our own and a fixed set of worker threads; cpp-httplib parses
// each request, routes it and writes the response.
//
// Why not httplib::Server::listen(): in 0.11.4 its accept loop makes descriptors without
// FD_CLOEXEC (every process the host starts meanwhile would inherit the listening socket and the
// connections), its task queue cannot refuse a connection (enqueue() never sees the socket, so a
// full queue could only grow), and its read timeout is per recv(), so a client that sends a
// byte a second holds a thread for ever. Here the listener accepts with SOCK_CLOEXEC, hands the
// socket to an idle worker or answers 503 at once, and a worker feeds
// httplib::Server::process_request a stream whose reads end at one deadline for the whole
// request and whose size is capped.
#include <supervisor/http.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <supervisor/json.hpp>

#include "status_json.hpp"

namespace supervisor {

namespace {

using Mono = std::chrono::steady_clock;  // deadlines of connections

// The endpoints, also the `path` label of supervisor_http_requests_total (anything else is
// "other": the label's values stay bounded whatever clients ask for).
enum class Endpoint { metrics, healthz, readyz, status, other };
constexpr std::array<std::string_view, 5> endpoint_paths{"/metrics", "/healthz", "/readyz",
                                                         "/status", "other"};

Endpoint endpoint_of(std::string_view path) {
  for (std::size_t i = 0; i + 1 < endpoint_paths.size(); ++i) {
    if (path == endpoint_paths[i]) return static_cast<Endpoint>(i);
  }
  return Endpoint::other;
}

// Milliseconds from now to `deadline`, for poll(): 0 when it has passed, at most an hour.
int poll_ms_until(Mono::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - Mono::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 3'600'000));
}

// Waits until `fd` is ready for `events` or `deadline` passes (false then, or on an error).
bool wait_fd(int fd, short events, Mono::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, poll_ms_until(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

// Writes all of `data` unless the deadline passes or the peer is gone.
bool send_all(int fd, const char* data, std::size_t size, Mono::time_point deadline) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN)) {
      if (!wait_fd(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if ((peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len)) != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
  }
  ip = text;
}

// One connection as httplib sees it: reads end at one deadline for the whole request and stop
// at the size cap; writes end at a deadline counted from the first one.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int fd, const HttpServerOptions& o)
      : fd_(fd),
        read_deadline_(Mono::now() + o.read_timeout),
        write_timeout_(o.write_timeout),
        max_bytes_(o.max_request_bytes) {}

  bool is_readable() const override {
    return begin_ < end_ || wait_fd(fd_, POLLIN, read_deadline_);
  }
  bool is_writable() const override {
    return wait_fd(fd_, POLLOUT, write_deadline_.value_or(Mono::now() + write_timeout_));
  }
  ssize_t read(char* ptr, std::size_t size) override {
    if (begin_ == end_ && !fill()) return -1;
    const std::size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, std::size_t size) override {
    if (!write_deadline_) write_deadline_ = Mono::now() + write_timeout_;
    if (failure_code() != 0) {
      // The request was cut (its deadline, its size): whatever httplib answers to what it got
      // (a 400 for half a header), the client is told why, once.
      if (!wrote_ && !send_failure_reply()) return -1;
      wrote_ = true;
      return static_cast<ssize_t>(size);
    }
    if (!send_all(fd_, ptr, size, *write_deadline_)) {
      write_failed_ = true;
      return -1;
    }
    wrote_ = true;
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, false, ip, port);
  }
  ::socket_t socket() const override { return fd_; }

  // Whether a header line is malformed (no colon, an empty or spaced name, a folded line):
  // httplib skips such lines, but they are errors (RFC 9112 5.1, 5.2).
  bool malformed_head() const {
    std::size_t at = head_.find("\r\n");
    while (at != std::string::npos) {
      const std::size_t from = at + 2;
      const std::size_t end = head_.find("\r\n", from);
      if (end == std::string::npos || end == from) break;  // the end of the head (or cut)
      const std::string_view line(head_.data() + from, end - from);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0 ||
          line.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
        return true;
      }
      at = end;
    }
    return false;
  }
  bool wrote() const noexcept { return wrote_ || write_failed_; }
  // 408 when the request was not in by its deadline, 431 when it outgrew the size cap, else 0.
  int failure_code() const noexcept { return timed_out_ ? 408 : overflowed_ ? 431 : 0; }
  // Sends the answer of failure_code() (false when it could not be sent).
  bool send_failure_reply() {
    const std::string_view reply =
        timed_out_ ? "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n"
                   : "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n";
    return send_all(fd_, reply.data(), reply.size(),
                    write_deadline_.value_or(Mono::now() + write_timeout_));
  }

 private:
  bool fill() {
    if (received_ >= max_bytes_) {
      overflowed_ = true;
      return false;
    }
    for (;;) {
      if (!wait_fd(fd_, POLLIN, read_deadline_)) {
        timed_out_ = Mono::now() >= read_deadline_;
        return false;
      }
      const std::size_t want = std::min(buffer_.size(), max_bytes_ - received_);
      const ssize_t n = ::recv(fd_, buffer_.data(), want, MSG_DONTWAIT);
      if (n > 0) {
        begin_ = 0;
        end_ = static_cast<std::size_t>(n);
        received_ += end_;
        if (!head_complete_) {
          head_.append(buffer_.data(), end_);
          head_complete_ = head_.find("\r\n\r\n") != std::string::npos;
        }
        return true;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return false;  // the peer closed, or an error
    }
  }

  int fd_;
  Mono::time_point read_deadline_;
  Duration write_timeout_;
  std::optional<Mono::time_point> write_deadline_;
  std::size_t max_bytes_;
  std::array<char, 4096> buffer_{};
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t received_ = 0;
  std::string head_;  // what came before the end of the headers
  bool head_complete_ = false;
  bool timed_out_ = false;
  bool overflowed_ = false;
  bool wrote_ = false;
  bool write_failed_ = false;
};

// The connection the worker thread serves now (route() checks its head).
thread_local const ConnectionStream* serving_stream = nullptr;

// httplib's request processing without its listener (process_request is protected).
class Engine final : public httplib::Server {
 public:
  using httplib::Server::process_request;
  void set_max_payload(std::size_t bytes) { payload_max_length_ = bytes; }
};

// Equal in time that does not depend on where the two differ (the length of the expected one
// leaks, not its content).
bool equal_constant_time(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff = static_cast<unsigned char>(diff | (static_cast<unsigned char>(g) ^
                                              static_cast<unsigned char>(expected[i])));
  }
  return diff == 0;
}

void check_options(const HttpServerOptions& o, detail::ErrorSink& err) {
  const auto bad = [&err](std::string what) {
    err.fail(errc::invalid_argument, [&] { return "HttpServerOptions::" + what; });
  };
  const auto check_duration = [&](const char* name, Duration d) {
    if (d < std::chrono::milliseconds(1) || d > std::chrono::hours(1)) {
      bad(fmt::format("{} = {} ns: must be 1 ms to 1 h", name, d.count()));
    }
  };
  if (o.max_connections < 1 || o.max_connections > 1024) {
    bad(fmt::format("max_connections = {}: must be 1 to 1024", o.max_connections));
  } else if (o.max_request_bytes < 1024 || o.max_request_bytes > 16 * 1024 * 1024) {
    bad(fmt::format("max_request_bytes = {}: must be 1 KiB to 16 MiB", o.max_request_bytes));
  } else if (std::any_of(o.bearer_token.begin(), o.bearer_token.end(),
                         [](char c) { return c <= ' ' || c > '~'; })) {
    bad("bearer_token: only printable ASCII without spaces");
  } else {
    check_duration("read_timeout", o.read_timeout);
    if (!err) check_duration("write_timeout", o.write_timeout);
  }
}

// The address as a socket address; false when it is no IPv4 or IPv6 literal.
bool parse_address(const std::string& text, std::uint16_t port, sockaddr_storage& ss,
                   socklen_t& len) {
  std::string host = text;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  ss = {};
  auto* in = reinterpret_cast<sockaddr_in*>(&ss);
  if (::inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

constexpr std::string_view refusal =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 20\r\nConnection: close\r\nRetry-After: 1\r\n\r\ntoo many connections";

}  // namespace

struct HttpServer::State {
  State(Monitor& m, HttpServerOptions o) : monitor(m), options(std::move(o)) {}

  Monitor& monitor;
  const HttpServerOptions options;
  Engine engine;

  std::mutex control;  // start and stop
  int listen_fd = -1;
  int wake_fd = -1;  // an eventfd: stop() wakes the listener with it
  std::atomic<std::uint16_t> bound_port{0};
  std::atomic<bool> serving{false};
  std::string bound_host;
  std::thread listener;
  std::vector<std::thread> workers;

  std::mutex mu;  // the hand-over from the listener to the workers, and the counters
  std::condition_variable work;
  std::deque<int> queued;
  std::set<int> active;  // connections being served (stop() shuts them down)
  bool closing = false;
  std::map<std::pair<Endpoint, int>, std::uint64_t> requests;
  HttpServerCounters counters;

  void count(Endpoint e, int code) {
    const std::lock_guard lock(mu);
    ++requests[{e, code}];
    ++counters.requests;
    if (code == 401) ++counters.unauthorized;
    if (code == 400 || code == 408 || code == 413 || code == 414 || code == 431) {
      ++counters.bad_requests;
    }
  }

  void setup_engine() {
    engine.set_max_payload(options.max_request_bytes);
    engine.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      route(req, res);
      return httplib::Server::HandlerResponse::Handled;
    });
    engine.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      const int cut = serving_stream != nullptr ? serving_stream->failure_code() : 0;
      count(cut != 0 ? Endpoint::other : endpoint_of(req.path), cut != 0 ? cut : res.status);
    });
  }

  bool authorized(const httplib::Request& req, Endpoint e) const {
    if (options.bearer_token.empty()) return true;
    if (!options.probes_need_token && (e == Endpoint::healthz || e == Endpoint::readyz)) {
      return true;
    }
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view scheme = "Bearer ";
    if (header.size() < scheme.size() || header.compare(0, scheme.size(), scheme) != 0) {
      return false;
    }
    return equal_constant_time(std::string_view(header).substr(scheme.size()),
                               options.bearer_token);
  }

  void route(const httplib::Request& req, httplib::Response& res) {
    const Endpoint e = endpoint_of(req.path);
    const auto text = [&res](int code, std::string body) {
      res.status = code;
      res.set_content(std::move(body), "text/plain; charset=utf-8");
    };
    if (serving_stream != nullptr && serving_stream->malformed_head()) {
      return text(400, "malformed header line\n");
    }
    if (req.has_header("Content-Length") &&
        std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) >
            options.max_request_bytes) {
      return text(413, "request too large\n");
    }
    if (e == Endpoint::other) return text(404, "not found\n");
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      return text(405, "method not allowed\n");
    }
    if (!authorized(req, e)) {
      res.set_header("WWW-Authenticate", "Bearer");
      return text(401, "unauthorized\n");
    }
    try {
      switch (e) {
        case Endpoint::metrics: {
          MetricSet set = monitor.metrics();
          add_own_metrics(set);
          res.status = 200;
          res.body = set.to_prometheus();  // moved, not copied: it can be megabytes
          res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          return;
        }
        case Endpoint::healthz: {
          const LivenessReport r = monitor.liveness();
          return text(r.alive ? 200 : 503, (r.alive ? "ok: " : "") + r.summary() + "\n");
        }
        case Endpoint::readyz: {
          const ReadinessReport r = monitor.readiness();
          std::string body = (r.ready ? "ok: " : "") + r.summary() + "\n";
          if (req.has_param("verbose")) {
            for (const auto& p : r.pools) {
              body += fmt::format("[{}] pool \"{}\": {} of {} up (needs {}){}{}{}\n",
                                  p.ready ? '+' : '-', p.pool, p.up, p.size, p.needed,
                                  p.required ? "" : ", not required", p.why.empty() ? "" : ": ",
                                  p.why);
            }
          }
          return text(r.ready ? 200 : 503, std::move(body));
        }
        case Endpoint::status:
          res.status = 200;
          // ?brief: counts, health, readiness and lag only (cheap); else every snapshot whole.
          res.set_content(req.has_param("brief")
                              ? http_detail::status_json(monitor.status())
                              : supervisor::json::to_json_string(monitor.status()) + "\n",
                          "application/json");
          return;
        case Endpoint::other: break;
      }
    } catch (const std::exception& ex) {
      return text(500, fmt::format("internal error: {}\n", ex.what()));
    }
  }

  void add_own_metrics(MetricSet& set) {
    MetricFamily req{"supervisor_http_requests_total",
                     "HTTP requests the monitor's server answered, by endpoint and status code.",
                     MetricType::counter,
                     "",
                     {}};
    MetricFamily refused{"supervisor_http_refused_connections_total",
                         "Connections refused (503) because max_connections were being served.",
                         MetricType::counter,
                         "",
                         {}};
    MetricFamily busy{"supervisor_http_connections",
                      "Connections being served now, and the most served at once.",
                      MetricType::gauge,
                      "",
                      {}};
    {
      const std::lock_guard lock(mu);
      for (const auto& [key, n] : requests) {
        req.samples.push_back({{{"path", std::string(endpoint_paths[static_cast<std::size_t>(
                                             key.first)])},
                                {"code", std::to_string(key.second)}},
                               static_cast<double>(n),
                               std::nullopt});
      }
      refused.samples.push_back({{}, static_cast<double>(counters.refused), std::nullopt});
      busy.samples.push_back(
          {{{"state", "active"}}, static_cast<double>(active.size()), std::nullopt});
      busy.samples.push_back(
          {{{"state", "max"}}, static_cast<double>(options.max_connections), std::nullopt});
    }
    set.add(std::move(req));
    set.add(std::move(refused));
    set.add(std::move(busy));
  }

  // The listener thread: accepts, and hands each connection to an idle worker or refuses it.
  void listen_loop() {
    ::pthread_setname_np(::pthread_self(), "sv-http");
    for (;;) {
      std::array<pollfd, 2> fds{pollfd{listen_fd, POLLIN, 0}, pollfd{wake_fd, POLLIN, 0}};
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        // Out of descriptors (EMFILE, ENFILE) or memory: the connection stays in the backlog;
        // wait a little instead of spinning on it.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          pollfd w{wake_fd, POLLIN, 0};
          if (::poll(&w, 1, 10) > 0) return;
        }
        continue;
      }
      bool taken = false;
      {
        const std::lock_guard lock(mu);
        if (active.size() + queued.size() < options.max_connections) {
          queued.push_back(fd);
          taken = true;
        } else {
          ++counters.refused;
        }
      }
      if (taken) {
        work.notify_one();
      } else {
        // Never blocks the listener: what the socket buffer takes now, and nothing more.
        static_cast<void>(::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT));
        ::shutdown(fd, SHUT_WR);
        ::close(fd);
      }
    }
  }

  void worker_loop() {
    ::pthread_setname_np(::pthread_self(), "sv-http");
    for (;;) {
      int fd = -1;
      {
        std::unique_lock lock(mu);
        work.wait(lock, [this] { return closing || !queued.empty(); });
        if (closing) return;
        fd = queued.front();
        queued.pop_front();
        active.insert(fd);
      }
      serve(fd);
      {
        const std::lock_guard lock(mu);
        active.erase(fd);
      }
      ::close(fd);
    }
  }

  void serve(int fd) {
    ConnectionStream stream(fd, options);
    bool closed = false;
    serving_stream = &stream;
    const bool answered = engine.process_request(stream, true, closed, [](httplib::Request&) {});
    serving_stream = nullptr;
    if (!answered && !stream.wrote()) {
      // httplib gave up without a word: say why, when it is ours to say.
      if (stream.failure_code() != 0) {
        static_cast<void>(stream.send_failure_reply());
        count(Endpoint::other, stream.failure_code());
      } else {
        const std::lock_guard lock(mu);
        ++counters.bad_requests;
      }
    }
    // Half-close, then read what the client still sends for a moment, so that the kernel does
    // not answer its unread bytes with a reset that could destroy the response in flight.
    ::shutdown(fd, SHUT_WR);
    const auto until = Mono::now() + std::chrono::milliseconds(100);
    std::array<char, 4096> sink{};
    std::size_t drained = 0;
    while (drained < options.max_request_bytes && wait_fd(fd, POLLIN, until)) {
      const ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      drained += static_cast<std::size_t>(n);
    }
  }

  void start(detail::ErrorSink& err) {
    const std::lock_guard guard(control);
    if (serving) {
      err.fail(errc::already_running, [&] { return std::string("HttpServer::start"); });
      return;
    }
    check_options(options, err);
    if (err) return;
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!parse_address(options.address, options.port, ss, len)) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("HttpServerOptions::address \"{}\": not an IPv4 or IPv6 address",
                           options.address);
      });
      return;
    }
    const auto os_fail = [&](const char* what) {
      const int e = errno;
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("HttpServer: {} {}:{}", what, options.address, options.port);
      });
    };
    listen_fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0) return os_fail("socket for");
    const int on = 1;
    ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (ss.ss_family == AF_INET6) ::setsockopt(listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (::bind(listen_fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
      os_fail("bind");
      return close_fds();
    }
    if (::listen(listen_fd, 64) != 0) {
      os_fail("listen on");
      return close_fds();
    }
    std::string host;
    int port = 0;
    address_of(listen_fd, false, host, port);
    wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0) {
      os_fail("eventfd for");
      return close_fds();
    }
    bound_host = ss.ss_family == AF_INET6 ? "[" + host + "]" : host;
    bound_port = static_cast<std::uint16_t>(port);
    {
      const std::lock_guard lock(mu);
      closing = false;
    }
    try {
      workers.reserve(options.max_connections);
      for (std::size_t i = 0; i < options.max_connections; ++i) {
        workers.emplace_back([this] { worker_loop(); });
      }
      listener = std::thread([this] { listen_loop(); });
    } catch (const std::system_error& ex) {
      err.fail(ex.code(), [&] {
        return fmt::format("HttpServer: start a thread for {}:{}", options.address, port);
      });
      stop_threads();
      return close_fds();
    }
    serving = true;
  }

  void stop() noexcept {
    const std::lock_guard guard(control);
    if (!serving) return;
    stop_threads();
    close_fds();
    serving = false;
    bound_port = 0;
  }

  void stop_threads() noexcept {
    if (listener.joinable()) {
      const std::uint64_t one = 1;
      if (::write(wake_fd, &one, sizeof one) < 0) {
        // An eventfd write fails only on overflow, which one write cannot reach.
      }
      listener.join();
    }
    {
      const std::lock_guard lock(mu);
      closing = true;
      for (const int fd : queued) ::close(fd);
      queued.clear();
      // Connections under way end at their next read or write.
      for (const int fd : active) ::shutdown(fd, SHUT_RDWR);
    }
    work.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }

  void close_fds() noexcept {
    if (listen_fd >= 0) ::close(listen_fd);
    if (wake_fd >= 0) ::close(wake_fd);
    listen_fd = wake_fd = -1;
  }
};

HttpServer::HttpServer(Monitor& monitor, HttpServerOptions options)
    : state_(std::make_shared<State>(monitor, std::move(options))) {
  state_->setup_engine();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  detail::or_throw([this](detail::ErrorSink& err) { state_->start(err); });
}

void HttpServer::start(std::error_code& ec) noexcept {
  detail::into_code(ec, [this](detail::ErrorSink& err) { state_->start(err); });
}

void HttpServer::stop() noexcept { state_->stop(); }

bool HttpServer::running() const noexcept { return state_->serving; }

std::uint16_t HttpServer::port() const noexcept { return state_->bound_port; }

std::string HttpServer::url() const {
  const std::lock_guard guard(state_->control);
  if (!state_->serving) return {};
  return fmt::format("http://{}:{}", state_->bound_host, state_->bound_port.load());
}

HttpServerCounters HttpServer::counters() const noexcept {
  const std::lock_guard lock(state_->mu);
  return state_->counters;
}

const HttpServerOptions& HttpServer::options() const noexcept { return state_->options; }

}  // namespace supervisor
