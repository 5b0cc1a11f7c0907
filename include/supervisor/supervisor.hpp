// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Convenience header: includes every public header of the core library.

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/export.hpp>
#include <supervisor/version.hpp>
