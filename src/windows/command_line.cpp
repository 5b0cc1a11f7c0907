// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "command_line.hpp"

#include <fmt/format.h>

#include "utf16.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE bool cmdline_space(char16_t c) noexcept { return c == u' ' || c == u'\t'; }

// Appends argument `arg` (not the program name) quoted by the rules of the header.
SUPERVISOR_INLINE void append_quoted_argument(std::u16string& line, std::u16string_view arg) {
  bool quote = arg.empty();
  for (const char16_t c : arg) quote = quote || cmdline_space(c);
  if (quote) line.push_back(u'"');
  std::size_t backslashes = 0;
  for (const char16_t c : arg) {
    if (c == u'\\') {
      ++backslashes;
      continue;
    }
    if (c == u'"') {
      line.append(2 * backslashes + 1, u'\\');  // each one escaped, then the quote's own
    } else {
      line.append(backslashes, u'\\');
    }
    backslashes = 0;
    line.push_back(c);
  }
  // Before the closing quote, trailing backslashes are doubled; without quotes, literal.
  line.append(quote ? 2 * backslashes : backslashes, u'\\');
  if (quote) line.push_back(u'"');
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::u16string build_command_line(const std::vector<std::string>& argv,
                                                    ErrorSink& err) {
  if (argv.empty()) {
    err.fail(errc::invalid_spec, [] { return std::string("ProcessSpec.argv is empty"); });
    return {};
  }
  std::u16string line;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const auto field = [&] { return fmt::format("ProcessSpec.argv[{}]", i); };
    if (argv[i].find('\0') != std::string::npos) {
      err.fail(errc::invalid_spec,
               [&] { return field() + " contains a NUL character, which a command line cannot"; });
      return {};
    }
    ErrorSink utf_err{{}, {}, err.keep_context};
    const std::u16string arg = utf8_to_utf16(argv[i], err.keep_context ? field() : "", utf_err);
    if (utf_err) {
      err.fail(utf_err.code, [&] { return utf_err.context; });
      return {};
    }
    if (i == 0) {
      if (arg.find(u'"') != std::u16string::npos) {
        err.fail(errc::invalid_spec, [&] {
          return fmt::format(
              "ProcessSpec.argv[0] \"{}\" contains a double quote, which a Windows program name "
              "cannot (the command line has no escape for it there)",
              argv[0]);
        });
        return {};
      }
      const bool quote = arg.empty() || arg.find_first_of(u" \t") != std::u16string::npos;
      if (quote) line.push_back(u'"');
      line.append(arg);
      if (quote) line.push_back(u'"');
    } else {
      line.push_back(u' ');
      append_quoted_argument(line, arg);
    }
  }
  if (line.size() + 1 > k_command_line_max) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format(
          "ProcessSpec.argv: the Windows command line would be {} UTF-16 units with its "
          "terminating NUL, above CreateProcessW's limit of {}",
          line.size() + 1, k_command_line_max);
    });
    return {};
  }
  return line;
}

SUPERVISOR_INLINE std::vector<std::u16string> parse_command_line(std::u16string_view line) {
  std::vector<std::u16string> argv;
  std::size_t p = 0;
  // The program name: to the first space or tab outside quotes; quotes group, nothing escapes.
  {
    std::u16string& arg = argv.emplace_back();
    bool in_quotes = false;
    for (; p < line.size(); ++p) {
      const char16_t c = line[p];
      if (c == u'"') {
        in_quotes = !in_quotes;
      } else if (!in_quotes && cmdline_space(c)) {
        break;
      } else {
        arg.push_back(c);
      }
    }
  }
  for (;;) {
    while (p < line.size() && cmdline_space(line[p])) ++p;
    if (p >= line.size()) break;
    std::u16string& arg = argv.emplace_back();
    bool in_quotes = false;
    while (p < line.size()) {
      std::size_t backslashes = 0;
      while (p < line.size() && line[p] == u'\\') ++backslashes, ++p;
      if (p < line.size() && line[p] == u'"') {
        arg.append(backslashes / 2, u'\\');
        if (backslashes % 2 == 1) {
          arg.push_back(u'"');  // escaped
        } else if (in_quotes && p + 1 < line.size() && line[p + 1] == u'"') {
          arg.push_back(u'"');  // "" inside quotes: a literal quote, still quoted
          ++p;
        } else {
          in_quotes = !in_quotes;
        }
        ++p;
        continue;
      }
      arg.append(backslashes, u'\\');
      if (p >= line.size() || (!in_quotes && cmdline_space(line[p]))) break;
      arg.push_back(line[p++]);
    }
  }
  return argv;
}

}  // namespace supervisor::detail
