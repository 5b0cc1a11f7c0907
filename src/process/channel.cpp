// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Talking to a child: its Channel, and the stdin pipe of a Process. Portable: the OS's half is a
// HostEnd of the backend, used straight from the calling thread.
#include <supervisor/process.hpp>

#include <fmt/format.h>

#include "access.hpp"
#include "child.hpp"
#include "host_end.hpp"

namespace supervisor {

using detail::ErrorSink;
using detail::HostEnd;

SUPERVISOR_INLINE Channel::Channel() noexcept = default;
SUPERVISOR_INLINE Channel::~Channel() = default;
SUPERVISOR_INLINE Channel::Channel(const Channel&) = default;
SUPERVISOR_INLINE Channel& Channel::operator=(const Channel&) = default;
SUPERVISOR_INLINE Channel::Channel(Channel&&) noexcept = default;
SUPERVISOR_INLINE Channel& Channel::operator=(Channel&&) noexcept = default;

SUPERVISOR_LOCAL_BEGIN

// The end a Channel may use now, or null with `err` set: none at all, or one whose lease was
// released (its worker may be leased by someone else meanwhile).
SUPERVISOR_INLINE HostEnd* channel_end(const std::shared_ptr<HostEnd>& end, std::uint64_t ticket,
                                       const char* what, ErrorSink& err) {
  if (!end) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "Channel::{}: no channel (a default Channel, or ProcessSpec::channel is off)", what);
    });
    return nullptr;
  }
  if (ticket != 0 && end->generation.load(std::memory_order_acquire) != ticket) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("Channel::{}: {}: the lease it came from was released", what, end->label);
    });
    return nullptr;
  }
  return end.get();
}

SUPERVISOR_INLINE std::string channel_request(const std::shared_ptr<HostEnd>& end,
                                              std::uint64_t ticket, std::string_view message,
                                              Duration timeout, ErrorSink& err) {
  std::string reply;
  if (HostEnd* e = channel_end(end, ticket, "request", err))
    e->request(message, reply, timeout, err);
  return reply;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void Channel::send(std::string_view message, Duration timeout) {
  detail::or_throw([&](ErrorSink& err) {
    if (HostEnd* e = channel_end(end_, ticket_, "send", err)) e->send(message, timeout, err);
  });
}

SUPERVISOR_INLINE void Channel::send(std::string_view message, Duration timeout,
                                     std::error_code& ec) noexcept {
  detail::into_code(ec, [&](ErrorSink& err) {
    if (HostEnd* e = channel_end(end_, ticket_, "send", err)) e->send(message, timeout, err);
  });
}

SUPERVISOR_INLINE std::string Channel::receive(Duration timeout) {
  return detail::or_throw([&](ErrorSink& err) {
    std::string message;
    if (HostEnd* e = channel_end(end_, ticket_, "receive", err)) e->receive(message, timeout, err);
    return message;
  });
}

SUPERVISOR_INLINE std::string Channel::receive(Duration timeout, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](ErrorSink& err) {
    std::string message;
    if (HostEnd* e = channel_end(end_, ticket_, "receive", err)) e->receive(message, timeout, err);
    return message;
  });
}

SUPERVISOR_INLINE std::string Channel::request(std::string_view message, Duration timeout) {
  return detail::or_throw(
      [&](ErrorSink& err) { return channel_request(end_, ticket_, message, timeout, err); });
}

SUPERVISOR_INLINE std::string Channel::request(std::string_view message, Duration timeout,
                                               std::error_code& ec) noexcept {
  return detail::into_code(
      ec, [&](ErrorSink& err) { return channel_request(end_, ticket_, message, timeout, err); });
}

// ---- a Process's stdin pipe and channel -----------------------------------------------------

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::size_t write_stdin_impl(const std::shared_ptr<detail::ChildCore>& s,
                                               std::string_view data, Duration timeout,
                                               ErrorSink& err) {
  if (!s) {
    err.fail(errc::not_running, [] { return std::string("Process::write_stdin: no process"); });
    return 0;
  }
  if (!s->ends.input) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("Process::write_stdin \"{}\": ProcessSpec.in is not a pipe",
                         s->spec.display_name());
    });
    return 0;
  }
  return s->ends.input->write(data, timeout, err);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::size_t Process::write_stdin(std::string_view data, Duration timeout) {
  return detail::or_throw(
      [&](ErrorSink& err) { return write_stdin_impl(state_, data, timeout, err); });
}

SUPERVISOR_INLINE std::size_t Process::write_stdin(std::string_view data, Duration timeout,
                                                   std::error_code& ec) noexcept {
  return detail::into_code(
      ec, [&](ErrorSink& err) { return write_stdin_impl(state_, data, timeout, err); });
}

SUPERVISOR_INLINE void Process::close_stdin() noexcept {
  if (state_ && state_->ends.input) state_->ends.input->close(true);
}

SUPERVISOR_INLINE Channel Process::channel() const {
  if (!state_ || !state_->ends.channel) return {};
  return detail::ChannelAccess::make(state_->ends.channel, 0);
}

}  // namespace supervisor
