// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Test-only, Linux-only: proof that an integration test leaked nothing. It reads /proc to find
// descriptors and threads of this process, zombie children, and live processes carrying a tag (the
// helper child's `--tag TAG`, tests/support/child.cpp).
//
//   const supervisor::testing::LeakAudit audit;
//   const auto tag = supervisor::testing::unique_tag("restart");
//   ... start children with "--tag", tag ...
//   CHECK(audit.check(tag).empty());
//
// All functions may be called from any thread. They share no state except the atomic counter of
// unique_tag(); a LeakAudit is immutable after construction.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

// ThreadSanitizer starts a background thread of its own at the first pthread_create; LeakAudit
// makes sure it exists before taking the baseline, or it would show up as a leaked thread.
#if defined(__SANITIZE_THREAD__)
#  define SUPERVISOR_TESTING_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define SUPERVISOR_TESTING_TSAN 1
#  endif
#endif
#ifndef SUPERVISOR_TESTING_TSAN
#  define SUPERVISOR_TESTING_TSAN 0
#endif

namespace supervisor::testing {

/// Descriptors and threads of this process at one moment.
struct ProcessSnapshot {
  int fd_count = 0;      ///< fds.size()
  int thread_count = 0;  ///< `Threads:` of /proc/self/status
  std::vector<int> fds;  ///< open descriptors, ascending; never the one used to list them
};

namespace leak_detail {

/// The whole content of a (small, /proc) file, or nullopt when it cannot be opened, e.g. because
/// the process it describes has gone.
inline std::optional<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string content;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      content.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fd);
  return content;
}

inline std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

/// The numeric entries of a /proc directory (pids of /proc, descriptors of /proc/self/fd),
/// ascending, without the descriptor used to read the directory itself.
inline std::vector<int> numeric_entries(const char* path) {
  std::vector<int> numbers;
  DIR* dir = ::opendir(path);
  if (dir == nullptr) return numbers;
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir)) {
    const auto number = parse_int(entry->d_name);
    if (number && *number != own) numbers.push_back(*number);
  }
  ::closedir(dir);
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

/// The value of a `Name:\tvalue` line of a /proc status file.
inline std::optional<std::string> status_field(std::string_view status, std::string_view name) {
  std::size_t pos = 0;
  while (pos < status.size()) {
    std::size_t end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    const std::string_view line = status.substr(pos, end - pos);
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      std::string_view value = line.substr(name.size() + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      return std::string(value);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

inline std::string fd_target(int fd) {
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  std::string target(4096, '\0');
  const ssize_t n = ::readlink(link.c_str(), target.data(), target.size());
  if (n < 0) return "?";
  target.resize(static_cast<std::size_t>(n));
  return target;
}

/// The fields of /proc/PID/stat that the audit needs.
struct Stat {
  std::string comm;
  char state = '?';
  int ppid = 0;
};

/// Parses /proc/PID/stat. The command name sits in parentheses and may itself contain spaces and
/// ')', so the fields after it start after the LAST ')'.
inline std::optional<Stat> read_stat(int pid) {
  const auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  const std::size_t open = text->find('(');
  const std::size_t close = text->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  // After the name: " S PPID PGRP ..."
  const std::string_view rest = std::string_view(*text).substr(close + 1);
  if (rest.size() < 4 || rest[0] != ' ' || rest[2] != ' ') return std::nullopt;
  std::string_view ppid = rest.substr(3);
  ppid = ppid.substr(0, ppid.find(' '));
  const auto parent = parse_int(ppid);
  if (!parent) return std::nullopt;
  return Stat{text->substr(open + 1, close - open - 1), rest[1], *parent};
}

/// The arguments of /proc/PID/cmdline (NUL-separated), or nullopt when the process has gone.
inline std::optional<std::vector<std::string>> read_cmdline(int pid) {
  const auto text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  if (!text) return std::nullopt;
  std::vector<std::string> args;
  std::size_t pos = 0;
  while (pos < text->size()) {
    std::size_t end = text->find('\0', pos);
    if (end == std::string::npos) end = text->size();
    args.push_back(text->substr(pos, end - pos));
    pos = end + 1;
  }
  return args;
}

/// Starts and joins one thread, then waits until the kernel has dropped it from /proc/self/task
/// (pthread_join can return a moment before that), so it is not counted in a snapshot.
inline void start_sanitizer_threads() {
  pid_t tid = 0;
  std::thread([&tid] { tid = ::gettid(); }).join();
  const std::string task = "/proc/self/task/" + std::to_string(tid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{1};
  while (::access(task.c_str(), F_OK) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

inline std::string describe_process(int pid) {
  std::string line = "pid " + std::to_string(pid);
  if (const auto args = read_cmdline(pid); args && !args->empty()) {
    line += ":";
    for (const auto& arg : *args) line += " " + arg;
  } else if (const auto stat = read_stat(pid)) {
    line += " (" + stat->comm + ")";
  }
  return line;
}

}  // namespace leak_detail

/// Open descriptors (from /proc/self/fd, without the one used to list it) and thread count (from
/// /proc/self/status) of this process.
inline ProcessSnapshot snapshot_self() {
  ProcessSnapshot snapshot;
  snapshot.fds = leak_detail::numeric_entries("/proc/self/fd");
  snapshot.fd_count = static_cast<int>(snapshot.fds.size());
  if (const auto status = leak_detail::read_file("/proc/self/status")) {
    if (const auto threads = leak_detail::status_field(*status, "Threads")) {
      snapshot.thread_count = leak_detail::parse_int(*threads).value_or(0);
    }
  }
  return snapshot;
}

/// Pids of our children that are zombies (exited, not yet reaped), ascending.
inline std::vector<int> zombie_children() {
  const pid_t self = ::getpid();
  std::vector<int> zombies;
  for (const int pid : leak_detail::numeric_entries("/proc")) {
    const auto stat = leak_detail::read_stat(pid);
    if (stat && stat->state == 'Z' && stat->ppid == self) zombies.push_back(pid);
  }
  return zombies;
}

/// Pids of live (not zombie) processes other than this one whose command line has an argument
/// exactly equal to `tag`, ascending. Processes that vanish during the scan are skipped. An empty
/// tag matches nothing.
inline std::vector<int> processes_with_tag(std::string_view tag) {
  std::vector<int> pids;
  if (tag.empty()) return pids;
  const pid_t self = ::getpid();
  for (const int pid : leak_detail::numeric_entries("/proc")) {
    if (pid == self) continue;
    const auto stat = leak_detail::read_stat(pid);
    if (!stat || stat->state == 'Z' || stat->state == 'X') continue;
    const auto args = leak_detail::read_cmdline(pid);
    if (args && std::find(args->begin(), args->end(), tag) != args->end()) pids.push_back(pid);
  }
  return pids;
}

/// Calls `pred` every `step` until it returns true (then true) or `timeout` has passed (then false;
/// `pred` is always called at least once, and once more at the deadline).
inline bool wait_until(std::function<bool()> pred, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = std::chrono::milliseconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(step, deadline - now));
  }
}

/// A tag no other test run uses: `svtag-<prefix>-<pid>-<counter>-<random hex>`.
inline std::string unique_tag(std::string_view prefix) {
  static std::atomic<unsigned long> counter{0};
  std::uint32_t random = 0;
  if (::getrandom(&random, sizeof random, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof random)) {
    random =
        static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  char hex[9];
  const auto [end, ec] = std::to_chars(hex, hex + sizeof hex, random, 16);
  static_cast<void>(ec);  // 8 hex digits always fit
  return "svtag-" + std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1) + 1) + "-" + std::string(hex, end);
}

/// SIGKILLs every live process carrying `tag`, then waits (up to 2 s) until none is alive. Meant
/// for the cleanup of a failed test: it does not reap, so our own children stay zombies until
/// whoever owns them waits for them.
inline void kill_tagged(std::string_view tag) {
  for (const int pid : processes_with_tag(tag)) ::kill(pid, SIGKILL);
  wait_until([tag] { return processes_with_tag(tag).empty(); }, std::chrono::milliseconds{2000});
}

/// Records this process's descriptors and threads when constructed; check() later says whether
/// anything leaked since. Construct it at the start of a test, before the first child is started.
/// Immutable after construction: check() may be called from any thread.
class LeakAudit {
 public:
  LeakAudit() : baseline_(take_baseline()) {
    for (const int fd : baseline_.fds) baseline_targets_.emplace(fd, leak_detail::fd_target(fd));
  }

  /// Waits up to `settle` for a clean state: no zombie children, no live process carrying `tag`
  /// (an empty tag skips that part), the same set of open descriptors and the same thread count as
  /// at construction. Returns "" when clean, else one line per leak (descriptors with their
  /// readlink target, the thread counts, pids with their command line).
  std::string check(std::string_view tag,
                    std::chrono::milliseconds settle = std::chrono::milliseconds{2000}) const {
    std::string report;
    wait_until(
        [&] {
          report = describe(tag);
          return report.empty();
        },
        settle);
    return report;
  }

  /// The state recorded at construction.
  const ProcessSnapshot& baseline() const { return baseline_; }

 private:
  static ProcessSnapshot take_baseline() {
    if constexpr (SUPERVISOR_TESTING_TSAN != 0) leak_detail::start_sanitizer_threads();
    return snapshot_self();
  }

  std::string describe(std::string_view tag) const {
    std::string report;
    const auto add = [&report](const std::string& line) { report += line + "\n"; };
    const ProcessSnapshot now = snapshot_self();
    for (const int fd : now.fds) {
      if (!std::binary_search(baseline_.fds.begin(), baseline_.fds.end(), fd)) {
        add("leaked fd " + std::to_string(fd) + " -> " + leak_detail::fd_target(fd));
      }
    }
    for (const auto& [fd, target] : baseline_targets_) {
      if (!std::binary_search(now.fds.begin(), now.fds.end(), fd)) {
        add("fd " + std::to_string(fd) + " (was -> " + target + ") closed since the baseline");
      }
    }
    if (now.thread_count != baseline_.thread_count) {
      add("threads: " + std::to_string(now.thread_count) + " now, " +
          std::to_string(baseline_.thread_count) + " at the baseline");
    }
    for (const int pid : zombie_children()) {
      add("zombie child " + leak_detail::describe_process(pid));
    }
    for (const int pid : processes_with_tag(tag)) {
      add("tagged process alive: " + leak_detail::describe_process(pid));
    }
    return report;
  }

  ProcessSnapshot baseline_;
  std::map<int, std::string> baseline_targets_;
};

}  // namespace supervisor::testing
