// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Starting a child: `prepare_spawn` (any thread) turns a validated ProcessSpec into plain data
// (resolved program, argv/envp arrays, uid/gid, open stdio fds); `spawn_prepared` (the loop
// thread) starts it with clone3 or posix_spawn. Private: not installed.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <supervisor/error.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_spec.hpp>

#include "posix/unique_fd.hpp"

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
  // cgroup.procs of cgroup v1 groups (limits) the child joins before execve: it writes "0" to
  // each (clone3); after a posix_spawn the caller moves the child instead.
  std::vector<UniqueFd> join_fds;
  UniqueFd out_read;  // pipe read ends, handed to the loop (non-blocking)
  UniqueFd err_read;
  bool use_pidfd = true;         // input: false on kernels without pidfds (posix_spawn path only)
  bool has_close_range = false;  // input: close_range(2) works, so close_limit is not needed
  int shared_null = -1;          // input: an O_RDWR /dev/null the caller keeps open (-1: open one)
  int null_out = -1;             // the /dev/null opened for output streams, shared by both
  int max_target = 2;
  int close_limit = 1024;  // where the close loop stops if close_range(2) is missing
  pid_t parent_pid = 0;    // input: the host's pid (a clone3 child checks it is still its parent)
};

// Resolves and opens everything the child needs. Errors name the field or the program.
void prepare_spawn(const ProcessSpec& spec, PreparedSpawn& out, ErrorSink& err);

struct SpawnResult {
  pid_t pid = -1;
  UniqueFd pidfd;
  SpawnPath path = SpawnPath::clone3;
};

// Starts the prepared child. Must run on the long-lived loop thread (PR_SET_PDEATHSIG follows the
// thread that creates the child). `cgroup_fd` >= 0: the child is born in that cgroup (clone3) or
// moved there right after posix_spawn. Exec errors come back here; the failed child is reaped.
void spawn_prepared(PreparedSpawn& p, int cgroup_fd, SpawnPath path, SpawnResult& out,
                    ErrorSink& err);

// Joins a child started by posix_spawn to its cgroup (cgroup.procs of the directory fd).
void move_to_cgroup(int cgroup_fd, pid_t pid, ErrorSink& err);

bool clone3_available() noexcept;
// pidfd_open and waitid(P_PIDFD) both work (Linux 5.4); else `why` says which is missing.
bool pidfd_available(std::string& why);
bool close_range_available() noexcept;
int native_signal(Signal s) noexcept;

}  // namespace supervisor::detail
