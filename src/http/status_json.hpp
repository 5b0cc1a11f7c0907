// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The body of /status: Monitor::status() as JSON (schema_version 1). Written by hand until the
// JSON component (supervisor::json) is there to do it.
#pragma once

#include <string>

#include <supervisor/monitor.hpp>

namespace supervisor::http_detail {

// {"schema_version":1,"ready":..,"alive":..,"pools":[...],"loops":[...]}: each pool's name,
// running, size, ready, leased, health, restarts and readiness (up, needed, why); each loop's
// turning, lag_seconds and processes.
std::string status_json(const Monitor::Status& status);

// `text` as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view text);

}  // namespace supervisor::http_detail
