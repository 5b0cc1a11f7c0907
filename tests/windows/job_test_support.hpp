// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the Windows tests share: the helper child (tests/support/win_child.cpp) spawned into a
// job, pipes, the job's completion port messages, and Wine detection for skips that name a gap.
#include <windows.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "windows/command_line.hpp"
#include "windows/iocp.hpp"
#include "windows/job_spawn.hpp"
#include "windows/utf16.hpp"

namespace job_test {

namespace d = supervisor::detail;
namespace w = supervisor::detail::win;

// Failure guards only: every wait ends as soon as what it waits for happens.
inline constexpr DWORD guard_ms = 30000;
inline constexpr int message_guard_ms = 10000;

inline const std::string& wine() {
  static const std::string v = w::wine_version();
  return v;
}

inline std::string wine_gap(const std::string& what) { return "Wine " + wine() + ": " + what; }

// The helper child, next to this test program.
inline std::wstring child_path() {
  std::wstring self(MAX_PATH, L'\0');
  const DWORD n = ::GetModuleFileNameW(nullptr, self.data(), static_cast<DWORD>(self.size()));
  self.resize(n);
  return self.substr(0, self.find_last_of(L"\\/") + 1) + L"supervisor_win_child.exe";
}

// The command line of `program` with `args` (separated by spaces), quoted by the library's own
// rules (src/windows/command_line.hpp).
inline std::wstring command_line(const std::wstring& program, const std::wstring& args) {
  std::vector<std::string> argv{d::utf16_to_utf8(std::u16string(program.begin(), program.end()))};
  for (std::size_t at = 0; at < args.size();) {
    const std::size_t end = std::min(args.find(L' ', at), args.size());
    if (end > at) {
      const std::wstring arg = args.substr(at, end - at);
      argv.push_back(d::utf16_to_utf8(std::u16string(arg.begin(), arg.end())));
    }
    at = end + 1;
  }
  d::ErrorSink err;
  const std::u16string line = d::build_command_line(argv, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  return {line.begin(), line.end()};
}

inline w::JobSpawnRequest request(const std::wstring& args, const w::CompletionPort* port = nullptr,
                                  std::uintptr_t key = 0) {
  w::JobSpawnRequest r;
  r.program = child_path();
  r.command_line = command_line(r.program, args);
  if (port != nullptr) {
    r.completion_port = port->native();
    r.completion_key = key;
  }
  return r;
}

inline w::JobSpawnResult spawn(const w::JobSpawnRequest& r) {
  d::ErrorSink err;
  w::JobSpawnResult s = w::spawn_in_job(r, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  REQUIRE(s.process);
  REQUIRE(s.job);
  REQUIRE(s.pid != 0);
  return s;
}

inline bool signalled(HANDLE h, DWORD ms) { return ::WaitForSingleObject(h, ms) == WAIT_OBJECT_0; }

inline DWORD exit_code(HANDLE process) {
  DWORD code = 0;
  REQUIRE(::GetExitCodeProcess(process, &code));
  return code;
}

inline std::vector<std::uint32_t> ids_in(HANDLE job) {
  d::ErrorSink err;
  auto ids = w::job_process_ids(job, err);
  INFO(err.context);
  REQUIRE_FALSE(err);
  return ids;
}

inline bool has(const std::vector<std::uint32_t>& ids, std::uint32_t pid) {
  for (auto id : ids)
    if (id == pid) return true;
  return false;
}

struct Pipe {
  w::UniqueHandle read, write;
};

inline Pipe make_pipe(bool inheritable_write = false) {
  SECURITY_ATTRIBUTES sa{sizeof sa, nullptr, inheritable_write ? TRUE : FALSE};
  HANDLE r = nullptr, wr = nullptr;
  REQUIRE(::CreatePipe(&r, &wr, &sa, 0));
  return {w::UniqueHandle(r), w::UniqueHandle(wr)};
}

// Reads a pipe to its end (all writers closed).
inline std::string read_all(HANDLE h) {
  std::string out;
  char buf[256];
  DWORD got = 0;
  while (::ReadFile(h, buf, sizeof buf, &got, nullptr) && got > 0) out.append(buf, got);
  return out;
}

// Reads one line (the grandchild mode's "grandchild pid=N").
inline std::string read_line(HANDLE h) {
  std::string out;
  char c = 0;
  DWORD got = 0;
  while (::ReadFile(h, &c, 1, &got, nullptr) && got == 1 && c != '\n') out += c;
  return out;
}

// A child that starts a grandchild (`grandchild MS`), and the grandchild's pid, which the child
// prints once the grandchild exists.
struct Tree {
  w::JobSpawnResult spawned;
  std::uint32_t grandchild_pid = 0;
};

inline Tree spawn_tree(const std::wstring& ms, const w::CompletionPort* port = nullptr,
                       std::uintptr_t key = 0) {
  auto out = make_pipe();
  auto r = request(L"grandchild " + ms, port, key);
  r.std_out = out.write.get();
  Tree t{spawn(r)};
  out.write.reset();
  const std::string line = read_line(out.read.get());
  INFO(line);
  REQUIRE(line.rfind("grandchild pid=", 0) == 0);
  t.grandchild_pid = static_cast<std::uint32_t>(std::stoul(line.substr(15)));
  return t;
}

struct Message {
  w::JobMessage what;
  std::uint32_t pid;
  std::uintptr_t key;
};

// The job messages that arrive until `done` says enough (or the guard ends the wait).
template <class Done>
inline std::vector<Message> collect(w::CompletionPort& port, Done done) {
  std::vector<Message> got;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(message_guard_ms);
  while (!done(got) && std::chrono::steady_clock::now() < deadline) {
    std::vector<w::Completion> packets;
    d::ErrorSink err;
    port.wait(200, packets, err);
    INFO(err.context);
    REQUIRE_FALSE(err);
    for (const auto& p : packets)
      got.push_back({static_cast<w::JobMessage>(p.bytes),
                     static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(p.overlapped)),
                     p.key});
  }
  return got;
}

inline bool saw(const std::vector<Message>& got, w::JobMessage what, std::uint32_t pid = 0) {
  for (const auto& m : got)
    if (m.what == what && (pid == 0 || m.pid == pid)) return true;
  return false;
}

// The messages in order, "NEW_PROCESS(pid) ..."; without the pids for a skip's reason (which
// must read the same in every run).
inline std::string describe(const std::vector<Message>& got, bool pids = true) {
  std::string s;
  for (const auto& m : got) {
    if (!s.empty()) s += ' ';
    s += w::to_string(m.what);
    if (pids) s += "(" + std::to_string(m.pid) + ")";
  }
  return s.empty() ? "none" : s;
}

inline w::CompletionPort make_port() {
  d::ErrorSink err;
  auto port = w::CompletionPort::create(err);
  INFO(err.context);
  REQUIRE(port);
  return port;
}

}  // namespace job_test
