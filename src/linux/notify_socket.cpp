// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "notify_socket.hpp"
#include "../posix/errno_text.hpp"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace supervisor::detail {

SUPERVISOR_INLINE std::function<std::string()>& notify_name_source_for_tests() {
  static std::function<std::string()> source;
  return source;
}

SUPERVISOR_LOCAL_BEGIN

// 32 hex digits from getrandom(2); empty (errno set) when the kernel gives none.
SUPERVISOR_INLINE std::string random_name_part() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {};
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void NotifySocket::open(std::string_view prefix, ErrorSink& err) {
  std::string name;
  auto fail = [&](const char* what) {
    const int e = errno;
    err.fail(std::error_code(e, std::system_category()), [&] {
      return fmt::format("notify socket \"@{}\": {}: {}", name.empty() ? std::string(prefix) : name,
                         what, sys_message(e));
    });
  };
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail("socket");
  // A taken name is someone else's (another host, or a process squatting on names): a fresh
  // random one is free but for a chance of 2^-128, so a few tries only ever fail on purpose.
  constexpr int k_attempts = 16;
  for (int attempt = 0;; ++attempt) {
    const auto& source = notify_name_source_for_tests();
    const std::string part = source ? source() : random_name_part();
    if (part.empty()) return fail("getrandom");
    name = std::string(prefix) + "/" + part;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (name.size() + 1 >= sizeof addr.sun_path) {
      errno = ENAMETOOLONG;
      return fail("bind");
    }
    // Abstract namespace: a leading NUL, no file to create, clean up or protect.
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) break;
    if (errno != EADDRINUSE || attempt + 1 == k_attempts) return fail("bind");
  }
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
    return fail("SO_PASSCRED");
  fd_ = std::move(fd);
  address_ = "@" + name;
}

SUPERVISOR_INLINE std::vector<NotifyNote> NotifySocket::receive() {
  std::vector<NotifyNote> out;
  for (int i = 0; i < 64 && fd_; ++i) {  // bounded: a chatty worker cannot starve the loop
    char data[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{data, sizeof data - 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: nothing more
    }
    pid_t sender = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        sender = cred.pid;
      }
    }
    out.push_back(parse_notify(std::string_view(data, static_cast<std::size_t>(n)), sender));
  }
  return out;
}

}  // namespace supervisor::detail
