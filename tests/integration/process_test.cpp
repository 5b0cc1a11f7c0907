// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The POSIX process layer against real processes (tests/support/child.cpp). Every test ends with
// a leak audit: no zombie, no tagged survivor, fds and threads back to their baseline.
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "env_guard.hpp"
#include "leak_audit.hpp"
#include "linux/proc_stat.hpp"
#include "process/access.hpp"
#include "process/loop_core.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> child(const std::string& tag, std::vector<std::string> args) {
  std::vector<std::string> argv{SUPERVISOR_TEST_CHILD, "--tag", tag};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

sv::ProcessSpec spec_for(const std::string& tag, std::vector<std::string> args) {
  sv::ProcessSpec spec;
  spec.argv = child(tag, std::move(args));
  spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 2s, true}};
  return spec;
}

// Loop options for each containment this machine offers, so every tree test runs on each.
struct Mode {
  const char* name;
  sv::LoopOptions loop;
  sv::Containment containment;
};

std::vector<Mode> modes() {
  std::vector<Mode> out;
  sv::LoopOptions no_cgroups;
  no_cgroups.on_linux.disable_cgroups = true;
  out.push_back({"process-group", no_cgroups, sv::Containment::process_group});
  {
    sv::Loop probe;
    if (probe.info().cgroup_usable) {
      out.push_back({"cgroup", sv::LoopOptions{}, sv::Containment::cgroup});
    } else {
      std::printf("note: no cgroup v2 containment here (%s); cgroup variants not run\n",
                  probe.info().cgroup_why_not.c_str());
    }
  }
  return out;
}

// modes(), each also with the posix_spawn path forced (what a kernel without clone3 gets, or a
// container whose seccomp profile refuses it), and cgroup containment also without
// CLONE_INTO_CGROUP (kernels 5.3-5.6): on every path the tree starts inside its group.
std::vector<Mode> spawn_modes() {
  std::vector<Mode> out = modes();
  const std::size_t base = out.size();
  for (std::size_t i = 0; i < base; ++i) {
    Mode forced = out[i];
    forced.loop.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
    out.push_back(forced);
    out.back().name = forced.containment == sv::Containment::cgroup
                          ? "cgroup, posix_spawn forced"
                          : "process-group, posix_spawn forced";
    if (forced.containment == sv::Containment::cgroup) {
      Mode no_into = out[i];
      no_into.name = "cgroup, without CLONE_INTO_CGROUP";
      no_into.loop.on_linux.disable_clone_into_cgroup = true;
      out.push_back(no_into);
    }
  }
  return out;
}

std::vector<int> lines_as_ints(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos)
      out.push_back(std::stoi(line));
  }
  return out;
}

// The host's own group in the cgroup v1 freezer hierarchy ("" and why not, when there is none):
// a process frozen there stays alive, in uninterruptible sleep, even after SIGKILL.
std::string v1_freezer_dir(std::string& why_not) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  std::string mount;
  while (mount.empty() && std::getline(mountinfo, line)) {
    const auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype, source, options;
    tail >> fstype >> source >> options;
    if (fstype != "cgroup" || ("," + options + ",").find(",freezer,") == std::string::npos)
      continue;
    std::istringstream head(line);
    std::string field;
    for (int i = 0; i < 5; ++i) head >> field;
    mount = field;
  }
  if (mount.empty()) {
    why_not = "no cgroup v1 freezer hierarchy is mounted";
    return {};
  }
  std::ifstream self("/proc/self/cgroup");
  while (std::getline(self, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    if (controllers.find(",freezer,") == std::string::npos) continue;
    const std::string path = line.substr(second + 1);
    return path == "/" ? mount : mount + path;
  }
  why_not = "this process has no cgroup v1 freezer group";
  return {};
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

// A fresh freezer group for one test; thawed and removed whatever happens to the test.
class FreezerGroup {
 public:
  explicit FreezerGroup(std::string dir) : dir_(std::move(dir)) {
    made_ = ::mkdir(dir_.c_str(), 0755) == 0;
    if (!made_) error_ = std::strerror(errno);
  }
  ~FreezerGroup() {
    if (!made_) return;
    write_text(dir_ + "/freezer.state", "THAWED");
    st::wait_until([&] { return ::rmdir(dir_.c_str()) == 0; }, 5000ms);
  }
  FreezerGroup(const FreezerGroup&) = delete;
  FreezerGroup& operator=(const FreezerGroup&) = delete;

  [[nodiscard]] bool made() const { return made_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  bool add(int pid) { return write_text(dir_ + "/cgroup.procs", std::to_string(pid)); }
  bool freeze() {
    return write_text(dir_ + "/freezer.state", "FROZEN") &&
           st::wait_until([&] { return state() == "FROZEN"; }, 5000ms);
  }
  bool thaw() { return write_text(dir_ + "/freezer.state", "THAWED"); }
  std::string state() const {
    std::ifstream in(dir_ + "/freezer.state");
    std::string text;
    std::getline(in, text);
    return text;
  }

 private:
  std::string dir_;
  bool made_ = false;
  std::string error_;
};

}  // namespace

TEST_CASE("exit code, output and rusage of a real child", "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("exit");
  {
    sv::Loop loop;
    std::vector<std::string> lines;
    std::mutex m;
    auto spec = spec_for(tag, {"stderr-lines", "5"});
    spec.err = sv::StdioSpec::pipe([&](std::string_view l) {
      std::lock_guard lock(m);
      lines.emplace_back(l);
    });
    auto p = sv::Process::start(loop, spec);
    CHECK(p.pid() > 0);
    const auto status = p.wait();
    CHECK(status.reason == sv::ExitReason::exit_code);
    CHECK(status.exit_code == 1);
    CHECK(status.signal == 0);
    CHECK_FALSE(status.stop_requested);
    CHECK(status.usage.max_rss_kib > 0);
    REQUIRE(status.stderr_tail.size() == 5);
    CHECK(status.stderr_tail.back() == "err line 5");
    {
      std::lock_guard lock(m);
      CHECK(lines.size() == 5);
    }
    CHECK(p.output_stats(sv::StdStream::err).lines == 5);
    CHECK_FALSE(p.running());

    // Only the last exit_tail_lines are kept, oldest first.
    spec.output.exit_tail_lines = 3;
    const auto short_tail = sv::Process::start(loop, spec).wait().stderr_tail;
    CHECK(short_tail == std::vector<std::string>{"err line 3", "err line 4", "err line 5"});
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("Containment::job_object is Windows': refused on Linux, typed and named",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("job-object");
  {
    sv::Loop loop;
    sv::ProcessOptions o;
    o.containment = sv::Containment::job_object;
    std::error_code ec;
    auto p = sv::Process::start(loop, spec_for(tag, {"exit", "0"}), o, ec);
    CHECK(ec == sv::errc::unsupported);
    CHECK_FALSE(p.valid());
    try {
      (void)sv::Process::start(loop, spec_for(tag, {"exit", "0"}), o);
      FAIL("started with Containment::job_object");
    } catch (const sv::Error& e) {
      CHECK(std::string(e.what()).find("Containment::job_object") != std::string::npos);
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("exit 0 is success, a crash is a signal, abort dumps or signals",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("crash");
  {
    sv::Loop loop;
    auto ok = sv::Process::start(loop, spec_for(tag, {"exit", "0"})).wait();
    CHECK(ok.reason == sv::ExitReason::success);
    CHECK(ok.exit_code == 0);
    auto crash = sv::Process::start(loop, spec_for(tag, {"crash"})).wait();
    CHECK(crash.signal == SIGSEGV);
    CHECK(crash.exit_code == -1);
    CHECK((crash.reason == sv::ExitReason::signal || crash.reason == sv::ExitReason::core_dump));
    CHECK((crash.reason == sv::ExitReason::core_dump) == crash.core_dumped);
    auto ab = sv::Process::start(loop, spec_for(tag, {"abort"})).wait();
    CHECK(ab.signal == SIGABRT);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("stop runs the ladder: SIGTERM honoured, ignored SIGTERM escalates to a kill",
          "[integration][process][stop]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("stop");
  {
    sv::Loop loop;
    // A worker that exits cleanly on SIGTERM.
    auto trap = sv::Process::start(loop, spec_for(tag, {"trap-sigterm", "7"}));
    REQUIRE(st::wait_until(
        [&] { return trap.output(sv::StdStream::out).find("mode=") != std::string::npos; },
        5000ms));
    auto s1 = trap.stop();
    CHECK(s1.stop_requested);
    CHECK(s1.reason == sv::ExitReason::exit_code);
    CHECK(s1.exit_code == 7);

    // A plain worker dies of SIGTERM: that is the stop we asked for, so success.
    auto sleeper = sv::Process::start(loop, spec_for(tag, {"sleep", "forever"}));
    auto s2 = sleeper.stop();
    CHECK(s2.signal == SIGTERM);
    CHECK(s2.reason == sv::ExitReason::success);

    // One that ignores SIGTERM is killed after the step's wait: timeout.
    auto spec = spec_for(tag, {"ignore-sigterm", "forever"});
    spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 300ms, true}};
    auto stubborn = sv::Process::start(loop, spec);
    REQUIRE(st::wait_until(
        [&] { return stubborn.output(sv::StdStream::out).find("ready") != std::string::npos; },
        5000ms));
    const auto t0 = std::chrono::steady_clock::now();
    auto s3 = stubborn.stop();
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(s3.signal == SIGKILL);
    CHECK(s3.reason == sv::ExitReason::timeout);
    CHECK(took >= 300ms);
    CHECK(took < 10s);  // bounded by the plan (generous: a loaded 2-core machine)

    // kill() skips the ladder.
    auto k = sv::Process::start(loop, spec_for(tag, {"ignore-sigterm", "forever"}));
    auto s4 = k.kill();
    CHECK(s4.signal == SIGKILL);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a main process that outlives SIGKILL ends the stop within kill_wait and is reaped later",
          "[integration][process][stop]") {
  std::string why_not;
  const std::string freezer = v1_freezer_dir(why_not);
  if (freezer.empty())
    SUPERVISOR_SKIP("cgroup v1 freezer (to hold a process unkillable): " + why_not);
  for (const auto& mode : modes()) {
    SECTION(mode.name) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("frozen");
      {
        FreezerGroup frozen(freezer + "/" + tag);
        if (!frozen.made())
          SUPERVISOR_SKIP("cannot create a cgroup v1 freezer group: " + frozen.error());
        sv::Loop loop(mode.loop);
        sv::ProcessOptions opts;
        opts.containment = mode.containment;
        auto spec = spec_for(tag, {"sleep", "60000"});
        spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, true}};
        spec.stop.kill_wait = 300ms;
        auto p = sv::Process::start(loop, spec, opts);
        REQUIRE(st::wait_until([&] { return !st::processes_with_tag(tag).empty(); }, 5000ms));
        REQUIRE(frozen.add(p.pid()));
        REQUIRE(frozen.freeze());

        const auto t0 = std::chrono::steady_clock::now();
        const auto status = p.stop();
        const auto took = std::chrono::steady_clock::now() - t0;
        INFO(status.describe());
        CHECK(status.unreaped);
        CHECK(status.reason == sv::ExitReason::unknown);
        CHECK(status.exit_code == -1);
        CHECK(status.signal == 0);
        CHECK(status.stop_requested);
        // Bounded by the plan (0.1 s + 0.3 s); the margin is for a loaded machine, not a timing.
        CHECK(took < 10s);
        // Still there, in uninterruptible sleep: the stop did not pretend otherwise.
        CHECK(st::processes_with_tag(tag).size() == 1);

        // Once it can die, it does (SIGKILL is pending), and the loop reaps it: no zombie.
        REQUIRE(frozen.thaw());
        CHECK(st::wait_until(
            [&] { return st::processes_with_tag(tag).empty() && st::zombie_children().empty(); },
            5000ms));
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("stop kills the whole tree, including setsid escapes", "[integration][process][tree]") {
  for (const auto& mode : spawn_modes()) {
    SECTION(mode.name) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("tree");
      {
        sv::Loop loop(mode.loop);
        sv::ProcessOptions opts;
        opts.containment = mode.containment;
        auto p1 = sv::Process::start(loop, spec_for(tag, {"fork-grandchild", "forever"}), opts);
        auto p2 = sv::Process::start(loop, spec_for(tag, {"setsid-escape", "forever"}), opts);
        auto p3 = sv::Process::start(loop, spec_for(tag, {"fork-bomb-ish", "20"}), opts);
        CHECK(p1.info().containment == mode.containment);
        REQUIRE(st::wait_until([&] { return st::processes_with_tag(tag).size() >= 2 + 2 + 21; },
                               5000ms));
        auto s1 = p1.stop();
        auto s2 = p2.stop();
        auto s3 = p3.stop();
        INFO(s1.describe() << " / " << s2.describe() << " / " << s3.describe());
        CHECK(s1.stop_requested);
        CHECK(s2.escaped_descendants == 0);
        CHECK(st::processes_with_tag(tag).empty());
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("when the main process dies, its leftover tree is killed and counted",
          "[integration][process][tree]") {
  for (const auto& mode : spawn_modes()) {
    SECTION(mode.name) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("orphans");
      {
        sv::Loop loop(mode.loop);
        sv::ProcessOptions opts;
        opts.containment = mode.containment;
        auto p = sv::Process::start(loop, spec_for(tag, {"fork-grandchild", "forever"}), opts);
        REQUIRE(st::wait_until([&] { return st::processes_with_tag(tag).size() >= 2; }, 5000ms));
        ::kill(p.pid(), SIGKILL);  // safe: not reaped until the loop says so
        const auto status = p.wait();
        CHECK(status.signal == SIGKILL);
        CHECK(status.reason == sv::ExitReason::signal);
        CHECK(status.killed_descendants == 1);
        CHECK(st::processes_with_tag(tag).empty());
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("spawn errors are typed, synchronous and leave nothing behind",
          "[integration][process][errors]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("errors");
  char dir_template[] = "/tmp/sv-spawn-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  {
    std::ofstream(dir + "/not-exec") << "#!/bin/sh\necho hi\n";
    std::ofstream(dir + "/bad-elf") << "\x7f"
                                    << "ELF garbage that is not a program";
    ::chmod((dir + "/bad-elf").c_str(), 0755);
  }
  // Both paths: each finds what went wrong only once the child's chdir or execve failed.
  for (const auto path : {sv::SpawnPath::clone3, sv::SpawnPath::posix_spawn}) {
    INFO("spawn path " << sv::to_string(path));
    sv::LoopOptions lo;
    lo.on_linux.spawn_path = path;
    sv::Loop loop(lo);
    auto expect = [&](std::vector<std::string> argv, int err, const std::string& needle,
                      std::string cwd = {}) {
      sv::ProcessSpec spec;
      spec.argv = std::move(argv);
      spec.cwd = std::move(cwd);
      std::error_code ec;
      auto p = sv::Process::start(loop, spec, {}, ec);
      INFO("argv[0] " << spec.argv[0] << ": " << ec.message());
      CHECK_FALSE(p.valid());
      CHECK(ec == std::error_code(err, std::system_category()));
      try {
        (void)sv::Process::start(loop, spec);
        FAIL("no exception");
      } catch (const std::system_error& e) {
        INFO(e.what());
        CHECK(e.code() == std::error_code(err, std::system_category()));
        CHECK(std::string(e.what()).find(needle) != std::string::npos);
        CHECK(std::string(e.what()).find("cwd") != std::string::npos);
      }
    };
    expect({dir + "/missing"}, ENOENT, "missing\": No such file");
    expect({"sv-no-such-program-anywhere"}, ENOENT, "not found in PATH");
    expect({dir + "/not-exec"}, EACCES, "Permission denied");
    expect({dir}, EISDIR, "is a directory");
    expect({dir + "/bad-elf"}, ENOEXEC, "not a valid executable");
    expect({SUPERVISOR_TEST_CHILD, "exit", "0"}, ENOENT, "/nonexistent-dir", "/nonexistent-dir");
    expect({SUPERVISOR_TEST_CHILD, "exit", "0"}, ENOTDIR, "not-exec\": Not a directory",
           dir + "/not-exec");
    expect({"./not-exec"}, EACCES, "Permission denied", dir);  // relative to the cwd
    expect({"./missing"}, ENOENT, "No such file", dir);
    expect({SUPERVISOR_TEST_CHILD, std::string(200 * 1024, 'x')}, E2BIG, "too large");

    sv::ProcessSpec user;
    user.argv = child(tag, {"exit", "0"});
    user.identity.user = "sv-no-such-user";
    std::error_code ec;
    (void)sv::Process::start(loop, user, {}, ec);
    CHECK(ec == sv::errc::invalid_spec);
    CHECK_THROWS_WITH(sv::Process::start(loop, user),
                      Catch::Matchers::Contains("unknown user \"sv-no-such-user\""));
    CHECK(st::zombie_children().empty());
  }
  ::unlink((dir + "/not-exec").c_str());
  ::unlink((dir + "/bad-elf").c_str());
  ::rmdir(dir.c_str());
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("an invalid spec names the field and the value", "[integration][process][errors]") {
  sv::Loop loop;
  auto msg = [&](sv::ProcessSpec s) { return sv::validation_error(s); };
  sv::ProcessSpec base;
  base.argv = {"/bin/true"};
  CHECK(msg(base).empty());
  auto s = base;
  s.argv.clear();
  CHECK(msg(s).find("ProcessSpec.argv: empty") != std::string::npos);
  s = base;
  s.cwd = "relative/dir";
  CHECK(msg(s).find("ProcessSpec.cwd: \"relative/dir\" is not an absolute path") !=
        std::string::npos);
  s = base;
  s.env.set["BAD=NAME"] = "x";
  CHECK(msg(s).find("ProcessSpec.env.set: \"BAD=NAME\"") != std::string::npos);
  s = base;
  s.pass_fds = {{0, 2}};
  CHECK(msg(s).find("ProcessSpec.pass_fds[0].child_fd: 2") != std::string::npos);
  s = base;
  s.limits = {{sv::ResourceLimit::Kind::open_files, 100, 10}};
  CHECK(msg(s).find("ProcessSpec.limits[0]: soft limit 100 is above hard limit 10") !=
        std::string::npos);
  s = base;
  s.in = sv::StdioSpec::pipe();
  CHECK(msg(s).empty());  // stdin as a pipe the host writes
  s.in = sv::StdioSpec::pipe([](std::string_view) {});
  CHECK(msg(s).find("ProcessSpec.in.on_line: set, but a stdin pipe is written by the host") !=
        std::string::npos);
  s = base;
  s.channel.enabled = true;
  CHECK(msg(s).empty());
  s.channel.child_fd = 2;
  CHECK(msg(s).find("ProcessSpec.channel.child_fd: 2 (0, 1 and 2") != std::string::npos);
  s.channel.child_fd = 5;
  s.pass_fds = {{0, 5}};
  CHECK(msg(s).find("ProcessSpec.channel.child_fd: 5 is also a target of pass_fds") !=
        std::string::npos);
  s.channel.enabled = false;  // a channel that is off is not checked
  CHECK(msg(s).empty());
  s = base;
  s.argv = {"/bin/true", std::string("a\0b", 3)};
  CHECK(msg(s).find("ProcessSpec.argv[1]") != std::string::npos);
  std::error_code ec;
  s = base;
  s.stop.kill_wait = 0s;
  (void)sv::Process::start(loop, s, {}, ec);
  CHECK(ec == sv::errc::invalid_spec);
  CHECK(ec == std::errc::invalid_argument);
}

TEST_CASE("the child holds exactly 0, 1, 2 and the fds it was given, even under concurrent opens",
          "[integration][process][fds]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("fds");
  {
    sv::Loop loop;
    // Host threads keep opening fds WITHOUT O_CLOEXEC while we spawn: none may reach a child.
    std::atomic<bool> done{false};
    std::vector<std::thread> openers;
    for (int i = 0; i < 2; ++i) {
      openers.emplace_back([&] {
        while (!done.load()) {
          const int fd = ::open("/dev/null", O_RDONLY);  // deliberately inheritable
          if (fd >= 0) ::close(fd);
        }
      });
    }
    const int passed = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(passed >= 0);
    for (int round = 0; round < 20; ++round) {
      auto spec = spec_for(tag, {"list-fds"});
      const bool give = round % 2 == 0;
      if (give) spec.pass_fds = {{passed, 7}};
      auto p = sv::Process::start(loop, spec);
      const auto status = p.wait();
      REQUIRE(status.ok());
      const auto fds = lines_as_ints(p.output(sv::StdStream::out));
      const std::vector<int> expected =
          give ? std::vector<int>{0, 1, 2, 7} : std::vector<int>{0, 1, 2};
      INFO("round " << round << " output: " << p.output(sv::StdStream::out));
      CHECK(fds == expected);
    }
    done = true;
    for (auto& t : openers) t.join();
    ::close(passed);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("the environment is inherited, set and unset, or explicit",
          "[integration][process][env]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("env");
  ::setenv("SV_TEST_INHERITED", "yes", 1);
  ::setenv("SV_TEST_REMOVED", "no", 1);
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"print-env", "SV_TEST_INHERITED", "SV_TEST_REMOVED", "SV_TEST_SET"});
    spec.env.set["SV_TEST_SET"] = "a b=c";
    spec.env.unset = {"SV_TEST_REMOVED"};
    auto p = sv::Process::start(loop, spec);
    REQUIRE(p.wait().ok());
    const auto out = p.output(sv::StdStream::out);
    CHECK(out.find("SV_TEST_INHERITED=yes") != std::string::npos);
    CHECK(out.find("SV_TEST_REMOVED=") == std::string::npos);
    CHECK(out.find("SV_TEST_SET=a b=c") != std::string::npos);

    auto explicit_spec = spec_for(tag, {"print-env"});
    explicit_spec.env.inherit = false;
    explicit_spec.env.set = {{"ONLY", "this"}};
    auto q = sv::Process::start(loop, explicit_spec);
    REQUIRE(q.wait().ok());
    const auto lines = q.output(sv::StdStream::out);
    CHECK(lines.find("ONLY=this") != std::string::npos);
    CHECK(lines.find("SV_TEST_INHERITED") == std::string::npos);
  }
  ::unsetenv("SV_TEST_INHERITED");
  ::unsetenv("SV_TEST_REMOVED");
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("the host's service-manager variables stay out of a worker's environment unless kept",
          "[integration][process][env]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("env-service");
  {
    st::EnvGuard host;
    st::set_host_service_variables(host);
    host.set("SV_TEST_ORDINARY", "kept");
    const std::vector<std::string> names{"NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC",
                                         "LISTEN_FDS",    "LISTEN_PID",   "LISTEN_FDNAMES"};
    std::vector<std::string> args{"print-env", "SV_TEST_ORDINARY"};
    args.insert(args.end(), names.begin(), names.end());
    sv::Loop loop;
    auto p = sv::Process::start(loop, spec_for(tag, args));
    REQUIRE(p.wait().ok());
    const auto out = p.output(sv::StdStream::out);
    INFO(out);
    CHECK(out.find("SV_TEST_ORDINARY=kept") != std::string::npos);
    for (const auto& n : names) CHECK(out.find("unset " + n + "\n") != std::string::npos);

    auto keep = spec_for(tag, args);
    keep.env.keep_service_variables = true;
    auto q = sv::Process::start(loop, keep);
    REQUIRE(q.wait().ok());
    const auto kept = q.output(sv::StdStream::out);
    INFO(kept);
    CHECK(kept.find("NOTIFY_SOCKET=/run/systemd/notify") != std::string::npos);
    CHECK(kept.find("WATCHDOG_PID=1\n") != std::string::npos);
    CHECK(kept.find("LISTEN_FDNAMES=a:b") != std::string::npos);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a worker given WATCHDOG_USEC gets its own pid as WATCHDOG_PID",
          "[integration][process][env]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("env-wdpid");
  {
    st::EnvGuard host;
    host.set("WATCHDOG_PID", "1");  // the host's, which must not reach the worker
    // posix_spawn forced with cgroups on takes clone(2) (a child with a group to join); with
    // cgroups off it is posix_spawn itself.
    for (const auto& [path, no_cgroups] :
         {std::pair{sv::SpawnPath::clone3, false}, std::pair{sv::SpawnPath::posix_spawn, false},
          std::pair{sv::SpawnPath::posix_spawn, true}}) {
      sv::LoopOptions lo;
      lo.on_linux.spawn_path = path;
      lo.on_linux.disable_cgroups = no_cgroups;
      sv::Loop loop(lo);
      auto spec = spec_for(tag, {"print-env", "WATCHDOG_PID", "WATCHDOG_USEC"});
      spec.env.set["WATCHDOG_USEC"] = "2000000";
      auto p = sv::Process::start(loop, spec);
      const int pid = p.pid();
      const auto used = p.info().path;
      REQUIRE(p.wait().ok());
      const auto out = p.output(sv::StdStream::out);
      INFO(out);
      CHECK(out.find("WATCHDOG_USEC=2000000\n") != std::string::npos);
      if (used != sv::SpawnPath::posix_spawn) {  // clone3 or clone(2): our code runs first
        CHECK(out.find("WATCHDOG_PID=" + std::to_string(pid) + "\n") != std::string::npos);
      } else {
        // posix_spawn runs no code of ours in the child: left out, which reads as "ours" too.
        CHECK(out.find("unset WATCHDOG_PID\n") != std::string::npos);
      }
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("allow-list mode passes only the listed variables of the host",
          "[integration][process][env]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("env-pass");
  {
    st::EnvGuard host;
    host.set("SV_TEST_PASSED", "yes");
    host.set("SV_TEST_NOT_PASSED", "no");
    sv::Loop loop;
    auto spec =
        spec_for(tag, {"print-env", "SV_TEST_PASSED", "SV_TEST_NOT_PASSED", "HOME", "SV_SET"});
    spec.env.pass = {"SV_TEST_PASSED"};
    spec.env.set["SV_SET"] = "set";
    auto p = sv::Process::start(loop, spec);
    REQUIRE(p.wait().ok());
    const auto out = p.output(sv::StdStream::out);
    INFO(out);
    CHECK(out.find("SV_TEST_PASSED=yes\n") != std::string::npos);
    CHECK(out.find("unset SV_TEST_NOT_PASSED\n") != std::string::npos);
    CHECK(out.find("unset HOME\n") != std::string::npos);
    CHECK(out.find("SV_SET=set\n") != std::string::npos);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("identity.user sets HOME, USER, LOGNAME and SHELL as systemd's User= does",
          "[integration][process][env]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("env-user");
  {
    if (::geteuid() != 0) {
      SUPERVISOR_SKIP("changing identity needs root; running as uid " +
                      std::to_string(::geteuid()));
    }
    st::EnvGuard host;
    host.set("HOME", "/root");
    host.set("USER", "root");
    host.set("LOGNAME", "root");
    host.set("SHELL", "/bin/bash");
    sv::Loop loop;
    sv::ProcessSpec spec;
    spec.argv = {"env", "SV_TAG=" + tag};
    spec.identity.user = "nobody";
    auto p = sv::Process::start(loop, spec);
    REQUIRE(p.wait().ok());
    const auto out = "\n" + p.output(sv::StdStream::out);
    INFO(out);
    CHECK(out.find("\nHOME=/nonexistent\n") != std::string::npos);
    CHECK(out.find("\nUSER=nobody\n") != std::string::npos);
    CHECK(out.find("\nLOGNAME=nobody\n") != std::string::npos);
    CHECK(out.find("\nSHELL=/usr/sbin/nologin\n") != std::string::npos);

    spec.env.set["HOME"] = "/srv/w";  // the spec's own settings still win
    auto q = sv::Process::start(loop, spec);
    REQUIRE(q.wait().ok());
    CHECK(("\n" + q.output(sv::StdStream::out)).find("\nHOME=/srv/w\n") != std::string::npos);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("cwd, umask, new session and reset signal state reach the child",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("attrs");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"list-fds"});
    spec.cwd = "/tmp";
    spec.identity.umask = 027;
    auto p = sv::Process::start(loop, spec);
    REQUIRE(p.wait().ok());
    const auto out = p.output(sv::StdStream::out);
    INFO(out);
    CHECK(out.find("cwd=/tmp") != std::string::npos);
    CHECK(out.find("umask=0027") != std::string::npos);
    const std::string me = "pid=" + std::to_string(p.pid());
    CHECK(out.find("pgid=" + std::to_string(p.pid()) + " sid=" + std::to_string(p.pid())) !=
          std::string::npos);
    CHECK(out.find("sigmask=0000000000000000") != std::string::npos);
    CHECK(out.find("sigign=0000000000000000") != std::string::npos);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a flooding worker never blocks and never grows the host past the bound",
          "[integration][process][output]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("flood");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"flood", "20000000"});
    spec.output.ring_bytes = 32 * 1024;
    auto p = sv::Process::start(loop, spec);
    const auto status = p.wait();
    CHECK(status.ok());
    const auto stats = p.output_stats(sv::StdStream::out);
    const auto ring = p.output(sv::StdStream::out);
    CHECK(stats.bytes_read >= 20000000);
    CHECK(ring.size() <= 32 * 1024);
    CHECK(stats.bytes_dropped == stats.bytes_read - ring.size());  // every dropped byte counted
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("backpressure mode blocks the writer until the host takes output",
          "[integration][process][output]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("backpressure");
  {
    sv::Loop loop;
    auto spec = spec_for(tag, {"flood", "2000000"});
    spec.output.ring_bytes = 64 * 1024;
    spec.output.backpressure = true;
    auto p = sv::Process::start(loop, spec);
    // Without taking output it cannot finish: 2 MB does not fit the ring plus the pipe.
    CHECK_FALSE(p.wait_for(500ms).has_value());
    std::uint64_t taken = 0;
    while (!p.wait_for(1ms)) taken += p.take_output(sv::StdStream::out).size();
    taken += p.take_output(sv::StdStream::out).size();
    CHECK(p.exit_status()->ok());
    CHECK(taken == 2000000);
    CHECK(p.output_stats(sv::StdStream::out).bytes_dropped == 0);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("signals reach the process by pidfd, an exited one is never signalled",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("signal");
  {
    sv::Loop loop;
    auto p = sv::Process::start(loop, spec_for(tag, {"trap-sigterm", "9"}));
    REQUIRE(st::wait_until(
        [&] { return p.output(sv::StdStream::out).find("mode=") != std::string::npos; }, 5000ms));
    p.signal(sv::Signal::terminate);
    CHECK(p.wait().exit_code == 9);
    std::error_code ec;
    p.signal(sv::Signal::kill, ec);
    CHECK(ec == sv::errc::not_running);
    CHECK_THROWS_AS(p.signal(sv::Signal::kill), std::system_error);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("spawning from a short-lived host thread is safe (PDEATHSIG follows the loop thread)",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("thread");
  {
    sv::Loop loop;
    sv::Process p;
    std::thread([&] { p = sv::Process::start(loop, spec_for(tag, {"sleep", "forever"})); }).join();
    std::this_thread::sleep_for(300ms);
    CHECK(p.running());  // the spawning host thread is gone; the child must not have been killed
    CHECK(p.stop().signal == SIGTERM);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a host that steals the reap gets an `unknown` exit and a counter, never a hang",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("reap");
  {
    sv::Loop loop;
    SECTION("SIGCHLD ignored: the kernel reaps for the host") {
      struct sigaction old {};
      struct sigaction ign {};
      ign.sa_handler = SIG_IGN;
      ::sigaction(SIGCHLD, &ign, &old);
      auto p = sv::Process::start(loop, spec_for(tag, {"exit", "4"}));
      const auto status = p.wait();
      ::sigaction(SIGCHLD, &old, nullptr);
      CHECK(status.reason == sv::ExitReason::unknown);
      CHECK(loop.stolen_reaps() == 1);
    }
    SECTION("the host calls waitpid(-1)") {
      // The host and the loop race for each exit; whoever wins, the outcome must be consistent
      // and nothing may hang.
      std::uint64_t stolen = 0;
      for (int i = 0; i < 20; ++i) {
        auto p = sv::Process::start(loop, spec_for(tag, {"exit", "0"}));
        const int got = ::waitpid(-1, nullptr, 0);  // ECHILD when the loop reaped first
        if (got == p.pid()) ++stolen;
        const auto status = p.wait();
        CHECK((got == p.pid()) == (status.reason == sv::ExitReason::unknown));
        if (got != p.pid()) CHECK(status.reason == sv::ExitReason::success);
      }
      CHECK(loop.stolen_reaps() == stolen);
    }
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("the posix_spawn path works and reports itself", "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("posix");
  {
    sv::LoopOptions lo;
    lo.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
    lo.on_linux.disable_cgroups = true;  // a child with a group to join is started by clone(2)
    sv::Loop loop(lo);
    auto p = sv::Process::start(loop, spec_for(tag, {"list-fds"}));
    CHECK(p.info().path == sv::SpawnPath::posix_spawn);
    REQUIRE(p.wait().ok());
    CHECK(lines_as_ints(p.output(sv::StdStream::out)) == std::vector<int>{0, 1, 2});
    std::error_code ec;
    auto spec = spec_for(tag, {"exit", "0"});
    spec.identity.umask = 077;
    (void)sv::Process::start(loop, spec, {}, ec);
    CHECK(ec == sv::errc::unsupported);
  }
  REQUIRE_CLEAN(audit, tag);
}

namespace {

// The loops of each spawn path that can start a child in a cgroup, and the path it reports.
struct PathCase {
  const char* name;
  sv::LoopOptions loop;
  sv::SpawnPath expected;
};

std::vector<PathCase> cgroup_path_cases() {
  std::vector<PathCase> out;
  out.push_back({"clone3", sv::LoopOptions{}, sv::SpawnPath::clone3});
  sv::LoopOptions no_into;
  no_into.on_linux.disable_clone_into_cgroup = true;
  out.push_back({"clone3 without CLONE_INTO_CGROUP", no_into, sv::SpawnPath::clone3});
  sv::LoopOptions posix;
  posix.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
  out.push_back({"posix_spawn forced", posix, sv::SpawnPath::clone});
  return out;
}

// What the "self" mode of the child printed: its cgroup v2 path ("0::" line) and pdeathsig.
struct SelfReport {
  std::string cgroup_v2;
  int pdeathsig = -1;
};

SelfReport self_report(const std::string& out) {
  SelfReport r;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cgroup 0::", 0) == 0) r.cgroup_v2 = line.substr(10);
    if (line.rfind("pdeathsig ", 0) == 0) r.pdeathsig = std::stoi(line.substr(10));
  }
  return r;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

TEST_CASE("on every spawn path the program's first instruction runs inside its cgroup",
          "[integration][process][tree]") {
  for (const auto& c : cgroup_path_cases()) {
    SECTION(c.name) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("first-insn");
      {
        sv::Loop loop(c.loop);
        if (!loop.info().cgroup_usable)
          SUPERVISOR_SKIP("cgroup v2 containment unavailable: " + loop.info().cgroup_why_not);
        utsname u{};
        REQUIRE(::uname(&u) == 0);
        int major = 0;
        int minor = 0;
        std::sscanf(u.release, "%d.%d", &major, &minor);
        if (loop.info().clone3_available && (major > 5 || (major == 5 && minor >= 7))) {
          INFO("kernel " << u.release);
          CHECK(loop.info().clone_into_cgroup_available);  // the probe finds the flag
        }
        sv::ProcessOptions opts;
        opts.containment = sv::Containment::cgroup;
        auto p = sv::Process::start(loop, spec_for(tag, {"self"}), opts);
        CHECK(p.info().path == c.expected);
        REQUIRE(p.wait().ok());
        const auto out = p.output(sv::StdStream::out);
        INFO(out << "info().cgroup " << p.info().cgroup);
        const auto self = self_report(out);
        // The group it read before anything else is its own fresh one, not the host's.
        REQUIRE(!self.cgroup_v2.empty());
        CHECK(self.cgroup_v2 != "/");
        CHECK(ends_with(p.info().cgroup, self.cgroup_v2));
        CHECK(self.pdeathsig == SIGKILL);
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

// The default path makes the next incarnation's group ahead of its start and answers "is the
// tree gone?" with the group's rmdir: each start still runs from its first instruction in a fresh
// group of its own, the group goes with its tree, and a plain worker holds one descriptor.
TEST_CASE("each start runs in a fresh group made ahead of it, gone with its tree",
          "[integration][process][tree]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("spare-group");
  std::string base;
  {
    sv::Loop loop;
    if (!loop.info().cgroup_usable)
      SUPERVISOR_SKIP("cgroup v2 containment unavailable: " + loop.info().cgroup_why_not);
    base = loop.info().cgroup_base;
    const auto groups_in_base = [&] {
      int n = 0;
      for (const auto& e : std::filesystem::directory_iterator(base)) n += e.is_directory() ? 1 : 0;
      return n;
    };
    std::set<std::string> seen;
    for (int k = 0; k < 4; ++k) {
      auto p = sv::Process::start(loop, spec_for(tag, {"self"}));
      const std::string group = p.info().cgroup;
      REQUIRE(!group.empty());
      CHECK(seen.insert(group).second);  // never a group used before
      REQUIRE(p.wait().ok());
      const auto self = self_report(p.output(sv::StdStream::out));
      INFO("start " << k << ": " << group << " / first instruction in " << self.cgroup_v2);
      CHECK(!self.cgroup_v2.empty());
      CHECK(ends_with(group, self.cgroup_v2));
      CHECK(::access(group.c_str(), F_OK) != 0);  // removed at the exit, before wait() returned
      // At most the spare for the next start is left in the base.
      CHECK(st::wait_until([&] { return groups_in_base() <= 1; }, 2000ms));
    }
    // A tree that outlives its leader keeps its group until the tree is gone (no early rmdir).
    auto q = sv::Process::start(loop, spec_for(tag, {"fork-grandchild", "forever"}));
    REQUIRE(st::wait_until([&] { return st::processes_with_tag(tag).size() >= 2; }, 5000ms));
    const std::string q_group = q.info().cgroup;
    ::kill(q.pid(), SIGKILL);  // safe: not reaped until the loop says so
    const auto status = q.wait();
    CHECK(status.killed_descendants == 1);
    CHECK(st::processes_with_tag(tag).empty());
    CHECK(::access(q_group.c_str(), F_OK) != 0);
  }
  // The spare went with the loop's base.
  CHECK(st::wait_until([&] { return ::access(base.c_str(), F_OK) != 0; }, 3000ms));
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a worker in a fresh group holds one host descriptor while it runs",
          "[integration][process][tree]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("one-fd");
  {
    sv::Loop loop;
    if (!loop.info().cgroup_usable)
      SUPERVISOR_SKIP("cgroup v2 containment unavailable: " + loop.info().cgroup_why_not);
    if (!loop.info().pidfd_available)
      SUPERVISOR_SKIP("no pidfds here: " + loop.info().pidfd_why_not);
    // One start first, so that the loop's own descriptors (the spare group's) are counted in.
    auto first = sv::Process::start(loop, spec_for(tag, {"exit", "0"}));
    REQUIRE(first.wait().ok());
    const int before = st::snapshot_self().fd_count;
    constexpr int workers = 24;
    sv::PoolOptions o;
    o.spec = spec_for(tag, {"sleep", "forever"});
    o.spec.in = o.spec.out = o.spec.err = sv::StdioSpec::null();
    o.size = workers;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(workers, 20s));
    const int during = st::snapshot_self().fd_count;
    INFO(before << " descriptors before, " << during << " with " << workers << " workers");
    CHECK(during - before <= workers + 2);  // a pidfd each (3 each before: + directory, events)
    pool.stop();
    // The last pidfd closes on the loop thread just after its exit was reported.
    CHECK(st::wait_until([&] { return st::snapshot_self().fd_count <= before; }, 2000ms));
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a worker under another identity keeps its parent-death signal",
          "[integration][process][host-death]") {
  if (::geteuid() != 0)
    SUPERVISOR_SKIP("changing identity needs root; running as uid " + std::to_string(::geteuid()));
  for (const auto& c : cgroup_path_cases()) {
    SECTION(c.name) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("id-deathsig");
      {
        sv::Loop loop(c.loop);
        sv::ProcessOptions opts;  // automatic: a cgroup where there is one
        auto spec = spec_for(tag, {"self"});
        spec.identity.user = "nobody";
        auto p = sv::Process::start(loop, spec, opts);
        REQUIRE(p.wait().ok());
        const auto out = p.output(sv::StdStream::out);
        INFO(out);
        CHECK(self_report(out).pdeathsig == SIGKILL);
        spec.die_with_host = false;
        auto q = sv::Process::start(loop, spec, opts);
        REQUIRE(q.wait().ok());
        CHECK(self_report(q.output(sv::StdStream::out)).pdeathsig == 0);
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("starting a worker under another identity leaves the host dumpable",
          "[integration][process]") {
  if (::geteuid() != 0)
    SUPERVISOR_SKIP("changing identity needs root; running as uid " + std::to_string(::geteuid()));
  if (::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
    SUPERVISOR_SKIP("this test process is not dumpable to begin with");
  for (const auto& c : cgroup_path_cases()) {
    SECTION(c.name) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("dumpable");
      {
        sv::Loop loop(c.loop);
        sv::ProcessSpec id;
        id.argv = {"sh", "-c", "id -u -n", tag};
        id.identity.user = "nobody";
        auto p = sv::Process::start(loop, id);
        REQUIRE(p.wait().ok());
        CHECK(p.output(sv::StdStream::out) == "nobody\n");
        // The kernel marks a memory map non-dumpable when a task using it changes credentials:
        // had the child shared the host's, the host could never dump core or be traced again.
        CHECK(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("without pidfds, exits are polled by PID: codes, signals, the stop ladder, the tree",
          "[integration][process][nopidfd]") {
  for (auto mode : modes()) {
    SECTION(mode.name) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("nopidfd");
      {
        mode.loop.on_linux.disable_pidfd = true;
        sv::Loop loop(mode.loop);
        CHECK_FALSE(loop.info().pidfd_available);
        CHECK(loop.info().pidfd_why_not.find("disable_pidfd") != std::string::npos);
        sv::ProcessOptions opts;
        opts.containment = mode.containment;

        auto e = sv::Process::start(loop, spec_for(tag, {"exit", "3"}), opts);
        CHECK_FALSE(e.info().pidfd);
        const auto exited = e.wait();
        CHECK(exited.reason == sv::ExitReason::exit_code);
        CHECK(exited.exit_code == 3);
        CHECK(exited.usage.max_rss_kib > 0);  // the rusage of waitid(P_PID) too

        CHECK(sv::Process::start(loop, spec_for(tag, {"crash"}), opts).wait().signal == SIGSEGV);

        // An exec failure is reaped without a pidfd too (the leak audit checks for a zombie).
        char bad_elf[] = "/tmp/sv-bad-elf-XXXXXX";
        const int fd = ::mkstemp(bad_elf);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd,
                        "\x7f"
                        "ELF garbage",
                        12) == 12);
        ::close(fd);
        REQUIRE(::chmod(bad_elf, 0755) == 0);
        sv::ProcessSpec bad;
        bad.argv = {bad_elf, "--tag", tag};
        std::error_code spawn_ec;
        sv::Process none = sv::Process::start(loop, bad, opts, spawn_ec);
        ::unlink(bad_elf);
        CHECK(spawn_ec == std::errc::executable_format_error);
        CHECK(none.pid() == 0);

        auto s = sv::Process::start(loop, spec_for(tag, {"sleep", "60000"}), opts);
        s.signal(sv::Signal::user1);
        const auto signalled = s.wait();
        CHECK(signalled.signal == SIGUSR1);
        CHECK(signalled.reason == sv::ExitReason::signal);
        std::error_code ec;
        s.signal(sv::Signal::kill, ec);
        CHECK(ec == sv::errc::not_running);  // reaped: never signalled by a PID again

        auto spec = spec_for(tag, {"ignore-sigterm", "forever"});
        spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 200ms, true}};
        auto stubborn = sv::Process::start(loop, spec, opts);
        REQUIRE(st::wait_until(
            [&] { return stubborn.output(sv::StdStream::out).find("ready") != std::string::npos; },
            5000ms));
        const auto killed = stubborn.stop();
        CHECK(killed.reason == sv::ExitReason::timeout);
        CHECK(killed.signal == SIGKILL);

        auto tree = sv::Process::start(loop, spec_for(tag, {"fork-grandchild", "forever"}), opts);
        REQUIRE(st::wait_until([&] { return st::processes_with_tag(tag).size() >= 2; }, 5000ms));
        const auto stopped = tree.stop();
        INFO(stopped.describe());
        CHECK(stopped.stop_requested);
        CHECK(st::processes_with_tag(tag).empty());
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

namespace {

// Starts the test host program (tests/support/host.cpp) by hand, with `extra_env` added to this
// process's environment, and reads its first line into `said`.
pid_t start_test_host(const std::string& tag, const std::string& mode,
                      std::vector<std::string> extra_env, std::string& said) {
  for (char** e = environ; *e != nullptr; ++e) extra_env.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& e : extra_env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int out_pipe[2];
  REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  std::vector<std::string> args{SUPERVISOR_TEST_HOST, SUPERVISOR_TEST_CHILD, tag, mode};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t host = -1;
  const int rc = ::posix_spawn(&host, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  if (rc != 0) ::close(out_pipe[0]);
  REQUIRE(rc == 0);
  char buf[256];
  ssize_t n;
  while (said.find('\n') == std::string::npos && (n = ::read(out_pipe[0], buf, sizeof buf)) > 0)
    said.append(buf, static_cast<std::size_t>(n));
  ::close(out_pipe[0]);
  return host;
}

}  // namespace

TEST_CASE("when the host is SIGKILLed, its workers and their descendants die within 1 s",
          "[integration][process][host-death]") {
  for (const char* mode : {"process-group", "cgroup", "group", "identity"}) {
    SECTION(mode) {
      // identity: workers running as another user (their parent-death signal is set after the
      // identity change, which would clear it).
      if (std::string(mode) == "identity" && ::geteuid() != 0) {
        SUPERVISOR_SKIP("changing identity needs root; running as uid " +
                        std::to_string(::geteuid()));
      }
      st::LeakAudit audit;
      const auto tag = st::unique_tag("hostdeath");
      // The host is started by hand (not through the library under test), then killed by PID.
      std::string said;
      const pid_t host = start_test_host(tag, mode, {}, said);
      if (said.rfind("no-cgroup", 0) == 0) {
        ::kill(host, SIGKILL);
        ::waitpid(host, nullptr, 0);
        SUPERVISOR_SKIP("cgroup v2 containment unavailable: " + said);
      }
      INFO("host said: " << said);
      REQUIRE(said.rfind("ready", 0) == 0);
      REQUIRE(!st::processes_with_tag(tag).empty());
      ::kill(host, SIGKILL);
      int wstatus = 0;
      REQUIRE(::waitpid(host, &wstatus, 0) == host);
      CHECK(st::wait_until([&] { return st::processes_with_tag(tag).empty(); }, 1000ms));
      // The sentinel also removes the dead host's cgroups.
      std::istringstream words(said);
      std::string word, count, base;
      words >> word >> count >> base;
      if (std::string(mode) != "process-group" && std::string(mode) != "identity") {
        // With a ResourceGroup, its members' groups sit one level deeper: removed all the same.
        REQUIRE(!base.empty());
        CHECK(st::wait_until([&] { return ::access(base.c_str(), F_OK) != 0; }, 3000ms));
      }
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("sampling reads the worker's memory, CPU, threads and fds", "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("sample");
  {
    sv::Loop loop;
    auto alloc = sv::Process::start(loop, spec_for(tag, {"alloc", "64"}));
    REQUIRE(st::wait_until(
        [&] { return alloc.output(sv::StdStream::out).find("allocated") != std::string::npos; },
        10000ms));
    const auto a = alloc.sample();
    CHECK(a.alive);
    CHECK(a.rss_bytes >= 64ull * 1024 * 1024);
    CHECK(a.open_fds == 3);
    CHECK(a.threads == 1);
    if (alloc.info().containment == sv::Containment::cgroup) {
      CHECK(a.tree_processes == 1);
      CHECK(a.tree_cpu_seconds.has_value());
    }
    auto threads = sv::Process::start(loop, spec_for(tag, {"threads", "4"}));
    REQUIRE(st::wait_until(
        [&] { return threads.output(sv::StdStream::out).find("threads 4") != std::string::npos; },
        10000ms));
    CHECK(threads.sample().threads >= 5);  // TSan builds add a helper thread of their own
    auto spin = sv::Process::start(loop, spec_for(tag, {"spin", "400"}));
    const auto done = spin.wait();
    // It spun for 400 ms of wall time; on a loaded machine it gets only part of a core, so
    // assert that CPU time was accounted, not how much.
    const auto cpu = done.usage.user_cpu + done.usage.system_cpu;
    CHECK(cpu >= 20ms);
    CHECK(cpu <= done.uptime + 50ms);
    CHECK_FALSE(spin.sample().alive);
  }
  REQUIRE_CLEAN(audit, tag);
}

namespace {

pid_t spawn_raw(const std::vector<std::string>& args) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  // Not the test's own stdout/stderr: a leftover holding them would keep CTest waiting.
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the registry sweeps a leftover inside a ResourceGroup's directory, and the group",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("registry-group");
  std::string self_dir;
  {
    sv::Loop probe;
    if (!probe.info().cgroup_usable)
      SUPERVISOR_SKIP("cgroup v2 containment unavailable: " + probe.info().cgroup_why_not);
    const std::string base = probe.info().cgroup_base;
    self_dir = base.substr(0, base.rfind('/'));
  }
  // A dead host's layout: <its base>/g1 (a ResourceGroup) / w1 (a worker), still populated.
  // The dead host had this process's PID (as in a container, where hosts have small PIDs): a
  // Loop starting meanwhile in another test process removes the empty bases of dead PIDs, and
  // would take these directories before the leftover is in them. Only the registry, which names
  // it, sweeps it. (An instance number this process's loops never reach.)
  const std::string base = self_dir + "/supervisor-" + std::to_string(::getpid()) + "-900001";
  const std::string group = base + "/g1";
  const std::string worker = group + "/w1";
  for (const auto& d : {base, group, worker}) REQUIRE(::mkdir(d.c_str(), 0755) == 0);
  const pid_t leftover = spawn_raw(child(tag, {"sleep", "forever"}));
  struct Cleanup {
    pid_t pid;
    std::vector<std::string> dirs;
    ~Cleanup() {
      if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
      for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
    }
  } cleanup{leftover, {base, group, worker}};
  REQUIRE(leftover > 0);
  std::ofstream(worker + "/cgroup.procs") << leftover << "\n";
  REQUIRE(read_all(worker + "/cgroup.procs").find(std::to_string(leftover)) != std::string::npos);
  const auto start = supervisor::detail::process_start_time(leftover);
  REQUIRE(start);
  char dir_template[] = "/tmp/sv-registry-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string path = std::string(dir_template) + "/workers";
  std::string boot;
  std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), boot);
  std::ofstream(path) << "supervisor-registry 2\nboot " << boot << "\nhost " << ::getpid()
                      << " 12345\n"
                      << "worker " << leftover << " " << *start << " " << leftover << " " << worker
                      << "\n";
  {
    sv::LoopOptions lo;
    lo.registry_path = path;
    sv::Loop loop(lo);
    CHECK(loop.info().swept_processes == 1);
    CHECK(loop.info().swept_groups >= 1);
    int ws = 0;
    REQUIRE(::waitpid(leftover, &ws, 0) == leftover);
    cleanup.pid = -1;
    CHECK((WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL));
    struct stat st {};
    CHECK(::stat(worker.c_str(), &st) != 0);
    CHECK(::stat(group.c_str(), &st) != 0);  // the ResourceGroup's directory went too
    CHECK(::stat(base.c_str(), &st) != 0);
  }
  ::rmdir(dir_template);
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("identity and resource limits are applied in the child before exec",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("identity");
  {
    sv::Loop loop;
    // rlimits: the shell reports the limit it was born with.
    sv::ProcessSpec lim;
    lim.argv = {"sh", "-c", "ulimit -n; ulimit -c", tag};
    lim.limits = {{sv::ResourceLimit::Kind::open_files, 77, 77},
                  {sv::ResourceLimit::Kind::core_size, 0, 0}};
    auto p = sv::Process::start(loop, lim);
    REQUIRE(p.wait().ok());
    CHECK(p.output(sv::StdStream::out) == "77\n0\n");

    if (::geteuid() != 0) {
      SUPERVISOR_SKIP("changing identity needs root; running as uid " +
                      std::to_string(::geteuid()));
    }
    sv::ProcessSpec id;
    id.argv = {"id", "-u", "-n"};
    id.identity.user = "nobody";
    auto q = sv::Process::start(loop, id);
    REQUIRE(q.wait().ok());
    CHECK(q.output(sv::StdStream::out) == "nobody\n");
    sv::ProcessSpec groups;
    groups.argv = {"id", "-G"};
    groups.identity.user = "65534";
    groups.identity.group = "65534";
    groups.identity.supplementary = {"65534"};
    auto g = sv::Process::start(loop, groups);
    REQUIRE(g.wait().ok());
    CHECK(g.output(sv::StdStream::out) == "65534\n");
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("empty cgroups left by a dead host are removed when a loop starts",
          "[integration][process][registry]") {
  std::string base;
  {
    sv::Loop probe;
    if (!probe.info().cgroup_usable)
      SUPERVISOR_SKIP("cgroup v2 unavailable: " + probe.info().cgroup_why_not);
    base = probe.info().cgroup_base;
  }
  // A base named after a PID that is not running, with one empty worker group in it.
  // (Started from this process's PID, so that two runs of the suite at once pick different ones.)
  const std::string parent = base.substr(0, base.rfind('/'));
  pid_t dead = 4000000 + ::getpid() % 100000;
  const auto stale_of = [&](pid_t pid) {
    return parent + "/supervisor-" + std::to_string(pid) + "-1";
  };
  while (::kill(dead, 0) == 0 || errno != ESRCH || ::access(stale_of(dead).c_str(), F_OK) == 0)
    ++dead;
  const std::string stale = stale_of(dead);
  REQUIRE(::mkdir(stale.c_str(), 0755) == 0);
  REQUIRE(::mkdir((stale + "/w1").c_str(), 0755) == 0);
  sv::Loop loop;
  // Gone once a loop has started. (Not necessarily counted by this one: a Loop starting at the
  // same moment in another test process may have removed it first.)
  CHECK(::access(stale.c_str(), F_OK) != 0);
}

namespace {

// A Loop's error handler that keeps "where: what" of each exception it is handed.
class ErrorLog {
 public:
  sv::LoopOptions options() {
    sv::LoopOptions lo;
    lo.error_handler = [this](std::exception_ptr e, std::string_view where) {
      std::string what;
      try {
        std::rethrow_exception(e);
      } catch (const std::bad_alloc&) {
        what = "bad_alloc";
      } catch (const std::exception& ex) {
        what = ex.what();
      }
      std::lock_guard lock(mu_);
      seen_.push_back(std::string(where) + ": " + what);
    };
    return lo;
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> seen_;
};

}  // namespace

TEST_CASE("an exception escaping a loop command, timer or watch is reported, and the loop lives",
          "[integration][process][hardening]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("barrier");
  {
    ErrorLog log;
    sv::Loop loop(log.options());
    const auto& core = sv::detail::LoopAccess::core(loop);
    // What a library bug or an allocation failure on the loop thread looks like: before, the
    // exception left the thread's function and std::terminate ended the host.
    core->post([] { throw std::bad_alloc(); });
    core->post([core] { core->add_timer(1ms, [] { throw std::runtime_error("timer"); }); });
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    REQUIRE(::write(fds[1], "x", 1) == 1);
    std::promise<std::uint64_t> watched;
    core->post([core, &watched, r = fds[0]] {
      watched.set_value(core->watch(r, sv::detail::io::readable, [r](std::uint32_t) {
        char c;
        [[maybe_unused]] const ssize_t n = ::read(r, &c, 1);  // once: the pipe is drained
        throw std::runtime_error("watch");
      }));
    });
    const std::uint64_t watch_id = watched.get_future().get();
    for (int i = 0; i < 200 && loop.callback_errors() < 3; ++i) std::this_thread::sleep_for(10ms);
    core->run_sync([&] { core->unwatch(watch_id, fds[0]); });
    ::close(fds[0]);
    ::close(fds[1]);
    CHECK(loop.callback_errors() == 3);
    {
      const auto seen = log.seen();
      REQUIRE(seen.size() == 3);
      CHECK(seen[0] == "loop command: bad_alloc");
      CHECK(std::count(seen.begin(), seen.end(), "loop timer: timer") == 1);
      CHECK(std::count(seen.begin(), seen.end(), "loop watch: watch") == 1);
    }
    // The loop still runs processes.
    CHECK(sv::Process::start(loop, spec_for(tag, {"exit", "0"})).wait().ok());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("blocking Process calls from the loop thread are refused, not a silent deadlock",
          "[integration][process][hardening]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("onloop");
  {
    sv::Loop loop;
    sv::Process sleeper = sv::Process::start(loop, spec_for(tag, {"sleep", "30"}));
    std::mutex m;
    std::vector<std::error_code> codes;
    std::string first_message;
    sv::ProcessOptions po;
    po.on_exit = [&](const sv::ExitStatus&) {  // runs on the loop thread
      auto attempt = [&](auto&& call) {
        try {
          call();
          std::lock_guard lock(m);
          codes.emplace_back();
        } catch (const std::system_error& e) {
          std::lock_guard lock(m);
          codes.push_back(e.code());
          if (first_message.empty()) first_message = e.what();
        }
      };
      attempt([&] { (void)sleeper.wait(); });
      attempt([&] { (void)sleeper.wait_for(10ms); });
      attempt([&] { (void)sleeper.stop(); });
      attempt([&] { (void)sleeper.kill(); });
      sleeper.request_kill();  // the non-blocking form is what works there
    };
    auto trigger = sv::Process::start(loop, spec_for(tag, {"exit", "0"}), po);
    CHECK(trigger.wait().ok());
    const auto end = sleeper.wait_for(20s);  // from this thread: fine
    REQUIRE(end.has_value());
    CHECK_FALSE(end->ok());  // killed, from the callback
    std::lock_guard lock(m);
    REQUIRE(codes.size() == 4);
    for (const auto& ec : codes) CHECK(ec == std::errc::resource_deadlock_would_occur);
    CHECK_THAT(first_message, Catch::Matchers::Contains("Process::wait on the loop thread"));
    // An ended process has nothing to wait for: its status is returned, even on the loop.
    std::optional<sv::ExitStatus> seen;
    sv::detail::LoopAccess::core(loop)->run_sync([&] { seen = trigger.wait(); });
    CHECK((seen && seen->ok()));
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("exceptions from host callbacks are caught, counted and handed to the error handler",
          "[integration][process]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("callbacks");
  {
    ErrorLog log;
    sv::Loop loop(log.options());
    auto spec = spec_for(tag, {"stderr-lines", "2"});
    spec.err = sv::StdioSpec::pipe([](std::string_view) { throw std::runtime_error("bad line"); });
    sv::ProcessOptions po;
    po.on_exit = [](const sv::ExitStatus&) { throw std::runtime_error("bad exit"); };
    auto p = sv::Process::start(loop, spec, po);
    CHECK(p.wait().exit_code == 1);
    CHECK(loop.callback_errors() == 3);
    const auto seen = log.seen();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0] == "on_line: bad line");
    CHECK(seen[2] == "on_exit: bad exit");
    // The loop is still fine.
    CHECK(sv::Process::start(loop, spec_for(tag, {"exit", "0"})).wait().ok());
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a child the host forked without exec does not blind the sentinel to the host's death",
          "[integration][process][host-death][hardening]") {
  for (const char* mode : {"process-group", "cgroup"}) {
    SECTION(mode) {
      st::LeakAudit audit;
      const auto tag = st::unique_tag("hostfork");
      const std::string fork_file = "/tmp/" + tag + ".pid";
      std::string said;
      const pid_t host = start_test_host(tag, mode, {"SV_TEST_HOST_FORK=" + fork_file}, said);
      if (said.rfind("no-cgroup", 0) == 0) {
        ::kill(host, SIGKILL);
        ::waitpid(host, nullptr, 0);
        SUPERVISOR_SKIP("cgroup v2 containment unavailable: " + said);
      }
      INFO("host said: " << said);
      REQUIRE(said.rfind("ready", 0) == 0);
      int forked = 0;
      {
        std::ifstream in(fork_file);
        in >> forked;
      }
      ::unlink(fork_file.c_str());
      REQUIRE(forked > 0);
      ::kill(host, SIGKILL);
      int wstatus = 0;
      REQUIRE(::waitpid(host, &wstatus, 0) == host);
      // The forked copy still holds the sentinel's pipe; the workers die all the same, and the
      // sentinel with them. Before, EOF never came and everything but the host stayed.
      const std::vector<int> only_fork{forked};
      CHECK(st::wait_until([&] { return st::processes_with_tag(tag) == only_fork; }, 1000ms));
      ::kill(forked, SIGKILL);  // not ours to reap: its parent died, init reaps it
      CHECK(st::wait_until([&] { return st::processes_with_tag(tag).empty(); }, 2000ms));
      REQUIRE_CLEAN(audit, tag);
    }
  }
}

TEST_CASE("in a forked child the inherited Loop, Pool and Process are inert: errors, no hang",
          "[integration][process][hardening]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("forkuse");
  {
    std::optional<sv::Loop> loop(std::in_place);
    sv::PoolOptions po;
    po.spec = spec_for(tag, {"sleep", "60"});
    po.size = 2;
    std::optional<sv::Pool> pool(std::in_place, *loop, po);
    pool->start();
    REQUIRE(pool->wait_ready(2, 10s));
    std::optional<sv::Process> proc(sv::Process::start(*loop, spec_for(tag, {"sleep", "60"})));
    auto sorted_tagged = [&] {
      auto v = st::processes_with_tag(tag);
      std::sort(v.begin(), v.end());
      return v;
    };
    REQUIRE(st::wait_until([&] { return sorted_tagged().size() == 3; }, 5000ms));  // all exec'd
    const auto before = sorted_tagged();

    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // Only async-signal-safe-ish work and the library's own calls; the result is the exit code.
      int failures = 0;
      auto expect_not_running = [&](auto&& call) {
        try {
          call();
          ++failures;
        } catch (const std::system_error& e) {
          if (e.code() != sv::errc::not_running) ++failures;
        } catch (...) {
          ++failures;
        }
      };
      expect_not_running([&] { (void)proc->wait(); });
      expect_not_running([&] { (void)proc->stop(); });
      expect_not_running([&] { pool->stop(); });
      expect_not_running([&] { (void)pool->snapshot(); });
      expect_not_running([&] { (void)sv::Process::start(*loop, spec_for(tag, {"exit", "0"})); });
      proc.reset();  // destructors: return at once, touch nothing of the parent's
      pool.reset();
      loop.reset();
      ::_exit(failures == 0 ? 0 : 10 + failures);
    }
    // The child must end by itself, promptly.
    int wstatus = 0;
    const bool ended =
        st::wait_until([&] { return ::waitpid(child, &wstatus, WNOHANG) == child; }, 10000ms);
    if (!ended) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &wstatus, 0);
    }
    REQUIRE(ended);
    CHECK(WIFEXITED(wstatus));
    CHECK(WEXITSTATUS(wstatus) == 0);
    // The parent's workers are untouched, and it still stops them itself.
    CHECK(sorted_tagged() == before);
    CHECK(pool->snapshot().ready == 2);
    CHECK(proc->running());
    proc->stop();
    pool->stop();
  }
  REQUIRE_CLEAN(audit, tag);
}
