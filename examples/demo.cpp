// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The README's demo. It shows, for real, what the library can do so far; it grows with each
// capability (process supervision arrives with the POSIX process layer).
#include <supervisor/supervisor.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <system_error>

int main() {
  namespace sv = supervisor;
  using namespace std::chrono_literals;

  fmt::print("supervisor {} (headers {}.{}.{})\n", sv::library_version_string(),
             sv::header_version.major, sv::header_version.minor, sv::header_version.patch);

  // Errors: every fallible call has a throwing and a noexcept error_code overload.
  sv::ManualClock clock(sv::TimePoint{0s});
  std::error_code ec;
  clock.advance(-5ms, ec);
  fmt::print("error_code overload: {} [{}:{}] (portable: timed_out? {})\n", ec.message(),
             ec.category().name(), ec.value(), ec == std::errc::timed_out);
  try {
    clock.advance(-5ms);
  } catch (const std::system_error& e) {
    fmt::print("throwing overload:   {}\n", e.what());
  }

  // Time: deadlines are monotonic; tests drive a ManualClock instead of sleeping.
  clock.advance(1500ms);
  fmt::print("manual clock now:    {}\n",
             std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()));
  const auto start = sv::default_clock().now();
  const auto elapsed = sv::default_clock().now() - start;
  fmt::print("steady clock step:   {} (never negative)\n", elapsed);
  return elapsed >= sv::Duration::zero() ? 0 : 1;
}
