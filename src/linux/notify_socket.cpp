// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "notify_socket.hpp"
#include "../posix/errno_text.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace supervisor::detail {

SUPERVISOR_INLINE void NotifySocket::open(const std::string& abstract_name, ErrorSink& err) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  auto fail = [&](const char* what) {
    const int e = errno;
    err.fail(std::error_code(e, std::system_category()), [&] {
      return fmt::format("notify socket \"@{}\": {}: {}", abstract_name, what, sys_message(e));
    });
  };
  if (!fd) return fail("socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (abstract_name.size() + 1 >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return fail("bind");
  }
  // Abstract namespace: a leading NUL, no file to create, clean up or protect.
  std::memcpy(addr.sun_path + 1, abstract_name.data(), abstract_name.size());
  const auto len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) return fail("bind");
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
    return fail("SO_PASSCRED");
  fd_ = std::move(fd);
  address_ = "@" + abstract_name;
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
