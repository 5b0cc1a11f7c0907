// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT

// The helper child of the POSIX integration tests: one program, one behaviour per run.
//
//   child [--tag TAG]... MODE [ARGS...]
//
// `--tag TAG` does nothing; it only puts TAG into argv as an argument of its own, so a test can
// find (and, after a failure, kill) every process it started, including forked descendants, which
// inherit the command line (tests/support/leak_audit.hpp).
//
// Unless a mode says otherwise it first prints `child: mode=MODE pid=PID`. Every line goes out with
// one write(2) straight to the file descriptor: no stdio buffering, so a parent reading a pipe sees
// each line as soon as it is printed. Exit codes: 64 bad usage, 71 a system call failed.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

constexpr int exit_usage = 64;
constexpr int exit_os_error = 71;
constexpr int exit_epipe = 3;

constexpr std::string_view usage_text =
    "usage: child [--tag TAG]... MODE [ARGS...]; modes: exit N | sleep MS|forever | crash | abort"
    " | ignore-sigterm MS|forever | trap-sigterm CODE | fork-grandchild MS|forever"
    " | setsid-escape MS|forever | fork-bomb-ish N | fork-until-refused N | rlimits | self | flood "
    "BYTES "
    "[stdout|stderr]"
    " | print-env [NAME...] | list-fds | alloc MB [HOLD_MS|forever]"
    " | stderr-lines N [LENGTH [forever]]"
    " | notify-ready [STATUS] | notify-ready-once PATH | heartbeat MS [COUNT] | sd-watchdog"
    " | spin MS"
    " | threads N"
    " | http-server PORT STATUS (SIGUSR1: close the listener) | channel-echo | stdin-echo"
    " | print-env-wait [NAME...] | interleave N [forever]\n";

// Upper bounds that keep a typo from turning a test into a real fork bomb or a 30-year sleep.
constexpr std::uint64_t max_ms = 1'000'000'000'000ULL;
constexpr std::uint64_t max_processes = 1000;
constexpr std::uint64_t max_threads = 1000;
constexpr std::uint64_t max_mib = 1ULL << 20;

volatile std::sig_atomic_t got_sigterm = 0;

extern "C" void on_sigterm(int) { got_sigterm = 1; }

// Writes all of `data`, retrying after EINTR and partial writes, and waiting for POLLOUT when the
// descriptor is non-blocking (a parent may hand us an O_NONBLOCK pipe). Returns 0 or the errno.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {  // EWOULDBLOCK is the same value on Linux
      pollfd pfd{fd, POLLOUT, 0};
      if (::poll(&pfd, 1, -1) < 0 && errno != EINTR) return errno;
      continue;
    }
    return errno;
  }
  return 0;
}

void say(std::string line) {
  line += '\n';
  static_cast<void>(write_all(STDOUT_FILENO, line));
}

void complain(std::string line) {
  line = "child: " + line + '\n';
  static_cast<void>(write_all(STDERR_FILENO, line));
}

[[noreturn]] void usage() {
  static_cast<void>(write_all(STDERR_FILENO, usage_text));
  std::exit(exit_usage);
}

[[noreturn]] void die(std::string_view what) {
  const int err = errno;
  complain(std::string(what) + ": " + std::strerror(err));
  std::exit(exit_os_error);
}

void announce(std::string_view mode) {
  say("child: mode=" + std::string(mode) + " pid=" + std::to_string(::getpid()));
}

// Plain unsigned decimal (T is unsigned, so from_chars rejects a sign), at most `max`.
template <class T>
std::optional<T> parse_number(std::string_view text, T max) {
  static_assert(std::is_unsigned_v<T>);
  T value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value > max) return std::nullopt;
  return value;
}

template <class T>
T number_or_usage(std::string_view text, T max) {
  const auto value = parse_number(text, max);
  if (!value) usage();
  return *value;
}

// A duration in milliseconds, or std::nullopt for "forever".
std::optional<std::uint64_t> duration_or_usage(std::string_view text) {
  if (text == "forever") return std::nullopt;
  return number_or_usage(text, max_ms);
}

[[noreturn]] void sleep_forever() {
  for (;;) ::pause();
}

timespec monotonic_now() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return now;
}

timespec add_ms(timespec t, std::uint64_t ms) {
  t.tv_sec += static_cast<time_t>(ms / 1000);
  t.tv_nsec += static_cast<long>((ms % 1000) * 1'000'000);
  if (t.tv_nsec >= 1'000'000'000L) {
    t.tv_sec += 1;
    t.tv_nsec -= 1'000'000'000L;
  }
  return t;
}

bool before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// Sleeps until an absolute CLOCK_MONOTONIC deadline; a handled signal does not cut it short.
void sleep_until(const timespec& deadline) {
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

void sleep_for(std::optional<std::uint64_t> ms) {
  if (!ms) sleep_forever();
  sleep_until(add_ms(monotonic_now(), *ms));
}

// Reaps our children as they die (so none lingers as a zombie while we live), then sleeps forever.
[[noreturn]] void reap_then_sleep_forever() {
  for (;;) {
    if (::waitpid(-1, nullptr, 0) < 0 && errno == ECHILD) sleep_forever();
  }
}

void set_disposition(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(sig, &sa, nullptr) != 0) die("sigaction");
}

void unblock(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  if (::sigprocmask(SIG_UNBLOCK, &set, nullptr) != 0) die("sigprocmask");
}

std::string status_field(std::string_view name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(name) + ':';
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    const auto first = line.find_first_not_of(" \t", key.size());
    return first == std::string::npos ? std::string() : line.substr(first);
  }
  return "?";
}

// Opens the notify socket named by $NOTIFY_SOCKET (a leading '@' names the abstract namespace) and
// sends one datagram. Returns false (errno set) on failure.
bool notify(std::string_view message) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') {
    errno = EINVAL;
    return false;
  }
  const std::string_view path(env);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return false;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  std::size_t len = offsetof(sockaddr_un, sun_path) + path.size();
  if (path.front() == '@') {
    addr.sun_path[0] = '\0';  // abstract: no terminating NUL, the length says where the name ends
  } else {
    len += 1;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent =
      ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&addr), static_cast<socklen_t>(len));
  const int err = errno;
  ::close(fd);
  errno = err;
  return sent >= 0;
}

// One line of the flood: exactly 100 bytes, `line NNNNN xxxx...x\n`.
std::string flood_line(std::uint64_t n) {
  std::string digits = std::to_string(n);
  if (digits.size() < 5) digits.insert(0, 5 - digits.size(), '0');
  std::string line = "line " + digits + ' ';
  line.resize(99, 'x');
  line += '\n';
  return line;
}

// ---- modes

using Args = std::vector<std::string_view>;

void expect_args(const Args& args, std::size_t min, std::size_t max) {
  if (args.size() < min || args.size() > max) usage();
}

[[noreturn]] void mode_exit(const Args& args) {
  expect_args(args, 1, 1);
  const auto code = number_or_usage(args[0], 255U);
  announce("exit");
  std::exit(static_cast<int>(code));
}

[[noreturn]] void mode_sleep(const Args& args) {
  expect_args(args, 1, 1);
  const auto ms = duration_or_usage(args[0]);
  announce("sleep");
  sleep_for(ms);
  std::exit(0);
}

[[noreturn]] void mode_crash(const Args& args) {
  expect_args(args, 0, 0);
  announce("crash");
  // Default action and unblocked, whatever we inherited or a sanitizer runtime installed.
  set_disposition(SIGSEGV, SIG_DFL);
  unblock(SIGSEGV);
  static_cast<void>(::raise(SIGSEGV));
  static_cast<void>(::kill(::getpid(), SIGSEGV));
  complain("crash: still alive after SIGSEGV");
  std::_Exit(exit_os_error);
}

[[noreturn]] void mode_abort(const Args& args) {
  expect_args(args, 0, 0);
  announce("abort");
  std::abort();
}

[[noreturn]] void mode_ignore_sigterm(const Args& args) {
  expect_args(args, 1, 1);
  const auto ms = duration_or_usage(args[0]);
  set_disposition(SIGTERM, SIG_IGN);
  announce("ignore-sigterm");
  say("ready");
  sleep_for(ms);
  std::exit(0);
}

[[noreturn]] void mode_trap_sigterm(const Args& args) {
  expect_args(args, 1, 1);
  const auto code = number_or_usage(args[0], 255U);
  // Blocked while checking the flag, unblocked only inside sigsuspend: no lost wake-up.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t waiting;
  if (::sigprocmask(SIG_BLOCK, &term, &waiting) != 0) die("sigprocmask");
  sigdelset(&waiting, SIGTERM);
  set_disposition(SIGTERM, on_sigterm);
  announce("trap-sigterm");
  say("ready");
  while (got_sigterm == 0) ::sigsuspend(&waiting);
  say("got sigterm");
  std::exit(static_cast<int>(code));
}

[[noreturn]] void mode_fork_grandchild(const Args& args) {
  expect_args(args, 1, 1);
  const auto ms = duration_or_usage(args[0]);
  announce("fork-grandchild");
  const pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    sleep_for(ms);
    ::_exit(0);
  }
  say("grandchild " + std::to_string(pid));
  reap_then_sleep_forever();
}

[[noreturn]] void mode_setsid_escape(const Args& args) {
  expect_args(args, 1, 1);
  const auto ms = duration_or_usage(args[0]);
  announce("setsid-escape");
  const pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (::setsid() < 0) {
      complain(std::string("setsid: ") + std::strerror(errno));
      ::_exit(exit_os_error);
    }
    say("escaped " + std::to_string(::getpid()));
    sleep_for(ms);
    ::_exit(0);
  }
  reap_then_sleep_forever();
}

[[noreturn]] void mode_fork_bomb_ish(const Args& args) {
  expect_args(args, 1, 1);
  const auto count = number_or_usage(args[0], max_processes);
  announce("fork-bomb-ish");
  std::vector<pid_t> pids;
  for (std::uint64_t i = 0; i < count; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) sleep_forever();
    if (pid < 0) {
      const int err = errno;
      for (const pid_t p : pids) ::kill(p, SIGKILL);
      for (const pid_t p : pids) ::waitpid(p, nullptr, 0);
      errno = err;
      die("fork");
    }
    pids.push_back(pid);
  }
  say("children " + std::to_string(count));
  reap_then_sleep_forever();
}

// A fork bomb, contained: forks children that sleep until a fork is refused (or `limit` forks
// succeeded), says how many it made, then sleeps with them (they die with the tree).
[[noreturn]] void mode_fork_until_refused(const Args& args) {
  expect_args(args, 1, 1);
  const auto limit = number_or_usage(args[0], max_processes);
  announce("fork-until-refused");
  std::uint64_t made = 0;
  int refusal = 0;
  while (made < limit) {
    const pid_t pid = ::fork();
    if (pid == 0) sleep_forever();
    if (pid < 0) {
      refusal = errno;
      break;
    }
    ++made;
  }
  say("forked " + std::to_string(made) +
      (refusal != 0 ? std::string(" refused ") + std::strerror(refusal) : std::string()));
  reap_then_sleep_forever();
}

// Prints its own RLIMIT_NOFILE and RLIMIT_CPU ("rlimit nofile SOFT HARD", "rlimit cpu SOFT HARD";
// "inf" for unlimited).
[[noreturn]] void mode_rlimits(const Args& args) {
  expect_args(args, 0, 0);
  announce("rlimits");
  const auto show = [](const char* name, int resource) {
    rlimit r{};
    if (::getrlimit(resource, &r) != 0) die("getrlimit");
    const auto text = [](rlim_t v) {
      return v == RLIM_INFINITY ? std::string("inf") : std::to_string(v);
    };
    say(std::string("rlimit ") + name + " " + text(r.rlim_cur) + " " + text(r.rlim_max));
  };
  show("nofile", RLIMIT_NOFILE);
  show("cpu", RLIMIT_CPU);
  std::exit(0);
}

// What the program found at its first instruction of its own: its cgroups (read before
// anything else, each line as "cgroup LINE" of /proc/self/cgroup) and its parent-death signal
// ("pdeathsig N", 0 for none). Prints no announcement.
[[noreturn]] void mode_self(const Args& args) {
  expect_args(args, 0, 0);
  char buf[4096];
  std::size_t used = 0;
  const int fd = ::open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open /proc/self/cgroup");
  for (ssize_t n; used < sizeof buf && (n = ::read(fd, buf + used, sizeof buf - used)) > 0;)
    used += static_cast<std::size_t>(n);
  ::close(fd);
  int signal = -1;
  if (::prctl(PR_GET_PDEATHSIG, &signal, 0, 0, 0) != 0) die("prctl(PR_GET_PDEATHSIG)");
  say("pdeathsig " + std::to_string(signal));
  std::string_view text(buf, used);
  while (!text.empty()) {
    const auto end = std::min(text.find('\n'), text.size());
    say("cgroup " + std::string(text.substr(0, end)));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  std::exit(0);
}

[[noreturn]] void mode_flood(const Args& args) {
  expect_args(args, 1, 2);
  const auto bytes = number_or_usage(args[0], SIZE_MAX);
  int fd = STDOUT_FILENO;
  if (args.size() == 2) {
    if (args[1] == "stderr") {
      fd = STDERR_FILENO;
    } else if (args[1] != "stdout") {
      usage();
    }
  }
  // EPIPE must come back as an error, not as a fatal SIGPIPE.
  set_disposition(SIGPIPE, SIG_IGN);
  constexpr std::size_t chunk = std::size_t{64} * 1024;
  std::string buffer;
  buffer.reserve(chunk + 128);
  std::size_t left = bytes;
  std::uint64_t line_no = 0;
  while (left > 0) {
    buffer.clear();
    while (left > 0 && buffer.size() < chunk) {
      std::string line = flood_line(line_no++);
      if (line.size() > left) {
        line.resize(left);
        line.back() = '\n';
      }
      left -= line.size();
      buffer += line;
    }
    const int err = write_all(fd, buffer);
    if (err == EPIPE) std::_Exit(exit_epipe);
    if (err != 0) {
      errno = err;
      die("flood: write");
    }
  }
  std::exit(0);
}

[[noreturn]] void mode_print_env(const Args& args) {
  announce("print-env");
  if (!args.empty()) {
    for (const auto name : args) {
      const std::string key(name);
      const char* value = std::getenv(key.c_str());
      say(value == nullptr ? "unset " + key : key + '=' + value);
    }
    std::exit(0);
  }
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) entries.emplace_back(*e);
  std::sort(entries.begin(), entries.end());
  for (auto& entry : entries) say(std::move(entry));
  std::exit(0);
}

[[noreturn]] void mode_list_fds(const Args& args) {
  expect_args(args, 0, 0);
  announce("list-fds");
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) die("opendir /proc/self/fd");
  const int own = ::dirfd(dir);
  std::vector<int> fds;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name(entry->d_name);
    int fd = -1;
    const auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (ec != std::errc{} || ptr != name.data() + name.size() || fd == own) continue;
    fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());
  for (const int fd : fds) say(std::to_string(fd));

  std::string cwd(256, '\0');
  while (::getcwd(cwd.data(), cwd.size()) == nullptr) {
    if (errno != ERANGE) die("getcwd");
    cwd.resize(cwd.size() * 2);
  }
  cwd.resize(std::strlen(cwd.c_str()));
  say("cwd=" + cwd);

  const mode_t mask = ::umask(0);
  ::umask(mask);
  char digits[16];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, mask, 8);
  static_cast<void>(ec);  // a mode_t always fits
  std::string octal(digits, end);
  if (octal.size() < 4) octal.insert(0, 4 - octal.size(), '0');
  say("umask=" + octal);

  say("pgid=" + std::to_string(::getpgrp()) + " sid=" + std::to_string(::getsid(0)) +
      " pid=" + std::to_string(::getpid()) + " ppid=" + std::to_string(::getppid()));
  say("sigmask=" + status_field("SigBlk"));
  say("sigign=" + status_field("SigIgn"));
  std::exit(0);
}

[[noreturn]] void mode_alloc(const Args& args) {
  expect_args(args, 1, 2);
  const auto mib = number_or_usage(args[0], max_mib);
  const auto hold = args.size() == 2 ? duration_or_usage(args[1]) : std::nullopt;
  announce("alloc");
  const auto size = static_cast<std::size_t>(mib) * 1024 * 1024;
  if (size > 0) {
    // mmap rather than malloc: the optimiser may not drop it, and no allocator caches the pages.
    void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) die("alloc: mmap " + std::to_string(mib) + " MiB");
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    auto* bytes = static_cast<volatile unsigned char*>(block);
    for (std::size_t off = 0; off < size; off += page) bytes[off] = 1;
  }
  say("allocated " + std::to_string(mib));
  sleep_for(hold);
  std::exit(0);
}

// N lines `err line K`, each padded with 'x' to LENGTH bytes when given; then exit 1, or with
// `forever`, sleep (a worker whose last stderr lines are long).
[[noreturn]] void mode_stderr_lines(const Args& args) {
  expect_args(args, 1, 3);
  const auto count = number_or_usage(args[0], UINT64_MAX);
  const std::size_t length =
      args.size() >= 2 ? number_or_usage(args[1], std::size_t{1} << 20) : std::size_t{0};
  if (args.size() == 3 && args[2] != "forever") usage();
  announce("stderr-lines");
  for (std::uint64_t k = 1; k <= count; ++k) {
    std::string line = "err line " + std::to_string(k);
    if (line.size() < length) line.resize(length, 'x');
    static_cast<void>(write_all(STDERR_FILENO, line + '\n'));
  }
  if (args.size() == 3) sleep_forever();
  std::exit(1);
}

// Prints the named variables as print-env does (no announcement), then sleeps until killed.
[[noreturn]] void mode_print_env_wait(const Args& args) {
  for (const auto name : args) {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());
    say(value == nullptr ? "unset " + key : key + '=' + value);
  }
  sleep_forever();
}

// Writes N numbered lines alternately to stdout and stderr ("line K out" / "line K err", K from
// 1), each with one write(2), and exits 0 (or sleeps with `forever`). No announcement.
[[noreturn]] void mode_interleave(const Args& args) {
  expect_args(args, 1, 2);
  const auto count = number_or_usage(args[0], UINT64_MAX);
  if (args.size() == 2 && args[1] != "forever") usage();
  for (std::uint64_t k = 1; k <= count; ++k) {
    const bool out = k % 2 == 1;
    static_cast<void>(write_all(out ? STDOUT_FILENO : STDERR_FILENO,
                                "line " + std::to_string(k) + (out ? " out\n" : " err\n")));
  }
  if (args.size() == 2) sleep_forever();
  std::exit(0);
}

[[noreturn]] void mode_notify_ready(const Args& args) {
  expect_args(args, 0, 1);
  announce("notify-ready");
  std::string message = "READY=1";
  if (args.size() == 1) message += "\nSTATUS=" + std::string(args[0]);
  if (!notify(message)) die("notify-ready: send to $NOTIFY_SOCKET");
  say("notified");
  sleep_forever();
}

// READY=1 only from the first incarnation to run: the one that creates PATH (O_EXCL). Later
// ones (a restart, a replacement) start and never become ready.
[[noreturn]] void mode_notify_ready_once(const Args& args) {
  expect_args(args, 1, 1);
  announce("notify-ready-once");
  const std::string path(args[0]);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    if (!notify("READY=1")) die("notify-ready-once: send to $NOTIFY_SOCKET");
    say("notified");
  } else if (errno != EEXIST) {
    die("notify-ready-once: create " + path);
  }
  sleep_forever();
}

[[noreturn]] void mode_heartbeat(const Args& args) {
  expect_args(args, 1, 2);
  const auto interval = number_or_usage(args[0], max_ms);
  const bool forever = args.size() == 1;
  const std::uint64_t count = forever ? 0 : number_or_usage(args[1], UINT64_MAX);
  announce("heartbeat");
  // Absolute deadlines, so the beats do not drift by the time each send takes.
  timespec next = monotonic_now();
  bool reported = false;
  for (std::uint64_t sent = 0; forever || sent < count; ++sent) {
    if (sent > 0) {
      next = add_ms(next, interval);
      sleep_until(next);
    }
    if (!notify("WATCHDOG=1") && !reported) {
      complain(std::string("heartbeat: send to $NOTIFY_SOCKET: ") + std::strerror(errno));
      reported = true;
    }
  }
  say("heartbeats sent " + std::to_string(count));
  sleep_forever();
}

// Keeps the watchdog as libsystemd's sd_watchdog_enabled() reads it: WATCHDOG_USEC says the
// interval, and a WATCHDOG_PID naming another process means the watchdog is not ours (then no
// WATCHDOG=1 is ever sent). Beats at a quarter of the interval.
[[noreturn]] void mode_sd_watchdog(const Args& args) {
  expect_args(args, 0, 0);
  announce("sd-watchdog");
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* for_pid = std::getenv("WATCHDOG_PID");
  if (usec == nullptr) {
    say("watchdog: none");
    sleep_forever();
  }
  if (for_pid != nullptr && std::to_string(::getpid()) != for_pid) {
    say(std::string("watchdog: for pid ") + for_pid + ", not this one");
    sleep_forever();
  }
  const auto interval_ms = std::max<std::uint64_t>(1, std::strtoull(usec, nullptr, 10) / 4000);
  say("watchdog: beating every " + std::to_string(interval_ms) + " ms");
  timespec next = monotonic_now();
  for (;;) {
    static_cast<void>(notify("WATCHDOG=1"));
    next = add_ms(next, interval_ms);
    sleep_until(next);
  }
}

[[noreturn]] void mode_spin(const Args& args) {
  expect_args(args, 1, 1);
  const auto ms = number_or_usage(args[0], max_ms);
  announce("spin");
  const timespec deadline = add_ms(monotonic_now(), ms);
  volatile std::uint64_t work = 0;
  while (before(monotonic_now(), deadline)) {
    for (int i = 0; i < 10'000; ++i) work = work + 1;
  }
  std::exit(0);
}

[[noreturn]] void mode_threads(const Args& args) {
  expect_args(args, 1, 1);
  const auto count = number_or_usage(args[0], max_threads);
  announce("threads");
  try {
    for (std::uint64_t i = 0; i < count; ++i) std::thread([] { sleep_forever(); }).detach();
  } catch (const std::system_error& e) {
    complain(std::string("threads: ") + e.what());
    std::exit(exit_os_error);
  }
  say("threads " + std::to_string(count));
  sleep_forever();
}

struct Mode {
  std::string_view name;
  void (*run)(const Args&);
};

volatile std::sig_atomic_t got_sigusr1 = 0;

extern "C" void on_sigusr1(int) { got_sigusr1 = 1; }

// A minimal HTTP/1.1 server on 127.0.0.1:PORT: every request gets STATUS and an empty body.
// Prints "listening PORT" once it accepts connections (PORT 0: one the kernel picks). SIGUSR1
// closes the listening socket (connections are refused from then on) and the process lives on,
// printing "closed PORT": a worker whose endpoint died while the process did not.
[[noreturn]] void mode_http_server(const Args& args) {
  expect_args(args, 2, 2);
  const auto port = number_or_usage(args[0], 65535U);
  const auto status = number_or_usage(args[1], 599U);
  struct sigaction sa {};
  sa.sa_handler = on_sigusr1;  // no SA_RESTART: accept4 returns EINTR
  ::sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGUSR1, &sa, nullptr) != 0) die("sigaction");
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) die("bind");
  if (::listen(fd, 16) != 0) die("listen");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  announce("http-server");
  say("listening " + std::to_string(ntohs(addr.sin_port)));
  const std::string reply = "HTTP/1.1 " + std::to_string(status) +
                            (status < 400 ? " OK" : " Unavailable") +
                            "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  for (;;) {
    const int c = got_sigusr1 != 0 ? -1 : ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (got_sigusr1 != 0) {
      if (c >= 0) ::close(c);
      ::close(fd);
      say("closed " + std::to_string(ntohs(addr.sin_port)));
      sleep_forever();
    }
    if (c < 0) {
      if (errno == EINTR) continue;
      die("accept");
    }
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    static_cast<void>(write_all(c, reply));
    ::close(c);
  }
}

// Serves jobs on the channel the library passed (fd $SUPERVISOR_CHANNEL_FD): each message is
// answered with `pid=PID MESSAGE`; the message `hang` is never answered (a job that hangs, for a
// test to kill the worker mid-job), `exit` ends the child without an answer. Ends at the
// channel's end (the host closed it).
[[noreturn]] void mode_channel_echo(const Args& args) {
  expect_args(args, 0, 0);
  announce("channel-echo");
  const char* fd_text = std::getenv("SUPERVISOR_CHANNEL_FD");
  if (fd_text == nullptr) {
    complain("channel-echo: SUPERVISOR_CHANNEL_FD is not set");
    std::exit(exit_usage);
  }
  const int fd = static_cast<int>(number_or_usage<unsigned>(fd_text, 65535));
  const std::string prefix = "pid=" + std::to_string(::getpid()) + " ";
  std::vector<char> buf(256 * 1024);
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n == 0) std::exit(0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recv");
    }
    const std::string_view job(buf.data(), static_cast<std::size_t>(n));
    if (job == "hang") sleep_forever();
    if (job == "exit") std::exit(0);
    const std::string reply = prefix + std::string(job);
    if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) die("send");
  }
}

// Copies stdin to stdout until its end, then prints `stdin-eof bytes=N` and exits 0.
[[noreturn]] void mode_stdin_echo(const Args& args) {
  expect_args(args, 0, 0);
  announce("stdin-echo");
  std::uint64_t total = 0;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      die("read stdin");
    }
    total += static_cast<std::uint64_t>(n);
    static_cast<void>(write_all(STDOUT_FILENO, std::string_view(buf, static_cast<std::size_t>(n))));
  }
  say("stdin-eof bytes=" + std::to_string(total));
  std::exit(0);
}

constexpr Mode modes[] = {
    {"exit", mode_exit},
    {"sleep", mode_sleep},
    {"http-server", mode_http_server},
    {"crash", mode_crash},
    {"abort", mode_abort},
    {"ignore-sigterm", mode_ignore_sigterm},
    {"trap-sigterm", mode_trap_sigterm},
    {"fork-grandchild", mode_fork_grandchild},
    {"setsid-escape", mode_setsid_escape},
    {"fork-bomb-ish", mode_fork_bomb_ish},
    {"fork-until-refused", mode_fork_until_refused},
    {"rlimits", mode_rlimits},
    {"self", mode_self},
    {"flood", mode_flood},
    {"print-env", mode_print_env},
    {"list-fds", mode_list_fds},
    {"alloc", mode_alloc},
    {"stderr-lines", mode_stderr_lines},
    {"notify-ready", mode_notify_ready},
    {"notify-ready-once", mode_notify_ready_once},
    {"heartbeat", mode_heartbeat},
    {"sd-watchdog", mode_sd_watchdog},
    {"spin", mode_spin},
    {"threads", mode_threads},
    {"channel-echo", mode_channel_echo},
    {"stdin-echo", mode_stdin_echo},
    {"print-env-wait", mode_print_env_wait},
    {"interleave", mode_interleave},
};

}  // namespace

int main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  auto it = args.begin();
  while (it != args.end() && *it == "--tag") {
    if (std::next(it) == args.end()) usage();
    it += 2;
  }
  if (it == args.end()) usage();
  const std::string_view name = *it;
  const Args rest(std::next(it), args.end());
  for (const Mode& mode : modes) {
    if (mode.name == name) {
      mode.run(rest);
      return 0;
    }
  }
  usage();
}
