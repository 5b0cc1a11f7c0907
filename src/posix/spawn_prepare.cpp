// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "spawn_prepare.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "../process/spawn_plan.hpp"
#include "errno_text.hpp"

extern char** environ;  // NOLINT: POSIX

namespace supervisor::detail {

// The cwd a message names: the spec's, or the host's own when the spec keeps it.
SUPERVISOR_INLINE std::string shown_cwd(const std::string& cwd) {
  if (!cwd.empty()) return cwd;
  char buf[4096];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string(".");
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::optional<long long> parse_number(std::string_view s) {
  long long v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || v < 0) return std::nullopt;
  return v;
}

// The passwd entry's name, home and shell: empty for a bare uid without an entry.
struct UserInfo {
  std::string name;
  std::string home;
  std::string shell;
};

SUPERVISOR_INLINE void copy_user(const passwd& pw, UserInfo& info) {
  info.name = pw.pw_name ? pw.pw_name : "";
  info.home = pw.pw_dir ? pw.pw_dir : "";
  info.shell = pw.pw_shell ? pw.pw_shell : "";
}

SUPERVISOR_INLINE bool lookup_user(const std::string& name, uid_t& uid, gid_t& gid,
                                   UserInfo& canonical) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (auto n = parse_number(name)) {
    uid = static_cast<uid_t>(*n);
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) {
      gid = pw.pw_gid;
      copy_user(pw, canonical);
    } else {
      gid = static_cast<gid_t>(*n);  // a bare uid without a passwd entry: its own group number
    }
    return true;
  }
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) return false;
  uid = pw.pw_uid;
  gid = pw.pw_gid;
  copy_user(pw, canonical);
  return true;
}

SUPERVISOR_INLINE bool lookup_group(const std::string& name, gid_t& gid) {
  if (auto n = parse_number(name)) {
    gid = static_cast<gid_t>(*n);
    return true;
  }
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) return false;
  gid = gr.gr_gid;
  return true;
}

// Also fills `vars` with the variables systemd's User= sets: HOME, USER, LOGNAME and SHELL.
SUPERVISOR_INLINE void resolve_identity(const ProcessSpec& spec, PreparedSpawn& p, EnvVars& vars,
                                        ErrorSink& err) {
  const Identity& id = spec.identity;
  if (id.umask) p.umask = static_cast<int>(*id.umask);
  if (!id.user && !id.group && id.supplementary.empty()) return;
  p.set_identity = true;
  p.uid = geteuid();
  p.gid = getegid();
  UserInfo user;
  if (id.user && !lookup_user(*id.user, p.uid, p.gid, user)) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.identity.user: unknown user \"{}\"", *id.user);
    });
    return;
  }
  if (id.user) {
    // A bare uid without a passwd entry: its number as the name, "/" as home (as systemd does
    // for a user it cannot look up), and no shell rather than the host's.
    const std::string name = user.name.empty() ? std::to_string(p.uid) : user.name;
    vars = {{"HOME", user.home.empty() ? std::string("/") : user.home},
            {"LOGNAME", name},
            {"USER", name}};
    if (!user.shell.empty()) vars.emplace_back("SHELL", user.shell);
  }
  if (id.group && !lookup_group(*id.group, p.gid)) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.identity.group: unknown group \"{}\"", *id.group);
    });
    return;
  }
  for (const auto& g : id.supplementary) {
    gid_t gid = 0;
    if (!lookup_group(g, gid)) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.identity.supplementary: unknown group \"{}\"", g);
      });
      return;
    }
    p.groups.push_back(gid);
  }
  if (id.supplementary.empty() && !user.name.empty()) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    while (getgrouplist(user.name.c_str(), p.gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<std::size_t>(n) * 2);
      n = static_cast<int>(groups.size());
    }
    groups.resize(static_cast<std::size_t>(n));
    p.groups = std::move(groups);
  } else if (id.supplementary.empty()) {
    p.groups = {p.gid};
  }
}

SUPERVISOR_LOCAL_END

// Whether execve could run `candidate`: 0, or the errno that tells why not (EISDIR for a
// directory, which execve itself reports as EACCES).
SUPERVISOR_INLINE int check_program(const std::string& candidate) {
  struct stat st {};
  if (::stat(candidate.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (!S_ISREG(st.st_mode)) return EACCES;
  if (::access(candidate.c_str(), X_OK) != 0) return errno;
  return 0;
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void fail_program(const std::string& name, const std::string& cwd, int e,
                                    std::string_view what, ErrorSink& err) {
  err.fail(std::error_code(e, std::system_category()), [&] {
    return fmt::format("spawn \"{}\": {} (cwd \"{}\")", name, what, shown_cwd(cwd));
  });
}

// Picks what execve will run. A name with a slash is taken as it is, unchecked: spawning is a hot
// path, and a failed execve is explained afterwards (explain_exec_failure). A bare name is looked
// up in PATH, each candidate checked as execvp would try it.
SUPERVISOR_INLINE void resolve_program(const std::string& name, const std::string& path_var,
                                       const std::string& cwd, PreparedSpawn& p, ErrorSink& err) {
  if (name.find('/') != std::string::npos) {
    p.program = name;  // a relative one is relative to the child's cwd, as execve will see it
    return;
  }
  // A relative PATH entry (or an empty one, which means ".") is relative to the directory the
  // child runs in, after its chdir: it is checked there, and execve gets it relative, as it is.
  const PathSearch found = search_path(name, path_var, [&](const std::string& candidate) {
    const bool relative = candidate.front() != '/' && !cwd.empty();
    const int e = check_program(relative ? cwd + "/" + candidate : candidate);
    return e == 0 ? std::error_code() : std::error_code(e, std::system_category());
  });
  if (!found.program.empty()) {
    p.program = found.program;
    return;
  }
  const int e = found.error.value();
  fail_program(name, cwd, e,
               e == ENOENT
                   ? fmt::format("not found in PATH \"{}\"", path_var)
                   : fmt::format("{} (first match in PATH \"{}\")", sys_message(e), path_var),
               err);
}

SUPERVISOR_INLINE int native_limit(ResourceLimit::Kind k) {
  switch (k) {
    case ResourceLimit::Kind::address_space: return RLIMIT_AS;
    case ResourceLimit::Kind::core_size: return RLIMIT_CORE;
    case ResourceLimit::Kind::cpu_seconds: return RLIMIT_CPU;
    case ResourceLimit::Kind::data: return RLIMIT_DATA;
    case ResourceLimit::Kind::file_size: return RLIMIT_FSIZE;
    case ResourceLimit::Kind::open_files: return RLIMIT_NOFILE;
    case ResourceLimit::Kind::processes: return RLIMIT_NPROC;
    case ResourceLimit::Kind::stack: return RLIMIT_STACK;
  }
  return RLIMIT_NOFILE;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void fail_open(std::string_view field, const std::string& path, int e,
                                 bool no_follow, ErrorSink& err) {
  err.fail(std::error_code(e, std::system_category()), [&] {
    if (e == ELOOP && no_follow)
      return fmt::format(
          "ProcessSpec.{}: \"{}\" is a symbolic link, which is not followed unless "
          "StdioSpec::follow_symlinks is set",
          field, path);
    return fmt::format("ProcessSpec.{}: open \"{}\": {}", field, path, sys_message(e));
  });
}

SUPERVISOR_LOCAL_BEGIN

// `host_end` receives the host's end of a pipe: the read end of out/err, the write end of in.
SUPERVISOR_INLINE void open_stdio(const StdioSpec& io, int target, PreparedSpawn& p,
                                  UniqueFd* host_end, std::string_view field, ErrorSink& err) {
  using Mode = StdioSpec::Mode;
  switch (io.mode) {
    case Mode::inherit: p.fds.push_back({target, target}); return;
    case Mode::null:
      if (p.shared_null >= 0) {
        p.fds.push_back({p.shared_null, target});
        return;
      }
      if (target != 0 && p.null_out >= 0) {  // one /dev/null serves every output stream
        p.fds.push_back({p.null_out, target});
        return;
      }
      [[fallthrough]];
    case Mode::file: {
      const bool input = target == 0;
      int flags = O_CLOEXEC | O_NOCTTY | (input ? O_RDONLY : O_WRONLY);
      const std::string path = io.mode == Mode::null ? "/dev/null" : io.path;
      if (!input && io.mode == Mode::file) flags |= O_CREAT | (io.append ? O_APPEND : O_TRUNC);
      if (io.mode == Mode::file && !io.follow_symlinks) flags |= O_NOFOLLOW;
      UniqueFd fd(::open(path.c_str(), flags, 0640));
      if (!fd) {
        fail_open(field, path, errno, (flags & O_NOFOLLOW) != 0, err);
        return;
      }
      p.fds.push_back({fd.get(), target});
      if (io.mode == Mode::null && target != 0) p.null_out = fd.get();
      p.owned.push_back(std::move(fd));
      return;
    }
    case Mode::same_as_out: {
      // The validated spec puts this on err only, after out's mapping: fd 2 gets what fd 1 gets.
      for (const FdMapping& m : p.fds) {
        if (m.target == 1) {
          p.fds.push_back({m.source, target});
          return;
        }
      }
      p.fds.push_back({1, target});  // not reached: out always has a mapping
      return;
    }
    case Mode::log_file:  // a pipe; the loop writes the file (open_log_file)
    case Mode::pipe: {
      int ends[2];
      if (::pipe2(ends, O_CLOEXEC) != 0) {
        const int e = errno;
        err.fail(std::error_code(e, std::system_category()),
                 [&] { return fmt::format("ProcessSpec.{}: pipe: {}", field, sys_message(e)); });
        return;
      }
      UniqueFd r(ends[0]);
      UniqueFd w(ends[1]);
      // Only our end is non-blocking: the worker reads or writes an ordinary blocking pipe.
      UniqueFd& ours = target == 0 ? w : r;
      UniqueFd& theirs = target == 0 ? r : w;
      ::fcntl(ours.get(), F_SETFL, ::fcntl(ours.get(), F_GETFL) | O_NONBLOCK);
      p.fds.push_back({theirs.get(), target});
      p.owned.push_back(std::move(theirs));
      if (host_end) *host_end = std::move(ours);
      return;
    }
  }
}

// The channel: a connected pair of sequenced-packet sockets, both close-on-exec (the child's
// end loses the flag when it is placed on its fd, like every fd it is given). Only the host's
// end is non-blocking; the child's blocks, as a program reading a socket expects.
SUPERVISOR_INLINE void open_channel(const ChannelSpec& channel, PreparedSpawn& p, ErrorSink& err) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    const int e = errno;
    err.fail(std::error_code(e, std::system_category()),
             [&] { return fmt::format("ProcessSpec.channel: socketpair: {}", sys_message(e)); });
    return;
  }
  UniqueFd ours(ends[0]);
  UniqueFd theirs(ends[1]);
  ::fcntl(ours.get(), F_SETFL, ::fcntl(ours.get(), F_GETFL) | O_NONBLOCK);
  p.fds.push_back({theirs.get(), channel.child_fd});
  p.owned.push_back(std::move(theirs));
  p.channel = std::move(ours);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void prepare_spawn(const ProcessSpec& spec, PreparedSpawn& p, ErrorSink& err,
                                     std::vector<std::string> extra_env) {
  p.display = spec.display_name();
  p.cwd = spec.cwd;
  p.new_session = spec.new_session;
  p.die_with_host = spec.die_with_host;
  // A missing cwd is found when the child's chdir fails, and explained then.
  EnvVars identity_vars;
  resolve_identity(spec, p, identity_vars, err);
  if (err) return;
  if (spec.channel.enabled) {
    // The library's own variable for this child: after `set`, and never the host's own (a host
    // that is itself a worker).
    extra_env.push_back(std::string(ChannelSpec::environment_variable) + "=" +
                        std::to_string(spec.channel.child_fd));
  }
  EnvPlan env = plan_environment(spec.env, environ, "/usr/local/bin:/usr/bin:/bin", identity_vars,
                                 std::move(extra_env));
  if (env.host_as_is) {
    // The common case, kept cheap (spawn is a hot path): the host's environment as it is, its
    // strings not even copied. glibc never frees a string setenv() made, and a string the host
    // put there itself it must keep while it is in the environment, as posix_spawn(environ)
    // requires too. What the spec and the request add (e.g. a pool worker's identity) follows.
    for (char** e = environ; e && *e; ++e) p.envp.push_back(*e);
  }
  p.env_storage = std::move(env.vars);
  if (env.watchdog_pid) {
    // Room for any pid's digits: the clone3 child writes its own pid here (memory it owns or,
    // vfork-style, this spawn's own buffer), and a spawner that cannot drops the variable.
    p.env_storage.push_back("WATCHDOG_PID=" + std::string(20, '0'));
  }
  resolve_program(spec.argv[0], env.path, spec.cwd, p, err);
  if (err) return;
  for (const auto& l : spec.limits) {
    p.limits.push_back({native_limit(l.kind),
                        l.soft == ResourceLimit::unlimited ? RLIM_INFINITY : l.soft,
                        l.hard == ResourceLimit::unlimited ? RLIM_INFINITY : l.hard});
  }
  p.argv_storage = spec.argv;
  for (auto& a : p.argv_storage) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  for (auto& e : p.env_storage) p.envp.push_back(e.data());
  if (env.watchdog_pid) {
    p.own_pid_env = p.envp.size() - 1;
    p.own_pid_digits = p.env_storage.back().data() + std::strlen("WATCHDOG_PID=");
  }
  p.envp.push_back(nullptr);

  open_stdio(spec.in, 0, p, &p.in_write, "in", err);
  if (err) return;
  open_stdio(spec.out, 1, p, &p.out_read, "out", err);
  if (err) return;
  open_stdio(spec.err, 2, p, &p.err_read, "err", err);
  if (err) return;
  for (const auto& pf : spec.pass_fds) {
    if (::fcntl(pf.host_fd, F_GETFD) < 0) {
      const int e = errno;
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("ProcessSpec.pass_fds: host fd {} is not open: {}", pf.host_fd,
                           sys_message(e));
      });
      return;
    }
    p.fds.push_back({pf.host_fd, pf.child_fd});
  }
  if (spec.channel.enabled) {
    open_channel(spec.channel, p, err);
    if (err) return;
  }
  for (const auto& m : p.fds) p.max_target = std::max(p.max_target, m.target);
  rlimit nofile{};
  if (p.has_close_range) {
    // The close loop is never needed.
  } else if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    p.close_limit = static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20));
  } else {
    p.close_limit = 1 << 16;
  }
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::string exec_failure_message(const PreparedSpawn& p, ExecStage stage, int e) {
  std::string what = sys_message(e);
  if (stage == ExecStage::chdir) {
    return fmt::format("spawn \"{}\": chdir \"{}\": {}", p.program, p.cwd, what);
  }
  if (e == ENOEXEC) what += " (not a valid executable for this machine)";
  if (e == E2BIG) what += " (argv + environment too large)";
  return fmt::format("spawn \"{}\": {} (cwd \"{}\")", p.program, what, shown_cwd(p.cwd));
}

SUPERVISOR_LOCAL_END

// Found after the fact: the checks cost a spawn time that a successful one need not pay.
SUPERVISOR_INLINE void explain_exec_failure(const PreparedSpawn& p, ExecStage stage, int e,
                                            ErrorSink& err) {
  if (!p.cwd.empty() && stage != ExecStage::exec) {
    struct stat st {};
    const int ce = ::stat(p.cwd.c_str(), &st) != 0 ? errno : (S_ISDIR(st.st_mode) ? 0 : ENOTDIR);
    if (ce != 0) {
      err.fail(std::error_code(ce, std::system_category()), [&] {
        return fmt::format("spawn \"{}\": cwd \"{}\": {}", p.display, p.cwd, sys_message(ce));
      });
      return;
    }
  }
  if (stage != ExecStage::chdir && p.program.find('/') != std::string::npos) {
    const std::string& name = p.program;
    const std::string full = (name.front() != '/' && !p.cwd.empty()) ? p.cwd + "/" + name : name;
    if (const int pe = check_program(full); pe != 0) {
      fail_program(name, p.cwd, pe, pe == EISDIR ? "is a directory" : sys_message(pe), err);
      return;
    }
  }
  err.fail(std::error_code(e, std::system_category()), [&] {
    return exec_failure_message(p, stage == ExecStage::chdir ? ExecStage::chdir : ExecStage::exec,
                                e);
  });
}

}  // namespace supervisor::detail
