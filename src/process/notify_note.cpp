// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "notify_note.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE NotifyNote parse_notify(std::string_view text, int sender) {
  NotifyNote m;
  m.sender = sender;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line == "READY=1")
      m.ready = true;
    else if (line == "WATCHDOG=1")
      m.watchdog = true;
    else if (line == "STOPPING=1")
      m.stopping = true;
    else if (line.substr(0, 7) == "STATUS=") {
      m.has_status = true;
      m.status = std::string(line.substr(7));
    }
    start = end + 1;
  }
  return m;
}

}  // namespace supervisor::detail
