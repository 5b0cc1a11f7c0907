// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the Windows tests with real processes share (backend_test.cpp, probes_test.cpp,
// channel_test.cpp): the
// helper child (tests/support/win_child.cpp), a bounded wait, and the handle audit each test ends
// with. Include after a public <supervisor/...> header.

#include <windows.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <supervisor/process.hpp>

#include "windows/job_spawn.hpp"

namespace supervisor::win_testing {

using namespace std::chrono_literals;

inline const std::string& wine() {
  static const std::string v = supervisor::detail::win::wine_version();
  return v;
}

inline std::string child_path() {
  char self[MAX_PATH];
  const DWORD n = ::GetModuleFileNameA(nullptr, self, MAX_PATH);
  std::string s(self, n);
  return s.substr(0, s.find_last_of("\\/") + 1) + "supervisor_win_child.exe";
}

inline supervisor::ProcessSpec child(std::vector<std::string> args) {
  supervisor::ProcessSpec spec;
  spec.argv = {child_path()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  return spec;
}

inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds guard = 20s) {
  const auto end = std::chrono::steady_clock::now() + guard;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

inline bool process_alive(DWORD pid) {
  HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, pid);
  if (h == nullptr) return false;
  const bool alive = ::WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  ::CloseHandle(h);
  return alive;
}

inline DWORD handle_count() {
  DWORD n = 0;
  ::GetProcessHandleCount(::GetCurrentProcess(), &n);
  return n;
}

// The handle audit: the first Loop of the test program starts what Windows keeps for the whole
// process (the thread pool's wait thread, the console's handles); a warm-up before the baseline
// takes them out of the count. Handles of the test's own making (a process opened to look at
// it) are closed before the check.
struct HandleAudit {
  DWORD baseline = 0;
  HandleAudit() {
    static const bool warmed = [] {
      supervisor::Loop loop;
      auto p = supervisor::Process::start(loop, child({"exit", "0"}));
      (void)p.wait();
      return true;
    }();
    (void)warmed;
    baseline = handle_count();
  }
  // Handles come back a moment after the loop's thread ends (the thread pool lets its wait
  // thread go on its own time): waited for, bounded.
  // The handle count now (for a failure's message).
  [[nodiscard]] DWORD count() const { return handle_count(); }
  [[nodiscard]] bool clean(DWORD slack = 0) const {
    return wait_until([&] { return handle_count() <= baseline + slack; }, 5s);
  }
};

}  // namespace supervisor::win_testing
