// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <system_error>

namespace supervisor::detail {

// What an errno value means, for messages ("No such file or directory").
inline std::string sys_message(int e) { return std::system_category().message(e); }

}  // namespace supervisor::detail
