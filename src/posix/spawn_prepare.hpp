// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Preparing a child on POSIX (any thread): `prepare_spawn` turns a validated ProcessSpec into
// plain data (resolved program, argv/envp arrays, uid/gid, rlimits, open stdio fds), which a
// spawner (src/posix/posix_spawn.cpp, src/linux/clone3_spawn.cpp) starts. Private.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

#include "unique_fd.hpp"

namespace supervisor::detail {

struct FdMapping {
  int source = -1;  // fd in the parent (owned by PreparedSpawn or by the host for pass_fds)
  int target = -1;  // fd number in the child
};

struct NativeLimit {
  int resource = 0;
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

struct PreparedSpawn {
  std::string program;  // what execve gets
  std::string display;  // the name used in messages
  std::string cwd;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;  // NULL-terminated, into argv_storage
  std::vector<char*> envp;  // NULL-terminated, into env_storage or the host's environ strings
  // WATCHDOG_PID, whose value is the child's own pid (EnvPlan::watchdog_pid): its index in envp
  // and where its 20 digits' room starts (a child writes its pid and a NUL there; a spawner
  // that cannot run code in the child erases the entry). npos / null: none.
  std::size_t own_pid_env = static_cast<std::size_t>(-1);
  char* own_pid_digits = nullptr;
  bool new_session = true;
  bool die_with_host = true;
  int umask = -1;
  bool set_identity = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::vector<NativeLimit> limits;
  std::vector<FdMapping> fds;   // exactly what the child holds: 0, 1, 2 and pass_fds
  std::vector<UniqueFd> owned;  // child ends we opened (null, files, pipe write ends)
  // Linux: cgroup.procs of the groups the child joins before execve (cgroup v1 groups of its
  // limits; its cgroup v2 group when clone3 cannot start it there): it writes "0" to each.
  std::vector<UniqueFd> join_fds;
  UniqueFd out_read;  // pipe read ends, handed to the loop (non-blocking)
  UniqueFd err_read;
  UniqueFd in_write;             // the stdin pipe's write end (non-blocking), for the host's writes
  UniqueFd channel;              // the host's end of the channel (ProcessSpec::channel)
  bool use_pidfd = true;         // input (Linux): false on kernels without pidfds
  bool has_close_range = false;  // input: close_range(2) works, so close_limit is not needed
  int shared_null = -1;          // input: an O_RDWR /dev/null the caller keeps open (-1: open one)
  int null_out = -1;             // the /dev/null opened for output streams, shared by both
  int max_target = 2;
  int close_limit = 1024;  // where the close loop stops if close_range(2) is missing
  pid_t parent_pid = 0;    // input: the host's pid (a clone child checks it is still its parent)
};

// Resolves and opens everything the child needs. Errors name the field or the program.
// `extra_env`: "NAME=value" entries set after the spec's environment (ChildRequest::extra_env).
void prepare_spawn(const ProcessSpec& spec, PreparedSpawn& out, ErrorSink& err,
                   std::vector<std::string> extra_env = {});

// Whether execve could run `candidate`: 0, or the errno that tells why not (EISDIR for a
// directory, which execve itself reports as EACCES).
int check_program(const std::string& candidate);

// Which step of a child failed, as far as the spawner knows.
enum class ExecStage {
  chdir_or_exec,  // one of the two (posix_spawn does not say which)
  chdir,
  exec,
};
// Why the child's chdir or execve failed with errno `e`, reported through `err`: a missing or
// non-directory cwd, a missing, non-executable or directory program; else the child's own errno,
// with what it means for execve.
void explain_exec_failure(const PreparedSpawn& p, ExecStage stage, int e, ErrorSink& err);

// Reports that opening `path` for ProcessSpec.`field` failed with errno `e` (`no_follow`: opened
// with O_NOFOLLOW, so ELOOP means a symbolic link).
void fail_open(std::string_view field, const std::string& path, int e, bool no_follow,
               ErrorSink& err);

// The cwd a message names: the spec's, or the host's own.
std::string shown_cwd(const std::string& cwd);

}  // namespace supervisor::detail
