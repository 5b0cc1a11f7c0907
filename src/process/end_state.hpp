// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What every HostEnd (host_end.hpp) shares, whatever its OS handle: the count of the calls that
// hold the handle and what closed it, and the errors of the contract, worded once (CountedEnd);
// a call's deadline (EndDeadline). The implementations: src/posix/fd_end.cpp (a file descriptor,
// poll(2)), src/windows/handle_end.cpp (an overlapped HANDLE). Private; OS-neutral.

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <string>
#include <string_view>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>

#include "../core/duration.hpp"
#include "host_end.hpp"

namespace supervisor::detail {

// A call's deadline, read from the clock only once the call must wait (a job's answer that is
// there already costs no clock read). A timeout of a year or more waits for ever.
class EndDeadline {
 public:
  explicit EndDeadline(Duration timeout)
      : timeout_(std::max(timeout, Duration::zero())),
        forever_(timeout >= std::chrono::hours(24 * 365)) {}
  // What a wait takes: -1 for ever, 0 once past, else the milliseconds left, rounded up (at most
  // INT_MAX: a longer wait wakes early and asks again).
  [[nodiscard]] int wait_ms() {
    if (forever_) return -1;
    const TimePoint now = std::chrono::steady_clock::now();
    if (!started_) {
      at_ = now + timeout_;
      started_ = true;
    }
    const Duration left = at_ - now;
    if (left <= Duration::zero()) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
  }
  [[nodiscard]] Duration timeout() const { return timeout_; }

 private:
  Duration timeout_;
  bool forever_;
  bool started_ = false;
  TimePoint at_{};
};

// A HostEnd that counts the calls under way on its OS handle and remembers what closed it: a
// call holds the handle, which is released (release_handle) only once no call holds it any more
// (closed under a call, its number could be reused by the host for something else meanwhile).
// Atomic, not a mutex: it is on every job's path. An implementation's destructor releases the
// handle unless released() says it was.
class CountedEnd : public HostEnd {
 public:
  void send(std::string_view message, Duration timeout, ErrorSink& err) final {
    if (!check_send(message, err) || !hold("send", err)) return;
    EndDeadline deadline(timeout);
    send_held(message, deadline, err);
    let_go();
  }
  void receive(std::string& message, Duration timeout, ErrorSink& err) final {
    if (!hold("receive", err)) return;
    EndDeadline deadline(timeout);
    receive_held(message, deadline, err);
    let_go();
  }
  void request(std::string_view message, std::string& reply, Duration timeout,
               ErrorSink& err) final {
    if (!check_send(message, err) || !hold("request", err)) return;
    EndDeadline deadline(timeout);
    send_held(message, deadline, err);
    if (!err) receive_held(reply, deadline, err);
    let_go();
  }

 protected:
  // A message's send and receive, the end held (see HostEnd::send and receive).
  virtual void send_held(std::string_view message, EndDeadline& deadline, ErrorSink& err) = 0;
  virtual void receive_held(std::string& message, EndDeadline& deadline, ErrorSink& err) = 0;
  // Whether `message` may be sent (`err` set when not): by default, when it is not empty.
  virtual bool check_send(std::string_view message, ErrorSink& err) const {
    return check_message(message, err);
  }

  // Closes the OS handle: called once, by the last one out of a closed end.
  virtual void release_handle() noexcept = 0;

  // A call's hold on the handle. False (and `err` set) once the end is closed.
  bool hold(const char* what, ErrorSink& err) {
    const std::uint32_t s = state_.fetch_add(1, std::memory_order_acq_rel);
    if ((s & closed_bit) == 0) return true;
    let_go();
    report_closed(s, what, err);
    return false;
  }
  // Ends a hold; the last one out of a closed end releases the handle, once (whoever wins the
  // exchange).
  void let_go() noexcept {
    const std::uint32_t s = state_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if ((s & (users | released_bit)) != 0 || (s & closed_bit) == 0) return;
    std::uint32_t expected = s;
    if (state_.compare_exchange_strong(expected, s | released_bit, std::memory_order_acq_rel))
      release_handle();
  }
  // HostEnd::close's first half: takes a hold (the handle stays ours while the caller wakes the
  // calls that wait on it), and marks the end closed, by the host or not. True for the first
  // close, which decides how the calls to come fail. The caller then wakes them and lets go.
  bool mark_closed(bool host) noexcept {
    std::uint32_t s = state_.fetch_add(1, std::memory_order_acq_rel) + 1;
    while ((s & closed_bit) == 0) {
      if (state_.compare_exchange_weak(s, s | closed_bit | (host ? by_host_bit : 0U),
                                       std::memory_order_acq_rel))
        return true;
    }
    return false;
  }
  [[nodiscard]] bool closed() const noexcept {
    return (state_.load(std::memory_order_acquire) & closed_bit) != 0;
  }
  [[nodiscard]] bool released() const noexcept {
    return (state_.load(std::memory_order_acquire) & released_bit) != 0;
  }
  // The error of a call on a closed end: invalid_argument when the host closed it, else
  // peer_gone (its process has ended).
  void report_closed(const char* what, ErrorSink& err) const {
    report_closed(state_.load(std::memory_order_acquire), what, err);
  }

  // A channel's messages are not empty (on a sequenced-packet socket an empty one could not be
  // told from the peer's end): false, with `err` set, for an empty one.
  bool check_message(std::string_view message, ErrorSink& err) const {
    if (!message.empty()) return true;
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: send: an empty message (a channel's messages are not empty)", label);
    });
    return false;
  }
  // A message larger than the channel takes (`bound` says what bounds it): invalid_argument.
  void fail_message_size(std::size_t size, std::string_view bound, ErrorSink& err) const {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: send: a message of {} bytes is larger than the channel takes ({})",
                         label, size, bound);
    });
  }
  // `what` found `missing` until the deadline: errc::timeout.
  void fail_timeout(const char* what, const char* missing, const EndDeadline& deadline,
                    ErrorSink& err) const {
    err.fail(errc::timeout, [&] {
      return fmt::format("{}: {}: {} within {}", label, what, missing,
                         format_duration(deadline.timeout()));
    });
  }
  // The other end is closed (the child closed it, or ended): peer_gone. When our own end was
  // closed meanwhile (the OS error came from that), the error of a closed end instead.
  void fail_peer_gone(const char* what, ErrorSink& err) const {
    if (closed()) {
      report_closed(what, err);
      return;
    }
    err.fail(errc::peer_gone, [&] {
      return fmt::format("{}: {}: the other end is closed (the child closed it, or ended)", label,
                         what);
    });
  }

 private:
  // The calls under way in the low bits, and what happened to the end above them.
  static constexpr std::uint32_t users = (1U << 28) - 1;
  static constexpr std::uint32_t closed_bit = 1U << 28;
  static constexpr std::uint32_t by_host_bit = 1U << 29;
  static constexpr std::uint32_t released_bit = 1U << 30;

  void report_closed(std::uint32_t s, const char* what, ErrorSink& err) const {
    if ((s & by_host_bit) != 0) {
      err.fail(errc::invalid_argument,
               [&] { return fmt::format("{}: {}: it was closed by the host", label, what); });
    } else {
      err.fail(errc::peer_gone, [&] {
        return fmt::format("{}: {}: the process has ended (its channel and stdin with it)", label,
                           what);
      });
    }
  }

  std::atomic<std::uint32_t> state_{0};
};

}  // namespace supervisor::detail
