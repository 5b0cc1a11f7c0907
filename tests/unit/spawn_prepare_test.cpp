// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// POSIX spawn preparation: what a child will be given, and the typed errors of a spec that
// cannot be prepared. Opens files and pipes; starts no process.
#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "posix/spawn_prepare.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;

namespace {

sv::ProcessSpec spec_of(std::vector<std::string> argv) {
  sv::ProcessSpec s;
  s.argv = std::move(argv);
  return s;
}

std::error_code prepare(const sv::ProcessSpec& s, d::PreparedSpawn& p, std::string& message) {
  d::ErrorSink err;
  d::prepare_spawn(s, p, err);
  message = err.context;
  return err.code;
}

bool has_target(const d::PreparedSpawn& p, int target) {
  return std::any_of(p.fds.begin(), p.fds.end(),
                     [&](const d::FdMapping& m) { return m.target == target; });
}

}  // namespace

TEST_CASE("a bare program name is found along the child's PATH", "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"sh", "-c", "true"});
  s.env.set["PATH"] = "/nonexistent-dir:/bin:/usr/bin";
  d::PreparedSpawn p;
  std::string message;
  REQUIRE(!prepare(s, p, message));
  CHECK((p.program == "/bin/sh" || p.program == "/usr/bin/sh"));
  CHECK(p.argv.size() == 4);  // three arguments and the terminating null
  CHECK(p.argv.back() == nullptr);
  CHECK(std::string(p.argv[0]) == "sh");
  // The explicit environment is the child's own copy, null-terminated.
  REQUIRE(!p.envp.empty());
  CHECK(p.envp.back() == nullptr);
  CHECK(std::find(p.env_storage.begin(), p.env_storage.end(),
                  "PATH=/nonexistent-dir:/bin:/usr/bin") != p.env_storage.end());
}

TEST_CASE("a program that is nowhere in PATH is a typed error naming it and the PATH",
          "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"surely-no-such-program-xyz"});
  s.env.set["PATH"] = "/bin:/usr/bin";
  s.cwd = "/";
  d::PreparedSpawn p;
  std::string message;
  const std::error_code ec = prepare(s, p, message);
  CHECK(ec == std::errc::no_such_file_or_directory);
  CHECK(message ==
        "spawn \"surely-no-such-program-xyz\": not found in PATH \"/bin:/usr/bin\" (cwd \"/\")");
}

TEST_CASE("a path with a slash is taken as it is, for execve to judge", "[unit][spawn][posix]") {
  d::PreparedSpawn p;
  std::string message;
  REQUIRE(!prepare(spec_of({"./relative/prog"}), p, message));
  CHECK(p.program == "./relative/prog");
}

TEST_CASE("the default environment is the host's own strings", "[unit][spawn][posix]") {
  d::PreparedSpawn p;
  std::string message;
  REQUIRE(!prepare(spec_of({"/bin/true"}), p, message));
  CHECK(p.env_storage.empty());
  extern char** environ;  // NOLINT: POSIX
  std::size_t n = 0;
  while (environ[n]) ++n;
  REQUIRE(p.envp.size() == n + 1);
  for (std::size_t i = 0; i < n; ++i) CHECK(p.envp[i] == environ[i]);
}

TEST_CASE("stdio: null, pipes and files become the child's fds 0, 1 and 2",
          "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.in = sv::StdioSpec::null();
  s.out = sv::StdioSpec::pipe();
  s.err = sv::StdioSpec::file("/dev/null");
  d::PreparedSpawn p;
  std::string message;
  REQUIRE(!prepare(s, p, message));
  CHECK(has_target(p, 0));
  CHECK(has_target(p, 1));
  CHECK(has_target(p, 2));
  CHECK(static_cast<bool>(p.out_read));  // our end of stdout's pipe
  CHECK_FALSE(static_cast<bool>(p.err_read));
  CHECK((::fcntl(p.out_read.get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK(p.max_target == 2);
}

TEST_CASE("a file that cannot be opened names the stream and the path", "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.out = sv::StdioSpec::file("/nonexistent-dir/out.log");
  d::PreparedSpawn p;
  std::string message;
  CHECK(prepare(s, p, message) == std::errc::no_such_file_or_directory);
  CHECK(message.find("ProcessSpec.out: open \"/nonexistent-dir/out.log\"") == 0);
}

TEST_CASE("a pass_fds entry that is not open is refused", "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.pass_fds = {{100000, 5}};
  d::PreparedSpawn p;
  std::string message;
  CHECK(prepare(s, p, message) == std::errc::bad_file_descriptor);
  CHECK(message.find("ProcessSpec.pass_fds: host fd 100000 is not open") == 0);
}

TEST_CASE("an open pass_fds entry becomes a child fd, and raises the highest target",
          "[unit][spawn][posix]") {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.pass_fds = {{fd, 7}};
  d::PreparedSpawn p;
  std::string message;
  REQUIRE(!prepare(s, p, message));
  CHECK(has_target(p, 7));
  CHECK(p.max_target == 7);
  ::close(fd);
}

TEST_CASE("unknown users and groups are typed errors naming the field", "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.identity.user = "no-such-user-xyz";
  d::PreparedSpawn p;
  std::string message;
  CHECK(prepare(s, p, message) == sv::errc::invalid_spec);
  CHECK(message == "ProcessSpec.identity.user: unknown user \"no-such-user-xyz\"");
  s.identity.user.reset();
  s.identity.group = "no-such-group-xyz";
  d::PreparedSpawn q;
  CHECK(prepare(s, q, message) == sv::errc::invalid_spec);
  CHECK(message == "ProcessSpec.identity.group: unknown group \"no-such-group-xyz\"");
}

TEST_CASE("a numeric identity needs no passwd entry", "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.identity.user = "4242";
  s.identity.umask = 027;
  d::PreparedSpawn p;
  std::string message;
  REQUIRE(!prepare(s, p, message));
  CHECK(p.set_identity);
  CHECK(p.uid == 4242);
  CHECK(p.gid == 4242);  // a bare uid without an entry: its own group number
  CHECK(p.umask == 027);
}

TEST_CASE("rlimits are carried as the platform's numbers, unlimited as infinity",
          "[unit][spawn][posix]") {
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.limits = {{sv::ResourceLimit::Kind::open_files, 64, sv::ResourceLimit::unlimited}};
  d::PreparedSpawn p;
  std::string message;
  REQUIRE(!prepare(s, p, message));
  REQUIRE(p.limits.size() == 1);
  CHECK(p.limits[0].soft == 64);
  CHECK(p.limits[0].hard == ~std::uint64_t{0});
}

namespace {

// A fresh directory under /tmp, removed with what the test put in it.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/sv-prepare-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path_ = name;
  }
  ~TempDir() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      if (::unlink(it->c_str()) != 0) ::rmdir(it->c_str());
    }
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  std::string file(const std::string& rel, const std::string& text, mode_t mode = 0644) {
    const std::string full = path_ + "/" + rel;
    const int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    made_.push_back(full);
    return full;
  }
  std::string dir(const std::string& rel) {
    const std::string full = path_ + "/" + rel;
    REQUIRE(::mkdir(full.c_str(), 0755) == 0);
    made_.push_back(full);
    return full;
  }
  std::string link(const std::string& rel, const std::string& to) {
    const std::string full = path_ + "/" + rel;
    REQUIRE(::symlink(to.c_str(), full.c_str()) == 0);
    made_.push_back(full);
    return full;
  }

 private:
  std::string path_;
  std::vector<std::string> made_;
};

std::string contents(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("a stdio file that is a symbolic link is refused unless follow_symlinks is set",
          "[unit][spawn][posix][hardening]") {
  TempDir tmp;
  // What a hostile user plants at a root host's log path: a link to a file it cannot write.
  const std::string victim = tmp.file("victim", "precious");
  const std::string log = tmp.link("worker.log", victim);
  for (const bool append : {false, true}) {
    sv::ProcessSpec s = spec_of({"/bin/true"});
    s.out = sv::StdioSpec::file(log, append);
    d::PreparedSpawn p;
    std::string message;
    CHECK(prepare(s, p, message) == std::errc::too_many_symbolic_link_levels);
    CHECK(message == "ProcessSpec.out: \"" + log +
                         "\" is a symbolic link, which is not followed unless "
                         "StdioSpec::follow_symlinks is set");
    CHECK(contents(victim) == "precious");  // neither truncated nor opened
  }
  sv::ProcessSpec in = spec_of({"/bin/true"});
  in.in = sv::StdioSpec::file(log);
  d::PreparedSpawn pin;
  std::string message;
  CHECK(prepare(in, pin, message) == std::errc::too_many_symbolic_link_levels);
  CHECK(message.rfind("ProcessSpec.in: ", 0) == 0);

  // Asked for explicitly, the link is followed.
  sv::ProcessSpec s = spec_of({"/bin/true"});
  s.out = sv::StdioSpec::file(log, false);
  s.out.follow_symlinks = true;
  d::PreparedSpawn p;
  REQUIRE_FALSE(prepare(s, p, message));
  CHECK(has_target(p, 1));
  CHECK(contents(victim).empty());  // truncated, as asked
}

TEST_CASE("a relative or empty PATH entry is searched in the worker's cwd, where it runs",
          "[unit][spawn][posix][hardening]") {
  TempDir tmp;
  tmp.dir("bin");
  tmp.file("bin/sv-tool", "#!/bin/sh\nexit 0\n", 0755);
  tmp.file("sv-here", "#!/bin/sh\nexit 0\n", 0755);
  REQUIRE(::access((tmp.path() + "/bin/sv-tool").c_str(), X_OK) == 0);

  sv::ProcessSpec s = spec_of({"sv-tool"});
  s.cwd = tmp.path();  // not the test's own cwd, where bin/sv-tool does not exist
  s.env.set["PATH"] = "/nonexistent-dir:bin";
  d::PreparedSpawn p;
  std::string message;
  REQUIRE_FALSE(prepare(s, p, message));
  CHECK(p.program == "bin/sv-tool");  // relative: execve resolves it after the chdir

  sv::ProcessSpec here = spec_of({"sv-here"});
  here.cwd = tmp.path();
  here.env.set["PATH"] = "/nonexistent-dir:";  // the empty entry is the cwd
  d::PreparedSpawn ph;
  REQUIRE_FALSE(prepare(here, ph, message));
  CHECK(ph.program == "./sv-here");

  // Without a cwd of its own the worker runs in the host's: the entry is the host's.
  sv::ProcessSpec host_cwd = spec_of({"sv-tool"});
  host_cwd.env.set["PATH"] = "bin";
  d::PreparedSpawn pc;
  CHECK(prepare(host_cwd, pc, message) == std::errc::no_such_file_or_directory);
}
