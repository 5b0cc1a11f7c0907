// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The sweep registry (src/linux/registry.cpp) against real files, processes and cgroups: it
// kills verified leftovers of a previous run, and nothing a planted or stale file names.
#include <supervisor/process.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "leak_audit.hpp"
#include "linux/proc_stat.hpp"
#include "linux/registry.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> child(const std::string& tag, std::vector<std::string> args) {
  std::vector<std::string> argv{SUPERVISOR_TEST_CHILD, "--tag", tag};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

sv::ProcessSpec sleeper_spec(const std::string& tag) {
  sv::ProcessSpec spec;
  spec.argv = child(tag, {"sleep", "forever"});
  return spec;
}

// A tagged `sleep forever` child of the test, started outside the library (in its own process
// group, as the library starts workers), killed and reaped when the test is done with it.
class Sleeper {
 public:
  explicit Sleeper(const std::string& tag) {
    std::vector<std::string> copy = child(tag, {"sleep", "forever"});
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    // Not the test's own stdout/stderr: a leftover holding them would keep CTest waiting.
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    if (::posix_spawn(&pid_, argv[0], &fa, &attr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (pid_ > 0) {
      // The start time is fixed once the process exists; the tag is visible after its exec.
      start_ = supervisor::detail::process_start_time(pid_).value_or(0);
    }
  }
  ~Sleeper() { reap(); }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::uint64_t start() const { return start_; }
  // Still running (never reaped here before): a kill by the sweep would show as an exit.
  [[nodiscard]] bool running() {
    if (pid_ <= 0) return false;
    int ws = 0;
    const pid_t r = ::waitpid(pid_, &ws, WNOHANG);
    if (r == pid_) {
      status_ = ws;
      pid_ = -1;  // reaped: its PID may be reused now, never signal it again
      return false;
    }
    return r == 0;
  }
  // Waits for the exit; whether it was a SIGKILL.
  [[nodiscard]] bool killed_by_sigkill() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, 0) == pid_) pid_ = -1;
    return pid_ < 0 && WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL;
  }
  void reap() {
    if (pid_ > 0 && ::kill(pid_, SIGKILL) == 0) ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::uint64_t start_ = 0;
  int status_ = 0;
};

std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  REQUIRE(::fchmod(fd, mode) == 0);
  ::close(fd);
}

// A fresh directory of the test's own (0700).
struct TempDir {
  TempDir() {
    char name[] = "/tmp/sv-registry-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() {
    const std::string cmd = "rm -rf '" + path + "'";
    [[maybe_unused]] const int rc = std::system(cmd.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

// A previous host: PID 999999 does not exist (pid_max is lower).
std::string header(const std::string& boot = boot_id(), pid_t host = 999999) {
  return "supervisor-registry 2\nboot " + boot + "\nhost " + std::to_string(host) + " 12345\n";
}

std::string worker_line(pid_t pid, std::uint64_t start, pid_t pgid, const std::string& cgroup) {
  return "worker " + std::to_string(pid) + " " + std::to_string(start) + " " +
         std::to_string(pgid) + " " + cgroup + "\n";
}

// Constructing a Loop on `options` fails with `code`, with `what` in the message.
void expect_refused(const sv::LoopOptions& options, std::error_code code, const std::string& what) {
  try {
    sv::Loop loop(options);
    FAIL("the registry \"" << options.registry_path << "\" was accepted");
  } catch (const std::system_error& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    CHECK(std::string(e.what()).find(what) != std::string::npos);
  }
}

// The host's own cgroup v2 group (where the loop makes its base), or empty.
std::string own_cgroup_dir() {
  sv::Loop probe;
  if (!probe.info().cgroup_usable) return {};
  const std::string base = probe.info().cgroup_base;
  return base.substr(0, base.rfind('/'));
}

// Removes the directories (cgroups), last first, whatever happened in the test.
struct RemoveDirs {
  std::vector<std::string> dirs;
  ~RemoveDirs() {
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
  }
};

bool move_into(const std::string& group, pid_t pid) {
  std::ofstream out(group + "/cgroup.procs");
  out << pid << "\n";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

TEST_CASE("the registry parser reads version 2 and refuses malformed lines by number",
          "[integration][registry]") {
  using supervisor::detail::parse_registry;
  {
    const auto r = parse_registry(
        "supervisor-registry 2\nboot 0123abcd-0000-4000-8000-00000000beef\nhost 42 1000\n"
        "worker 43 1001 43 -\nworker 44 1002 44 /sys/fs/cgroup/a b/supervisor-42-1/w1\n");
    CHECK_FALSE(r.unusable);
    CHECK(r.issues.empty());
    CHECK(r.version == 2);
    CHECK(r.boot_id == "0123abcd-0000-4000-8000-00000000beef");
    CHECK(r.has_host);
    CHECK(r.host_pid == 42);
    CHECK(r.host_start == 1000);
    REQUIRE(r.workers.size() == 2);
    CHECK(r.workers[0].pid == 43);
    CHECK(r.workers[0].pgid == 43);
    CHECK(r.workers[0].cgroup == "-");
    CHECK(r.workers[1].cgroup == "/sys/fs/cgroup/a b/supervisor-42-1/w1");
    CHECK(r.workers[1].line == 5);
  }
  for (const char* bad : {"", "supervisor-registry", "supervisor-registry 3", "registry 2",
                          "supervisor-registry +2", "supervisor-registry 2x"}) {
    INFO(bad);
    const auto r = parse_registry(bad);
    CHECK(r.unusable);
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 1);
    CHECK(r.issues[0].code == sv::errc::invalid_argument);
  }
  {
    const auto r = parse_registry(
        "supervisor-registry 2\nboot 00000000-0000-0000-0000-000000000000\nhost 1 1\n"
        "worker -5 1 1 -\n"                     // 4: negative pid
        "worker 5 +1 5 -\n"                     // 5: a sign
        "worker 5 1x 5 -\n"                     // 6: trailing junk
        "worker 5 1 0 -\n"                      // 7: pgid 0
        "worker 5 1 5 relative/w1\n"            // 8: not absolute
        "worker 5 1 5 /sys/fs/cgroup/../etc\n"  // 9: a ".." component
        "worker 5 1 5 /sys/fs/cgroup//w1\n"     // 10: an empty component
        "worker 5 1 5\n"                        // 11: too few fields
        "kill 1\n"                              // 12: unknown
        "host 2 2\n"                            // 13: a second host
        "boot BOOT\n"                           // 14: not a boot id
        "worker 99999999999999999999 1 5 -\n"   // 15: out of range
        "worker 4294967296 1 5 -\n");           // 16: beyond pid_t
    CHECK_FALSE(r.unusable);
    CHECK(r.workers.empty());
    std::vector<std::size_t> lines;
    for (const auto& i : r.issues) {
      lines.push_back(i.line);
      CHECK(i.code == sv::errc::invalid_argument);
      CHECK_FALSE(i.message.empty());
    }
    CHECK(lines == std::vector<std::size_t>{4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  }
  {
    // Version 1 (no boot id, no pgid) is read; the caller ignores its entries.
    const auto r = parse_registry("supervisor-registry 1\nhost 42 1000\nworker 43 1001 -\n");
    CHECK_FALSE(r.unusable);
    CHECK(r.version == 1);
    CHECK(r.boot_id.empty());
    REQUIRE(r.workers.size() == 1);
    CHECK(r.workers[0].pid == 43);
  }
  {
    // Version 2 without its boot id.
    const auto r = parse_registry("supervisor-registry 2\nhost 42 1000\nworker 43 1001 43 -\n");
    REQUIRE(r.issues.size() == 1);
    CHECK(r.issues[0].line == 0);
  }
}

TEST_CASE("the registry sweeps verified leftovers of a previous run, and nothing else",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("registry");
  TempDir dir;
  const std::string path = dir.path + "/workers";

  // A leftover of a "previous run", and a decoy whose PID is listed with the wrong start time.
  Sleeper leftover(tag);
  Sleeper decoy(tag);
  REQUIRE(leftover.pid() > 0);
  REQUIRE(decoy.pid() > 0);
  REQUIRE(st::wait_until([&] { return st::processes_with_tag(tag).size() == 2; }, 5000ms));
  write_file(path, header() + worker_line(leftover.pid(), leftover.start(), leftover.pid(), "-") +
                       worker_line(decoy.pid(), decoy.start() + 1, decoy.pid(), "-") +
                       worker_line(999998, 1, 999998, "-"));
  {
    sv::LoopOptions lo;
    lo.registry_path = path;
    sv::Loop loop(lo);
    INFO(loop.info().registry_notes);
    CHECK(loop.info().swept_processes == 1);
    CHECK(loop.info().stale_registry_entries == 2);
    CHECK(loop.info().refused_registry_entries == 0);
    CHECK(leftover.killed_by_sigkill());
    CHECK(decoy.running());  // not ours any more: untouched

    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto p = sv::Process::start(loop, sleeper_spec(tag));
    const std::string text = read_all(path);
    CHECK(text.rfind("supervisor-registry 2\nboot " + boot_id() + "\nhost " +
                         std::to_string(::getpid()) + " ",
                     0) == 0);
    CHECK(text.find("worker " + std::to_string(p.pid()) + " ") != std::string::npos);

    // Another host instance must not sweep a registry whose host is alive.
    write_file(dir.path + "/in-use", "supervisor-registry 2\nboot " + boot_id() + "\nhost " +
                                         std::to_string(decoy.pid()) + " " +
                                         std::to_string(decoy.start()) + "\n");
    sv::LoopOptions busy;
    busy.registry_path = dir.path + "/in-use";
    expect_refused(busy, sv::errc::already_running, "in use by a running host");
    p.stop();
  }
  struct stat st {};
  CHECK(::lstat(path.c_str(), &st) != 0);  // a clean stop leaves nothing to sweep
  CHECK(::lstat((path + ".lock").c_str(), &st) != 0);

  // Never through a symlink.
  REQUIRE(::symlink((dir.path + "/in-use").c_str(), (dir.path + "/link").c_str()) == 0);
  sv::LoopOptions linked;
  linked.registry_path = dir.path + "/link";
  expect_refused(linked, std::error_code(ELOOP, std::system_category()), "symlink");
  decoy.reap();
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a registry never makes the host kill itself, PID 1 or a process outside its entry",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("registry-refuse");
  TempDir dir;
  const std::string path = dir.path + "/workers";
  Sleeper other(tag);  // an unrelated process: in no group of ours
  REQUIRE(other.pid() > 0);
  const auto self_start = supervisor::detail::process_start_time(::getpid());
  const auto init_start = supervisor::detail::process_start_time(1);
  REQUIRE(self_start);
  REQUIRE(init_start);
  // The test's parent (ctest, a shell), with its real identity and process group.
  const auto parent = supervisor::detail::read_proc_stat(::getppid());
  REQUIRE(parent);
  std::string text = header() + worker_line(::getpid(), *self_start, ::getpgrp(), "-") +
                     worker_line(::getppid(), parent->start_time_ticks, parent->pgrp, "-") +
                     worker_line(1, *init_start, 1, "-") +
                     // Its real identity, but not the process group it is in.
                     worker_line(other.pid(), other.start(), ::getpgrp(), "-") +
                     worker_line(other.pid(), other.start(), other.pid() + 1, "-") +
                     worker_line(other.pid(), other.start(), other.pid(), "/../../x");
  int expected = 6;
  const std::string own = own_cgroup_dir();
  if (!own.empty()) {
    // Cgroups outside the host's bases (the host's own group holds `other`; so does the
    // hierarchy's root), a base of another host, a group that does not exist.
    const std::string root = own.substr(0, own.find('/', std::string("/sys/fs/cgroup/").size()));
    text += worker_line(other.pid(), other.start(), other.pid(), own) +
            worker_line(other.pid(), other.start(), other.pid(), root) +
            worker_line(other.pid(), other.start(), other.pid(), "/proc/1") +
            worker_line(other.pid(), other.start(), other.pid(), own + "/supervisor-1-1/w1") +
            worker_line(other.pid(), other.start(), other.pid(), own + "/supervisor-999999-1/w1") +
            worker_line(other.pid(), other.start(), other.pid(), own + "/supervisor-999999-1/x");
    expected += 6;
  }
  write_file(path, text);
  {
    sv::LoopOptions lo;
    lo.registry_path = path;
    sv::Loop loop(lo);
    INFO(loop.info().registry_notes);
    CHECK(loop.info().swept_processes == 0);
    CHECK(loop.info().refused_registry_entries == expected);
    CHECK(loop.info().registry_notes.find("never swept") != std::string::npos);
    CHECK(other.running());
    CHECK(::kill(::getppid(), 0) == 0);
  }
  CHECK(other.running());
  other.reap();
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("the sweep kills a leftover only inside its recorded cgroup below the host's bases",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("registry-cgroup");
  const std::string own = own_cgroup_dir();
  if (own.empty()) SUPERVISOR_SKIP("no writable cgroup v2 group for the loop's base");
  TempDir dir;
  const std::string path = dir.path + "/workers";
  // The base of a dead host with a leftover in its group w1, and another in w2 whose entry
  // names w3. The dead host had this process's PID (as in a container, where hosts have small
  // PIDs), so that a Loop starting in another test process meanwhile leaves its empty groups
  // alone (it removes the empty bases of dead PIDs). An instance number our loops never reach.
  const std::string base = own + "/supervisor-" + std::to_string(::getpid()) + "-900007";
  const RemoveDirs cleanup{{base, base + "/w1", base + "/w2", base + "/w3"}};
  REQUIRE(::mkdir(base.c_str(), 0755) == 0);
  for (const char* g : {"/w1", "/w2", "/w3"}) REQUIRE(::mkdir((base + g).c_str(), 0755) == 0);
  Sleeper leftover(tag);
  Sleeper elsewhere(tag);
  REQUIRE(leftover.pid() > 0);
  REQUIRE(elsewhere.pid() > 0);
  REQUIRE(move_into(base + "/w1", leftover.pid()));
  REQUIRE(move_into(base + "/w2", elsewhere.pid()));
  write_file(path,
             header(boot_id(), ::getpid()) +
                 worker_line(leftover.pid(), leftover.start(), leftover.pid(), base + "/w1") +
                 worker_line(elsewhere.pid(), elsewhere.start(), elsewhere.pid(), base + "/w3"));
  {
    sv::LoopOptions lo;
    lo.registry_path = path;
    sv::Loop loop(lo);
    INFO(loop.info().registry_notes);
    CHECK(loop.info().swept_processes == 1);
    CHECK(loop.info().refused_registry_entries == 1);
    CHECK(loop.info().registry_notes.find("not inside its recorded cgroup") != std::string::npos);
    CHECK(leftover.killed_by_sigkill());
    CHECK(elsewhere.running());
    struct stat st {};
    CHECK(::stat((base + "/w1").c_str(), &st) != 0);  // swept
    CHECK(::stat((base + "/w2").c_str(), &st) == 0);  // refused: untouched
  }
  elsewhere.reap();
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a stale entry never sweeps a group in the base of a live process with the host's PID",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("registry-reused");
  const std::string own = own_cgroup_dir();
  if (own.empty()) SUPERVISOR_SKIP("no writable cgroup v2 group for the loop's base");
  TempDir dir;
  const std::string path = dir.path + "/workers";
  // The recorded host is dead and its PID was reused by another host (here: a sleeper), which
  // made a base of the same name; a process of that live host sits in w1, which a stale entry of
  // the dead host names.
  Sleeper reuser(tag);
  Sleeper live_worker(tag);
  REQUIRE(reuser.pid() > 0);
  REQUIRE(live_worker.pid() > 0);
  const std::string base = own + "/supervisor-" + std::to_string(reuser.pid()) + "-1";
  const RemoveDirs cleanup{{base, base + "/w1"}};
  REQUIRE(::mkdir(base.c_str(), 0755) == 0);
  REQUIRE(::mkdir((base + "/w1").c_str(), 0755) == 0);
  REQUIRE(move_into(base + "/w1", live_worker.pid()));
  write_file(path, header(boot_id(), reuser.pid()) + worker_line(live_worker.pid(),
                                                                 live_worker.start() + 1,
                                                                 live_worker.pid(), base + "/w1"));
  {
    sv::LoopOptions lo;
    lo.registry_path = path;
    sv::Loop loop(lo);
    INFO(loop.info().registry_notes);
    CHECK(loop.info().swept_processes == 0);
    CHECK(loop.info().stale_registry_entries == 1);
    CHECK(live_worker.running());
    struct stat st {};
    CHECK(::stat((base + "/w1").c_str(), &st) == 0);
  }
  live_worker.reap();
  reuser.reap();
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a registry another user could have written is refused before a byte is trusted",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("registry-untrusted");
  Sleeper leftover(tag);  // named by every planted file below: it must survive them all
  REQUIRE(leftover.pid() > 0);
  const std::string text =
      header() + worker_line(leftover.pid(), leftover.start(), leftover.pid(), "-");
  const auto untrusted = make_error_code(sv::errc::untrusted);
  TempDir dir;
  sv::LoopOptions lo;
  lo.registry_path = dir.path + "/workers";

  SECTION("group or world writable") {
    write_file(lo.registry_path, text, 0620);
    expect_refused(lo, untrusted, "mode 0620");
    write_file(lo.registry_path, text, 0602);
    expect_refused(lo, untrusted, "mode 0602");
  }
  SECTION("a second link") {
    write_file(dir.path + "/elsewhere", text);
    REQUIRE(::link((dir.path + "/elsewhere").c_str(), lo.registry_path.c_str()) == 0);
    expect_refused(lo, untrusted, "2 link(s)");
  }
  SECTION("a directory others may enter or write") {
    write_file(lo.registry_path, text);
    REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
    expect_refused(lo, untrusted, "mode 0755");
    REQUIRE(::chmod(dir.path.c_str(), 0703) == 0);
    expect_refused(lo, untrusted, "mode 0703");
  }
  SECTION("owned by another user") {
    if (::geteuid() != 0) SUPERVISOR_SKIP("chown to another user needs root");
    write_file(lo.registry_path, text);
    REQUIRE(::chown(lo.registry_path.c_str(), 65534, 65534) == 0);
    expect_refused(lo, untrusted, "owned by uid 65534");
    REQUIRE(::chown(lo.registry_path.c_str(), 0, 0) == 0);
    REQUIRE(::chown(dir.path.c_str(), 65534, 0) == 0);
    expect_refused(lo, untrusted, "is owned by uid 65534");
  }
  SECTION("a symlink at any component of the path") {
    REQUIRE(::mkdir((dir.path + "/real").c_str(), 0700) == 0);
    write_file(dir.path + "/real/workers", text);
    REQUIRE(::symlink("real", (dir.path + "/link").c_str()) == 0);
    lo.registry_path = dir.path + "/link/workers";
    expect_refused(lo, std::error_code(ELOOP, std::system_category()), "symlink");
    REQUIRE(::mkdir((dir.path + "/real/sub").c_str(), 0700) == 0);
    write_file(dir.path + "/real/sub/workers", text);
    lo.registry_path = dir.path + "/link/sub/workers";
    expect_refused(lo, std::error_code(ELOOP, std::system_category()), "symlink");
  }
  CHECK(leftover.running());
  leftover.reap();
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("the registry makes its missing directory 0700, and its file 0600",
          "[integration][process][registry]") {
  TempDir dir;
  sv::LoopOptions lo;
  lo.registry_path = dir.path + "/state/workers";
  {
    sv::Loop loop(lo);
    struct stat st {};
    REQUIRE(::lstat((dir.path + "/state").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(st.st_uid == ::geteuid());
    REQUIRE(::lstat(lo.registry_path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  // Only the last component is made.
  lo.registry_path = dir.path + "/a/b/workers";
  expect_refused(lo, std::error_code(ENOENT, std::system_category()), "directory");
}

TEST_CASE("entries of another boot, or without a boot id, are ignored",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("registry-boot");
  Sleeper leftover(tag);
  REQUIRE(leftover.pid() > 0);
  TempDir dir;
  sv::LoopOptions lo;
  lo.registry_path = dir.path + "/workers";
  const std::string other_boot = boot_id() == "00000000-0000-4000-8000-000000000000"
                                     ? "00000000-0000-4000-8000-000000000001"
                                     : "00000000-0000-4000-8000-000000000000";
  for (const std::string& text :
       {header(other_boot) + worker_line(leftover.pid(), leftover.start(), leftover.pid(), "-"),
        "supervisor-registry 1\nhost 999999 12345\nworker " + std::to_string(leftover.pid()) + " " +
            std::to_string(leftover.start()) + " -\n"}) {
    INFO(text);
    write_file(lo.registry_path, text);
    sv::Loop loop(lo);
    INFO(loop.info().registry_notes);
    CHECK(loop.info().swept_processes == 0);
    CHECK(loop.info().stale_registry_entries == 1);
    CHECK(loop.info().registry_notes.find("ignored") != std::string::npos);
    CHECK(leftover.running());
  }
  leftover.reap();
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("two hosts never share a registry: its lock file is held with flock",
          "[integration][process][registry]") {
  TempDir dir;
  sv::LoopOptions lo;
  lo.registry_path = dir.path + "/workers";
  {
    sv::Loop first(lo);
    expect_refused(lo, sv::errc::already_running, "locked by another running host");
  }
  // Another process holding the lock (flock is per open file description: a fresh open here
  // is another holder, as another host would be).
  const int fd = ::open((lo.registry_path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  expect_refused(lo, sv::errc::already_running, "locked");
  ::close(fd);
  sv::Loop after(lo);
  CHECK(after.info().swept_processes == 0);
}

TEST_CASE("a stale base with the host's own PID is reclaimed, and a populated one left alone",
          "[integration][process][registry]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("stale-base");
  std::string own;
  unsigned next = 0;
  {
    sv::Loop probe;
    if (!probe.info().cgroup_usable) SUPERVISOR_SKIP("no writable cgroup v2 group for the base");
    const std::string base = probe.info().cgroup_base;
    own = base.substr(0, base.rfind('/'));
    next = static_cast<unsigned>(std::stoul(base.substr(base.rfind('-') + 1))) + 1;
  }
  // What a dead host with this PID left: the next names the loop would take, the first one
  // populated (by a process of "its" that the sweep did not reach), the others empty.
  const auto name = [&](unsigned n) {
    return own + "/supervisor-" + std::to_string(::getpid()) + "-" + std::to_string(n);
  };
  // Whatever happens below, the directories go (after the survivor, declared later, is gone).
  const RemoveDirs cleanup{
      {name(next), name(next + 1), name(next + 1) + "/w1", name(next + 2), name(next + 3)}};
  Sleeper survivor(tag);
  REQUIRE(survivor.pid() > 0);
  for (unsigned n = next; n < next + 4; ++n) REQUIRE(::mkdir(name(n).c_str(), 0755) == 0);
  REQUIRE(::mkdir((name(next + 1) + "/w1").c_str(), 0755) == 0);  // empty, nested
  REQUIRE(move_into(name(next), survivor.pid()));
  {
    sv::Loop loop;
    INFO(loop.info().cgroup_why_not);
    REQUIRE(loop.info().cgroup_usable);
    CHECK(loop.info().cgroup_base != name(next));
    CHECK(loop.info().swept_groups >= 3);
    auto p = sv::Process::start(loop, sleeper_spec(tag));
    CHECK(p.info().containment == sv::Containment::cgroup);
    p.stop();
  }
  struct stat st {};
  CHECK(::stat(name(next).c_str(), &st) == 0);  // populated: left for the registry
  CHECK(survivor.running());
  for (unsigned n = next + 1; n < next + 4; ++n) CHECK(::stat(name(n).c_str(), &st) != 0);
  survivor.reap();
  REQUIRE_CLEAN(audit, tag);
}
