// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "proc_stat.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "../process/backend.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

template <class T>
bool parse_number(std::string_view text, T& value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  std::string_view pid = text.substr(0, open);
  while (!pid.empty() && pid.back() == ' ') pid.remove_suffix(1);
  if (!parse_number(pid, stat.pid)) return std::nullopt;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));

  // After the ')' every field is a space-separated token; fields[0] is field 3 of proc(5).
  constexpr std::size_t first = 3;
  constexpr std::size_t last = 24;  // rss, the last field read
  std::string_view fields[last - first + 1];
  std::string_view rest = text.substr(close + 1);
  for (auto& field : fields) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = rest.find_first_of(" \n");
    field = rest.substr(0, end);
    if (field.empty()) return std::nullopt;
    rest.remove_prefix(field.size());
  }
  const auto at = [&](std::size_t number) { return fields[number - first]; };
  if (at(3).size() != 1) return std::nullopt;
  stat.state = at(3).front();
  const bool ok =
      parse_number(at(4), stat.ppid) && parse_number(at(5), stat.pgrp) &&
      parse_number(at(6), stat.session) && parse_number(at(14), stat.utime_ticks) &&
      parse_number(at(15), stat.stime_ticks) && parse_number(at(20), stat.num_threads) &&
      parse_number(at(22), stat.start_time_ticks) && parse_number(at(24), stat.rss_pages);
  if (!ok) return std::nullopt;
  return stat;
}

SUPERVISOR_INLINE std::optional<ProcStat> read_proc_stat(int pid) {
  const std::string path = fmt::format("/proc/{}/stat", pid);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // procfs builds the whole line on the first read; it is far below 4 KiB (52 numbers and a
  // command name of at most 64 bytes), so one read returns all of it.
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_proc_stat(std::string_view(buf, static_cast<std::size_t>(n)));
}

SUPERVISOR_INLINE std::optional<ProcessSample> sample_process(int pid, bool open_fds) {
  const auto stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  static const long page_size = ::sysconf(_SC_PAGESIZE);
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  ProcessSample sample;
  sample.rss_bytes = stat->rss_pages * static_cast<std::uint64_t>(page_size > 0 ? page_size : 4096);
  sample.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) /
                       static_cast<double>(ticks_per_second > 0 ? ticks_per_second : 100);
  sample.threads = stat->num_threads;
  sample.state = stat->state;
  if (!open_fds) return sample;
  // /proc/PID/fd needs ptrace-read access (same uid, or CAP_SYS_PTRACE): -1 says "unknown".
  std::error_code ec;
  int count = 0;
  for (std::filesystem::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec), end;
       !ec && it != end; it.increment(ec)) {
    ++count;
  }
  sample.open_fds = ec ? -1 : count;
  return sample;
}

SUPERVISOR_INLINE std::optional<std::uint64_t> process_start_time(int pid) {
  const auto stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start_time_ticks;
}

}  // namespace supervisor::detail
