// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "fd_end.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>

#include "../process/end_state.hpp"
#include "errno_text.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// Waits until `fd` is ready for `events` or the deadline passes: the events seen, 0 once the
// deadline passed, or -1 (errno set) when poll(2) fails.
SUPERVISOR_INLINE int fd_end_wait(int fd, short events, EndDeadline& deadline) {
  for (;;) {
    const int ms = deadline.wait_ms();
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return p.revents;
    if (n == 0 && ms == 0) return 0;
    if (n < 0 && errno != EINTR) return -1;
    // EINTR, or woken early: go on with what is left.
  }
}

// write(2) to a pipe whose reader may be gone, without the SIGPIPE that would kill a host that
// left its default disposition: SIGPIPE is blocked on the calling thread for the call, and the
// one this write raised (it is sent to the writing thread) is taken before the mask is restored.
// A SIGPIPE that was pending already is left as it was.
SUPERVISOR_INLINE ssize_t fd_end_write_quietly(int fd, const char* data, std::size_t size) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  const bool was_pending = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  const ssize_t n = ::write(fd, data, size);
  const int e = errno;
  if (n < 0 && e == EPIPE && !was_pending) {
    const timespec zero{};
    while (::sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = e;
  return n;
}

SUPERVISOR_INLINE bool fd_end_peer_error(int e) {
  return e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == ECONNREFUSED;
}

class FdEnd final : public CountedEnd {
 public:
  FdEnd(UniqueFd fd, bool socket) : fd_(fd.release()), socket_(socket) {}
  ~FdEnd() override {
    if (!released()) ::close(fd_);
  }
  FdEnd(const FdEnd&) = delete;
  FdEnd& operator=(const FdEnd&) = delete;

  std::size_t write(std::string_view data, Duration timeout, ErrorSink& err) override {
    if (!hold("write", err)) return 0;
    EndDeadline deadline(timeout);
    std::size_t written = 0;
    while (written < data.size()) {
      const ssize_t n = fd_end_write_quietly(fd_, data.data() + written, data.size() - written);
      if (n >= 0) {
        written += static_cast<std::size_t>(n);
        continue;
      }
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN) {  // EWOULDBLOCK is the same on Linux
        // Writable, or the reader gone (POLLERR): the next write says which.
        const int ready = fd_end_wait(fd_, POLLOUT, deadline);
        if (ready == 0) break;  // the timeout: what went, went
        if (ready > 0) continue;
        fail_io("write", errno, err);
        break;
      }
      fail_io("write", e, err);
      break;
    }
    let_go();
    return written;
  }

  void close(bool host) noexcept override {
    // A call waiting in poll() on this socket wakes now (a pipe's waits out its timeout).
    if (mark_closed(host) && socket_) ::shutdown(fd_, SHUT_RDWR);
    let_go();
  }

 private:
  void release_handle() noexcept override { ::close(fd_); }

  // Waits until the fd is ready for `events`: true to try again, else false with `err` set
  // (errc::timeout when `what` found `missing` until the deadline, or poll's own error).
  bool await(short events, EndDeadline& deadline, const char* what, const char* missing,
             ErrorSink& err) {
    const int ready = fd_end_wait(fd_, events, deadline);
    if (ready > 0) return true;
    if (ready < 0) {
      fail_io(what, errno, err);
      return false;
    }
    fail_timeout(what, missing, deadline, err);
    return false;
  }

  void send_held(std::string_view message, EndDeadline& deadline, ErrorSink& err) override {
    for (;;) {
      if (::send(fd_, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return;
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN) {
        // Writable, or hung up: the next send says which.
        if (await(POLLOUT, deadline, "send", "no room for the message", err)) continue;
        return;
      }
      if (e == EMSGSIZE) {
        fail_message_size(message.size(), "its socket buffer", err);
        return;
      }
      fail_io("send", e, err);
      return;
    }
  }

  void receive_held(std::string& message, EndDeadline& deadline, ErrorSink& err) override {
    for (;;) {
      // The next message's length (MSG_TRUNC reports all of it), so that it is read whole. A
      // job's answer is often there already: a worker on the same CPU runs as soon as the send
      // wakes it, before the sender goes on.
      char probe = 0;
      const ssize_t n = ::recv(fd_, &probe, 1, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
      if (n > 0) {
        message.resize(static_cast<std::size_t>(n));
        const ssize_t got = ::recv(fd_, message.data(), message.size(), MSG_DONTWAIT);
        if (got >= 0) {
          message.resize(static_cast<std::size_t>(got));
          return;
        }
        if (errno == EINTR || errno == EAGAIN) continue;  // another thread took it
        fail_io("receive", errno, err);
        return;
      }
      const int e = n < 0 ? errno : 0;
      if (n == 0) {
        // A sequenced-packet socket reads 0 at its end, and for an empty message: the end is
        // where the peer has hung up.
        pollfd p{fd_, POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP)) == 0) {
          (void)::recv(fd_, &probe, 1, MSG_DONTWAIT);
          message.clear();
          return;
        }
        fail_io("receive", EPIPE, err);
        return;
      }
      if (e == EINTR) continue;
      if (e == EAGAIN) {
        if (await(POLLIN, deadline, "receive", "no message", err)) continue;
        return;
      }
      fail_io("receive", e, err);
      return;
    }
  }

  // An error of the OS: our own end closed under the call, the peer gone, or another.
  void fail_io(const char* what, int e, ErrorSink& err) {
    if (closed()) {
      report_closed(what, err);
      return;
    }
    if (fd_end_peer_error(e)) {
      fail_peer_gone(what, err);
      return;
    }
    err.fail(std::error_code(e, std::system_category()),
             [&] { return fmt::format("{}: {}: {}", label, what, sys_message(e)); });
  }

  const int fd_;       // valid until released()
  const bool socket_;  // a channel's socket, else a pipe
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_pipe_end(UniqueFd fd) {
  return std::make_shared<FdEnd>(std::move(fd), false);
}

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_channel_end(UniqueFd fd) {
  return std::make_shared<FdEnd>(std::move(fd), true);
}

}  // namespace supervisor::detail
