// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The open-file limit (RLIMIT_NOFILE) against real pools: a pool whose workers' fds do not fit
// fails before it starts anything (errc::fd_limit, naming the limit and its values);
// PoolOptions::raise_fd_limit raises the soft limit instead, never silently; raise_fd_limit()
// itself; an EMFILE at spawn names the limit. Each test lowers this process's soft limit and
// puts it back (each test case runs as a ctest process of its own); a hard limit is lowered only
// in a fork()ed child, since an unprivileged process cannot raise it again.
#include <supervisor/limits.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/scaling.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <system_error>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"

#if defined(__SANITIZE_ADDRESS__) || SUPERVISOR_TESTING_TSAN
#  define SUPERVISOR_FD_TEST_SANITIZED 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define SUPERVISOR_FD_TEST_SANITIZED 1
#  endif
#endif
#ifndef SUPERVISOR_FD_TEST_SANITIZED
#  define SUPERVISOR_FD_TEST_SANITIZED 0
#endif

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

rlimit nofile() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl;
}

std::string text_of(rlim_t v) {
  return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v);
}

// Lowers the soft RLIMIT_NOFILE for the scope (to `soft`), and puts the original limits back.
class SoftLimit {
 public:
  explicit SoftLimit(rlim_t soft) : saved_(nofile()) {
    rlimit rl = saved_;
    rl.rlim_cur = soft;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &rl) == 0);
  }
  ~SoftLimit() { restore(); }
  // The original limits again, early (before anything that needs a descriptor: Catch2's
  // checks under UBSan, whose vptr check opens a pipe).
  void restore() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  SoftLimit(const SoftLimit&) = delete;
  SoftLimit& operator=(const SoftLimit&) = delete;
  [[nodiscard]] const rlimit& saved() const { return saved_; }

 private:
  rlimit saved_;
};

// The fds open now.
rlim_t open_fds() { return static_cast<rlim_t>(st::snapshot_self().fd_count); }

// Workers of the test child holding one host fd each: their pidfd (process-group containment,
// no pipes).
sv::PoolOptions one_fd_pool(const std::string& tag, std::size_t size) {
  sv::PoolOptions o = st::child_pool(tag, {"sleep", "forever"}, size);
  o.spec.err = sv::StdioSpec::null();
  o.containment = sv::Containment::process_group;
  return o;
}

// The number in `message` after `before` (e.g. the fds "in use" the pool counted).
std::uint64_t number_after(const std::string& message, const std::string& before) {
  const auto at = message.find(before);
  if (at == std::string::npos) return 0;
  return std::stoull(message.substr(at + before.size()));
}

// A pool's fd error up to the fds in use, e.g. "Pool::start: the open-file limit is too low: 300
// workers need about 300 open files (1 per worker: pidfd) and ".
std::string head_of(const std::string& what, const std::string& workers, std::size_t count,
                    std::size_t per, const std::string& names) {
  return what + ": the open-file limit is too low: " + workers + " need about " +
         std::to_string(count * per) + " open files (" + std::to_string(per) +
         " per worker: " + names + ") and ";
}

// Runs `body` in a fork()ed child (where the hard limit may be lowered for good) and returns
// what it reported: "" for success, else the failure's text.
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    std::string report;
    try {
      report = body();
    } catch (const std::exception& e) {
      report = std::string("exception: ") + e.what();
    }
    const char* p = report.data();
    std::size_t left = report.size();
    while (left > 0) {
      const ssize_t n = ::write(fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string report;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    report.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  return report;
}

// In a fork()ed child: lowers the hard limit to `hard` (and the soft one with it).
void lower_hard(rlim_t hard) {
  rlimit rl{hard, hard};
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) throw std::runtime_error("setrlimit");
}

}  // namespace

TEST_CASE("a pool whose workers' fds do not fit under RLIMIT_NOFILE starts nothing",
          "[integration][pool][fd_limit]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-start");
  {
    sv::Loop loop;
    if (!loop.info().pidfd_available) SUPERVISOR_SKIP("no pidfds: a worker holds no host fd");
    const SoftLimit limit(open_fds() + 100);
    const rlimit lowered = nofile();
    sv::Pool pool(loop, one_fd_pool(tag, 300));
    std::string message;
    try {
      pool.start();
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::fd_limit);
      CHECK(e.code() == std::errc::too_many_files_open);
      message = e.what();
    }
    // The exact message, with the fds in use as the pool counted them.
    const std::uint64_t in_use = number_after(message, ") and ");
    CHECK(in_use > 0);
    CHECK(message == head_of("Pool::start", "300 workers", 300, 1, "pidfd") +
                         std::to_string(in_use) + " are in use, but RLIMIT_NOFILE is " +
                         text_of(lowered.rlim_cur) + " (hard " + text_of(lowered.rlim_max) +
                         "): raise the soft limit (ulimit -n " + std::to_string(300 + in_use + 64) +
                         "), or set PoolOptions::raise_fd_limit");
    // Nothing started, nothing raised.
    CHECK(st::processes_with_tag(tag).empty());
    CHECK(nofile().rlim_cur == lowered.rlim_cur);
    CHECK_FALSE(pool.snapshot().running);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("the fd check names what each worker holds (cgroup files, pipes, log, channel, notify)",
          "[integration][pool][fd_limit]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-names");
  {
    sv::Loop loop;
    const sv::LoopInfo info = loop.info();
    const SoftLimit limit(open_fds() + 100);
    const st::TempDir dir(tag);
    sv::PoolOptions o = st::child_pool(tag, {"sleep", "forever"}, 50);
    o.spec.out = sv::StdioSpec::pipe();
    o.spec.err = sv::StdioSpec::log_file((dir.path / "err.log").string());
    o.spec.channel.enabled = true;
    o.spec.resources.max_open_files = 4096;  // a group with limits keeps its directory open
    o.readiness.mode = sv::Readiness::Mode::notify;
    {
      sv::Pool pool(loop, o);
      std::error_code ec;
      pool.start(ec);  // the error_code overload: no message, the same code
      CHECK(ec == sv::errc::fd_limit);
    }
    sv::Pool pool(loop, o);  // a pool whose start failed is stopped: a second one
    std::string message;
    try {
      pool.start();
    } catch (const sv::Error& e) {
      message = e.what();
    }
    std::string names = info.pidfd_available ? "pidfd, " : "";
    if (info.cgroup_usable) names += "cgroup directory, ";
    names += "stdout pipe, stderr pipe, stderr log file, channel, notify socket";
    const std::size_t per =
        static_cast<std::size_t>(std::count(names.begin(), names.end(), ',')) + 1;
    INFO(message);
    CHECK(message.find(head_of("Pool::start", "50 workers", 50, per, names)) == 0);
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("PoolOptions::raise_fd_limit raises the soft limit to what the workers need",
          "[integration][pool][fd_limit]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-raise");
  {
    sv::Loop loop;
    if (!loop.info().pidfd_available) SUPERVISOR_SKIP("no pidfds: a worker holds no host fd");
    const rlim_t low = open_fds() + 100;
    const SoftLimit limit(low);
    if (limit.saved().rlim_max != RLIM_INFINITY && limit.saved().rlim_max < low + 400)
      SUPERVISOR_SKIP("the hard RLIMIT_NOFILE is too low for 200 workers");
    sv::PoolOptions o = one_fd_pool(tag, 200);
    o.raise_fd_limit = true;
    sv::Pool pool(loop, o);
    pool.start();
    const rlimit raised = nofile();
    CHECK(raised.rlim_cur > low);
    CHECK(raised.rlim_cur >= 200 + low - 100);  // the workers and what was open
    CHECK(raised.rlim_cur <= 200 + low + 64);   // what was needed, not the hard limit
    CHECK(raised.rlim_max == limit.saved().rlim_max);
    REQUIRE(pool.wait_ready(200, 120s));
    CHECK(pool.snapshot().ready == 200);
    pool.stop();
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pool's resize checks the fds of the workers it adds",
          "[integration][pool][fd_limit]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-resize");
  {
    sv::Loop loop;
    if (!loop.info().pidfd_available) SUPERVISOR_SKIP("no pidfds: a worker holds no host fd");
    const rlim_t low = open_fds() + 100;
    const SoftLimit limit(low);
    sv::PoolOptions o = one_fd_pool(tag, 2);
    o.max_size = 200;
    sv::Pool pool(loop, o);
    pool.start();  // 2 fit
    REQUIRE(pool.wait_ready(2, 10s));
    std::string message;
    try {
      pool.resize(150);
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::fd_limit);
      message = e.what();
    }
    INFO(message);
    CHECK(message.find(head_of("Pool::resize", "148 more workers", 148, 1, "pidfd")) == 0);
    CHECK(message.find("but RLIMIT_NOFILE is " + std::to_string(low) + " (hard ") !=
          std::string::npos);
    std::error_code ec;
    pool.resize(150, ec);
    CHECK(ec == sv::errc::fd_limit);
    CHECK(pool.snapshot().workers.size() == 2);
    CHECK(nofile().rlim_cur == low);  // not raised: the option is off
    pool.resize(10);                  // 8 more fit
    CHECK(pool.wait_ready(10, 20s));
    pool.stop();
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}

namespace {

// Always wants `size` workers.
class FixedSize final : public sv::ScalingPolicy {
 public:
  explicit FixedSize(std::size_t size) : size_(size) {}
  std::size_t desired_size(const sv::ScalingInput& /*input*/) override { return size_; }

 private:
  std::size_t size_;
};

}  // namespace

TEST_CASE("a scaling policy's growth that does not fit is not made, and the error handler hears it",
          "[integration][pool][fd_limit]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-scaling");
  {
    sv::Loop loop;
    if (!loop.info().pidfd_available) SUPERVISOR_SKIP("no pidfds: a worker holds no host fd");
    const rlim_t low = open_fds() + 100;
    const SoftLimit limit(low);
    sv::PoolOptions o = one_fd_pool(tag, 2);
    o.max_size = 200;
    o.scaling = std::make_shared<FixedSize>(150);
    o.scaling_period = 20ms;
    std::mutex mu;
    std::string where_seen;
    std::string what_seen;
    o.error_handler = [&](std::exception_ptr e, std::string_view where) {
      std::lock_guard lock(mu);
      where_seen = std::string(where);
      try {
        std::rethrow_exception(e);
      } catch (const sv::Error& error) {
        if (error.code() == sv::errc::fd_limit) what_seen = error.what();
      } catch (...) {
      }
    };
    sv::Pool pool(loop, o);
    pool.start();
    CHECK(st::wait_until(
        [&] {
          std::lock_guard lock(mu);
          return !what_seen.empty();
        },
        10000ms));
    {
      std::lock_guard lock(mu);
      CHECK(where_seen == "scaling up");
      INFO(what_seen);
      CHECK(what_seen.find(head_of("scaling up", "148 more workers", 148, 1, "pidfd")) == 0);
    }
    CHECK(pool.snapshot().workers.size() == 2);
    CHECK(nofile().rlim_cur == low);
    pool.stop();
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("the fds per worker the check counts are the fds a live worker holds",
          "[integration][pool][fd_limit]") {
  // Whoever changes what a worker keeps open (src/linux/host_fds.cpp lists it) hears it here.
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-count");
  {
    sv::Loop loop;
    sv::PoolOptions o = st::child_pool(tag, {"sleep", "forever"}, 40);
    o.spec.out = sv::StdioSpec::pipe();
    o.spec.channel.enabled = true;
    SECTION("a lean cgroup (no limits) or none") {}
    SECTION("a cgroup with limits") { o.spec.resources.max_open_files = 4096; }
    SECTION("in the pool's group") { o.group_resources.max_processes = 100000; }
    SECTION("process-group containment") { o.containment = sv::Containment::process_group; }
    // What the check counts per worker, from its message (a limit too low for 40 workers).
    std::string message;
    {
      const SoftLimit limit(open_fds() + 100);
      sv::Pool probe(loop, o);
      try {
        probe.start();
      } catch (const sv::Error& e) {
        message = e.what();
      }
    }
    INFO(message);
    const std::uint64_t per = number_after(message, "open files (");
    REQUIRE(per >= 3);  // the pipes and the channel at least
    const std::uint64_t before = open_fds();
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(40, 60s));
    const std::uint64_t during = open_fds();
    pool.stop();
    INFO("before " << before << ", with 40 workers " << during << ", counted " << per
                   << " per worker");
    // What the pool holds besides its workers (a group, a timer) is small: the count per
    // worker is exact, not a guess.
    CHECK(during >= before + 40 * per);
    CHECK(during <= before + 40 * per + 8);
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a hard RLIMIT_NOFILE too low fails a pool's start with errc::fd_limit naming it",
          "[integration][pool][fd_limit]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-hard");
  const std::string report = in_child([&]() -> std::string {
    sv::Loop loop;
    if (!loop.info().pidfd_available) return "skip";
    const rlim_t hard = open_fds() + 100;
    lower_hard(hard);
    sv::PoolOptions o = one_fd_pool(tag, 300);
    o.raise_fd_limit = true;
    sv::Pool pool(loop, o);
    try {
      pool.start();
      return "started";
    } catch (const sv::Error& e) {
      if (e.code() != sv::errc::fd_limit) return std::string("code: ") + e.what();
      const std::string m = e.what();
      const std::uint64_t in_use = number_after(m, ") and ");
      const std::string expected =
          head_of("Pool::start", "300 workers", 300, 1, "pidfd") + std::to_string(in_use) +
          " are in use, but RLIMIT_NOFILE is " + std::to_string(hard) + " (hard " +
          std::to_string(hard) + "), and the hard limit is too low too: raise it to at least " +
          std::to_string(300 + in_use + 64) +
          " (as root: LimitNOFILE= in a systemd unit, or /etc/security/limits.conf)";
      if (m != expected) return "message: " + m + "\nexpected: " + expected;
      if (!st::processes_with_tag(tag).empty()) return "a worker runs";
      if (nofile().rlim_cur != hard) return "the soft limit changed";
      return "";
    }
  });
  if (report == "skip") SUPERVISOR_SKIP("no pidfds: a worker holds no host fd");
  CHECK(report.empty());
  INFO(report);
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("raise_fd_limit raises the soft limit as asked, never lowers it, and names a short hard",
          "[integration][fd_limit]") {
  const rlimit saved = nofile();
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < open_fds() + 200)
    SUPERVISOR_SKIP("the hard RLIMIT_NOFILE is too low to test raising");
  const rlim_t low = open_fds() + 50;
  {
    const SoftLimit limit(low);
    CHECK(sv::raise_fd_limit(low + 20) == low + 20);
    CHECK(nofile().rlim_cur == low + 20);
    CHECK(sv::raise_fd_limit(low) == low + 20);  // never lowered
    CHECK(nofile().rlim_cur == low + 20);
    std::error_code ec = make_error_code(sv::errc::internal);
    CHECK(sv::raise_fd_limit(low + 40, ec) == low + 40);
    CHECK_FALSE(ec);
    CHECK(nofile().rlim_cur == low + 40);
    CHECK(nofile().rlim_max == saved.rlim_max);
  }
  CHECK(nofile().rlim_cur == saved.rlim_cur);
  // Above the hard limit: nothing changes, and the error names both values.
  const std::string report = in_child([&]() -> std::string {
    lower_hard(low);
    std::error_code ec;
    if (sv::raise_fd_limit(low + 10, ec) != low) return "error_code overload: not the soft limit";
    if (ec != sv::errc::fd_limit) return "error_code overload: " + ec.message();
    try {
      (void)sv::raise_fd_limit(low + 10);
      return "no exception";
    } catch (const sv::Error& e) {
      const std::string expected =
          "raise_fd_limit: the open-file limit is too low: " + std::to_string(low + 10) +
          " open files needed, but RLIMIT_NOFILE is " + std::to_string(low) + " (hard " +
          std::to_string(low) +
          "), and only a privileged process can raise the hard limit (e.g. LimitNOFILE= in a "
          "systemd unit, or /etc/security/limits.conf)";
      if (e.code() != sv::errc::fd_limit || e.what() != expected)
        return std::string("throwing overload: ") + e.what();
    }
    if (nofile().rlim_cur != low || nofile().rlim_max != low) return "the limit changed";
    return "";
  });
  INFO(report);
  CHECK(report.empty());
}

namespace {

// The lowest fd number free now: with the soft limit there, the next open fails with EMFILE.
rlim_t lowest_free_fd() {
  rlim_t n = 0;
  for (const int fd : st::snapshot_self().fds) {
    if (static_cast<rlim_t>(fd) != n) break;
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("an EMFILE at spawn names RLIMIT_NOFILE and its values",
          "[integration][process][fd_limit]") {
#if SUPERVISOR_FD_TEST_SANITIZED
  // The sanitizers' runtimes need descriptors of their own (UBSan's vptr check opens a pipe to
  // test memory, and reports a false "invalid vptr" without one), which this test leaves none of.
  SUPERVISOR_SKIP("no descriptor is left for the sanitizer's runtime under this limit");
#endif
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fd-limit-emfile");
  {
    sv::Loop loop;
    sv::ProcessSpec spec;
    spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "sleep", "forever"};
    // Where the first fd is opened: the stdout pipe (prepare), else the cgroup directory (the
    // backend's group), else the clone's pidfd.
    sv::ProcessOptions options;
    SECTION("a pipe") {
      spec.out = sv::StdioSpec::pipe();
      spec.err = sv::StdioSpec::pipe();
    }
    SECTION("the worker's group or its pidfd") {
      spec.out = sv::StdioSpec::null();
      spec.err = sv::StdioSpec::null();
    }
    SECTION("its pidfd (clone3 fails: an error, never a start without a child)") {
      spec.out = sv::StdioSpec::null();
      spec.err = sv::StdioSpec::null();
      options.containment = sv::Containment::process_group;
    }
    std::string message;
    std::error_code code;
    rlimit lowered{};
    {
      SoftLimit limit(lowest_free_fd());  // not one more fd fits
      lowered = nofile();
      try {
        auto p = sv::Process::start(loop, spec, options);
        limit.restore();
        if (p.pid() <= 0) {
          // A clone3 that failed once came back as a start with pid -1, whose stop then sent
          // SIGKILL to pid -1: to every process this one may signal. Never let it get there.
          std::fputs("FATAL: a start without a process (pid <= 0)\n", stderr);
          std::_Exit(3);
        }
        p.kill();
      } catch (const sv::Error& e) {
        limit.restore();
        message = e.what();
        code = e.code();
      }
    }
    INFO(message);
    CHECK(code == std::errc::too_many_files_open);
    CHECK(message.find("Too many open files; RLIMIT_NOFILE is " + text_of(lowered.rlim_cur) +
                       " (hard " + text_of(lowered.rlim_max) + ")") != std::string::npos);
    CHECK(message.find("RLIMIT_NOFILE", message.find("RLIMIT_NOFILE") + 1) == std::string::npos);
    CHECK(st::processes_with_tag(tag).empty());
  }
  REQUIRE_CLEAN(audit, tag);
}
