// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The job worker of the channel benchmark (channel_bench.cpp): answers every message on its
// channel (fd $SUPERVISOR_CHANNEL_FD, a SOCK_SEQPACKET socket) with the same bytes, until the
// channel ends. As small as a worker gets, so that the benchmark measures the exchange and not
// the work: the pool's workers and the raw floor's child both run it.
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdlib>

int main() {
  const char* fd_text = std::getenv("SUPERVISOR_CHANNEL_FD");
  if (fd_text == nullptr) return 64;
  const int fd = std::atoi(fd_text);
  static char buf[256 * 1024];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return 71;
    }
    if (::send(fd, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) < 0) return 71;
  }
}
