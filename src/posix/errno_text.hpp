// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

#include "../process/fd_limit.hpp"

namespace supervisor::detail {

// What an errno value means, for messages ("No such file or directory"). EMFILE is this
// process's own limit, which the host can raise: the text names it and its values, e.g. "Too
// many open files; RLIMIT_NOFILE is 1024 (hard 524288)".
inline std::string sys_message(int e) {
  std::string text = std::system_category().message(e);
  if (e == EMFILE) text += "; " + fd_limits_text(read_fd_limits());
  return text;
}

}  // namespace supervisor::detail
