// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The host's end of a pipe or socket to one child, made by the backend with the spawn: the
// child's stdin pipe (StdioSpec::Mode::pipe for `in`) or its channel (ProcessSpec::channel). The
// portable layer (Process, Channel, the pool's leases) uses it from host threads, straight from
// the calling thread: no round trip to the loop.
//
// Threads: every call may come from any thread, at the same time as the others. A call never
// blocks past its timeout. `close` may come while a call is under way on another thread: the OS
// handle is closed only once no call uses it any more (a handle closed under a thread still
// using it could be reused by the host for something else in between), and on a socket a call
// waiting for it wakes at once.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>

namespace supervisor::detail {

class HostEnd {
 public:
  virtual ~HostEnd() = default;
  HostEnd() = default;
  HostEnd(const HostEnd&) = delete;
  HostEnd& operator=(const HostEnd&) = delete;

  // A byte stream (a stdin pipe): writes as much of `data` as fits within `timeout` (zero: what
  // fits now, without waiting) and returns how many bytes went; less than all of it is no error.
  // Errors: errc::peer_gone (the child closed its end, or ended), errc::invalid_argument (closed
  // by the host), or the OS's.
  virtual std::size_t write(std::string_view data, Duration timeout, ErrorSink& err) = 0;
  // Messages (a channel): sends one whole message, waiting at most `timeout` for room. Errors:
  // errc::timeout, errc::peer_gone, errc::invalid_argument (empty, or larger than the channel
  // takes), or the OS's.
  virtual void send(std::string_view message, Duration timeout, ErrorSink& err) = 0;
  // Receives one whole message into `message`, waiting at most `timeout`. Errors: errc::timeout,
  // errc::peer_gone, or the OS's.
  virtual void receive(std::string& message, Duration timeout, ErrorSink& err) = 0;
  // send, then receive, within one timeout: a job and its answer.
  virtual void request(std::string_view message, std::string& reply, Duration timeout,
                       ErrorSink& err) = 0;
  // Idempotent: from now on every call fails, with errc::peer_gone when `host` is false (the
  // child ended: its incarnation is over), else errc::invalid_argument (the host closed it).
  virtual void close(bool host) noexcept = 0;

  // Names the child in messages, e.g. `"worker" (pid 1234)`. Set once, before the end is shared.
  std::string label;
  // Which lease may use it now (the portable layer's, see Channel): a lease takes the value it
  // finds, and its release moves it on, so that a Channel kept past its lease is refused.
  std::atomic<std::uint64_t> generation{1};
};

}  // namespace supervisor::detail
