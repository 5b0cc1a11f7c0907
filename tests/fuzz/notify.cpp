// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// sd_notify datagrams, as a worker (any program given NOTIFY_SOCKET) may send them: parse_notify
// (src/process/notify_note.cpp), which the Linux socket and the fake world both call.
#include "process/notify_note.hpp"

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using supervisor::fuzz::contains;
  const std::string_view text = supervisor::fuzz::as_text(data, size);
  const supervisor::detail::NotifyNote note = supervisor::detail::parse_notify(text, 1234);
  SUPERVISOR_FUZZ_CHECK(note.sender == 1234);
  SUPERVISOR_FUZZ_CHECK(!note.ready || contains(text, "READY=1"));
  SUPERVISOR_FUZZ_CHECK(!note.watchdog || contains(text, "WATCHDOG=1"));
  SUPERVISOR_FUZZ_CHECK(!note.stopping || contains(text, "STOPPING=1"));
  SUPERVISOR_FUZZ_CHECK(note.has_status || note.status.empty());
  if (note.has_status) {
    // One line's value: never a newline, and found after "STATUS=" in the datagram.
    SUPERVISOR_FUZZ_CHECK(note.status.find('\n') == std::string::npos);
    SUPERVISOR_FUZZ_CHECK(contains(text, "STATUS=" + note.status));
  }
  return 0;
}
