// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Per-worker output with real processes: lines attributed to the worker and incarnation that
// wrote them (checked against the lines' own content), stderr merged into stdout, log files
// with size rotation (per worker through `{worker}`), the output counts of snapshots and
// Prometheus, and log files that cannot be opened. Every test ends with a leak audit.
#include <supervisor/pool.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using st::TempDir;

std::string slurp(const fs::path& path) { return st::slurp(path.string()); }

// What the test child's `flood` writes: 100-byte numbered lines ("line 00000 xxx...\n").
std::string flood_lines(std::uint64_t from, std::uint64_t to) {
  std::string out;
  for (std::uint64_t n = from; n < to; ++n) {
    std::string digits = std::to_string(n);
    if (digits.size() < 5) digits.insert(0, 5 - digits.size(), '0');
    std::string line = "line " + digits + ' ';
    line.resize(99, 'x');
    out += line + '\n';
  }
  return out;
}

// The attributed lines a pool's on_output received (any thread writes, the test reads).
struct Received {
  struct Line {
    std::size_t worker;
    std::uint64_t incarnation;
    sv::StdStream stream;
    std::string text;
  };
  mutable std::mutex mu;
  std::vector<Line> lines;
  void add(const sv::OutputLine& l) {
    std::lock_guard lock(mu);
    lines.push_back({l.worker, l.incarnation, l.stream, std::string(l.text)});
  }
  std::vector<Line> copy() const {
    std::lock_guard lock(mu);
    return lines;
  }
  std::size_t count() const {
    std::lock_guard lock(mu);
    return lines.size();
  }
};

bool all_exited(const sv::Pool& pool) {
  for (const auto& w : pool.snapshot().workers) {
    if (!w.last_exit) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("output lines are attributed to the right worker and incarnation",
          "[integration][pool][output]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("output-attr");
  {
    sv::Loop loop;
    Received got;
    std::mutex bare_mu;
    std::size_t bare = 0;  // the spec's own on_line sees every line too, without attribution
    auto o = st::child_pool(
        tag, {"print-env-wait", "SUPERVISOR_WORKER_INDEX", "SUPERVISOR_WORKER_INCARNATION"}, 3);
    o.spec.out = sv::StdioSpec::pipe([&](std::string_view) {
      std::lock_guard lock(bare_mu);
      ++bare;
    });
    o.on_output = [&](const sv::OutputLine& l) { got.add(l); };
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(st::wait_until([&] { return got.count() == 6; }, 10000ms));

    // Worker 1 is killed from outside and restarted: its new lines carry incarnation 2.
    const int victim = pool.snapshot().workers[1].pid;
    REQUIRE(victim > 0);
    REQUIRE(::kill(victim, SIGKILL) == 0);
    REQUIRE(st::wait_until([&] { return got.count() == 8; }, 10000ms));

    std::map<std::pair<std::size_t, std::uint64_t>, int> per_incarnation;
    for (const auto& l : got.copy()) {
      INFO(l.text);
      CHECK(l.stream == sv::StdStream::out);
      ++per_incarnation[{l.worker, l.incarnation}];
      // The line's own content says who wrote it.
      const std::string index = "SUPERVISOR_WORKER_INDEX=";
      const std::string incarnation = "SUPERVISOR_WORKER_INCARNATION=";
      if (l.text.rfind(index, 0) == 0) {
        CHECK(l.text.substr(index.size()) == std::to_string(l.worker));
      } else {
        REQUIRE(l.text.rfind(incarnation, 0) == 0);
        CHECK(l.text.substr(incarnation.size()) == std::to_string(l.incarnation));
      }
    }
    using Key = std::pair<std::size_t, std::uint64_t>;
    CHECK(per_incarnation ==
          std::map<Key, int>{{{0, 1}, 2}, {{1, 1}, 2}, {{1, 2}, 2}, {{2, 1}, 2}});
    {
      std::lock_guard lock(bare_mu);
      CHECK(bare == 8);
    }

    // The counts: worker 1's sum both incarnations; the pool's, every worker.
    const sv::PoolSnapshot snap = pool.snapshot();
    CHECK(snap.workers[0].output.out.lines == 2);
    CHECK(snap.workers[1].output.out.lines == 4);
    CHECK(snap.workers[1].output.out.bytes_read ==
          2 * (std::string("SUPERVISOR_WORKER_INDEX=1\nSUPERVISOR_WORKER_INCARNATION=1\n").size()));
    CHECK(snap.workers[1].output.err.bytes_read == 0);
    CHECK(snap.output.out.lines == 8);
    CHECK(snap.output.out.bytes_dropped == 0);
    const std::string text = sv::to_prometheus(snap, "attr");
    CHECK(text.find("supervisor_pool_output_lines_total{pool=\"attr\",stream=\"out\"} 8\n") !=
          std::string::npos);
    CHECK(text.find("supervisor_pool_output_bytes_total{pool=\"attr\",stream=\"out\"} " +
                    std::to_string(snap.output.out.bytes_read) + "\n") != std::string::npos);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("stderr merged into stdout: every line arrives as out, in order",
          "[integration][pool][output]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("output-merged");
  {
    sv::Loop loop;
    SECTION("a plain Process, its stdout a pipe") {
      std::mutex mu;
      std::vector<std::string> lines;
      sv::ProcessSpec spec;
      spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "interleave", "200"};
      spec.out = sv::StdioSpec::pipe([&](std::string_view l) {
        std::lock_guard lock(mu);
        lines.emplace_back(l);
      });
      spec.err = sv::StdioSpec::same_as_out();
      auto p = sv::Process::start(loop, spec);
      CHECK(p.wait().exit_code == 0);
      std::lock_guard lock(mu);
      REQUIRE(lines.size() == 200);
      for (std::size_t k = 1; k <= 200; ++k)
        CHECK(lines[k - 1] == "line " + std::to_string(k) + (k % 2 == 1 ? " out" : " err"));
      CHECK(p.output_stats(sv::StdStream::out).lines == 200);
      CHECK(p.output_stats(sv::StdStream::err).bytes_read == 0);
    }
    SECTION("a plain Process, its stdout a file") {
      TempDir dir(tag);
      sv::ProcessSpec spec;
      spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "interleave", "6"};
      spec.out = sv::StdioSpec::file((dir.path / "both").string(), false);
      spec.err = sv::StdioSpec::same_as_out();
      CHECK(sv::Process::start(loop, spec).wait().exit_code == 0);
      CHECK(slurp(dir.path / "both") ==
            "line 1 out\nline 2 err\nline 3 out\nline 4 err\nline 5 out\nline 6 err\n");
    }
    SECTION("a pool: on_output sees stream out") {
      Received got;
      auto o = st::child_pool(tag, {"interleave", "40", "forever"}, 2);
      o.spec.out = sv::StdioSpec::pipe();
      o.spec.err = sv::StdioSpec::same_as_out();
      o.on_output = [&](const sv::OutputLine& l) { got.add(l); };
      sv::Pool pool(loop, o);
      pool.start();
      REQUIRE(st::wait_until([&] { return got.count() == 80; }, 10000ms));
      std::map<std::size_t, std::size_t> next;  // per worker: the line number it must write next
      for (const auto& l : got.copy()) {
        CHECK(l.stream == sv::StdStream::out);
        const std::size_t k = ++next[l.worker];
        CHECK(l.text == "line " + std::to_string(k) + (k % 2 == 1 ? " out" : " err"));
      }
      const auto snap = pool.snapshot();
      CHECK(snap.output.out.lines == 80);
      CHECK(snap.output.err.lines == 0);
      pool.stop();
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("rotation keeps at most N backups", "[integration][pool][output]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("output-rotate");
  {
    TempDir dir(tag);
    sv::Loop loop;
    // Each worker writes 50 lines of 100 bytes once: with 1050 bytes a file, 10 lines fit in
    // each, so the log rotates 4 times; 3 backups keep the last 40 lines.
    auto o = st::child_pool(tag, {"flood", "5000", "stdout"}, 2);
    sv::StandardRestartOptions r;
    r.mode = sv::RestartMode::never;
    o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(r);
    o.spec.out = sv::StdioSpec::log_file((dir.path / "w{worker}.log").string(), 1050, 3);
    Received got;
    o.on_output = [&](const sv::OutputLine& l) { got.add(l); };
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(st::wait_until([&] { return all_exited(pool); }, 20000ms));
    for (const std::string w : {"0", "1"}) {
      INFO("worker " << w);
      const fs::path live = dir.path / ("w" + w + ".log");
      const auto backup = [&](int i) { return fs::path(live.string() + "." + std::to_string(i)); };
      REQUIRE(fs::exists(live));
      for (int i = 1; i <= 3; ++i) CHECK(fs::exists(backup(i)));
      CHECK_FALSE(fs::exists(backup(4)));
      // Each file is at most max_bytes, of whole lines, and together they are the last 40 lines,
      // newest in the live file.
      CHECK(slurp(live) == flood_lines(40, 50));
      CHECK(slurp(backup(1)) == flood_lines(30, 40));
      CHECK(slurp(backup(2)) == flood_lines(20, 30));
      CHECK(slurp(backup(3)) == flood_lines(10, 20));
      for (const fs::path& f : {live, backup(1), backup(2), backup(3)}) {
        CHECK(fs::file_size(f) <= 1050);
        struct stat s {};
        REQUIRE(::stat(f.c_str(), &s) == 0);
        CHECK((s.st_mode & 0137) == 0);  // created 0640 (less the umask)
      }
    }
    // The log's lines reach the callbacks and the counts too.
    CHECK(got.count() == 100);
    const auto snap = pool.snapshot();
    CHECK(snap.workers[0].output.out.bytes_read == 5000);
    CHECK(snap.output.out.lines == 100);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("log files: no backups restarts the file, an over-long line is cut, nothing is lost",
          "[integration][process][output]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("output-log");
  {
    TempDir dir(tag);
    sv::Loop loop;
    SECTION("backups = 0: the file is emptied and written again") {
      sv::ProcessSpec spec;
      spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "flood", "5000", "stdout"};
      spec.out = sv::StdioSpec::log_file((dir.path / "only.log").string(), 1050, 0);
      CHECK(sv::Process::start(loop, spec).wait().exit_code == 0);
      CHECK(slurp(dir.path / "only.log") == flood_lines(40, 50));
      CHECK_FALSE(fs::exists(dir.path / "only.log.1"));
    }
    SECTION("lines longer than max_bytes: cut into files of max_bytes, the bytes kept in order") {
      // stderr-lines 6 250: "err line K" padded with x to 250 bytes, 6 times, on stderr.
      sv::ProcessSpec spec;
      spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "stderr-lines", "6", "250"};
      spec.out = sv::StdioSpec::null();
      spec.err = sv::StdioSpec::log_file((dir.path / "long.log").string(), 100, 100);
      CHECK(sv::Process::start(loop, spec).wait().exit_code == 1);
      std::string expected;
      for (int k = 1; k <= 6; ++k) {
        std::string line = "err line " + std::to_string(k);
        line.resize(250, 'x');
        expected += line + '\n';
      }
      std::string kept;
      int files = 0;
      for (int i = 100; i >= 0; --i) {
        const fs::path f =
            i == 0 ? dir.path / "long.log"
                   : fs::path((dir.path / "long.log").string() + "." + std::to_string(i));
        if (!fs::exists(f)) continue;
        ++files;
        CHECK(fs::file_size(f) <= 100);
        kept += slurp(f);
      }
      CHECK(files >= 16);  // 1506 bytes in files of at most 100
      CHECK(kept == expected);
    }
    SECTION("an existing log is appended to, and rotated once full") {
      const fs::path log = dir.path / "old.log";
      {
        std::FILE* f = std::fopen(log.c_str(), "w");
        REQUIRE(f != nullptr);
        std::fputs("old line\n", f);
        std::fclose(f);
      }
      sv::ProcessSpec spec;
      spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "flood", "1000", "stdout"};
      spec.out = sv::StdioSpec::log_file(log.string(), 1000, 1);
      CHECK(sv::Process::start(loop, spec).wait().exit_code == 0);
      CHECK(slurp(fs::path(log.string() + ".1")) == "old line\n" + flood_lines(0, 9));
      CHECK(slurp(log) == flood_lines(9, 10));
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a log file that cannot be opened fails the start, naming the field and the path",
          "[integration][process][output]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("output-open");
  {
    TempDir dir(tag);
    sv::Loop loop;
    sv::ProcessSpec spec;
    spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag, "exit", "0"};
    const std::string missing = (dir.path / "no-such-dir" / "w.log").string();
    spec.err = sv::StdioSpec::log_file(missing, 100, 1);
    std::error_code ec;
    auto p = sv::Process::start(loop, spec, {}, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    try {
      (void)sv::Process::start(loop, spec);
      FAIL("started");
    } catch (const std::system_error& e) {
      CHECK(std::string(e.what()).find("ProcessSpec.err: open \"" + missing + "\"") !=
            std::string::npos);
    }
    // A symbolic link at the path is not followed.
    const fs::path target = dir.path / "target";
    const fs::path link = dir.path / "link.log";
    fs::create_symlink(target, link);
    spec.err = sv::StdioSpec::log_file(link.string(), 100, 1);
    (void)sv::Process::start(loop, spec, {}, ec);
    CHECK(ec == std::errc::too_many_symbolic_link_levels);
    CHECK_FALSE(fs::exists(target));

    // In a pool: a typed start failure naming the worker's own path.
    auto o = st::child_pool(tag, {"sleep", "forever"}, 2);
    o.spec.out = sv::StdioSpec::log_file((dir.path / "nope" / "w{worker}.log").string());
    sv::Pool pool(loop, o);
    pool.start(ec);
    CHECK(ec == std::errc::no_such_file_or_directory);
    pool.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}
