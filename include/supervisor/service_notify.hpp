// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 24  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// The host's own service manager: a small sd_notify client (`ServiceNotifier`) for the process
/// that runs the pools, and `ServiceKeeper`, which drives it from two questions the host answers
/// (are my pools ready? do my loops turn?). systemd starts a `Type=notify` service with
/// `NOTIFY_SOCKET` in its environment, and `WATCHDOG_USEC` / `WATCHDOG_PID` when `WatchdogSec=`
/// is set; outside systemd (no `NOTIFY_SOCKET`, and always on Windows) both do nothing and
/// report success. See examples/systemd/supervisor-host.service.
///
/// This is the host's side. The workers' side (each worker's own `NOTIFY_SOCKET`, which the pool
/// listens on) is `ProcessSpec`'s and `PoolOptions`' business, and never sees these datagrams.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

/// An sd_notify client for the host process itself.
///
/// `from_environment()` reads `NOTIFY_SOCKET` (an absolute path, or `@name` for an abstract
/// socket) and the watchdog variables once, and never changes the environment. Each message is
/// then one datagram sent to that address on one socket the notifier opens at construction and
/// keeps (`AF_UNIX`, `SOCK_DGRAM`, close-on-exec, non-blocking) until it is destroyed. It is
/// sent with `sendto` rather than connected, so a service manager that re-creates its socket
/// (`systemctl daemon-reexec`) is still reached; non-blocking, so that a manager that does not
/// read its socket makes a send fail (EAGAIN) instead of stalling the host.
///
/// Without `NOTIFY_SOCKET` (or with it empty), and on platforms without systemd (Windows), the
/// notifier is unavailable: it opens nothing, and every send succeeds doing nothing. Arguments
/// are checked all the same, so a mistake shows outside systemd too.
///
/// Thread-safe: it changes no state after construction; any thread may send at any time, also
/// several at once. Movable; a moved-from or default-constructed notifier is unavailable.
class SUPERVISOR_API ServiceNotifier {
 public:
  /// The largest datagram sent (systemd reads at most 4096 bytes of one).
  static constexpr std::size_t max_message_size = 4096;

  /// Unavailable: sends nothing.
  ServiceNotifier() noexcept;
  ~ServiceNotifier();
  ServiceNotifier(ServiceNotifier&&) noexcept;
  ServiceNotifier& operator=(ServiceNotifier&&) noexcept;
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`, and opens the socket when there
  /// is an address. Errors (`errc::invalid_argument`, naming the variable and its value): a
  /// `NOTIFY_SOCKET` that is neither an absolute path nor `@name`, or too long for a socket
  /// address; a `vsock:` address (`errc::unsupported`); a `WATCHDOG_USEC` that is not a positive
  /// number of microseconds, or a `WATCHDOG_PID` that is not a number, when a watchdog is set.
  /// An OS error opening the socket keeps its `std::system_category()` value.
  [[nodiscard]] static ServiceNotifier from_environment();
  /// As above; on error, returns an unavailable notifier.
  [[nodiscard]] static ServiceNotifier from_environment(std::error_code& ec) noexcept;

  /// True when under a service manager (`NOTIFY_SOCKET` was set and usable).
  [[nodiscard]] bool available() const noexcept;
  /// `NOTIFY_SOCKET` as read (`/run/systemd/notify`, `@name`); empty when unavailable.
  [[nodiscard]] const std::string& address() const noexcept;
  /// How often the service manager wants `WATCHDOG=1` at the latest: `WATCHDOG_USEC`, when it
  /// is set and meant for this process (`WATCHDOG_PID` unset, or this process's pid) and the
  /// notifier is available; none otherwise. Ping at half of it, as sd_watchdog_enabled(3) says.
  [[nodiscard]] std::optional<Duration> watchdog_interval() const noexcept;

  /// `READY=1`: start-up (or a reload) is complete.
  void ready() const;
  /// As above, reporting through `ec`.
  void ready(std::error_code& ec) const noexcept;
  /// `STATUS=<line>`: a one-line summary for `systemctl status`. The line is made to fit:
  /// control characters (line breaks among them, which would end the field) become spaces, and
  /// it is cut (at a UTF-8 character boundary) so that the datagram fits `max_message_size`.
  void status(std::string_view line) const;
  /// As above, reporting through `ec`.
  void status(std::string_view line, std::error_code& ec) const noexcept;
  /// `WATCHDOG=1`: the host is alive.
  void watchdog() const;
  /// As above, reporting through `ec`.
  void watchdog(std::error_code& ec) const noexcept;
  /// `STOPPING=1`: the host is shutting down.
  void stopping() const;
  /// As above, reporting through `ec`.
  void stopping(std::error_code& ec) const noexcept;
  /// `RELOADING=1` with `MONOTONIC_USEC=` (the monotonic clock now, in microseconds), in one
  /// datagram, as `Type=notify-reload` (systemd 253) wants; send `ready()` when done.
  void reloading() const;
  /// As above, reporting through `ec`.
  void reloading(std::error_code& ec) const noexcept;
  /// `EXTEND_TIMEOUT_USEC=<us>`: asks for `extra` more time to start, reload or stop (rounded
  /// up to whole microseconds). `extra` must be positive (`errc::invalid_argument`).
  void extend_timeout(Duration extra) const;
  /// As above, reporting through `ec`.
  void extend_timeout(Duration extra, std::error_code& ec) const noexcept;
  /// Any message: one or more `KEY=VALUE` lines separated by `\n`, sent as one datagram as is.
  /// `errc::invalid_argument` when it is empty, holds a NUL byte (systemd drops such a
  /// datagram) or is longer than `max_message_size`.
  void notify(std::string_view state) const;
  /// As above, reporting through `ec`.
  void notify(std::string_view state, std::error_code& ec) const noexcept;

 private:
  struct Impl;
  explicit ServiceNotifier(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

/// What a `ServiceKeeper` asks the host, and how often.
struct ServiceKeeperOptions {
  /// True once the host is ready to serve (e.g. each of its pools has its ready workers); fills
  /// `status_line` (empty when called) with a one-line summary either way, sent as `STATUS=`
  /// whenever it differs from the last one sent (empty at first: nothing is sent until it says
  /// something). Called on the keeper's thread every `poll_period`; must not block for long.
  /// Required.
  std::function<bool(std::string& status_line)> ready;
  /// True while the host's loops turn. Called on the keeper's thread before each watchdog ping,
  /// only when systemd set a watchdog: while it returns false no ping is sent, so systemd, once
  /// `WatchdogSec=` passes, kills and (with `Restart=`) restarts the host. Required.
  std::function<bool()> alive;
  /// How often `ready` is asked. Positive; more than a day counts as a day.
  Duration poll_period = std::chrono::seconds(1);
  /// Called on the keeper's thread when a send fails (the OS error) or a callback throws
  /// (`errc::hook_failed`), with a sentence saying what failed. Optional; must not throw (what it
  /// throws is dropped).
  std::function<void(const std::error_code& ec, std::string_view what)> on_error;
};

/// What a keeper did so far, for logs and tests.
struct ServiceKeeperStats {
  bool ready_sent = false;          ///< `READY=1` was sent.
  std::uint64_t status_sent = 0;    ///< `STATUS=` datagrams.
  std::uint64_t watchdog_sent = 0;  ///< `WATCHDOG=1` datagrams.
  /// Watchdog pings held back because `alive` returned false (or threw).
  std::uint64_t watchdog_withheld = 0;
  std::uint64_t send_failures = 0;     ///< Datagrams the OS refused.
  std::uint64_t callback_errors = 0;   ///< Exceptions thrown by `ready` or `alive`.
};

/// Keeps systemd informed about the host, from the host's own answers: `READY=1` once, the first
/// time `ready` returns true; `STATUS=<summary>` each time the summary changes (before `READY=1`
/// when both are due); `WATCHDOG=1` every half `watchdog_interval()` while `alive` returns true;
/// `STOPPING=1` at `stop()` (or destruction). Each is a datagram of its own. A `STATUS=` or
/// `READY=1` the OS refused (see `on_error`) is sent again at the next poll.
///
/// Threading: under a service manager it runs one thread of its own, named "sv-notify", started
/// by `start` and joined by `stop`; the callbacks run there (never two at once). Outside systemd
/// (no `NOTIFY_SOCKET`, Windows) it starts no thread, never calls the callbacks, and sends
/// nothing. `stop`, `stats` and `running` are thread-safe. Movable; a default-constructed or
/// moved-from keeper does nothing. Holds one socket while running, closed by `stop`. In a child
/// the host `fork()`s without exec, its copy is inert: `stop` and the destructor return at once,
/// sending nothing (the parent's keeper goes on).
class SUPERVISOR_API ServiceKeeper {
 public:
  /// Inert: no thread, nothing sent.
  ServiceKeeper() noexcept;
  /// Calls `stop()`.
  ~ServiceKeeper();
  ServiceKeeper(ServiceKeeper&&) noexcept;
  /// Stops this keeper first (as `stop()`), then takes `other`'s.
  ServiceKeeper& operator=(ServiceKeeper&&) noexcept;
  ServiceKeeper(const ServiceKeeper&) = delete;
  ServiceKeeper& operator=(const ServiceKeeper&) = delete;

  /// Reads the environment (`ServiceNotifier::from_environment`) and, under a service manager,
  /// starts the thread. `errc::invalid_argument` for a missing callback or a `poll_period` that is
  /// not positive (checked outside systemd too), and the notifier's errors.
  [[nodiscard]] static ServiceKeeper start(ServiceKeeperOptions options);
  /// As above, reporting through `ec`; on error, returns an inert keeper.
  [[nodiscard]] static ServiceKeeper start(ServiceKeeperOptions options,
                                           std::error_code& ec) noexcept;

  /// Sends `STOPPING=1` (when under a service manager, once), joins the thread and closes the
  /// socket. Waits for a callback that is running to return. Idempotent; never throws. Must not
  /// be called from a callback.
  void stop() noexcept;
  /// True while the thread runs (started under a service manager, not stopped yet).
  [[nodiscard]] bool running() const noexcept;
  /// What was sent so far.
  [[nodiscard]] ServiceKeeperStats stats() const noexcept;
  /// `ServiceNotifier::watchdog_interval()` of its notifier: none when not running.
  [[nodiscard]] std::optional<Duration> watchdog_interval() const noexcept;

 private:
  struct Impl;
  explicit ServiceKeeper(std::unique_ptr<Impl> impl) noexcept;
  // Starts the thread under a service manager (`notifier` available); null otherwise.
  static std::unique_ptr<Impl> launch(ServiceKeeperOptions& options, ServiceNotifier notifier);
  std::unique_ptr<Impl> impl_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 24
#  include <supervisor/detail/header_only_end.hpp>
#endif
