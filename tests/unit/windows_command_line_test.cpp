// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Windows command line (src/windows/command_line.hpp) and UTF-8 <-> UTF-16
// (src/windows/utf16.hpp): pure, on every platform. The same rules against real children under
// Wine: windows_argv_wine_test.cpp.
#include <supervisor/error.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "windows/command_line.hpp"
#include "windows/utf16.hpp"

namespace d = supervisor::detail;
using supervisor::errc;

namespace {

std::u16string u16(const std::string& s) {
  d::ErrorSink err;
  std::u16string out = d::utf8_to_utf16(s, "test", err);
  REQUIRE_FALSE(err);
  return out;
}

std::vector<std::u16string> u16(const std::vector<std::string>& v) {
  std::vector<std::u16string> out;
  for (const auto& s : v) out.push_back(u16(s));
  return out;
}

std::string line_of(const std::vector<std::string>& argv) {
  d::ErrorSink err;
  const std::u16string line = d::build_command_line(argv, err);
  REQUIRE_FALSE(err);
  return d::utf16_to_utf8(line);
}

d::ErrorSink line_error(const std::vector<std::string>& argv) {
  d::ErrorSink err;
  const std::u16string line = d::build_command_line(argv, err);
  CHECK(line.empty());
  return err;
}

std::vector<std::u16string> parsed(const std::string& line) {
  return d::parse_command_line(u16(line));
}

}  // namespace

TEST_CASE("Windows command line: the hard cases, written out", "[unit][windows]") {
  // Each argument after the program: as it is, unless it must be quoted; the line; and it back.
  struct Case {
    std::string arg;
    std::string written;
  };
  const Case cases[] = {
      {"plain", "plain"},
      {R"(a\\b)", R"(a\\b)"},                    // backslashes not before a quote: literal
      {R"(a\\\"b)", R"(a\\\\\\\"b)"},            // 3 before a quote: 7, then the quote
      {R"(C:\dir\)", R"(C:\dir\)"},              // unquoted: a trailing backslash stays one
      {R"(C:\my dir\)", R"("C:\my dir\\")"},     // quoted: doubled before the closing quote
      {R"(C:\my dir\\)", R"("C:\my dir\\\\")"},  // two become four
      {R"("")", R"(\"\")"},
      {R"(")", R"(\")"},
      {R"(\")", R"(\\\")"},
      {"   ", R"("   ")"},  // only spaces
      {"", R"("")"},        // empty
      {"a\tb", "\"a\tb\""},
      {R"(say "hi" there)", R"("say \"hi\" there")"},
      {R"(\\server\share)", R"(\\server\share)"},
      {"\xC3\xA9t\xC3\xA9 \xE2\x82\xAC", "\"\xC3\xA9t\xC3\xA9 \xE2\x82\xAC\""},
  };
  for (const Case& c : cases) {
    INFO("argument [" << c.arg << "]");
    const std::vector<std::string> argv{"prog", c.arg};
    CHECK(line_of(argv) == "prog " + c.written);
    CHECK(d::parse_command_line(u16(line_of(argv))) == u16(argv));
  }
}

TEST_CASE("Windows command line: the program name has rules of its own", "[unit][windows]") {
  // Backslashes are literal in it, and quotes only group.
  CHECK(line_of({R"(C:\Program Files\app.exe)", "x"}) == R"("C:\Program Files\app.exe" x)");
  CHECK(line_of({R"(C:\tools\)", "x"}) == R"(C:\tools\ x)");
  CHECK(line_of({"", "x"}) == R"("" x)");
  CHECK(parsed(R"("C:\Program Files\app.exe" x)") ==
        u16(std::vector<std::string>{R"(C:\Program Files\app.exe)", "x"}));
  CHECK(parsed(R"(C:\a\"b c"\d.exe y)") == u16(std::vector<std::string>{R"(C:\a\b c\d.exe)", "y"}));
  const d::ErrorSink err = line_error({R"(C:\a"b.exe)", "x"});
  CHECK(err.code == errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.argv[0]") != std::string::npos);
}

TEST_CASE("Windows command line: typed errors name the argument", "[unit][windows]") {
  d::ErrorSink err = line_error({"prog", "ok", std::string("a\0b", 3)});
  CHECK(err.code == errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.argv[2]") != std::string::npos);
  CHECK(err.context.find("NUL") != std::string::npos);

  err = line_error({"prog", "\xC3("});
  CHECK(err.code == errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.argv[1]") != std::string::npos);
  CHECK(err.context.find("invalid UTF-8 at byte 0") != std::string::npos);

  err = line_error({});
  CHECK(err.code == errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.argv") != std::string::npos);

  // The noexcept path formats no message, and still reports the code.
  d::ErrorSink quiet{{}, {}, false};
  CHECK(d::build_command_line({"prog", std::string(1, '\0')}, quiet).empty());
  CHECK(quiet.code == errc::invalid_spec);
  CHECK(quiet.context.empty());
}

TEST_CASE("Windows command line: CreateProcessW's 32767-unit limit, exactly", "[unit][windows]") {
  // "p" + " " + the argument + the terminating NUL.
  const std::size_t fits = d::k_command_line_max - 3;
  CHECK(line_of({"p", std::string(fits, 'x')}).size() == d::k_command_line_max - 1);
  const d::ErrorSink err = line_error({"p", std::string(fits + 1, 'x')});
  CHECK(err.code == errc::invalid_spec);
  CHECK(err.context.find("32768") != std::string::npos);  // the length, with its NUL
  CHECK(err.context.find("32767") != std::string::npos);  // the limit
  // The limit is in UTF-16 units, not bytes: a 3-byte character is one unit.
  std::string euros;
  for (std::size_t i = 0; i < fits; ++i) euros += "\xE2\x82\xAC";
  d::ErrorSink ok;
  CHECK(d::build_command_line({"p", euros}, ok).size() == d::k_command_line_max - 1);
  CHECK_FALSE(ok);
}

TEST_CASE("Windows command line: the parser follows Microsoft's documented table",
          "[unit][windows]") {
  // "Parsing C++ command-line arguments", the table of examples (post-2008 runtime).
  using V = std::vector<std::string>;
  CHECK(parsed(R"(p "a b c" d e)") == u16(V{"p", "a b c", "d", "e"}));
  CHECK(parsed(R"(p "ab\"c" "\\" d)") == u16(V{"p", R"(ab"c)", R"(\)", "d"}));
  CHECK(parsed(R"(p a\\\b d"e f"g h)") == u16(V{"p", R"(a\\\b)", "de fg", "h"}));
  CHECK(parsed(R"(p a\\\"b c d)") == u16(V{"p", R"(a\"b)", "c", "d"}));
  CHECK(parsed(R"(p a\\\\"b c" d e)") == u16(V{"p", R"(a\\b c)", "d", "e"}));
  CHECK(parsed(R"(p a"b"" c d)") == u16(V{"p", R"(ab" c d)"}));
  // Runs of spaces and tabs separate; trailing ones add nothing.
  CHECK(parsed("p \t a  \t b \t") == u16(V{"p", "a", "b"}));
  CHECK(parsed("p") == u16(V{"p"}));
  CHECK(parsed("") == u16(V{""}));
}

TEST_CASE("Windows command line: random argv round-trip through the parser", "[unit][windows]") {
  // A nasty alphabet; a fixed seed and the raw engine (its sequence is specified by the
  // standard, unlike the distributions'), so every platform runs the same cases.
  const std::string alphabet[] = {
      " ", "\t", "\"", "\\", "\\", "a", "b", "=", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
      "'", "^",  "%"};
  constexpr std::size_t letters = sizeof alphabet / sizeof alphabet[0];
  std::mt19937 rng(20261207);
  const auto pick = [&](std::size_t n) -> std::size_t { return rng() % n; };
  for (int round = 0; round < 5000; ++round) {
    std::vector<std::string> argv;
    const std::size_t args = 1 + pick(6);
    for (std::size_t i = 0; i < args; ++i) {
      std::string& a = argv.emplace_back();
      const std::size_t len = pick(9);
      for (std::size_t k = 0; k < len; ++k) {
        const std::string& l = alphabet[pick(letters)];
        if (i == 0 && l == "\"") continue;  // a program name cannot hold one
        a += l;
      }
    }
    d::ErrorSink err;
    const std::u16string line = d::build_command_line(argv, err);
    REQUIRE_FALSE(err);
    INFO("line [" << d::utf16_to_utf8(line) << "]");
    REQUIRE(d::parse_command_line(line) == u16(argv));
  }
}

TEST_CASE("UTF-8 to UTF-16: every length of sequence, and invalid input is an error",
          "[unit][windows]") {
  CHECK(u16("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") ==
        std::u16string{u'a', 0x00E9, 0x20AC, 0xD83D, 0xDE00});
  CHECK(d::utf16_to_utf8(u16("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80")) ==
        "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(u16("\xF4\x8F\xBF\xBF") == std::u16string{0xDBFF, 0xDFFF});  // U+10FFFF, the last
  struct Bad {
    std::string text;
    std::size_t at;
  };
  const Bad bad[] = {
      {"\x80", 0},                  // a stray continuation byte
      {"ab\xC0\xAF", 2},            // overlong '/'
      {"\xE0\x80\xAF", 0},          // overlong, three bytes
      {"x\xED\xA0\x80", 1},         // an encoded surrogate (U+D800)
      {"\xF4\x90\x80\x80", 0},      // above U+10FFFF
      {"ok\xE2\x82", 2},            // truncated
      {"\xE2(\xAC", 0},             // a continuation byte missing
      {"\xF8\x88\x80\x80\x80", 0},  // a five-byte form
      {"\xFF", 0},
  };
  for (const Bad& b : bad) {
    INFO("text of " << b.text.size() << " bytes, bad at " << b.at);
    d::ErrorSink err;
    (void)d::utf8_to_utf16(b.text, "ProcessSpec.cwd", err);
    CHECK(err.code == errc::invalid_spec);
    CHECK(err.context == "ProcessSpec.cwd: invalid UTF-8 at byte " + std::to_string(b.at));
  }
}

TEST_CASE("UTF-16 to UTF-8: a lone surrogate becomes U+FFFD", "[unit][windows]") {
  CHECK(d::utf16_to_utf8(std::u16string{u'a', 0xD800, u'b'}) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(d::utf16_to_utf8(std::u16string{0xDC00}) == "\xEF\xBF\xBD");
  CHECK(d::utf16_to_utf8(std::u16string{0xD83D}) == "\xEF\xBF\xBD");  // high, at the end
  CHECK(d::utf16_to_utf8(std::u16string{0xDE00, 0xD83D}) == "\xEF\xBF\xBD\xEF\xBF\xBD");
}
