// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The host's own sd_notify client, the parts without a socket: the forms of NOTIFY_SOCKET and the
// watchdog variables (src/core/service_notify.cpp), and, on Windows, that nothing happens even
// with NOTIFY_SOCKET set. The datagrams themselves: tests/integration/service_notify_test.cpp.
#include <supervisor/service_notify.hpp>

#include <stdlib.h>

#include <chrono>
#include <string>
#include <system_error>

#include "catch_compat.hpp"
#include "core/service_endpoint.hpp"

namespace sv = supervisor;
namespace svd = supervisor::detail;
using namespace std::chrono_literals;

namespace {

std::error_code notify_socket_error(const std::string& value) {
  svd::ErrorSink err;
  svd::check_notify_socket(value, err);
  return err.code;
}

}  // namespace

TEST_CASE("NOTIFY_SOCKET: an absolute path or @name", "[unit][service_notify]") {
  CHECK_FALSE(notify_socket_error("/run/systemd/notify"));
  CHECK_FALSE(notify_socket_error("@supervisor/abc"));
  CHECK(notify_socket_error("@") == sv::errc::invalid_argument);
  CHECK(notify_socket_error("/") == sv::errc::invalid_argument);
  CHECK(notify_socket_error("run/notify") == sv::errc::invalid_argument);
  CHECK(notify_socket_error(std::string("/run\0x", 6)) == sv::errc::invalid_argument);
  CHECK(notify_socket_error("vsock:2:1") == sv::errc::unsupported);
  svd::ErrorSink err;
  svd::check_notify_socket("notify", err);
  CHECK(err.context.find("\"notify\"") != std::string::npos);
}

TEST_CASE("WATCHDOG_USEC and WATCHDOG_PID", "[unit][service_notify]") {
  svd::ErrorSink err;
  CHECK_FALSE(svd::parse_watchdog(nullptr, nullptr, 42, err));
  CHECK(svd::parse_watchdog("2000000", nullptr, 42, err) == std::optional<sv::Duration>(2s));
  CHECK(svd::parse_watchdog("1", "42", 42, err) == std::optional<sv::Duration>(1us));
  CHECK_FALSE(err);
  CHECK_FALSE(svd::parse_watchdog("2000000", "41", 42, err));  // another process's
  CHECK_FALSE(svd::parse_watchdog(nullptr, "41", 42, err));
  CHECK_FALSE(err);
  // A foreign watchdog is not looked at, even malformed.
  CHECK_FALSE(svd::parse_watchdog("junk", "41", 42, err));
  CHECK_FALSE(err);
  for (const char* bad : {"", "0", "-1", "+5", " 5", "5 ", "1e6", "18446744073709551616"}) {
    CAPTURE(bad);
    svd::ErrorSink e;
    CHECK_FALSE(svd::parse_watchdog(bad, nullptr, 42, e));
    CHECK(e.code == sv::errc::invalid_argument);
    CHECK(e.context.find("WATCHDOG_USEC") != std::string::npos);
  }
  for (const char* bad : {"", "0", "x", "-42"}) {
    CAPTURE(bad);
    svd::ErrorSink e;
    CHECK_FALSE(svd::parse_watchdog("1000", bad, 42, e));
    CHECK(e.code == sv::errc::invalid_argument);
  }
}

TEST_CASE("A default ServiceNotifier and ServiceKeeper do nothing", "[unit][service_notify]") {
  const sv::ServiceNotifier n;
  CHECK_FALSE(n.available());
  CHECK(n.address().empty());
  CHECK_FALSE(n.watchdog_interval());
  CHECK_NOTHROW(n.ready());
  CHECK_NOTHROW(n.extend_timeout(1s));
  CHECK_THROWS_AS(n.extend_timeout(0s), std::system_error);
  sv::ServiceKeeper k;
  CHECK_FALSE(k.running());
  k.stop();
  CHECK(k.stats().watchdog_sent == 0);
}

#if defined(_WIN32)
TEST_CASE("Windows: no systemd, whatever NOTIFY_SOCKET says", "[windows][service_notify]") {
  REQUIRE(::_putenv_s("NOTIFY_SOCKET", "/run/systemd/notify") == 0);
  const auto n = sv::ServiceNotifier::from_environment();
  CHECK_FALSE(n.available());
  CHECK_NOTHROW(n.ready());
  sv::ServiceKeeperOptions o;
  o.ready = [](std::string&) { return true; };
  o.alive = [] { return true; };
  auto k = sv::ServiceKeeper::start(o);
  CHECK_FALSE(k.running());
  REQUIRE(::_putenv_s("NOTIFY_SOCKET", "") == 0);
}
#endif
