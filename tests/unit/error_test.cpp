// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>

#include <chrono>
#include <new>
#include <string>
#include <system_error>

#include "catch_compat.hpp"

namespace sv = supervisor;

TEST_CASE("errc converts to std::error_code in the supervisor category", "[unit][error]") {
  std::error_code ec = sv::errc::spawn_failed;  // implicit, through is_error_code_enum + ADL
  CHECK(ec);
  CHECK(ec.value() == 4);
  CHECK(std::string(ec.category().name()) == "supervisor");
  CHECK(&ec.category() == &sv::error_category());
  CHECK(ec == sv::errc::spawn_failed);
  CHECK(ec != sv::errc::timeout);
  CHECK(ec.message() == "process could not be started");
}

TEST_CASE("every errc has its own non-generic message", "[unit][error]") {
  for (int v = 1; v <= static_cast<int>(sv::errc::fd_limit); ++v) {
    const std::string msg = sv::make_error_code(static_cast<sv::errc>(v)).message();
    INFO("errc value " << v);
    CHECK(!msg.empty());
    CHECK(msg.find("unknown supervisor error") == std::string::npos);
  }
  CHECK(sv::error_category().message(9999) == "unknown supervisor error 9999");
}

TEST_CASE("library errors map to portable std::errc conditions", "[unit][error]") {
  CHECK(std::error_code(sv::errc::timeout) == std::errc::timed_out);
  CHECK(std::error_code(sv::errc::lease_timeout) == std::errc::timed_out);
  CHECK(std::error_code(sv::errc::invalid_spec) == std::errc::invalid_argument);
  CHECK(std::error_code(sv::errc::unsupported) == std::errc::not_supported);
  CHECK(std::error_code(sv::errc::spawn_failed) != std::errc::timed_out);
  CHECK(std::error_code(sv::errc::peer_gone) == std::errc::broken_pipe);
  CHECK(std::error_code(sv::errc::fd_limit) == std::errc::too_many_files_open);
  // An OS error keeps its own category and does not compare equal to ours.
  const std::error_code os(2, std::system_category());
  CHECK(os != sv::errc::spawn_failed);
}

TEST_CASE("throw_error throws std::system_error carrying code and context", "[unit][error]") {
  try {
    sv::throw_error(sv::errc::invalid_spec, "ProcessSpec.argv: empty");
    FAIL("throw_error returned");
  } catch (const std::system_error& e) {
    CHECK(e.code() == sv::errc::invalid_spec);
    const std::string what = e.what();
    CHECK(what.find("ProcessSpec.argv: empty") != std::string::npos);
    CHECK(what.find("invalid process spec") != std::string::npos);
  }
}

namespace {
// The overload pattern the library uses, exercised from the outside.
int checked_div_impl(int a, int b, sv::detail::ErrorSink& err) {
  if (b == 0) {
    err.fail(sv::errc::invalid_argument,
             [&] { return "divide " + std::to_string(a) + " by zero"; });
    return 0;
  }
  return a / b;
}
int checked_div(int a, int b) {
  return sv::detail::or_throw(
      [&](sv::detail::ErrorSink& err) { return checked_div_impl(a, b, err); });
}
int checked_div(int a, int b, std::error_code& ec) noexcept {
  return sv::detail::into_code(
      ec, [&](sv::detail::ErrorSink& err) { return checked_div_impl(a, b, err); });
}
}  // namespace

TEST_CASE("throwing and error_code overloads agree", "[unit][error]") {
  std::error_code ec = sv::errc::internal;  // must be cleared on success
  CHECK(checked_div(6, 3, ec) == 2);
  CHECK(!ec);
  CHECK(checked_div(6, 3) == 2);

  CHECK(checked_div(1, 0, ec) == 0);
  CHECK(ec == sv::errc::invalid_argument);
  CHECK_THROWS_AS(checked_div(1, 0), std::system_error);
  try {
    (void)checked_div(7, 0);
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("divide 7 by zero") != std::string::npos);
  }
}

TEST_CASE("the noexcept path never formats a message", "[unit][error]") {
  bool formatted = false;
  std::error_code ec;
  sv::detail::into_code(ec, [&](sv::detail::ErrorSink& err) {
    err.fail(sv::errc::timeout, [&] {
      formatted = true;
      return std::string("x");
    });
  });
  CHECK(ec == sv::errc::timeout);
  CHECK_FALSE(formatted);
}

TEST_CASE("an exception never escapes a noexcept overload: it becomes its code", "[unit][error]") {
  std::error_code ec;
  const int r =
      sv::detail::into_code(ec, [](sv::detail::ErrorSink&) -> int { throw std::bad_alloc(); });
  CHECK(r == 0);  // the value-initialised result
  CHECK(ec == std::errc::not_enough_memory);
  sv::detail::into_code(ec, [](sv::detail::ErrorSink&) {
    throw std::system_error(std::make_error_code(std::errc::permission_denied), "x");
  });
  CHECK(ec == std::errc::permission_denied);
  const std::string text =
      sv::detail::into_code(ec, [](sv::detail::ErrorSink&) -> std::string { throw 42; });
  CHECK(text.empty());
  CHECK(ec == sv::errc::internal);
  sv::detail::into_code(ec, [](sv::detail::ErrorSink&) {});
  CHECK(!ec);  // cleared on success
}

TEST_CASE("ExitStatus::describe names the reason, code or signal, uptime and counts",
          "[unit][error]") {
  using namespace std::chrono_literals;
  sv::ExitStatus s;
  s.reason = sv::ExitReason::exit_code;
  s.exit_code = 3;
  s.uptime = 2100ms;
  CHECK(s.describe() == "exit-code (code 3) after 2.100s");
  s.uptime = 1999600us;  // rounds to the nearest millisecond
  CHECK(s.describe() == "exit-code (code 3) after 2.000s");
  s.uptime = 7ms;
  s.stop_requested = true;
  CHECK(s.describe() == "exit-code (code 3) after 0.007s, stop requested");

  sv::ExitStatus k;
  k.reason = sv::ExitReason::oom_kill;
  k.signal = 9;
  k.core_dumped = true;
  k.uptime = 61s + 50ms;
  k.oom_kills = 2;
  k.killed_descendants = 4;
  k.escaped_descendants = 1;
  k.unreaped = true;
  // core/exit_status.cpp names signals on Linux, and on Windows (where `signal` holds the same
  // POSIX numbers for a crash: src/windows/status_map.hpp); else "signal N".
#if defined(__linux__) || defined(_WIN32)
  const std::string sigkill = "SIGKILL";
#else
  const std::string sigkill = "signal 9";
#endif
  CHECK(k.describe() ==
        "oom-kill (" + sigkill +
            ", core dumped) after 61.050s, 2 OOM-killed, 4 descendants killed, 1 "
            "descendants escaped, main process still alive after SIGKILL (left unreaped)");
  k = sv::ExitStatus{};
  k.reason = sv::ExitReason::resource_limit;
  k.signal = 40;
  k.wall_time_exceeded = true;
  k.stop_requested = true;
  CHECK(k.describe() == "resource-limit (signal 40) after 0.000s, stopped at its wall_time");
}

TEST_CASE("a failure recorded with a zero code is never success", "[unit][error]") {
  // E.g. a stale errno of 0 after a raw system call: the caller must not go on as if it worked.
  sv::detail::ErrorSink sink;
  sink.fail(std::error_code(0, std::system_category()), [] { return std::string("clone3"); });
  CHECK(static_cast<bool>(sink));
  CHECK(sink.code == sv::errc::internal);
  CHECK(sink.context == "clone3");
}
