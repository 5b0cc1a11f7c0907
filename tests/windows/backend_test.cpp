// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Windows backend through the public API: Process and Pool with real children
// (tests/support/win_child.cpp), each in a Job Object of its own. Every test asserts what Windows
// does; where Wine lacks a part of it (detected at run time), the test says which part and is
// reported as skipped, never as passed. Each ends with an audit: no process of ours left, the
// host's handle count back to its baseline.
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>

#include <windows.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "audit.hpp"
#include "catch_compat.hpp"
#include "windows/job_spawn.hpp"

namespace sv = supervisor;
namespace w = supervisor::detail::win;
using namespace std::chrono_literals;
using namespace supervisor::win_testing;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.size()) {
    const std::size_t nl = s.find('\n', at);
    if (nl == std::string::npos) {
      out.push_back(s.substr(at));
      break;
    }
    out.push_back(s.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("windows: a child runs in a job of its own and its exit code comes back",
          "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto p = sv::Process::start(loop, child({"exit", "7"}));
    const sv::ProcessInfo info = p.info();
    CHECK(info.containment == sv::Containment::job_object);
    CHECK((info.path == sv::SpawnPath::job_list || info.path == sv::SpawnPath::job_assign));
    CHECK(info.pidfd);
    CHECK(info.pid > 0);
    CHECK(info.pgid == info.pid);
    CHECK(info.program == child_path());
    const sv::ExitStatus st = p.wait();
    CHECK(st.reason == sv::ExitReason::exit_code);
    CHECK(st.exit_code == 7);
    CHECK(st.native_code == 7);
    CHECK_FALSE(process_alive(static_cast<DWORD>(info.pid)));
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a bare program name is found along PATH, with .exe added",
          "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    const std::string path = child_path();
    const std::string dir = path.substr(0, path.find_last_of("\\/"));
    sv::ProcessSpec spec = child({"exit", "0"});
    spec.argv[0] = "supervisor_win_child";
    spec.env.set["PATH"] = dir;
    auto p = sv::Process::start(loop, spec);
    CHECK(p.info().program == dir + "\\supervisor_win_child.exe");
    CHECK(p.wait().ok());
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: spawn errors are typed as on Linux and leave nothing behind",
          "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    std::error_code ec;
    auto missing = child({"exit", "0"});
    missing.argv[0] = child_path() + ".missing.exe";
    (void)sv::Process::start(loop, missing, {}, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);

    auto not_on_path = child({"exit", "0"});
    not_on_path.argv[0] = "no-such-program-here";
    not_on_path.env.set["PATH"] = "C:\\windows";
    try {
      (void)sv::Process::start(loop, not_on_path);
      FAIL("started a missing program");
    } catch (const sv::Error& e) {
      CHECK(e.code() == std::errc::no_such_file_or_directory);
      CHECK(std::string(e.what()).find("not found in PATH") != std::string::npos);
    }

    auto bad_cwd = child({"exit", "0"});
    bad_cwd.cwd = "C:\\no\\such\\directory";
    (void)sv::Process::start(loop, bad_cwd, {}, ec);
    CHECK(ec == std::errc::no_such_file_or_directory);

    auto file_cwd = child({"exit", "0"});
    file_cwd.cwd = child_path();
    (void)sv::Process::start(loop, file_cwd, {}, ec);
    CHECK(ec == std::errc::not_a_directory);

    // A file that is no executable, and a directory given as the program.
    char tmp[MAX_PATH];
    REQUIRE(::GetTempPathA(MAX_PATH, tmp) > 0);
    const std::string not_exe = std::string(tmp) + "supervisor-not-an-exe-" +
                                std::to_string(::GetCurrentProcessId()) + ".exe";
    HANDLE f = ::CreateFileA(not_exe.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
    REQUIRE(f != INVALID_HANDLE_VALUE);
    DWORD put = 0;
    ::WriteFile(f, "not a program\n", 14, &put, nullptr);
    ::CloseHandle(f);
    auto bad_exe = child({"exit", "0"});
    bad_exe.argv[0] = not_exe;
    try {
      (void)sv::Process::start(loop, bad_exe);
      FAIL("started a text file");
    } catch (const sv::Error& e) {
      CHECK(e.code() == std::errc::executable_format_error);  // ENOEXEC, as on Linux
      CHECK(std::string(e.what()).find("ERROR_BAD_EXE_FORMAT") != std::string::npos);
    }
    ::DeleteFileA(not_exe.c_str());

    auto a_directory = child({"exit", "0"});
    a_directory.argv[0] = std::string(tmp);
    (void)sv::Process::start(loop, a_directory, {}, ec);
    CHECK(ec == std::errc::permission_denied);  // EACCES, as execve answers for a directory

    auto other_user = child({"exit", "0"});
    other_user.identity.user = "nobody";
    try {
      (void)sv::Process::start(loop, other_user);
      FAIL("started as another user");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::unsupported);
      CHECK(std::string(e.what()).find("ProcessSpec.identity") != std::string::npos);
    }

    sv::ProcessOptions in_cgroup;
    in_cgroup.containment = sv::Containment::cgroup;
    (void)sv::Process::start(loop, child({"exit", "0"}), in_cgroup, ec);
    CHECK(ec == sv::errc::cgroup_unavailable);
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: stdout and stderr are captured through the loop", "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    std::mutex mu;
    std::vector<std::string> out_lines;
    auto spec = child({"say", "hello out", "hello err"});
    spec.out = sv::StdioSpec::pipe([&](std::string_view l) {
      std::lock_guard lock(mu);
      out_lines.emplace_back(l);
    });
    auto p = sv::Process::start(loop, spec);
    const sv::ExitStatus st = p.wait();
    CHECK(st.ok());
    CHECK(p.output(sv::StdStream::out) == "hello out\n");
    CHECK(p.output(sv::StdStream::err) == "hello err\n");
    REQUIRE(st.stderr_tail.size() == 1);
    CHECK(st.stderr_tail[0] == "hello err");
    std::lock_guard lock(mu);
    CHECK(out_lines == std::vector<std::string>{"hello out"});
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a flood of output is read whole, none lost", "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    std::atomic<int> lines{0};
    auto spec = child({"flood", "2000000"});
    spec.out = sv::StdioSpec::pipe([&](std::string_view l) {
      if (l.size() == 99) ++lines;
    });
    auto p = sv::Process::start(loop, spec);
    CHECK(p.wait().ok());
    CHECK(lines == 20000);
    const sv::OutputStats stats = p.output_stats(sv::StdStream::out);
    CHECK(stats.bytes_read == 2000000);
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: stderr as a copy of stdout, and null and file streams", "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto spec = child({"say", "one", "two"});
    spec.err = sv::StdioSpec::same_as_out();
    auto p = sv::Process::start(loop, spec);
    CHECK(p.wait().ok());
    CHECK(p.output(sv::StdStream::out) == "one\ntwo\n");

    auto quiet = child({"handles"});
    quiet.out = sv::StdioSpec::null();
    auto q = sv::Process::start(loop, quiet);
    CHECK(q.wait().ok());
    CHECK(q.output(sv::StdStream::out).empty());

    char tmp[MAX_PATH];
    REQUIRE(::GetTempPathA(MAX_PATH, tmp) > 0);
    const std::string file = std::string(tmp) + "supervisor-backend-test-out.txt";
    ::DeleteFileA(file.c_str());
    auto to_file = child({"say", "to the file", "x"});
    to_file.out = sv::StdioSpec::file(file);
    CHECK(sv::Process::start(loop, to_file).wait().ok());
    HANDLE h = ::CreateFileA(file.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, 0,
                             nullptr);
    REQUIRE(h != INVALID_HANDLE_VALUE);
    char buf[64] = {};
    DWORD n = 0;
    ::ReadFile(h, buf, sizeof buf, &n, nullptr);
    ::CloseHandle(h);
    ::DeleteFileA(file.c_str());
    CHECK(std::string(buf, n) == "to the file\n");
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a crash is reported as the signal Linux reports, its code kept",
          "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto p = sv::Process::start(loop, child({"crash"}));
    const sv::ExitStatus st = p.wait();
    CHECK(st.reason == sv::ExitReason::signal);
    CHECK(st.signal == 11);  // SIGSEGV
    CHECK(st.native_code == 0xC0000005U);
    CHECK(st.exit_code == -1);
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: kill ends the whole tree, grandchildren included", "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto p = sv::Process::start(loop, child({"grandchild", "60000"}));
    REQUIRE(
        wait_until([&] { return p.output(sv::StdStream::out).find('\n') != std::string::npos; }));
    const std::string line = lines_of(p.output(sv::StdStream::out)).front();
    REQUIRE(line.rfind("grandchild pid=", 0) == 0);
    const DWORD grandchild = std::stoul(line.substr(15));
    CHECK(process_alive(grandchild));
    const sv::ExitStatus st = p.kill();
    CHECK(st.signal == 9);  // the library's kill code, SIGKILL's analogue
    CHECK(st.native_code == 0xE0535609U);
    CHECK(st.killed_descendants == 1);
    CHECK_FALSE(process_alive(grandchild));
    CHECK_FALSE(p.running());
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a descendant left behind by its parent is killed with the tree",
          "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    // The child starts a grandchild that outlives it: the job still holds the grandchild, so the
    // exit of the main process ends the tree.
    auto p = sv::Process::start(loop, child({"grandchild", "0"}));
    const sv::ExitStatus st = p.wait();
    CHECK(st.exit_code == 0);
    CHECK(st.killed_descendants == 1);
    const std::string line = lines_of(p.output(sv::StdStream::out)).front();
    REQUIRE(line.rfind("grandchild pid=", 0) == 0);
    CHECK_FALSE(process_alive(std::stoul(line.substr(15))));
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: the stop ladder's graceful step is a CTRL_BREAK to the child's group",
          "[windows][backend]") {
  HandleAudit audit;
  {
    // CTRL_BREAK_EVENT reaches only processes that share the sender's console: a host without
    // one (a service; this test under CTest's pipes) gets one first, which its children inherit.
    const bool had_console = ::GetConsoleWindow() != nullptr;
    const bool allocated = !had_console && ::AllocConsole();
    INFO("console: had " << had_console << ", allocated " << allocated);
    sv::Loop loop;
    auto graceful = child({"break", "60000"});
    graceful.stop.steps = {sv::StopStep{sv::Signal::terminate, 10s, false}};
    auto p = sv::Process::start(loop, graceful);
    REQUIRE(wait_until([&] { return p.output(sv::StdStream::out) == "ready\n"; }));
    std::error_code ec;
    p.signal(sv::Signal::terminate, ec);
    if (ec && !wine().empty()) {
      (void)p.kill();
      SUPERVISOR_SKIP("Wine " + wine() +
                      ": GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT) to a child's process group is "
                      "refused (" +
                      ec.message() + (allocated ? "; with a console of its own" : "") + ")");
    }
    REQUIRE_FALSE(ec);
    const sv::ExitStatus st = p.wait();
    CHECK(st.exit_code == 42);
    CHECK(p.output(sv::StdStream::out) == "ready\nbreak\n");
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a child that ignores the stop ladder's break is killed, tree and all",
          "[windows][backend]") {
  HandleAudit audit;
  {
    sv::Loop loop;

    auto stubborn = child({"ignore-break", "60000"});
    stubborn.stop.steps = {sv::StopStep{sv::Signal::terminate, 200ms, false}};
    stubborn.stop.kill_wait = 10s;
    auto q = sv::Process::start(loop, stubborn);
    REQUIRE(wait_until([&] { return q.output(sv::StdStream::out) == "ready\n"; }));
    const sv::ExitStatus killed = q.stop();
    CHECK(killed.reason == sv::ExitReason::timeout);
    CHECK(killed.stop_requested);
    CHECK(killed.native_code == 0xE0535609U);
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a Loop's destruction stops what still runs", "[windows][backend]") {
  HandleAudit audit;
  DWORD pid = 0;
  {
    sv::Loop loop;
    auto spec = child({"sleep", "60000"});
    spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    auto p = sv::Process::start(loop, spec);
    pid = static_cast<DWORD>(p.pid());
    CHECK(process_alive(pid));
  }
  CHECK_FALSE(process_alive(pid));
  CHECK(audit.clean());
}

TEST_CASE("windows: a pool restarts a killed worker and serves leases",
          "[windows][backend][pool]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    sv::PoolOptions o;
    o.spec = child({"sleep", "600000"});
    o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    o.size = 3;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(3, 20s));
    auto snap = pool.snapshot();
    std::set<int> pids;
    for (const auto& wk : snap.workers) pids.insert(wk.pid);
    CHECK(pids.size() == 3);

    // Killed from outside (as a crash or an operator would): replaced by a new incarnation.
    const int victim = snap.workers[1].pid;
    HANDLE h = ::OpenProcess(PROCESS_TERMINATE, FALSE, static_cast<DWORD>(victim));
    REQUIRE(h != nullptr);
    ::TerminateProcess(h, 9);
    ::CloseHandle(h);
    REQUIRE(wait_until([&] {
      const auto s = pool.snapshot();
      return s.workers[1].incarnation == 2 && s.workers[1].state == sv::WorkerState::ready;
    }));
    snap = pool.snapshot();
    CHECK(snap.workers[1].pid != victim);
    REQUIRE(snap.workers[1].last_exit.has_value());
    CHECK(snap.workers[1].last_exit->exit_code == 9);
    CHECK(snap.workers[0].incarnation == 1);

    auto a = pool.acquire(5s);
    auto b = pool.acquire(5s);
    CHECK(a.worker() != b.worker());
    CHECK(pool.snapshot().leased == 2);
    a.release();
    b.release(sv::LeaseOutcome::failure);  // its worker is replaced
    REQUIRE(wait_until([&] { return pool.snapshot().ready == 3; }));

    std::set<int> before;
    for (const auto& wk : pool.snapshot().workers) before.insert(wk.pid);
    pool.stop();
    for (int pid : before) CHECK_FALSE(process_alive(static_cast<DWORD>(pid)));
    for (const auto& wk : pool.snapshot().workers) CHECK(wk.state == sv::WorkerState::retired);
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: sd_notify over a named pipe: READY=1 and STATUS= gate and describe workers",
          "[windows][backend][pool][notify]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    sv::PoolOptions o;
    // The first message only describes it; the second makes it ready, in one message of two lines.
    o.spec = child({"notify", "600000", "STATUS=starting", "READY=1|STATUS=serving"});
    o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    o.size = 2;
    o.readiness = sv::Readiness::notify(20s);
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(2, 20s));
    for (const auto& wk : pool.snapshot().workers) {
      CHECK(wk.state == sv::WorkerState::ready);
      CHECK(wk.status == "serving");
    }
    pool.stop();
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a worker that never says READY=1 is killed at its start timeout",
          "[windows][backend][pool][notify]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    sv::PoolOptions o;
    o.spec = child({"notify", "600000", "STATUS=still starting"});
    o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    o.size = 1;
    o.readiness = sv::Readiness::notify(300ms);
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(wait_until([&] { return pool.snapshot().workers[0].restarts >= 1; }));
    const auto snap = pool.snapshot();
    REQUIRE(snap.workers[0].last_exit.has_value());
    CHECK(snap.workers[0].last_exit->stop_requested);
    pool.stop();
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: the sd_notify watchdog kills a worker that falls silent",
          "[windows][backend][pool][notify]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    sv::PoolOptions o;
    o.spec = child({"notify", "600000", "READY=1|WATCHDOG=1"});
    o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    o.size = 1;
    o.readiness = sv::Readiness::notify(20s);
    o.watchdog = 300ms;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(wait_until([&] { return pool.snapshot().workers[0].restarts >= 1; }));
    const auto snap = pool.snapshot();
    REQUIRE(snap.workers[0].last_exit.has_value());
    CHECK(snap.workers[0].last_exit->reason == sv::ExitReason::watchdog);
    pool.stop();
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: log files rotate at max_bytes with whole lines, one per worker",
          "[windows][backend][pool][log]") {
  HandleAudit audit;
  char tmp[MAX_PATH];
  REQUIRE(::GetTempPathA(MAX_PATH, tmp) > 0);
  const std::string base =
      std::string(tmp) + "supervisor-log-test-" + std::to_string(::GetCurrentProcessId()) + "-";
  const auto read_file = [](const std::string& path) {
    std::string out;
    HANDLE h = ::CreateFileA(path.c_str(), GENERIC_READ,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) return std::string("<missing>");
    char buf[4096];
    DWORD n = 0;
    while (::ReadFile(h, buf, sizeof buf, &n, nullptr) && n > 0) out.append(buf, n);
    ::CloseHandle(h);
    return out;
  };
  {
    sv::Loop loop;
    sv::PoolOptions o;
    // 2,000 bytes of 100-byte lines per worker: a 1,000-byte file and one backup kept.
    o.spec = child({"flood", "2500"});
    o.spec.out = sv::StdioSpec::log_file(base + "{worker}.log", 1000, 1);
    o.size = 2;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(wait_until([&] {
      const auto s = pool.snapshot();
      return s.workers[0].restarts >= 1 && s.workers[1].restarts >= 1;
    }));
    pool.stop();
  }
  for (const char* worker : {"0", "1"}) {
    const std::string path = base + worker + ".log";
    for (const std::string& f : {path, path + ".1"}) {
      const std::string text = read_file(f);
      INFO(f);
      REQUIRE(text != "<missing>");
      CHECK(text.size() <= 1000);
      CHECK(text.size() % 100 == 0);  // whole lines only
      const std::vector<std::string> lines = lines_of(text);
      CHECK(std::all_of(lines.begin(), lines.end(),
                        [](const std::string& l) { return l == std::string(99, 'x'); }));
    }
    CHECK(read_file(path + ".2") == "<missing>");  // one backup kept
    for (const std::string& f : {path, path + ".1"}) ::DeleteFileA(f.c_str());
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: ResourceLimits become the job's limits, reported per limit and changed live",
          "[windows][backend][limits]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto spec = child({"sleep", "600000"});
    spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    spec.resources.memory_max = 256ULL << 20;
    spec.resources.max_processes = 8;
    spec.resources.cpu_time = 3600s;
    spec.resources.wall_time = 3600s;
    spec.resources.swap_max = 0;
    auto p = sv::Process::start(loop, spec);
    const auto backend_of = [](const std::vector<sv::LimitStatus>& ls, sv::LimitKind k) {
      for (const auto& l : ls) {
        if (l.kind == k) return l.backend;
      }
      return sv::LimitBackend::none;
    };
    const sv::ProcessInfo info = p.info();
    CHECK(info.limits.size() == 5);
    CHECK(backend_of(info.limits, sv::LimitKind::memory_max) == sv::LimitBackend::job_object);
    CHECK(backend_of(info.limits, sv::LimitKind::max_processes) == sv::LimitBackend::job_object);
    CHECK(backend_of(info.limits, sv::LimitKind::cpu_time) == sv::LimitBackend::job_object);
    CHECK(backend_of(info.limits, sv::LimitKind::wall_time) == sv::LimitBackend::loop_timer);
    CHECK(backend_of(info.limits, sv::LimitKind::swap_max) == sv::LimitBackend::none);
    // Live: a new process limit, the memory limit lifted.
    sv::ResourceLimits next = spec.resources;
    next.memory_max.reset();
    next.max_processes = 4;
    p.set_resources(next);
    const auto after = p.info().limits;
    CHECK(backend_of(after, sv::LimitKind::max_processes) == sv::LimitBackend::job_object);
    CHECK(std::none_of(after.begin(), after.end(), [](const sv::LimitStatus& l) {
      return l.kind == sv::LimitKind::memory_max;
    }));
    const sv::ResourceSample sample = p.sample();
    CHECK(sample.alive);
    CHECK(sample.tree_processes == 1);
    (void)p.stop();

    // `required` with a limit no job enforces: the start fails, typed, naming it.
    auto strict = child({"exit", "0"});
    strict.resources.max_open_files = 64;
    strict.resources.enforcement = sv::LimitEnforcement::required;
    std::error_code ec;
    (void)sv::Process::start(loop, strict, {}, ec);
    CHECK(ec == sv::errc::controller_unavailable);
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a ResourceGroup is a job its members' jobs nest in",
          "[windows][backend][limits]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    sv::ResourceLimits shared;
    shared.max_processes = 16;
    auto group = sv::ResourceGroup::create(loop, shared);
    REQUIRE(group.limits().size() == 1);
    CHECK(group.limits()[0].backend == sv::LimitBackend::job_object);
    CHECK(group.cgroup().empty());
    sv::ProcessOptions in_group;
    in_group.group = group;
    auto spec = child({"sleep", "600000"});
    spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    auto a = sv::Process::start(loop, spec, in_group);
    auto b = sv::Process::start(loop, spec, in_group);
    REQUIRE(wait_until([&] { return group.sample().pids.value_or(0) == 2; }));
    // A child of the group holds both in its tree's accounting, one each in its own.
    CHECK(a.sample().tree_processes == 1);
    (void)a.stop();
    REQUIRE(wait_until([&] { return group.sample().pids.value_or(0) == 1; }));
    (void)b.kill();
    CHECK(group.sample().pids.value_or(0) == 0);
  }
  CHECK(audit.clean());
}
