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
#include <chrono>
#include <climits>
#include <mutex>

#include "../core/duration.hpp"
#include "errno_text.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// A call's deadline. A timeout of a year or more waits for ever (it cannot overflow the clock).
class FdDeadline {
 public:
  explicit FdDeadline(Duration timeout)
      : forever_(timeout >= std::chrono::hours(24 * 365)),
        at_(forever_ ? TimePoint{} : now() + std::max(timeout, Duration::zero())) {}
  // What poll(2) takes: -1 for ever, 0 once past, else the milliseconds left, rounded up.
  [[nodiscard]] int poll_ms() const {
    if (forever_) return -1;
    const Duration left = at_ - now();
    if (left <= Duration::zero()) return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
  }

 private:
  static TimePoint now() { return std::chrono::steady_clock::now(); }
  bool forever_;
  TimePoint at_;
};

// Waits until `fd` is ready for `events` or the deadline passes: the events seen, 0 once the
// deadline passed, or -1 (errno set) when poll(2) fails.
SUPERVISOR_INLINE int fd_end_wait(int fd, short events, const FdDeadline& deadline) {
  for (;;) {
    const int ms = deadline.poll_ms();
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

class FdEnd final : public HostEnd {
 public:
  FdEnd(UniqueFd fd, bool socket) : fd_(fd.release()), socket_(socket) {}
  ~FdEnd() override {
    if (fd_ >= 0) ::close(fd_);
  }
  FdEnd(const FdEnd&) = delete;
  FdEnd& operator=(const FdEnd&) = delete;

  std::size_t write(std::string_view data, Duration timeout, ErrorSink& err) override {
    const int fd = enter("write", err);
    if (fd < 0) return 0;
    const FdDeadline deadline(timeout);
    std::size_t written = 0;
    while (written < data.size()) {
      const ssize_t n = fd_end_write_quietly(fd, data.data() + written, data.size() - written);
      if (n >= 0) {
        written += static_cast<std::size_t>(n);
        continue;
      }
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN) {  // EWOULDBLOCK is the same on Linux
        // Writable, or the reader gone (POLLERR): the next write says which.
        const int ready = fd_end_wait(fd, POLLOUT, deadline);
        if (ready == 0) break;  // the timeout: what went, went
        if (ready > 0) continue;
        fail_io("write", errno, err);
        break;
      }
      fail_io("write", e, err);
      break;
    }
    leave();
    return written;
  }

  void send(std::string_view message, Duration timeout, ErrorSink& err) override {
    if (message.empty()) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format("{}: send: an empty message (a channel's messages are not empty)",
                           label);
      });
      return;
    }
    const int fd = enter("send", err);
    if (fd < 0) return;
    const FdDeadline deadline(timeout);
    for (;;) {
      if (::send(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) break;
      const int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN) {  // EWOULDBLOCK is the same on Linux
        // Writable, or hung up: the next send says which.
        const int ready = fd_end_wait(fd, POLLOUT, deadline);
        if (ready == 0) {
          err.fail(errc::timeout, [&] {
            return fmt::format("{}: send: no room for the message within {}", label,
                               format_duration(timeout));
          });
          break;
        }
        if (ready > 0) continue;
        fail_io("send", errno, err);
        break;
      }
      if (e == EMSGSIZE) {
        err.fail(errc::invalid_argument, [&] {
          return fmt::format(
              "{}: send: a message of {} bytes is larger than the channel takes (its socket "
              "buffer)",
              label, message.size());
        });
        break;
      }
      fail_io("send", e, err);
      break;
    }
    leave();
  }

  void receive(std::string& message, Duration timeout, ErrorSink& err) override {
    const int fd = enter("receive", err);
    if (fd < 0) return;
    const FdDeadline deadline(timeout);
    for (;;) {
      // The next message's length (MSG_TRUNC reports all of it), so that it is read whole.
      char probe = 0;
      const ssize_t n = ::recv(fd, &probe, 1, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
      if (n > 0) {
        message.resize(static_cast<std::size_t>(n));
        const ssize_t got = ::recv(fd, message.data(), message.size(), MSG_DONTWAIT);
        if (got >= 0) {
          message.resize(static_cast<std::size_t>(got));
          break;
        }
        if (errno == EINTR || errno == EAGAIN) continue;  // another thread took it
        fail_io("receive", errno, err);
        break;
      }
      const int e = n < 0 ? errno : 0;
      if (n == 0) {
        // A sequenced-packet socket reads 0 at its end, and for an empty message: the end is
        // where the peer has hung up.
        pollfd p{fd, POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP)) == 0) {
          (void)::recv(fd, &probe, 1, MSG_DONTWAIT);
          message.clear();
          break;
        }
        fail_io("receive", EPIPE, err);
        break;
      }
      if (e == EINTR) continue;
      if (e == EAGAIN) {  // EWOULDBLOCK is the same on Linux
        const int ready = fd_end_wait(fd, POLLIN, deadline);
        if (ready == 0) {
          err.fail(errc::timeout, [&] {
            return fmt::format("{}: receive: no message within {}", label,
                               format_duration(timeout));
          });
          break;
        }
        if (ready > 0) continue;
        fail_io("receive", errno, err);
        break;
      }
      fail_io("receive", e, err);
      break;
    }
    leave();
  }

  void close(bool host) noexcept override {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    by_host_ = host;
    if (fd_ < 0) return;
    // A call waiting in poll() on this socket wakes now (a pipe's waits out its timeout).
    if (socket_) ::shutdown(fd_, SHUT_RDWR);
    if (users_ == 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  // A call's hold on the fd: it stays open until the call leaves. -1 (and `err` set) once
  // closed.
  int enter(const char* what, ErrorSink& err) {
    std::lock_guard lock(mu_);
    if (closed_) {
      report_closed(what, err);
      return -1;
    }
    ++users_;
    return fd_;
  }
  void leave() noexcept {
    std::lock_guard lock(mu_);
    if (--users_ == 0 && closed_ && fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  // (mu_)
  void report_closed(const char* what, ErrorSink& err) const {
    if (by_host_) {
      err.fail(errc::invalid_argument,
               [&] { return fmt::format("{}: {}: it was closed by the host", label, what); });
    } else {
      err.fail(errc::peer_gone, [&] {
        return fmt::format("{}: {}: the process has ended (its channel and stdin with it)", label,
                           what);
      });
    }
  }
  // An error of the OS: our own end closed under the call, the peer gone, or another.
  void fail_io(const char* what, int e, ErrorSink& err) {
    {
      std::lock_guard lock(mu_);
      if (closed_) {
        report_closed(what, err);
        return;
      }
    }
    if (fd_end_peer_error(e)) {
      err.fail(errc::peer_gone, [&] {
        return fmt::format("{}: {}: the other end is closed (the child closed it, or ended)", label,
                           what);
      });
      return;
    }
    err.fail(std::error_code(e, std::system_category()),
             [&] { return fmt::format("{}: {}: {}", label, what, sys_message(e)); });
  }

  std::mutex mu_;
  int fd_;             // (mu_) -1 once closed
  const bool socket_;  // a channel's socket, else a pipe
  int users_ = 0;      // (mu_) calls under way
  bool closed_ = false;
  bool by_host_ = false;
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_pipe_end(UniqueFd fd) {
  return std::make_shared<FdEnd>(std::move(fd), false);
}

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_channel_end(UniqueFd fd) {
  return std::make_shared<FdEnd>(std::move(fd), true);
}

}  // namespace supervisor::detail
