// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A downstream program: it sees only the installed (or exported) package, never the source tree.
#include <supervisor/supervisor.hpp>

#include <cstdio>
#include <cstring>
#include <system_error>

int main() {
  namespace sv = supervisor;
  int failures = 0;
  if (!(sv::library_version() == sv::header_version)) {
    std::fprintf(stderr, "header/library version mismatch\n");
    ++failures;
  }
  if (std::strcmp(sv::library_version_string(), SUPERVISOR_VERSION_STRING) != 0) {
    std::fprintf(stderr, "version string mismatch\n");
    ++failures;
  }
  // The category instance must be the library's one, even across a shared-library boundary.
  std::error_code ec = sv::errc::timeout;
  if (&ec.category() != &sv::error_category() || ec != std::errc::timed_out) {
    std::fprintf(stderr, "error category broken\n");
    ++failures;
  }
  sv::ManualClock clock;
  clock.advance(sv::Duration{-1}, ec);
  if (ec != sv::errc::invalid_argument) {
    std::fprintf(stderr, "ManualClock accepted a negative step\n");
    ++failures;
  }
  try {
    sv::throw_error(sv::errc::invalid_spec, "consumer check");
    ++failures;
  } catch (const std::system_error& e) {
    if (e.code() != sv::errc::invalid_spec) ++failures;
  }
  if (failures == 0) std::printf("consumer OK: supervisor %s\n", sv::library_version_string());
  return failures == 0 ? 0 : 1;
}
