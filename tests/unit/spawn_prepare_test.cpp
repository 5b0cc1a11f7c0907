// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// POSIX spawn preparation: what a child will be given, and the typed errors of a spec that
// cannot be prepared. Opens files and pipes; starts no process.
#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <system_error>

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
