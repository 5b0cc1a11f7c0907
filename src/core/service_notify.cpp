// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The host's own sd_notify client and its keeper thread: the portable part (parsing, messages,
// the keeper's schedule). The socket is the platform's (service_endpoint.hpp).
#include <supervisor/service_notify.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>

#include "exception_text.hpp"
#include "service_endpoint.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// A decimal number that is all of `text` (no sign, no space), or none.
SUPERVISOR_INLINE std::optional<std::uint64_t> service_parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void check_notify_socket(std::string_view value, ErrorSink& err) {
  if (value.substr(0, 6) == "vsock:") {
    return err.fail(errc::unsupported, [&] {
      return fmt::format("NOTIFY_SOCKET \"{}\": AF_VSOCK addresses are not supported", value);
    });
  }
  const bool abstract = value.size() > 1 && value.front() == '@';
  const bool path = value.size() > 1 && value.front() == '/';
  if (!abstract && !path) {
    return err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "NOTIFY_SOCKET \"{}\": neither an absolute path nor an abstract socket \"@name\"",
          value);
    });
  }
  if (path && value.find('\0') != std::string_view::npos) {
    err.fail(errc::invalid_argument,
             [&] { return std::string("NOTIFY_SOCKET: a path holding a NUL byte"); });
  }
}

SUPERVISOR_INLINE std::optional<Duration> parse_watchdog(const char* usec, const char* pid,
                                                         std::int64_t self_pid, ErrorSink& err) {
  if (usec == nullptr) return std::nullopt;
  if (pid != nullptr) {
    const auto owner = service_parse_number(pid);
    if (!owner || *owner == 0) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("WATCHDOG_PID \"{}\": not a process id", pid);
      });
      return std::nullopt;
    }
    // Meant for another process (we inherited it from a parent that is the service's main
    // process): not ours to answer.
    if (static_cast<std::int64_t>(*owner) != self_pid) return std::nullopt;
  }
  const auto us = service_parse_number(usec);
  // A watchdog longer than nanoseconds can count is no watchdog one could miss: refused as well.
  constexpr std::uint64_t max_us =
      static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max() / 1000);
  if (!us || *us == 0 || *us > max_us) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("WATCHDOG_USEC \"{}\": not a positive number of microseconds", usec);
    });
    return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(*us));
}

}  // namespace supervisor::detail

namespace supervisor {

struct ServiceNotifier::Impl {
  detail::ServiceEndpoint endpoint;
  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { detail::close_service_endpoint(endpoint); }
  // The endpoint the environment names; null when there is none (or on error).
  static std::unique_ptr<Impl> open(detail::ErrorSink& err) {
    auto impl = std::make_unique<Impl>();
    detail::open_service_endpoint(impl->endpoint, err);
    if (err || impl->endpoint.address.empty()) impl.reset();
    return impl;
  }
};

namespace detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE const std::string& service_no_address() noexcept {
  static const std::string empty;
  return empty;
}

// `line` as one STATUS= field: control characters (a line break would end the field, a NUL the
// datagram) become spaces, and it is cut at a UTF-8 character boundary to fit one datagram.
SUPERVISOR_INLINE std::string service_status_message(std::string_view line) {
  constexpr std::string_view key = "STATUS=";
  std::string out(key);
  std::size_t keep = std::min(line.size(), ServiceNotifier::max_message_size - key.size());
  if (keep < line.size()) {
    // Never split a multi-byte character: back up over continuation bytes (10xxxxxx).
    while (keep > 0 && (static_cast<unsigned char>(line[keep]) & 0xC0U) == 0x80U) --keep;
  }
  for (const char c : line.substr(0, keep)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20U || u == 0x7FU ? ' ' : c);
  }
  return out;
}

SUPERVISOR_INLINE void service_check_message(std::string_view state, ErrorSink& err) {
  if (state.empty()) {
    return err.fail(errc::invalid_argument,
                    [] { return std::string("sd_notify: an empty message"); });
  }
  if (state.find('\0') != std::string_view::npos) {
    return err.fail(errc::invalid_argument, [] {
      return std::string("sd_notify: a message holding a NUL byte (systemd drops it)");
    });
  }
  if (state.size() > ServiceNotifier::max_message_size) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("sd_notify: a message of {} bytes (at most {})", state.size(),
                         ServiceNotifier::max_message_size);
    });
  }
}

SUPERVISOR_LOCAL_END
}  // namespace detail

SUPERVISOR_INLINE ServiceNotifier::ServiceNotifier() noexcept = default;
SUPERVISOR_INLINE ServiceNotifier::ServiceNotifier(std::unique_ptr<Impl> impl) noexcept
    : impl_(std::move(impl)) {}
SUPERVISOR_INLINE ServiceNotifier::~ServiceNotifier() = default;
SUPERVISOR_INLINE ServiceNotifier::ServiceNotifier(ServiceNotifier&&) noexcept = default;
SUPERVISOR_INLINE ServiceNotifier& ServiceNotifier::operator=(ServiceNotifier&&) noexcept =
    default;

SUPERVISOR_INLINE ServiceNotifier ServiceNotifier::from_environment() {
  return ServiceNotifier(detail::or_throw([](detail::ErrorSink& err) { return Impl::open(err); }));
}

SUPERVISOR_INLINE ServiceNotifier ServiceNotifier::from_environment(std::error_code& ec) noexcept {
  return ServiceNotifier(
      detail::into_code(ec, [](detail::ErrorSink& err) { return Impl::open(err); }));
}

SUPERVISOR_INLINE bool ServiceNotifier::available() const noexcept { return impl_ != nullptr; }

SUPERVISOR_INLINE const std::string& ServiceNotifier::address() const noexcept {
  return impl_ ? impl_->endpoint.address : detail::service_no_address();
}

SUPERVISOR_INLINE std::optional<Duration> ServiceNotifier::watchdog_interval() const noexcept {
  return impl_ ? impl_->endpoint.watchdog_interval : std::nullopt;
}

SUPERVISOR_INLINE void ServiceNotifier::notify(std::string_view state) const {
  detail::or_throw([&](detail::ErrorSink& err) {
    detail::service_check_message(state, err);
    if (!err && impl_) detail::send_service_datagram(impl_->endpoint, state, err);
  });
}
SUPERVISOR_INLINE void ServiceNotifier::notify(std::string_view state,
                                               std::error_code& ec) const noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) {
    detail::service_check_message(state, err);
    if (!err && impl_) detail::send_service_datagram(impl_->endpoint, state, err);
  });
}
SUPERVISOR_INLINE void ServiceNotifier::ready() const { notify("READY=1"); }
SUPERVISOR_INLINE void ServiceNotifier::ready(std::error_code& ec) const noexcept {
  notify("READY=1", ec);
}
SUPERVISOR_INLINE void ServiceNotifier::watchdog() const { notify("WATCHDOG=1"); }
SUPERVISOR_INLINE void ServiceNotifier::watchdog(std::error_code& ec) const noexcept {
  notify("WATCHDOG=1", ec);
}
SUPERVISOR_INLINE void ServiceNotifier::stopping() const { notify("STOPPING=1"); }
SUPERVISOR_INLINE void ServiceNotifier::stopping(std::error_code& ec) const noexcept {
  notify("STOPPING=1", ec);
}

SUPERVISOR_INLINE void ServiceNotifier::status(std::string_view line) const {
  notify(detail::service_status_message(line));
}
SUPERVISOR_INLINE void ServiceNotifier::status(std::string_view line,
                                               std::error_code& ec) const noexcept {
  try {
    notify(detail::service_status_message(line), ec);
  } catch (...) {
    ec = detail::current_exception_code();
  }
}

SUPERVISOR_INLINE void ServiceNotifier::reloading() const {
  notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", detail::service_monotonic_usec()));
}
SUPERVISOR_INLINE void ServiceNotifier::reloading(std::error_code& ec) const noexcept {
  try {
    notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", detail::service_monotonic_usec()), ec);
  } catch (...) {
    ec = detail::current_exception_code();
  }
}

namespace detail {
SUPERVISOR_LOCAL_BEGIN
// "EXTEND_TIMEOUT_USEC=<us>", `extra` rounded up to whole microseconds; empty (err set) when
// `extra` is not positive.
SUPERVISOR_INLINE std::string service_extend_message(Duration extra, ErrorSink& err) {
  if (extra <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("sd_notify EXTEND_TIMEOUT_USEC: {} ns is not a positive time",
                         extra.count());
    });
    return {};
  }
  const auto us = std::chrono::ceil<std::chrono::microseconds>(extra);
  return fmt::format("EXTEND_TIMEOUT_USEC={}", us.count());
}
SUPERVISOR_LOCAL_END
}  // namespace detail

SUPERVISOR_INLINE void ServiceNotifier::extend_timeout(Duration extra) const {
  notify(detail::or_throw(
      [&](detail::ErrorSink& err) { return detail::service_extend_message(extra, err); }));
}
SUPERVISOR_INLINE void ServiceNotifier::extend_timeout(Duration extra,
                                                       std::error_code& ec) const noexcept {
  const std::string message = detail::into_code(
      ec, [&](detail::ErrorSink& err) { return detail::service_extend_message(extra, err); });
  if (!ec) notify(message, ec);
}

// ---------------------------------------------------------------------------------------------
// ServiceKeeper

struct ServiceKeeper::Impl {
  ServiceKeeperOptions options;
  ServiceNotifier notifier;
  std::optional<Duration> watchdog;  // the notifier's, kept for after stop()

  mutable std::mutex mutex;  // guards stop_requested and stats
  std::condition_variable wake;
  bool stop_requested = false;
  ServiceKeeperStats stats;

  std::int64_t owner = 0;  // the process that started the thread
  std::mutex stop_mutex;   // one stop() at a time: a second waits for the first's join
  std::atomic<bool> thread_running{false};
  std::thread thread;

  void run() noexcept;
  void poll(std::string& last_status);
  void ping();
  // Sends and counts; reports a failure to on_error.
  bool send(std::string_view what, const std::function<void(std::error_code&)>& call);
  void report(const std::error_code& ec, std::string_view what) noexcept;
  void count(std::uint64_t ServiceKeeperStats::*field) {
    const std::lock_guard lock(mutex);
    ++(stats.*field);
  }
};

SUPERVISOR_INLINE void ServiceKeeper::Impl::report(const std::error_code& ec,
                                                   std::string_view what) noexcept {
  if (!options.on_error) return;
  try {
    options.on_error(ec, what);
  } catch (...) {  // documented: what on_error throws is dropped
  }
}

SUPERVISOR_INLINE bool ServiceKeeper::Impl::send(
    std::string_view what, const std::function<void(std::error_code&)>& call) {
  std::error_code ec;
  call(ec);
  if (!ec) return true;
  count(&ServiceKeeperStats::send_failures);
  report(ec, fmt::format("sd_notify {} to \"{}\": {}", what, notifier.address(), ec.message()));
  return false;
}

SUPERVISOR_INLINE void ServiceKeeper::Impl::poll(std::string& last_status) {
  std::string line;
  bool is_ready = false;
  try {
    is_ready = options.ready(line);
  } catch (...) {
    count(&ServiceKeeperStats::callback_errors);
    report(make_error_code(errc::hook_failed),
           fmt::format("ServiceKeeperOptions.ready threw: {}", detail::current_exception_text()));
    return;
  }
  if (line != last_status &&
      send("STATUS", [&](std::error_code& ec) { notifier.status(line, ec); })) {
    last_status = std::move(line);
    count(&ServiceKeeperStats::status_sent);
  }
  bool ready_due = false;
  {
    const std::lock_guard lock(mutex);
    ready_due = is_ready && !stats.ready_sent;
  }
  if (ready_due && send("READY=1", [&](std::error_code& ec) { notifier.ready(ec); })) {
    const std::lock_guard lock(mutex);
    stats.ready_sent = true;
  }
}

SUPERVISOR_INLINE void ServiceKeeper::Impl::ping() {
  bool is_alive = false;
  try {
    is_alive = options.alive();
  } catch (...) {
    count(&ServiceKeeperStats::callback_errors);
    report(make_error_code(errc::hook_failed),
           fmt::format("ServiceKeeperOptions.alive threw: {}", detail::current_exception_text()));
  }
  if (!is_alive) {
    count(&ServiceKeeperStats::watchdog_withheld);
    return;
  }
  if (send("WATCHDOG=1", [&](std::error_code& ec) { notifier.watchdog(ec); }))
    count(&ServiceKeeperStats::watchdog_sent);
}

SUPERVISOR_INLINE void ServiceKeeper::Impl::run() noexcept {
  detail::name_service_thread();
  using Steady = std::chrono::steady_clock;
  std::string last_status;
  // Half the interval, as sd_watchdog_enabled(3) advises: one late ping is then no miss. Both
  // periods are capped at a day, so that now + period never overflows the clock.
  const Duration day = std::chrono::hours(24);
  const Duration ping_period =
      watchdog ? std::clamp<Duration>(*watchdog / 2, std::chrono::milliseconds(1), day)
               : Duration{};
  const Duration poll_period = std::min(options.poll_period, day);
  auto next_poll = Steady::now();
  auto next_ping = next_poll;
  std::unique_lock lock(mutex);
  while (!stop_requested) {
    lock.unlock();
    try {
      if (Steady::now() >= next_poll) {
        poll(last_status);
        next_poll = Steady::now() + poll_period;
      }
      if (watchdog && Steady::now() >= next_ping) {
        ping();
        next_ping = Steady::now() + ping_period;
      }
    } catch (...) {  // out of memory while formatting: keep the schedule, report it
      count(&ServiceKeeperStats::callback_errors);
      report(detail::current_exception_code(), "sv-notify: a turn of the keeper failed");
    }
    lock.lock();
    const auto until = watchdog ? std::min(next_poll, next_ping) : next_poll;
    wake.wait_until(lock, until, [&] { return stop_requested; });
  }
}

SUPERVISOR_INLINE ServiceKeeper::ServiceKeeper() noexcept = default;
SUPERVISOR_INLINE ServiceKeeper::ServiceKeeper(std::unique_ptr<Impl> impl) noexcept
    : impl_(std::move(impl)) {}
SUPERVISOR_INLINE ServiceKeeper::~ServiceKeeper() { stop(); }
SUPERVISOR_INLINE ServiceKeeper::ServiceKeeper(ServiceKeeper&&) noexcept = default;
SUPERVISOR_INLINE ServiceKeeper& ServiceKeeper::operator=(ServiceKeeper&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

namespace detail {
SUPERVISOR_LOCAL_BEGIN
SUPERVISOR_INLINE void service_keeper_check(const ServiceKeeperOptions& options, ErrorSink& err) {
  const char* missing = !options.ready ? "ready" : !options.alive ? "alive" : nullptr;
  if (missing != nullptr) {
    return err.fail(errc::invalid_argument,
                    [&] { return fmt::format("ServiceKeeperOptions.{}: not set", missing); });
  }
  if (options.poll_period <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("ServiceKeeperOptions.poll_period: {} ns is not positive",
                         options.poll_period.count());
    });
  }
}
SUPERVISOR_LOCAL_END
}  // namespace detail

SUPERVISOR_INLINE std::unique_ptr<ServiceKeeper::Impl> ServiceKeeper::launch(
    ServiceKeeperOptions& options, ServiceNotifier notifier) {
  if (!notifier.available()) return nullptr;  // not under a service manager: no thread
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->watchdog = notifier.watchdog_interval();
  impl->notifier = std::move(notifier);
  impl->owner = detail::service_process_id();
  impl->thread_running = true;
  Impl* self = impl.get();
  try {
    impl->thread = std::thread([self] { self->run(); });
  } catch (...) {
    impl->thread_running = false;
    throw;
  }
  return impl;
}

SUPERVISOR_INLINE ServiceKeeper ServiceKeeper::start(ServiceKeeperOptions options) {
  detail::or_throw([&](detail::ErrorSink& err) { detail::service_keeper_check(options, err); });
  return ServiceKeeper(launch(options, ServiceNotifier::from_environment()));
}

SUPERVISOR_INLINE ServiceKeeper ServiceKeeper::start(ServiceKeeperOptions options,
                                                     std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { detail::service_keeper_check(options, err); });
  if (ec) return {};
  ServiceNotifier notifier = ServiceNotifier::from_environment(ec);
  if (ec) return {};
  try {
    return ServiceKeeper(launch(options, std::move(notifier)));
  } catch (...) {
    ec = detail::current_exception_code();
    return {};
  }
}

SUPERVISOR_INLINE void ServiceKeeper::stop() noexcept {
  if (!impl_) return;
  if (impl_->owner != detail::service_process_id()) {
    // A copy in a child the host fork()ed: the thread is the parent's, and so is the service.
    // Nothing is joined or sent; the copy's memory goes with the child's exec or exit.
    (void)impl_.release();
    return;
  }
  Impl& self = *impl_;
  const std::lock_guard once(self.stop_mutex);
  if (!self.thread.joinable()) return;
  {
    const std::lock_guard lock(self.mutex);
    self.stop_requested = true;
  }
  self.wake.notify_all();
  self.thread.join();
  // After the join: STOPPING=1 is the last datagram, never followed by a late ping.
  try {
    self.send("STOPPING=1", [&](std::error_code& ec) { self.notifier.stopping(ec); });
  } catch (...) {  // out of memory for the message: nothing more to do on the way out
  }
  self.notifier = ServiceNotifier();  // closes the socket
  self.thread_running = false;
}

SUPERVISOR_INLINE bool ServiceKeeper::running() const noexcept {
  return impl_ && impl_->thread_running.load() && impl_->owner == detail::service_process_id();
}

SUPERVISOR_INLINE ServiceKeeperStats ServiceKeeper::stats() const noexcept {
  if (!impl_) return {};
  const std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

SUPERVISOR_INLINE std::optional<Duration> ServiceKeeper::watchdog_interval() const noexcept {
  return running() ? impl_->watchdog : std::nullopt;
}

}  // namespace supervisor
