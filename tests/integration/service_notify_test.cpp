// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The host's own sd_notify client (ServiceNotifier) and its keeper thread (ServiceKeeper), against
// a real AF_UNIX datagram socket the test binds and names in NOTIFY_SOCKET, as systemd would: a
// path in a temporary directory, and an abstract name. The exact datagrams are asserted; timing
// bounds are generous (a guard against a stuck thread, never a measurement).
#include <supervisor/service_notify.hpp>

#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "catch_compat.hpp"
#include "env_guard.hpp"
#include "leak_audit.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

// What systemd's end of NOTIFY_SOCKET does: a bound datagram socket that receives.
class Receiver {
 public:
  // A socket file in a fresh temporary directory.
  static Receiver at_path() {
    Receiver r;
    char dir[] = "/tmp/sv-notify-test-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    r.dir_ = dir;
    r.address_ = r.dir_ + "/notify";
    r.bind();
    return r;
  }
  // An abstract name, unique to this process and call.
  static Receiver abstract() {
    static std::atomic<int> counter{0};
    Receiver r;
    r.address_ = "@" + st::unique_tag("notify") + "-" + std::to_string(++counter);
    r.bind();
    return r;
  }
  Receiver(Receiver&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)),
        address_(std::move(o.address_)),
        dir_(std::exchange(o.dir_, std::string())) {}
  Receiver& operator=(Receiver&&) = delete;
  ~Receiver() {
    if (fd_ >= 0) ::close(fd_);
    if (!dir_.empty()) {
      ::unlink(address_.c_str());
      ::rmdir(dir_.c_str());
    }
  }

  [[nodiscard]] const std::string& address() const { return address_; }

  // The next datagram, or none within `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout = 10s) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buffer[8192];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }
  // Every datagram that arrives within `window`.
  std::vector<std::string> collect(std::chrono::milliseconds window) const {
    std::vector<std::string> got;
    const auto end = std::chrono::steady_clock::now() + window;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      if (auto d = next(left)) got.push_back(std::move(*d));
    }
    return got;
  }
  // Waits for the datagram `want`, returning those that came before it; none when it never came.
  std::optional<std::vector<std::string>> until(const std::string& want) const {
    std::vector<std::string> before;
    while (auto d = next()) {
      if (*d == want) return before;
      before.push_back(std::move(*d));
    }
    return std::nullopt;
  }

 private:
  Receiver() = default;
  void bind() {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(address_.size() < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, address_.data(), address_.size());
    const bool abstract = address_.front() == '@';
    if (abstract) addr.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                            (abstract ? 0 : 1));
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) == 0);
  }

  int fd_ = -1;
  std::string address_;
  std::string dir_;
};

std::size_t count_of(const std::vector<std::string>& got, const std::string& what) {
  std::size_t n = 0;
  for (const auto& d : got)
    if (d == what) ++n;
  return n;
}

// The names of this process's threads (/proc/self/task/*/comm).
std::vector<std::string> thread_names() {
  std::vector<std::string> names;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return names;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    if (std::getline(comm, name)) names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

bool has_thread(const std::string& name) {
  for (const auto& n : thread_names())
    if (n == name) return true;
  return false;
}

// The environment of a host systemd started with NOTIFY_SOCKET=`address` and no watchdog.
void as_service(st::EnvGuard& env, const std::string& address) {
  env.set("NOTIFY_SOCKET", address);
  env.unset("WATCHDOG_USEC");
  env.unset("WATCHDOG_PID");
}

}  // namespace

TEST_CASE("ServiceNotifier sends each message as one datagram to a socket path",
          "[integration][linux][service_notify]") {
  const Receiver systemd = Receiver::at_path();
  const st::LeakAudit audit;
  {
    st::EnvGuard env;
    as_service(env, systemd.address());
    const auto n = sv::ServiceNotifier::from_environment();
    REQUIRE(n.available());
    CHECK(n.address() == systemd.address());
    CHECK_FALSE(n.watchdog_interval());

    n.ready();
    CHECK(systemd.next() == "READY=1");
    n.status("2/2 workers ready\r\nsecond line\ttab");
    CHECK(systemd.next() == "STATUS=2/2 workers ready  second line tab");
    n.watchdog();
    CHECK(systemd.next() == "WATCHDOG=1");
    n.stopping();
    CHECK(systemd.next() == "STOPPING=1");
    n.extend_timeout(1500us + 1ns);  // rounded up
    CHECK(systemd.next() == "EXTEND_TIMEOUT_USEC=1501");
    n.notify("ERRNO=5\nBUSERROR=org.example.Failed");
    CHECK(systemd.next() == "ERRNO=5\nBUSERROR=org.example.Failed");

    const auto before = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    n.reloading();
    const auto reloading = systemd.next();
    REQUIRE(reloading);
    std::smatch m;
    REQUIRE(std::regex_match(*reloading, m, std::regex("RELOADING=1\nMONOTONIC_USEC=([0-9]+)")));
    // libstdc++'s steady_clock is CLOCK_MONOTONIC, systemd's clock for MONOTONIC_USEC.
    CHECK(std::stoll(m[1].str()) >= before);

    // A summary too long for one datagram is cut to fit, never inside a UTF-8 character.
    std::string long_line;
    while (long_line.size() < 5000) long_line += "\xC3\xA9";  // "é", two bytes
    n.status(long_line);
    const auto cut = systemd.next();
    REQUIRE(cut);
    CHECK(cut->size() <= sv::ServiceNotifier::max_message_size);
    CHECK(cut->size() >= sv::ServiceNotifier::max_message_size - 1);
    CHECK((cut->size() - 7) % 2 == 0);
    CHECK(cut->substr(0, 9) == "STATUS=\xC3\xA9");

    // Bad messages are typed errors, and nothing is sent.
    std::error_code ec;
    n.notify("", ec);
    CHECK(ec == sv::errc::invalid_argument);
    n.notify(std::string_view("READY=1\0X", 9), ec);
    CHECK(ec == sv::errc::invalid_argument);
    n.notify(std::string(sv::ServiceNotifier::max_message_size + 1, 'x'), ec);
    CHECK(ec == sv::errc::invalid_argument);
    n.extend_timeout(0ns, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK_THROWS_AS(n.extend_timeout(-1s), std::system_error);
    n.watchdog(ec);
    CHECK_FALSE(ec);
    CHECK(systemd.next() == "WATCHDOG=1");  // the refused ones never went out
  }
  // The notifier's socket is closed with it.
  CHECK(audit.check("").empty());
}

TEST_CASE("ServiceNotifier reaches an abstract socket named @name",
          "[integration][linux][service_notify]") {
  const Receiver systemd = Receiver::abstract();
  st::EnvGuard env;
  as_service(env, systemd.address());
  std::error_code ec;
  const auto n = sv::ServiceNotifier::from_environment(ec);
  REQUIRE_FALSE(ec);
  REQUIRE(n.available());
  n.ready(ec);
  CHECK_FALSE(ec);
  CHECK(systemd.next() == "READY=1");
  n.status("serving", ec);
  CHECK(systemd.next() == "STATUS=serving");
}

TEST_CASE("ServiceNotifier: a socket nobody listens on is an OS error, not a hang",
          "[integration][linux][service_notify]") {
  st::EnvGuard env;
  as_service(env, "@" + st::unique_tag("nobody"));
  const auto n = sv::ServiceNotifier::from_environment();
  REQUIRE(n.available());
  std::error_code ec;
  n.ready(ec);
  CHECK(ec == std::errc::connection_refused);
  CHECK(ec.category() == std::system_category());
}

TEST_CASE("ServiceNotifier: a malformed NOTIFY_SOCKET is a typed error at construction",
          "[integration][linux][service_notify]") {
  struct Case {
    std::string value;
    sv::errc expected;
  };
  const std::vector<Case> cases = {
      {"run/systemd/notify", sv::errc::invalid_argument},  // relative
      {"@", sv::errc::invalid_argument},                   // no name
      {"/", sv::errc::invalid_argument},                   // no path
      {"notify", sv::errc::invalid_argument},
      {"/" + std::string(200, 'x'), sv::errc::invalid_argument},  // longer than sun_path
      {"vsock:2:1234", sv::errc::unsupported},
  };
  for (const auto& c : cases) {
    CAPTURE(c.value);
    st::EnvGuard env;
    as_service(env, c.value);
    std::error_code ec;
    const auto n = sv::ServiceNotifier::from_environment(ec);
    CHECK(ec == c.expected);
    CHECK_FALSE(n.available());
    try {
      (void)sv::ServiceNotifier::from_environment();
      FAIL("no exception for NOTIFY_SOCKET=" << c.value);
    } catch (const std::system_error& e) {
      CHECK(e.code() == c.expected);
      CHECK(std::string(e.what()).find("NOTIFY_SOCKET") != std::string::npos);
    }
    // The keeper refuses it the same way, and starts no thread.
    sv::ServiceKeeperOptions o;
    o.ready = [](std::string&) { return true; };
    o.alive = [] { return true; };
    auto keeper = sv::ServiceKeeper::start(o, ec);
    CHECK(ec == c.expected);
    CHECK_FALSE(keeper.running());
  }
}

TEST_CASE("ServiceNotifier: WATCHDOG_USEC counts only when WATCHDOG_PID is ours",
          "[integration][linux][service_notify]") {
  const Receiver systemd = Receiver::abstract();
  const std::string self = std::to_string(::getpid());
  st::EnvGuard env;
  as_service(env, systemd.address());
  env.set("WATCHDOG_USEC", "30000000");

  CHECK(sv::ServiceNotifier::from_environment().watchdog_interval() == std::optional(30s));
  env.set("WATCHDOG_PID", self);
  CHECK(sv::ServiceNotifier::from_environment().watchdog_interval() == std::optional(30s));
  // Our parent's watchdog (we inherited its variables): not ours to feed.
  env.set("WATCHDOG_PID", std::to_string(::getppid()));
  {
    const auto n = sv::ServiceNotifier::from_environment();
    CHECK(n.available());
    CHECK_FALSE(n.watchdog_interval());
  }

  std::error_code ec;
  env.set("WATCHDOG_PID", "12x");
  (void)sv::ServiceNotifier::from_environment(ec);
  CHECK(ec == sv::errc::invalid_argument);
  env.set("WATCHDOG_PID", self);
  for (const char* bad : {"", "0", "-5", "1.5s", "99999999999999999999"}) {
    CAPTURE(bad);
    env.set("WATCHDOG_USEC", bad);
    (void)sv::ServiceNotifier::from_environment(ec);
    CHECK(ec == sv::errc::invalid_argument);
  }
  // Without NOTIFY_SOCKET there is no one to feed.
  env.set("WATCHDOG_USEC", "30000000");
  env.unset("NOTIFY_SOCKET");
  const auto none = sv::ServiceNotifier::from_environment(ec);
  CHECK_FALSE(ec);
  CHECK_FALSE(none.available());
  CHECK_FALSE(none.watchdog_interval());
}

TEST_CASE("Outside systemd: nothing is sent, no thread, no descriptor",
          "[integration][linux][service_notify]") {
  st::EnvGuard env;
  env.unset("NOTIFY_SOCKET");
  env.set("WATCHDOG_USEC", "100000");
  const st::LeakAudit audit;
  {
    const auto n = sv::ServiceNotifier::from_environment();
    CHECK_FALSE(n.available());
    CHECK(n.address().empty());
    CHECK_NOTHROW(n.ready());
    CHECK_NOTHROW(n.status("anything"));
    CHECK_NOTHROW(n.watchdog());
    CHECK_NOTHROW(n.reloading());
    CHECK_NOTHROW(n.stopping());
    CHECK_THROWS_AS(n.notify(""), std::system_error);  // arguments are checked all the same

    std::atomic<int> calls{0};
    sv::ServiceKeeperOptions o;
    o.ready = [&](std::string&) {
      ++calls;
      return true;
    };
    o.alive = [&] {
      ++calls;
      return true;
    };
    o.poll_period = 10ms;
    auto keeper = sv::ServiceKeeper::start(o);
    CHECK_FALSE(keeper.running());
    CHECK_FALSE(keeper.watchdog_interval());
    CHECK(st::snapshot_self().thread_count == audit.baseline().thread_count);
    std::this_thread::sleep_for(100ms);
    CHECK(calls == 0);
    keeper.stop();
    CHECK_FALSE(keeper.stats().ready_sent);
  }
  CHECK(audit.check("").empty());
}

TEST_CASE("ServiceKeeper: options are checked, under systemd or not",
          "[integration][linux][service_notify]") {
  st::EnvGuard env;
  env.unset("NOTIFY_SOCKET");
  sv::ServiceKeeperOptions o;
  o.alive = [] { return true; };
  std::error_code ec;
  auto k = sv::ServiceKeeper::start(o, ec);
  CHECK(ec == sv::errc::invalid_argument);
  o.ready = [](std::string&) { return true; };
  o.poll_period = 0ns;
  try {
    (void)sv::ServiceKeeper::start(o);
    FAIL("no exception for a zero poll_period");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_argument);
    CHECK(std::string(e.what()).find("poll_period") != std::string::npos);
  }
}

TEST_CASE("ServiceKeeper: READY once ready, STATUS on change, WATCHDOG while alive, STOPPING",
          "[integration][linux][service_notify]") {
  const Receiver systemd = Receiver::at_path();
  st::EnvGuard env;
  as_service(env, systemd.address());
  env.set("WATCHDOG_USEC", "200000");  // 200 ms: a ping every 100 ms
  env.set("WATCHDOG_PID", std::to_string(::getpid()));
  const st::LeakAudit audit;

  std::mutex mutex;
  std::string summary = "starting: 0/2 workers ready";
  std::atomic<bool> is_ready{false};
  std::atomic<bool> is_alive{true};
  std::atomic<int> alive_calls{0};
  {
    sv::ServiceKeeperOptions o;
    o.ready = [&](std::string& line) {
      const std::lock_guard lock(mutex);
      line = summary;
      return is_ready.load();
    };
    o.alive = [&] {
      ++alive_calls;
      return is_alive.load();
    };
    o.poll_period = 20ms;
    auto keeper = sv::ServiceKeeper::start(o);
    REQUIRE(keeper.running());
    CHECK(keeper.watchdog_interval() == std::optional<sv::Duration>(200ms));
    // The thread names itself as it starts.
    CHECK(st::wait_until([] { return has_thread("sv-notify"); }, 10s));
    CHECK(st::snapshot_self().thread_count == audit.baseline().thread_count + 1);

    // Not ready: the summary once, pings, never READY=1.
    auto got = systemd.collect(600ms);
    CHECK(count_of(got, "STATUS=starting: 0/2 workers ready") == 1);
    CHECK(count_of(got, "READY=1") == 0);
    CHECK(count_of(got, "WATCHDOG=1") >= 1);
    CHECK(got.size() == 1 + count_of(got, "WATCHDOG=1"));

    // Ready: the new summary, then READY=1, once.
    {
      const std::lock_guard lock(mutex);
      summary = "ready: 2/2 workers ready";
    }
    is_ready = true;
    auto before = systemd.until("READY=1");
    REQUIRE(before);
    CHECK(count_of(*before, "STATUS=ready: 2/2 workers ready") == 1);
    CHECK(before->size() == 1 + count_of(*before, "WATCHDOG=1"));
    CHECK(before->back() == "STATUS=ready: 2/2 workers ready");

    // Steady state: only pings, about every 100 ms (generous bounds: 1 s nominally holds 10).
    got = systemd.collect(1s);
    CHECK(count_of(got, "READY=1") == 0);
    CHECK(count_of(got, "WATCHDOG=1") == got.size());
    CHECK(got.size() >= 3);
    CHECK(got.size() <= 15);
    CHECK(keeper.stats().ready_sent);

    // The loops stop turning: no more pings (one already on its way may still arrive).
    is_alive = false;
    (void)systemd.collect(300ms);
    got = systemd.collect(600ms);
    CHECK(got.empty());
    CHECK(keeper.stats().watchdog_withheld >= 1);

    // Turning again: pings again.
    is_alive = true;
    CHECK(systemd.until("WATCHDOG=1"));

    const auto stats = keeper.stats();
    CHECK(stats.status_sent == 2);
    CHECK(stats.watchdog_sent >= 4);
    CHECK(stats.send_failures == 0);
    CHECK(stats.callback_errors == 0);

    keeper.stop();
    CHECK_FALSE(keeper.running());
    CHECK_FALSE(keeper.watchdog_interval());
    before = systemd.until("STOPPING=1");
    REQUIRE(before);
    CHECK(count_of(*before, "WATCHDOG=1") == before->size());
    // STOPPING=1 was the last word: nothing after it.
    CHECK_FALSE(systemd.next(300ms));
    keeper.stop();  // idempotent: no second STOPPING=1
    CHECK_FALSE(systemd.next(100ms));
  }
  CHECK(alive_calls >= 4);
  // The thread is joined and the socket closed.
  CHECK(audit.check("").empty());
}

TEST_CASE("ServiceKeeper: without a watchdog, nothing is sent until there is something to say",
          "[integration][linux][service_notify]") {
  const Receiver systemd = Receiver::abstract();
  st::EnvGuard env;
  as_service(env, systemd.address());
  const st::LeakAudit audit;
  std::atomic<int> ready_calls{0};
  std::atomic<int> alive_calls{0};
  std::atomic<int> errors{0};
  std::atomic<bool> throw_once{true};
  {
    sv::ServiceKeeperOptions o;
    o.ready = [&](std::string&) {
      ++ready_calls;
      if (throw_once.exchange(false)) throw std::runtime_error("pool snapshot failed");
      return false;  // never ready, no summary
    };
    o.alive = [&] {
      ++alive_calls;
      return true;
    };
    o.on_error = [&](const std::error_code& ec, std::string_view what) {
      if (ec == sv::errc::hook_failed && what.find("pool snapshot failed") != std::string::npos)
        ++errors;
    };
    o.poll_period = 10ms;
    auto keeper = sv::ServiceKeeper::start(o);
    REQUIRE(keeper.running());
    CHECK_FALSE(keeper.watchdog_interval());
    CHECK(systemd.collect(500ms).empty());
    CHECK(ready_calls >= 5);
    CHECK(errors == 1);
    CHECK(keeper.stats().callback_errors == 1);
  }  // the destructor stops it
  CHECK(systemd.next() == "STOPPING=1");
  CHECK_FALSE(systemd.next(200ms));
  CHECK(alive_calls == 0);  // only asked before a ping, and there is no watchdog
  CHECK(audit.check("").empty());
}

TEST_CASE("ServiceKeeper: a copy in a fork()ed child is inert",
          "[integration][linux][service_notify]") {
  const Receiver systemd = Receiver::abstract();
  st::EnvGuard env;
  as_service(env, systemd.address());
  sv::ServiceKeeperOptions o;
  o.ready = [](std::string& line) {
    line = "up";
    return true;
  };
  o.alive = [] { return true; };
  o.poll_period = 10ms;
  auto keeper = sv::ServiceKeeper::start(o);
  REQUIRE(keeper.running());
  CHECK(systemd.until("READY=1"));

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The copy: not running here; stopping it neither joins a thread that does not exist nor
    // tells systemd the parent is stopping.
    const bool running = keeper.running();
    keeper.stop();
    ::_exit(running ? 1 : 0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(systemd.collect(200ms).empty());  // no STOPPING=1 from the child
  CHECK(keeper.running());
  keeper.stop();
  CHECK(systemd.next() == "STOPPING=1");
}
