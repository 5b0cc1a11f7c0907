// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A Windows child for tests/unit/windows_argv_wine_test.cpp: prints what it was given, as the
// test's parent cannot see it otherwise. What it prints depends on SV_ARGV_MODE in its
// environment (never on its arguments, which are the thing under test):
//   crt      its argv as the C runtime split it (wmain's argv, built with -municode)
//   shell32  CommandLineToArgvW(GetCommandLineW())
//   env      its environment block (GetEnvironmentStringsW), one entry a line
//   exit     exits with the code in SV_EXIT_CODE (decimal, 32 bits)
// Each string is printed as its UTF-16 code units, four hex digits each, then a newline: no
// console code page stands between the child and the test.
#include <windows.h>
// After windows.h, which it needs.
#include <shellapi.h>

#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <string>

namespace {

void put(const wchar_t* s, std::size_t n) {
  std::string line;
  char hex[8];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, "%04x", static_cast<unsigned>(s[i]));
    line += hex;
  }
  line += '\n';
  DWORD written = 0;
  WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), line.data(), static_cast<DWORD>(line.size()), &written,
            nullptr);
}

std::wstring mode() {
  wchar_t buf[64] = {};
  const DWORD n = GetEnvironmentVariableW(L"SV_ARGV_MODE", buf, 64);
  return n > 0 && n < 64 ? std::wstring(buf, n) : std::wstring(L"crt");
}

}  // namespace

int wmain(int argc, wchar_t** argv);  // the entry point (-municode), declared for the warning

int wmain(int argc, wchar_t** argv) {
  const std::wstring m = mode();
  if (m == L"crt") {
    for (int i = 0; i < argc; ++i) put(argv[i], std::wcslen(argv[i]));
  } else if (m == L"shell32") {
    int n = 0;
    wchar_t** v = CommandLineToArgvW(GetCommandLineW(), &n);
    if (v == nullptr) return 2;
    for (int i = 0; i < n; ++i) put(v[i], std::wcslen(v[i]));
    LocalFree(v);
  } else if (m == L"env") {
    wchar_t* block = GetEnvironmentStringsW();
    for (const wchar_t* p = block; *p != L'\0'; p += std::wcslen(p) + 1) put(p, std::wcslen(p));
    FreeEnvironmentStringsW(block);
  } else if (m == L"exit") {
    wchar_t buf[32] = {};
    GetEnvironmentVariableW(L"SV_EXIT_CODE", buf, 32);
    ExitProcess(static_cast<UINT>(std::wcstoul(buf, nullptr, 10)));
  } else {
    return 3;
  }
  return 0;
}
