// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Catch2 v2 needs one translation unit to provide main(); v3 links Catch2WithMain instead.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
