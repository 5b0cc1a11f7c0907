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
//   win_child notify MS MSG...  sends each MSG ('|' becomes a newline) as one message to the pipe
//                            named by NOTIFY_SOCKET (opened afresh for each, as sd_notify does),
//                            prints "sent N", then sleeps MS
//   win_child http BASE STATUS  serves HTTP on 127.0.0.1, port BASE + $SUPERVISOR_WORKER_INDEX
//                            (0 when unset): answers every request with STATUS, until killed
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
//
// For the job limits tests:
//   win_child alloc MB MS    commits and touches MB MiB, 1 MiB at a time, prints "allocated MB",
//                            sleeps MS; exits 70 (after printing "alloc failed at N") when an
//                            allocation fails, as a program whose malloc failed
//   win_child spawn K MS     starts K children `win_child sleep MS`, one line each: "started" or
//                            "refused E" (E: CreateProcessW's Win32 error), sleeps MS, exits 0
//   win_child burn MS        spins until its own user time reaches MS ms, then exits 0

// winsock2.h before windows.h.
#include <winsock2.h>
// After it:
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
      "ERR | flood BYTES | break MS | ignore-break MS | http BASE STATUS | cat [MS] | "
      "close-stdin MS | echo-channel\n");
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

int alloc(unsigned long mb, unsigned long ms) {
  constexpr SIZE_T chunk = 1 << 20;
  for (unsigned long i = 0; i < mb; ++i) {
    // Committed (what a job's memory limits count) and touched.
    auto* p = static_cast<volatile char*>(
        ::VirtualAlloc(nullptr, chunk, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE));
    if (p == nullptr) {
      std::printf("alloc failed at %lu\n", i);
      std::fflush(stdout);
      return 70;
    }
    for (SIZE_T at = 0; at < chunk; at += 4096) p[at] = 1;
  }
  std::printf("allocated %lu\n", mb);
  std::fflush(stdout);
  ::Sleep(ms);
  return 0;
}

int spawn_children(unsigned long count, const char* ms) {
  wchar_t self[MAX_PATH];
  if (::GetModuleFileNameW(nullptr, self, MAX_PATH) == 0) return 71;
  std::wstring line = L"win_child sleep ";
  for (const char* p = ms; *p != '\0'; ++p) line += static_cast<wchar_t>(*p);
  for (unsigned long i = 0; i < count; ++i) {
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    std::wstring copy = line;
    if (::CreateProcessW(self, copy.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si,
                         &pi)) {
      std::printf("started\n");
      ::CloseHandle(pi.hThread);
      ::CloseHandle(pi.hProcess);
    } else {
      std::printf("refused %lu\n", ::GetLastError());
    }
    std::fflush(stdout);
  }
  ::Sleep(std::strtoul(ms, nullptr, 10));
  return 0;
}

double user_ms() {
  FILETIME created, exited, kernel, user;
  if (!::GetProcessTimes(::GetCurrentProcess(), &created, &exited, &kernel, &user)) return -1;
  ULARGE_INTEGER u;
  u.LowPart = user.dwLowDateTime;
  u.HighPart = user.dwHighDateTime;
  return static_cast<double>(u.QuadPart) / 1e4;
}

int burn(unsigned long ms) {
  volatile unsigned long long sink = 0;
  for (;;) {
    for (int i = 0; i < 1000000; ++i) sink = sink + static_cast<unsigned long long>(i);
    const double used = user_ms();
    if (used < 0) return 71;
    if (used >= static_cast<double>(ms)) return 0;
  }
}

// One connection at a time: reads the request up to its blank line, answers, closes.
int serve_http(const char* base, const char* status) {
  WSADATA data{};
  if (::WSAStartup(MAKEWORD(2, 2), &data) != 0) return 71;
  const char* index = std::getenv("SUPERVISOR_WORKER_INDEX");
  const unsigned long port =
      std::strtoul(base, nullptr, 10) + (index != nullptr ? std::strtoul(index, nullptr, 10) : 0);
  SOCKET listener = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (listener == INVALID_SOCKET) return 71;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<u_short>(port));
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 16) != 0)
    return 71;
  const std::string answer = std::string("HTTP/1.1 ") + status +
                             " Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  for (;;) {
    SOCKET c = ::accept(listener, nullptr, nullptr);
    if (c == INVALID_SOCKET) return 71;
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const int n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    ::send(c, answer.data(), static_cast<int>(answer.size()), 0);
    ::shutdown(c, SD_SEND);
    ::closesocket(c);
  }
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
  if (mode == "alloc" && argc == 4)
    return alloc(std::strtoul(argv[2], nullptr, 10), std::strtoul(argv[3], nullptr, 10));
  if (mode == "spawn" && argc == 4)
    return spawn_children(std::strtoul(argv[2], nullptr, 10), argv[3]);
  if (mode == "burn" && argc == 3) return burn(std::strtoul(argv[2], nullptr, 10));
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
  if (mode == "notify" && argc >= 3) {
    const char* address = std::getenv("NOTIFY_SOCKET");
    if (address == nullptr) return 64;
    int sent = 0;
    for (int i = 3; i < argc; ++i) {
      std::string message = argv[i];
      for (char& c : message) {
        if (c == '|') c = '\n';
      }
      HANDLE h = INVALID_HANDLE_VALUE;
      for (int attempt = 0; attempt < 100 && h == INVALID_HANDLE_VALUE; ++attempt) {
        h = ::CreateFileA(address, GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
        // Every instance busy: wait for one, as a named pipe client does.
        if (h == INVALID_HANDLE_VALUE && ::GetLastError() == ERROR_PIPE_BUSY)
          ::WaitNamedPipeA(address, 1000);
        else if (h == INVALID_HANDLE_VALUE)
          break;
      }
      if (h == INVALID_HANDLE_VALUE) return 71;
      DWORD n = 0;
      const BOOL ok =
          ::WriteFile(h, message.data(), static_cast<DWORD>(message.size()), &n, nullptr);
      ::CloseHandle(h);
      if (!ok) return 71;
      ++sent;
    }
    std::printf("sent %d\n", sent);
    std::fflush(stdout);
    ::Sleep(std::strtoul(argv[2], nullptr, 10));  // unsigned long: DWORD
    return 0;
  }
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
  if (mode == "http" && argc == 4) return serve_http(argv[2], argv[3]);
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
  return usage();
}
