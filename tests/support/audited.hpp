// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The leak audit as a Catch2 check: every integration test ends with REQUIRE_CLEAN(audit, tag).

#include <string>

#include "catch_compat.hpp"
#include "leak_audit.hpp"

// Fails the test (and kills what the tag still names) unless nothing leaked: no zombie, no
// tagged survivor, fds and threads back to the audit's baseline.
#define REQUIRE_CLEAN(audit, tag)                              \
  do {                                                         \
    const std::string leaks = (audit).check(tag);              \
    INFO(leaks);                                               \
    CHECK(leaks.empty());                                      \
    if (!leaks.empty()) supervisor::testing::kill_tagged(tag); \
  } while (false)
