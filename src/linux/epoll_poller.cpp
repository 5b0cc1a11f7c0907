// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "epoll_poller.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::uint32_t to_epoll(std::uint32_t e) {
  std::uint32_t out = 0;
  if (e & io::readable) out |= EPOLLIN;
  if (e & io::writable) out |= EPOLLOUT;
  if (e & io::priority) out |= EPOLLPRI;
  if (e & io::peer_closed) out |= EPOLLRDHUP;
  return out;
}

SUPERVISOR_INLINE std::uint32_t from_epoll(std::uint32_t e) {
  std::uint32_t out = 0;
  if (e & EPOLLIN) out |= io::readable;
  if (e & EPOLLOUT) out |= io::writable;
  if (e & EPOLLPRI) out |= io::priority;
  if (e & EPOLLERR) out |= io::error;
  if (e & EPOLLHUP) out |= io::hangup;
  if (e & EPOLLRDHUP) out |= io::peer_closed;
  return out;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE EpollPoller::EpollPoller() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw_error(std::error_code(errno, std::system_category()), "Loop: epoll_create1");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) throw_error(std::error_code(errno, std::system_category()), "Loop: eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // id 0 is the wake-up
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0)
    throw_error(std::error_code(errno, std::system_category()), "Loop: epoll_ctl(eventfd)");
}

SUPERVISOR_INLINE bool EpollPoller::add(NativeHandle h, std::uint32_t events, std::uint64_t id) {
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.u64 = id;
  return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, static_cast<int>(h), &ev) == 0;
}

SUPERVISOR_INLINE void EpollPoller::modify(NativeHandle h, std::uint32_t events, std::uint64_t id) {
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.u64 = id;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, static_cast<int>(h), &ev);
}

SUPERVISOR_INLINE void EpollPoller::remove(NativeHandle h) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, static_cast<int>(h), nullptr);
}

SUPERVISOR_INLINE void EpollPoller::wake() {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the loop will wake anyway.
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

SUPERVISOR_INLINE void EpollPoller::wait(int timeout_ms, std::vector<ReadyEvent>& ready) {
  epoll_event events[64];
  const int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == 0) {
      // Read before the loop takes its queue: a post() after this writes the eventfd again.
      std::uint64_t count = 0;
      [[maybe_unused]] const ssize_t r = ::read(wake_.get(), &count, sizeof count);
      continue;
    }
    ready.push_back(ReadyEvent{events[i].data.u64, from_epoll(events[i].events)});
  }
}

}  // namespace supervisor::detail
