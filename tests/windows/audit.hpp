// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the Windows tests with real children share: the helper child
// (tests/support/win_child.cpp, built beside the test program), waits bounded by a guard, and the
// Windows form of the leak audit: no process of the test's left, the host's handle count back to
// its baseline. Include a public <supervisor/...> header first.

#include <windows.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <supervisor/process.hpp>

namespace supervisor::wintest {

using namespace std::chrono_literals;

// The helper child's full path: beside the test program.
inline std::string child_path() {
  char self[MAX_PATH];
  const DWORD n = ::GetModuleFileNameA(nullptr, self, MAX_PATH);
  std::string s(self, n);
  return s.substr(0, s.find_last_of("\\/") + 1) + "supervisor_win_child.exe";
}

// The helper child with `args` (its mode and the mode's arguments).
inline ProcessSpec child(std::vector<std::string> args) {
  ProcessSpec spec;
  spec.argv = {child_path()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  return spec;
}

// Polls `done` until it holds or `guard` (a failure guard, never a measurement) passes.
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
      Loop loop;
      auto p = Process::start(loop, child({"exit", "0"}));
      (void)p.wait();
      return true;
    }();
    (void)warmed;
    baseline = handle_count();
  }
  // Handles come back a moment after the loop's thread ends (the thread pool lets its wait
  // thread go on its own time): waited for, bounded.
  [[nodiscard]] bool clean(DWORD slack = 0) const {
    return wait_until([&] { return handle_count() <= baseline + slack; }, 5s);
  }
  [[nodiscard]] DWORD count() const { return handle_count(); }
};

}  // namespace supervisor::wintest
