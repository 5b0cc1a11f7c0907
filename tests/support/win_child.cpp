// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT

// The helper child of the Windows tests: one program, one behaviour per run.
//
//   win_child exit N         exits with N
//   win_child sleep MS       sleeps MS milliseconds, then exits 0
//   win_child grandchild MS  starts `win_child sleep MS` (itself), prints its pid, sleeps MS
//   win_child crash          dereferences a null pointer (STATUS_ACCESS_VIOLATION)
//   win_child handles        prints whether each std handle is set, one line: "in=1 out=1 err=0"
//   win_child env NAME       prints "NAME=value" (or "NAME unset") and its working directory
//   win_child say OUT ERR    prints the line OUT on stdout and ERR on stderr, then exits 0
//   win_child flood BYTES    writes BYTES bytes of lines ("x...x\n", 100 bytes each) to stdout
//   win_child break MS       prints "ready"; on CTRL_BREAK (or Ctrl+C) prints "break" and exits
//                            42; else exits 0 after MS milliseconds
//   win_child ignore-break MS  prints "ready", ignores CTRL_BREAK and Ctrl+C, sleeps MS
//   win_child cat [MS]       (after MS milliseconds) copies stdin to stdout until its end, then
//                            prints "eof bytes=N fnv=H" on stderr (H: the bytes' FNV-1a 64 hash,
//                            in hex)
//   win_child close-stdin MS closes its stdin, prints "closed", sleeps MS
//   win_child echo-channel   answers each message on the handle SUPERVISOR_CHANNEL_HANDLE names
//                            with "echo: " + message ("pid": with "pid=<its pid>"); "quit" ends
//                            it unanswered (exit 0); exits
//                            0 when the host closes its end, 71 when the variable is missing or
//                            a read fails otherwise
//
// Exit codes: 64 bad usage, 71 a system call failed.

#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int usage() {
  std::fprintf(
      stderr,
      "usage: win_child exit N | sleep MS | grandchild MS | crash | handles | env NAME | say OUT "
      "ERR | flood BYTES | break MS | ignore-break MS | cat [MS] | close-stdin MS | "
      "echo-channel\n");
  return 64;
}

// The top-level filter a crash ends in: the process ends with the exception's code, without the
// debugger or error box Windows (or Wine's winedbg) would otherwise start.
LONG WINAPI end_with_exception_code(EXCEPTION_POINTERS* e) {
  ::TerminateProcess(::GetCurrentProcess(), e->ExceptionRecord->ExceptionCode);
  return EXCEPTION_EXECUTE_HANDLER;
}

BOOL WINAPI on_break(DWORD event) {
  if (event != CTRL_BREAK_EVENT && event != CTRL_C_EVENT) return FALSE;
  std::printf("break\n");
  std::fflush(stdout);
  ::ExitProcess(42);
}

BOOL WINAPI ignore(DWORD) { return TRUE; }

int grandchild(const char* ms) {
  wchar_t self[MAX_PATH];
  if (::GetModuleFileNameW(nullptr, self, MAX_PATH) == 0) return 71;
  std::wstring line = L"win_child sleep ";
  for (const char* p = ms; *p != '\0'; ++p) line += static_cast<wchar_t>(*p);
  STARTUPINFOW si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  if (!::CreateProcessW(self, line.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi))
    return 71;
  std::printf("grandchild pid=%lu\n", pi.dwProcessId);
  std::fflush(stdout);
  ::CloseHandle(pi.hThread);
  ::CloseHandle(pi.hProcess);
  ::Sleep(std::strtoul(ms, nullptr, 10));  // unsigned long: DWORD
  return 0;
}

int cat() {
  HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
  HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
  char buffer[4096];
  unsigned long long total = 0;
  std::uint64_t fnv = 14695981039346656037ULL;
  for (;;) {
    DWORD got = 0;
    if (!::ReadFile(in, buffer, sizeof buffer, &got, nullptr)) {
      if (::GetLastError() == ERROR_BROKEN_PIPE) break;  // the writer closed it: the end
      return 71;
    }
    if (got == 0) break;
    total += got;
    for (DWORD i = 0; i < got; ++i)
      fnv = (fnv ^ static_cast<unsigned char>(buffer[i])) * 1099511628211ULL;
    for (DWORD at = 0; at < got;) {
      DWORD put = 0;
      if (!::WriteFile(out, buffer + at, got - at, &put, nullptr)) return 71;
      at += put;
    }
  }
  const unsigned long long hash = fnv;
  std::fprintf(stderr, "eof bytes=%llu fnv=%llx\n", total, hash);
  return 0;
}

// The channel's messages, read whole (a larger one in parts: ERROR_MORE_DATA), each answered.
int echo_channel() {
  const char* value = std::getenv("SUPERVISOR_CHANNEL_HANDLE");
  if (value == nullptr) return 71;
  const std::uintptr_t number = std::strtoull(value, nullptr, 10);
  HANDLE channel = reinterpret_cast<HANDLE>(number);
  std::string message;
  char buffer[4096];
  for (;;) {
    DWORD got = 0;
    const BOOL ok = ::ReadFile(channel, buffer, sizeof buffer, &got, nullptr);
    const DWORD code = ok ? 0 : ::GetLastError();
    if (!ok && code != ERROR_MORE_DATA) return code == ERROR_BROKEN_PIPE ? 0 : 71;
    message.append(buffer, got);
    if (!ok) continue;  // more of this message
    if (message == "quit") return 0;
    const std::string reply =
        message == "pid" ? "pid=" + std::to_string(::GetCurrentProcessId()) : "echo: " + message;
    DWORD put = 0;
    if (!::WriteFile(channel, reply.data(), static_cast<DWORD>(reply.size()), &put, nullptr))
      return ::GetLastError() == ERROR_NO_DATA || ::GetLastError() == ERROR_BROKEN_PIPE ? 0 : 71;
    message.clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  // "\n" stays "\n": the tests read exact lines.
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
  const std::string mode = argv[1];
  if (mode == "exit" && argc == 3) return std::atoi(argv[2]);
  if (mode == "sleep" && argc == 3) {
    ::Sleep(std::strtoul(argv[2], nullptr, 10));  // unsigned long: DWORD
    return 0;
  }
  if (mode == "grandchild" && argc == 3) return grandchild(argv[2]);
  if (mode == "crash" && argc == 2) {
    ::SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    ::SetUnhandledExceptionFilter(end_with_exception_code);
    volatile int* volatile nowhere = nullptr;
    *nowhere = 1;
    return 0;
  }
  if (mode == "handles" && argc == 2) {
    auto set = [](DWORD which) {
      HANDLE h = ::GetStdHandle(which);
      return h != nullptr && h != INVALID_HANDLE_VALUE ? 1 : 0;
    };
    std::printf("in=%d out=%d err=%d\n", set(STD_INPUT_HANDLE), set(STD_OUTPUT_HANDLE),
                set(STD_ERROR_HANDLE));
    return 0;
  }
  if (mode == "say" && argc == 4) {
    std::printf("%s\n", argv[2]);
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", argv[3]);
    return 0;
  }
  if (mode == "flood" && argc == 3) {
    const unsigned long total = std::strtoul(argv[2], nullptr, 10);
    const std::string line = std::string(99, 'x') + "\n";
    for (unsigned long sent = 0; sent < total; sent += 100) std::fputs(line.c_str(), stdout);
    return 0;
  }
  if ((mode == "break" || mode == "ignore-break") && argc == 3) {
    if (!::SetConsoleCtrlHandler(mode == "break" ? on_break : ignore, TRUE)) return 71;
    std::printf("ready\n");
    std::fflush(stdout);
    ::Sleep(std::strtoul(argv[2], nullptr, 10));  // unsigned long: DWORD
    return 0;
  }
  if (mode == "cat" && (argc == 2 || argc == 3)) {
    if (argc == 3) ::Sleep(std::strtoul(argv[2], nullptr, 10));  // unsigned long: DWORD
    return cat();
  }
  if (mode == "close-stdin" && argc == 3) {
    if (!::CloseHandle(::GetStdHandle(STD_INPUT_HANDLE))) return 71;
    std::printf("closed\n");
    std::fflush(stdout);
    ::Sleep(std::strtoul(argv[2], nullptr, 10));  // unsigned long: DWORD
    return 0;
  }
  if (mode == "echo-channel" && argc == 2) return echo_channel();
  if (mode == "env" && argc == 3) {
    const char* v = std::getenv(argv[2]);
    if (v != nullptr)
      std::printf("%s=%s\n", argv[2], v);
    else
      std::printf("%s unset\n", argv[2]);
    char cwd[MAX_PATH];
    if (::GetCurrentDirectoryA(MAX_PATH, cwd) == 0) return 71;
    std::printf("cwd=%s\n", cwd);
    return 0;
  }
  return usage();
}
