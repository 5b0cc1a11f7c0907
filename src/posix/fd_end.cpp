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

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>

#include "../core/duration.hpp"
#include "errno_text.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// A call's deadline, read from the clock only once the call must wait (a job's answer that is
// there already costs no clock read). A timeout of a year or more waits for ever.
class FdDeadline {
 public:
  explicit FdDeadline(Duration timeout)
      : timeout_(std::max(timeout, Duration::zero())),
        forever_(timeout >= std::chrono::hours(24 * 365)) {}
  // What poll(2) takes: -1 for ever, 0 once past, else the milliseconds left, rounded up.
  [[nodiscard]] int poll_ms() {
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

// Waits until `fd` is ready for `events` or the deadline passes: the events seen, 0 once the
// deadline passed, or -1 (errno set) when poll(2) fails.
SUPERVISOR_INLINE int fd_end_wait(int fd, short events, FdDeadline& deadline) {
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
    if ((state_.load() & released) == 0) ::close(fd_);
  }
  FdEnd(const FdEnd&) = delete;
  FdEnd& operator=(const FdEnd&) = delete;

  std::size_t write(std::string_view data, Duration timeout, ErrorSink& err) override {
    if (!hold("write", err)) return 0;
    FdDeadline deadline(timeout);
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

  void send(std::string_view message, Duration timeout, ErrorSink& err) override {
    if (!check_message(message, err) || !hold("send", err)) return;
    FdDeadline deadline(timeout);
    send_held(message, deadline, err);
    let_go();
  }

  void receive(std::string& message, Duration timeout, ErrorSink& err) override {
    if (!hold("receive", err)) return;
    FdDeadline deadline(timeout);
    receive_held(message, deadline, err);
    let_go();
  }

  void request(std::string_view message, std::string& reply, Duration timeout,
               ErrorSink& err) override {
    if (!check_message(message, err) || !hold("request", err)) return;
    FdDeadline deadline(timeout);
    send_held(message, deadline, err);
    if (!err) receive_held(reply, deadline, err);
    let_go();
  }

  void close(bool host) noexcept override {
    // Held as a call would be, so that the fd stays ours while it is shut down here. The
    // first close decides how the calls to come fail.
    std::uint32_t s = state_.fetch_add(1, std::memory_order_acq_rel) + 1;
    while ((s & closed) == 0) {
      if (state_.compare_exchange_weak(s, s | closed | (host ? by_host : 0U),
                                       std::memory_order_acq_rel)) {
        // A call waiting in poll() on this socket wakes now (a pipe's waits out its timeout).
        if (socket_) ::shutdown(fd_, SHUT_RDWR);
        break;
      }
    }
    let_go();
  }

 private:
  // state_: the calls under way in its low bits, and what happened to the end above them.
  static constexpr std::uint32_t users = (1U << 28) - 1;
  static constexpr std::uint32_t closed = 1U << 28;
  static constexpr std::uint32_t by_host = 1U << 29;
  static constexpr std::uint32_t released = 1U << 30;  // the fd is closed

  // A call's hold on the fd: it is closed only once no call holds it any more (closed under a
  // call, its number could be reused by the host for something else meanwhile). False (and
  // `err` set) once the end is closed. Atomic, not a mutex: it is on every job's path.
  bool hold(const char* what, ErrorSink& err) {
    const std::uint32_t s = state_.fetch_add(1, std::memory_order_acq_rel);
    if ((s & closed) == 0) return true;
    let_go();
    report_closed(s, what, err);
    return false;
  }
  void let_go() noexcept {
    const std::uint32_t s = state_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if ((s & (users | released)) != 0 || (s & closed) == 0) return;
    // The last one out of a closed end closes its fd, once: whoever wins this exchange.
    std::uint32_t expected = s;
    if (state_.compare_exchange_strong(expected, s | released, std::memory_order_acq_rel))
      ::close(fd_);
  }

  bool check_message(std::string_view message, ErrorSink& err) const {
    if (!message.empty()) return true;
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: send: an empty message (a channel's messages are not empty)", label);
    });
    return false;
  }

  // Waits until the fd is ready for `events`: true to try again, else false with `err` set
  // (errc::timeout when `what` found `missing` until the deadline, or poll's own error).
  bool await(short events, FdDeadline& deadline, const char* what, const char* missing,
             ErrorSink& err) {
    const int ready = fd_end_wait(fd_, events, deadline);
    if (ready > 0) return true;
    if (ready < 0) {
      fail_io(what, errno, err);
      return false;
    }
    err.fail(errc::timeout, [&] {
      return fmt::format("{}: {}: {} within {}", label, what, missing,
                         format_duration(deadline.timeout()));
    });
    return false;
  }

  void send_held(std::string_view message, FdDeadline& deadline, ErrorSink& err) {
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
        err.fail(errc::invalid_argument, [&] {
          return fmt::format(
              "{}: send: a message of {} bytes is larger than the channel takes (its socket "
              "buffer)",
              label, message.size());
        });
        return;
      }
      fail_io("send", e, err);
      return;
    }
  }

  void receive_held(std::string& message, FdDeadline& deadline, ErrorSink& err) {
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

  void report_closed(std::uint32_t s, const char* what, ErrorSink& err) const {
    if ((s & by_host) != 0) {
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
    if (const std::uint32_t s = state_.load(std::memory_order_acquire); (s & closed) != 0) {
      report_closed(s, what, err);
      return;
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

  const int fd_;                         // valid until `released`
  const bool socket_;                    // a channel's socket, else a pipe
  std::atomic<std::uint32_t> state_{0};  // see above
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_pipe_end(UniqueFd fd) {
  return std::make_shared<FdEnd>(std::move(fd), false);
}

SUPERVISOR_INLINE std::shared_ptr<HostEnd> make_channel_end(UniqueFd fd) {
  return std::make_shared<FdEnd>(std::move(fd), true);
}

}  // namespace supervisor::detail
