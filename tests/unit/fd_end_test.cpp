// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The host's ends of a child's stdin pipe and channel (src/posix/fd_end.cpp), on a socketpair
// and a pipe made here: no process. What a spawn prepares for them (the child's fd, its
// environment) is checked too.
#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "catch_compat.hpp"
#include "posix/fd_end.hpp"
#include "posix/spawn_prepare.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;
using namespace std::chrono_literals;

namespace {

constexpr auto no_limit = std::chrono::hours(24 * 365);

struct Pair {
  Pair() {
    int ends[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) == 0);
    ours = ends[0];
    theirs = ends[1];
    ::fcntl(ours, F_SETFL, ::fcntl(ours, F_GETFL) | O_NONBLOCK);
    end = d::make_channel_end(d::UniqueFd(ours));
    end->label = "channel of test";
  }
  ~Pair() { ::close(theirs); }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  int ours = -1;
  int theirs = -1;
  std::shared_ptr<d::HostEnd> end;
};

std::error_code receive(d::HostEnd& end, std::string& out, sv::Duration timeout) {
  d::ErrorSink err;
  end.receive(out, timeout, err);
  return err.code;
}

bool open_fd(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

}  // namespace

TEST_CASE("a channel end sends and receives whole messages within its timeout",
          "[unit][channel][posix]") {
  Pair p;
  d::ErrorSink err;
  p.end->send("job", 1s, err);
  REQUIRE_FALSE(err);
  char buf[16];
  CHECK(::recv(p.theirs, buf, sizeof buf, 0) == 3);
  const std::string big(150 * 1024, 'z');
  REQUIRE(::send(p.theirs, big.data(), big.size(), 0) == static_cast<ssize_t>(big.size()));
  REQUIRE(::send(p.theirs, "b", 1, 0) == 1);
  std::string got;
  CHECK_FALSE(receive(*p.end, got, 1s));
  CHECK(got == big);
  CHECK_FALSE(receive(*p.end, got, 1s));
  CHECK(got == "b");
  CHECK(receive(*p.end, got, 10ms) == sv::errc::timeout);
  CHECK(receive(*p.end, got, 0s) == sv::errc::timeout);
  // An empty message from the child is a message, not the end.
  REQUIRE(::send(p.theirs, "", 0, 0) == 0);
  got = "x";
  CHECK_FALSE(receive(*p.end, got, 1s));
  CHECK(got.empty());
  // Empty and oversized messages are refused, typed.
  d::ErrorSink empty;
  p.end->send("", 1s, empty);
  CHECK(empty.code == sv::errc::invalid_argument);
  d::ErrorSink huge;
  p.end->send(std::string(64 << 20, 'h'), 1s, huge);
  CHECK(huge.code == sv::errc::invalid_argument);
  CHECK(huge.context.find("larger than the channel takes") != std::string::npos);
}

TEST_CASE("a channel end: the peer gone, a full buffer, and a close under a waiting call",
          "[unit][channel][posix]") {
  SECTION("the child's end closed: peer_gone, for both directions") {
    Pair p;
    ::close(p.theirs);
    p.theirs = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // closed again by ~Pair
    std::string got;
    CHECK(receive(*p.end, got, 1s) == sv::errc::peer_gone);
    d::ErrorSink err;
    p.end->send("job", 1s, err);
    CHECK(err.code == sv::errc::peer_gone);
  }
  SECTION("nobody reads: a send waits for room only up to its timeout") {
    Pair p;
    const std::string chunk(16 * 1024, 'c');
    d::ErrorSink err;
    for (int i = 0; i < 1000 && !err; ++i) p.end->send(chunk, 0s, err);
    CHECK(err.code == sv::errc::timeout);
    d::ErrorSink waited;
    p.end->send(chunk, 20ms, waited);
    CHECK(waited.code == sv::errc::timeout);
  }
  SECTION("the incarnation ends while a receive waits: it wakes with peer_gone, and the fd goes") {
    Pair p;
    auto waiting = std::async(std::launch::async, [&] {
      std::string got;
      return receive(*p.end, got, no_limit);
    });
    CHECK(waiting.wait_for(20ms) == std::future_status::timeout);
    p.end->close(false);
    REQUIRE(waiting.wait_for(10s) == std::future_status::ready);
    CHECK(waiting.get() == sv::errc::peer_gone);
    CHECK_FALSE(open_fd(p.ours));  // closed once the last call left
    std::string got;
    CHECK(receive(*p.end, got, 0s) == sv::errc::peer_gone);
  }
  SECTION("calls racing a close: each ends, typed, and the fd is closed once, after the last") {
    Pair p;
    std::vector<std::thread> callers;
    std::atomic<int> gone{0};
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&, t] {
        for (;;) {
          d::ErrorSink err;
          std::string got;
          if (t % 2 == 0) {
            p.end->send("job", 0s, err);
          } else {
            p.end->receive(got, 1ms, err);
          }
          if (err.code == sv::errc::peer_gone) break;
        }
        gone.fetch_add(1);
      });
    }
    std::this_thread::sleep_for(5ms);
    p.end->close(false);
    for (auto& c : callers) c.join();
    CHECK(gone.load() == 4);
    CHECK_FALSE(open_fd(p.ours));
  }
  SECTION("closed by the host: invalid_argument, at once") {
    Pair p;
    p.end->close(true);
    p.end->close(false);  // the first close decides
    CHECK_FALSE(open_fd(p.ours));
    std::string got;
    CHECK(receive(*p.end, got, 1s) == sv::errc::invalid_argument);
  }
}

TEST_CASE("a stdin pipe end: partial writes at the timeout, and no SIGPIPE when the reader goes",
          "[unit][stdin][posix]") {
  int ends[2];
  REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
  ::fcntl(ends[1], F_SETFL, ::fcntl(ends[1], F_GETFL) | O_NONBLOCK);
  auto end = d::make_pipe_end(d::UniqueFd(ends[1]));
  end->label = "stdin of test";
  const std::string big(1 << 20, 'x');
  d::ErrorSink err;
  const std::size_t went = end->write(big, 20ms, err);
  CHECK_FALSE(err);
  CHECK(went > 0);
  CHECK(went < big.size());
  CHECK(end->write(big, 0s, err) == 0);
  CHECK_FALSE(err);
  ::close(ends[0]);  // the reader goes: the default SIGPIPE would end this test program
  CHECK(end->write("x", 1s, err) == 0);
  CHECK(err.code == sv::errc::peer_gone);
  sigset_t pending;
  sigemptyset(&pending);
  ::sigpending(&pending);
  CHECK(sigismember(&pending, SIGPIPE) == 0);  // taken, not left pending
}

TEST_CASE("a spawn with a channel gives the child its end on its fd, and names it",
          "[unit][channel][posix]") {
  sv::ProcessSpec s;
  s.argv = {"/bin/true"};
  s.channel.enabled = true;
  s.channel.child_fd = 5;
  d::PreparedSpawn p;
  d::ErrorSink err;
  d::prepare_spawn(s, p, err);
  REQUIRE_FALSE(err);
  CHECK(p.channel);
  CHECK(p.max_target == 5);
  bool mapped = false;
  for (const auto& m : p.fds) mapped = mapped || m.target == 5;
  CHECK(mapped);
  int named = 0;
  for (char* e : p.envp) {
    if (e != nullptr && std::strncmp(e, "SUPERVISOR_CHANNEL_FD=", 22) == 0) {
      ++named;
      CHECK(std::string(e) == "SUPERVISOR_CHANNEL_FD=5");
    }
  }
  CHECK(named == 1);
  int type = 0;
  socklen_t len = sizeof type;
  REQUIRE(::getsockopt(p.channel.get(), SOL_SOCKET, SO_TYPE, &type, &len) == 0);
  CHECK(type == SOCK_SEQPACKET);
}
