// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/version.hpp>

#include <string>

#include "catch_compat.hpp"

namespace sv = supervisor;

TEST_CASE("header and library versions agree", "[unit][version]") {
  CHECK(sv::library_version() == sv::header_version);
  CHECK(sv::library_version().number() == SUPERVISOR_VERSION);
  CHECK(std::string(sv::library_version_string()) == SUPERVISOR_VERSION_STRING);
}

TEST_CASE("version string matches the numeric parts", "[unit][version]") {
  const std::string expected = std::to_string(SUPERVISOR_VERSION_MAJOR) + "." +
                               std::to_string(SUPERVISOR_VERSION_MINOR) + "." +
                               std::to_string(SUPERVISOR_VERSION_PATCH);
  CHECK(std::string(SUPERVISOR_VERSION_STRING) == expected);
  STATIC_REQUIRE(SUPERVISOR_VERSION == SUPERVISOR_VERSION_MAJOR * 10000 +
                                           SUPERVISOR_VERSION_MINOR * 100 +
                                           SUPERVISOR_VERSION_PATCH);
}

#ifdef SUPERVISOR_EXPECTED_VERSION
// The build passes the version CMake parsed from version.hpp; both must agree.
TEST_CASE("CMake parsed the same version", "[unit][version]") {
  CHECK(std::string(SUPERVISOR_VERSION_STRING) == SUPERVISOR_EXPECTED_VERSION);
}
#endif
