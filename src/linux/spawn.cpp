// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "linux/spawn.hpp"

#include "linux/clone3.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>

extern char** environ;  // NOLINT: POSIX

// vfork-style clone3 needs a few instructions of assembly per architecture: x86-64 has them.
// SUPERVISOR_FORK_CLONE3 forces the portable fork-style clone3 (to build and test that path).
#if defined(__x86_64__) && !defined(SUPERVISOR_FORK_CLONE3)
#  define SV_VFORK_CLONE3 1
#else
#  define SV_VFORK_CLONE3 0
#endif

namespace supervisor::detail {
namespace {

std::string sys_message(int e) { return std::system_category().message(e); }

// The cwd a message names: the spec's, or the host's own when the spec keeps it.
std::string shown_cwd(const std::string& cwd) {
  if (!cwd.empty()) return cwd;
  char buf[4096];
  return ::getcwd(buf, sizeof buf) ? std::string(buf) : std::string(".");
}

// ------------------------------------------------------------------------------------------
// Preparation (any thread)

std::optional<long long> parse_number(std::string_view s) {
  long long v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end || v < 0) return std::nullopt;
  return v;
}

bool lookup_user(const std::string& name, uid_t& uid, gid_t& gid, std::string& canonical) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (auto n = parse_number(name)) {
    uid = static_cast<uid_t>(*n);
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) {
      gid = pw.pw_gid;
      canonical = pw.pw_name;
    } else {
      gid = static_cast<gid_t>(*n);  // a bare uid without a passwd entry: its own group number
    }
    return true;
  }
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) return false;
  uid = pw.pw_uid;
  gid = pw.pw_gid;
  canonical = pw.pw_name;
  return true;
}

bool lookup_group(const std::string& name, gid_t& gid) {
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

void resolve_identity(const ProcessSpec& spec, PreparedSpawn& p, ErrorSink& err) {
  const Identity& id = spec.identity;
  if (id.umask) p.umask = static_cast<int>(*id.umask);
  if (!id.user && !id.group && id.supplementary.empty()) return;
  p.set_identity = true;
  p.uid = geteuid();
  p.gid = getegid();
  std::string user_name;
  if (id.user && !lookup_user(*id.user, p.uid, p.gid, user_name)) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.identity.user: unknown user \"{}\"", *id.user);
    });
    return;
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
  if (id.supplementary.empty() && !user_name.empty()) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    while (getgrouplist(user_name.c_str(), p.gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<std::size_t>(n) * 2);
      n = static_cast<int>(groups.size());
    }
    groups.resize(static_cast<std::size_t>(n));
    p.groups = std::move(groups);
  } else if (id.supplementary.empty()) {
    p.groups = {p.gid};
  }
}

void build_env(const ProcessSpec& spec, PreparedSpawn& p, std::string& path_var) {
  path_var = "/usr/local/bin:/usr/bin:/bin";
  if (spec.env.inherit && spec.env.set.empty() && spec.env.unset.empty()) {
    // The common case, kept cheap (spawn is a hot path): the host's environment as it is, its
    // strings not even copied. glibc never frees a string setenv() made, and a string the host
    // put there itself it must keep while it is in the environment, as posix_spawn(environ)
    // requires too.
    for (char** e = environ; e && *e; ++e) {
      p.envp.push_back(*e);
      if (std::strncmp(*e, "PATH=", 5) == 0) path_var = *e + 5;
    }
    return;
  }
  std::map<std::string, std::string> vars;
  if (spec.env.inherit) {
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      vars.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  for (const auto& k : spec.env.unset) vars.erase(k);
  for (const auto& kv : spec.env.set) vars[kv.first] = kv.second;
  if (auto it = vars.find("PATH"); it != vars.end()) path_var = it->second;
  p.env_storage.reserve(vars.size());
  for (const auto& kv : vars) p.env_storage.push_back(kv.first + "=" + kv.second);
}

// Whether execve could run `candidate`: 0, or the errno that tells why not (EISDIR for a
// directory, which execve itself reports as EACCES).
int check_program(const std::string& candidate) {
  struct stat st {};
  if (::stat(candidate.c_str(), &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (!S_ISREG(st.st_mode)) return EACCES;
  if (::access(candidate.c_str(), X_OK) != 0) return errno;
  return 0;
}

void fail_program(const std::string& name, const std::string& cwd, int e, std::string_view what,
                  ErrorSink& err) {
  err.fail(std::error_code(e, std::system_category()), [&] {
    return fmt::format("spawn \"{}\": {} (cwd \"{}\")", name, what, shown_cwd(cwd));
  });
}

// Picks what execve will run. A name with a slash is taken as it is, unchecked: spawning is a hot
// path, and a failed execve is explained afterwards (explain_exec_failure). A bare name is looked
// up in PATH, each candidate checked as execvp would try it.
void resolve_program(const std::string& name, const std::string& path_var, const std::string& cwd,
                     PreparedSpawn& p, ErrorSink& err) {
  if (name.find('/') != std::string::npos) {
    p.program = name;  // a relative one is relative to the child's cwd, as execve will see it
    return;
  }
  const auto check = check_program;
  const auto fail = [&](int e, std::string_view what) { fail_program(name, cwd, e, what, err); };
  int first_error = ENOENT;
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    // Built by append: GCC 12 at -O2/-O3 reports a false -Wrestrict for `dir = "."` here.
    std::string candidate;
    if (end == start) candidate.push_back('.');
    candidate.append(path_var, start, end - start);
    candidate.push_back('/');
    candidate.append(name);
    const int e = check(candidate);
    if (e == 0) {
      p.program = candidate;
      return;
    }
    if (e != ENOENT && e != ENOTDIR && first_error == ENOENT) first_error = e;
    start = end + 1;
  }
  fail(first_error, first_error == ENOENT ? fmt::format("not found in PATH \"{}\"", path_var)
                                          : fmt::format("{} (first match in PATH \"{}\")",
                                                        sys_message(first_error), path_var));
}

int native_limit(ResourceLimit::Kind k) {
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

void open_stdio(const StdioSpec& io, int target, PreparedSpawn& p, UniqueFd* read_end,
                std::string_view field, ErrorSink& err) {
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
      UniqueFd fd(::open(path.c_str(), flags, 0640));
      if (!fd) {
        const int e = errno;
        err.fail(std::error_code(e, std::system_category()), [&] {
          return fmt::format("ProcessSpec.{}: open \"{}\": {}", field, path, sys_message(e));
        });
        return;
      }
      p.fds.push_back({fd.get(), target});
      if (io.mode == Mode::null && target != 0) p.null_out = fd.get();
      p.owned.push_back(std::move(fd));
      return;
    }
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
      // Only our end is non-blocking: the worker writes to an ordinary blocking pipe.
      ::fcntl(r.get(), F_SETFL, ::fcntl(r.get(), F_GETFL) | O_NONBLOCK);
      p.fds.push_back({w.get(), target});
      p.owned.push_back(std::move(w));
      if (read_end) *read_end = std::move(r);
      return;
    }
  }
}

}  // namespace

void prepare_spawn(const ProcessSpec& spec, PreparedSpawn& p, ErrorSink& err) {
  p.display = spec.display_name();
  p.cwd = spec.cwd;
  p.new_session = spec.new_session;
  p.die_with_host = spec.die_with_host;
  // A missing cwd is found when the child's chdir fails, and explained then.
  std::string path_var;
  build_env(spec, p, path_var);
  resolve_program(spec.argv[0], path_var, spec.cwd, p, err);
  if (err) return;
  resolve_identity(spec, p, err);
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
  p.envp.push_back(nullptr);

  open_stdio(spec.in, 0, p, nullptr, "in", err);
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

// ------------------------------------------------------------------------------------------
// The child side of clone3. Runs in a copy of a multi-threaded process before execve: only raw
// system calls, no allocation, no locks, no sanitizer runtime (it was copied mid-flight).

namespace {

enum ChildStep : int {
  step_signals = 1,
  step_join_cgroup,
  step_session,
  step_deathsig,
  step_parent_gone,
  step_limits,
  step_umask,
  step_fds,
  step_groups,
  step_gid,
  step_uid,
  step_chdir,
  step_exec,
};

const char* step_name(int step) {
  switch (step) {
    case step_signals: return "reset signals";
    case step_join_cgroup: return "join the cgroup v1 groups of its limits";
    case step_session: return "setsid";
    case step_deathsig: return "prctl(PR_SET_PDEATHSIG)";
    case step_parent_gone: return "host exited during spawn";
    case step_limits: return "setrlimit";
    case step_umask: return "umask";
    case step_fds: return "set up fds";
    case step_groups: return "setgroups";
    case step_gid: return "setgid";
    case step_uid: return "setuid";
    case step_chdir: return "chdir";
    case step_exec: return "execve";
    default: return "spawn";
  }
}

struct ChildReport {
  int step;
  int error;
};

// Where a failing child tells the parent what went wrong: memory it shares with the parent (the
// vfork-style clone, which the parent reads once the child is gone), or a pipe (the fork-style
// one, whose memory is a copy).
struct ChildSink {
  int fd = -1;
  ChildReport* shared = nullptr;
};

[[noreturn]] SV_NO_SANITIZE void child_fail(ChildSink sink, int step, int error) {
  if (sink.shared) {
    sink.shared->step = step;
    sink.shared->error = error;
  } else {
    ChildReport r{step, error};
    syscall(SYS_write, sink.fd, &r, sizeof r);
  }
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

[[noreturn]] SV_NO_SANITIZE void child_main(const PreparedSpawn& p, ChildSink report_fd) {
  long r = 0;
  // 1. Dispositions back to default (an ignored SIGPIPE would survive execve), before any signal
  //    is unblocked: spawn_clone3 blocks them all for the clone, and the child inherited that.
  KernelSigaction dfl{nullptr, 0, nullptr, 0};
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(std::uint64_t));
  }
  // Into the groups that carry its limits, before anything of the worker's program runs.
  for (const auto& fd : p.join_fds) {
    if (syscall(SYS_write, fd.get(), "0", 1) != 1) child_fail(report_fd, step_join_cgroup, errno);
  }
  if (p.new_session && syscall(SYS_setsid) < 0) child_fail(report_fd, step_session, errno);
  if (p.die_with_host) {
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
      child_fail(report_fd, step_deathsig, errno);
    // The parent may have died between clone3 and prctl: then nobody would ever kill us.
    if (syscall(SYS_getppid) != p.parent_pid) child_fail(report_fd, step_parent_gone, ESRCH);
  }
  for (const auto& l : p.limits) {
    struct {
      std::uint64_t cur, max;
    } lim{l.soft, l.hard};
    if (syscall(SYS_prlimit64, 0, l.resource, &lim, nullptr) != 0)
      child_fail(report_fd, step_limits, errno);
  }
  if (p.umask >= 0) syscall(SYS_umask, p.umask);

  // 2. fds: move the report pipe and every source above all targets, then place the sources,
  //    then close everything else (whatever other host threads opened without O_CLOEXEC too).
  const int floor = p.max_target + 1;
  if (report_fd.fd >= 0) {
    r = syscall(SYS_fcntl, report_fd.fd, F_DUPFD_CLOEXEC, floor);
    if (r < 0) child_fail(report_fd, step_fds, errno);
    report_fd.fd = static_cast<int>(r);
  }
  int moved[64];
  const std::size_t count = p.fds.size() < 64 ? p.fds.size() : 64;
  if (p.fds.size() > 64) child_fail(report_fd, step_fds, EMFILE);
  for (std::size_t i = 0; i < count; ++i) {
    r = syscall(SYS_fcntl, p.fds[i].source, F_DUPFD_CLOEXEC, floor);
    if (r < 0) child_fail(report_fd, step_fds, errno);
    moved[i] = static_cast<int>(r);
  }
  for (std::size_t i = 0; i < count; ++i) {
    // dup2 clears FD_CLOEXEC on the target: exactly the fds we mean to pass survive execve.
    if (syscall(SYS_dup2, moved[i], p.fds[i].target) < 0) child_fail(report_fd, step_fds, errno);
  }
  for (int fd = 0; fd < floor; ++fd) {
    bool wanted = false;
    for (std::size_t i = 0; i < count; ++i) wanted = wanted || p.fds[i].target == fd;
    if (!wanted) syscall(SYS_close, fd);
  }
  // Everything from `floor` up except the report pipe (it is O_CLOEXEC and closes at execve).
  const int keep = report_fd.fd;
  const bool closed = keep < 0
                          ? syscall(SYS_close_range, floor, ~0U, 0) == 0
                          : (keep == floor || syscall(SYS_close_range, floor, keep - 1, 0) == 0) &&
                                syscall(SYS_close_range, keep + 1, ~0U, 0) == 0;
  if (!closed) {
    for (int fd = floor; fd < p.close_limit; ++fd) {
      if (fd != keep) syscall(SYS_close, fd);
    }
  }

  // 3. identity, then cwd (the target user may be the only one allowed into it).
  if (p.set_identity) {
    if (syscall(SYS_setgroups, p.groups.size(), p.groups.data()) != 0)
      child_fail(report_fd, step_groups, errno);
    if (syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) child_fail(report_fd, step_gid, errno);
    if (syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) child_fail(report_fd, step_uid, errno);
  }
  if (!p.cwd.empty() && syscall(SYS_chdir, p.cwd.c_str()) != 0)
    child_fail(report_fd, step_chdir, errno);

  std::uint64_t empty_mask = 0;
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty_mask, nullptr, sizeof empty_mask) != 0)
    child_fail(report_fd, step_signals, errno);
  syscall(SYS_execve, p.program.c_str(), p.argv.data(), p.envp.data());
  child_fail(report_fd, step_exec, errno);
}

#if SV_VFORK_CLONE3
// vfork-style clone3 (CLONE_VM | CLONE_VFORK): the child borrows the parent's memory and runs on
// a stack of its own until execve, while the parent thread waits; nothing is copied, so the cost
// does not grow with the host's size. clone3 returns in the child on the new stack, where no C++
// frame exists: the child side is a few instructions that call `fn(arg)`, which never returns.
// Registers other than rax, rcx and r11 survive the system call, in the parent and in the child.
SV_NO_SANITIZE long clone3_on_stack(CloneArgs& args, void (*fn)(void*), void* arg) {
  long ret;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "mov %[arg], %%rdi\n\t"  // the child, on its new stack
      "mov %[fn], %%rax\n\t"
      "xor %%ebp, %%ebp\n\t"  // an outermost frame
      "call *%%rax\n\t"
      "ud2\n\t"  // fn never returns
      "1:\n\t"
      : "=a"(ret)
      : "a"(SYS_clone3), "D"(&args), "S"(sizeof args), [fn] "r"(fn), [arg] "r"(arg)
      : "rcx", "r11", "memory", "cc");
  return ret;
}

struct VforkChild {
  const PreparedSpawn* p;
  ChildReport* report;
};

[[noreturn]] SV_NO_SANITIZE void vfork_child_entry(void* arg) {
  const auto* c = static_cast<const VforkChild*>(arg);
  child_main(*c->p, ChildSink{-1, c->report});
}
#else
// Fork-style clone3: the child runs on a copy of the parent's memory. Calls clone3; in the child,
// never returns. The child resumes inside this frame, so it is kept free of instrumentation too.
SV_NO_SANITIZE long clone3_and_exec(const PreparedSpawn& p, CloneArgs& args, int report_fd) {
  long r = syscall(SYS_clone3, &args, sizeof args);
  if (r == 0) child_main(p, ChildSink{report_fd, nullptr});
  return r;
}
#endif

std::atomic<int> g_clone3_state{0};  // 0 unknown, 1 yes, -1 no

void reap_failed(pid_t pid, int pidfd) {
  siginfo_t info{};
  if (pidfd >= 0) {
    while (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | __WALL, nullptr) != 0 &&
           errno == EINTR) {
    }
  } else {
    while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
  }
}

std::string failure_message(const PreparedSpawn& p, int step, int e) {
  std::string what = sys_message(e);
  if (step == step_exec && e == ENOEXEC) what += " (not a valid executable for this machine)";
  if (step == step_exec && e == E2BIG) what += " (argv + environment too large)";
  const std::string cwd = shown_cwd(p.cwd);
  if (step == step_exec) return fmt::format("spawn \"{}\": {} (cwd \"{}\")", p.program, what, cwd);
  if (step == step_chdir)
    return fmt::format("spawn \"{}\": chdir \"{}\": {}", p.program, p.cwd, what);
  return fmt::format("spawn \"{}\": {}: {} (cwd \"{}\")", p.program, step_name(step), what, cwd);
}

// Why the child's chdir or execve failed, found after the fact (the checks cost a spawn time
// that a successful one need not pay): a missing or non-directory cwd, a missing, non-executable
// or directory program; else the child's own errno, with what it means for execve.
// `step` 0: either of the two (posix_spawn does not say which).
void explain_failure(const PreparedSpawn& p, int step, int e, ErrorSink& err) {
  if (!p.cwd.empty() && step != step_exec) {
    struct stat st {};
    const int ce = ::stat(p.cwd.c_str(), &st) != 0 ? errno : (S_ISDIR(st.st_mode) ? 0 : ENOTDIR);
    if (ce != 0) {
      err.fail(std::error_code(ce, std::system_category()), [&] {
        return fmt::format("spawn \"{}\": cwd \"{}\": {}", p.display, p.cwd, sys_message(ce));
      });
      return;
    }
  }
  if (step != step_chdir && p.program.find('/') != std::string::npos) {
    const std::string& name = p.program;
    const std::string full = (name.front() != '/' && !p.cwd.empty()) ? p.cwd + "/" + name : name;
    if (const int pe = check_program(full); pe != 0) {
      fail_program(name, p.cwd, pe, pe == EISDIR ? "is a directory" : sys_message(pe), err);
      return;
    }
  }
  err.fail(std::error_code(e, std::system_category()),
           [&] { return failure_message(p, step == 0 ? step_exec : step, e); });
}

// The child's stack in the vfork-style clone: a buffer in the parent's frame, which the parent
// cannot touch while it waits for the child's execve. child_main needs well under 4 KiB.
#if SV_VFORK_CLONE3
constexpr std::size_t k_child_stack_bytes = 32 * 1024;
#endif

void spawn_clone3(PreparedSpawn& p, int cgroup_fd, SpawnResult& out, ErrorSink& err) {
  auto fail_errno = [&](std::string_view what, int e) {
    err.fail(std::error_code(e, std::system_category()),
             [&] { return fmt::format("spawn \"{}\": {}: {}", p.program, what, sys_message(e)); });
  };
  int pidfd = -1;
  CloneArgs args;
  args.flags = (p.use_pidfd ? k_clone_pidfd : 0) | (cgroup_fd >= 0 ? k_clone_into_cgroup : 0);
  args.pidfd = p.use_pidfd ? reinterpret_cast<std::uintptr_t>(&pidfd) : 0;
  // exit_signal 0 until execve: a child that fails before exec sends the host no SIGCHLD and
  // cannot be reaped by the host's waitpid(-1). execve resets it to SIGCHLD (the kernel does so
  // on every exec), so a running worker can still be reaped by a host that ignores SIGCHLD or
  // calls waitpid(-1); the loop then reports the exit as `unknown` and counts it.
  args.exit_signal = 0;
  args.cgroup = cgroup_fd >= 0 ? static_cast<std::uint64_t>(cgroup_fd) : 0;
  ChildReport rep{0, 0};
  long r;
  // The child starts with every signal blocked, until its step 1 has reset the host's handlers
  // (the loop thread leaves SIGCHLD open, LoopCore::start says why).
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  struct MaskRestore {
    const sigset_t* mask;
    ~MaskRestore() { pthread_sigmask(SIG_SETMASK, mask, nullptr); }
  } restore{&before};
#if SV_VFORK_CLONE3
  {
    // Returns once the child has called execve successfully or exited; its report, if any, is
    // in `rep` by then.
    alignas(64) unsigned char stack[k_child_stack_bytes];
    VforkChild child{&p, &rep};
    args.flags |= k_clone_vm | k_clone_vfork;
    args.stack = reinterpret_cast<std::uintptr_t>(stack);
    args.stack_size = sizeof stack;
    r = clone3_on_stack(args, vfork_child_entry, &child);
    if (r < 0) return fail_errno("clone3", errno);
  }
#else
  {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
    UniqueFd report_r(report[0]);
    UniqueFd report_w(report[1]);
    r = clone3_and_exec(p, args, report_w.get());
    if (r < 0) return fail_errno("clone3", errno);
    report_w.reset();
    ssize_t n;
    do {
      n = ::read(report_r.get(), &rep, sizeof rep);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof rep)) rep = ChildReport{0, 0};  // EOF: execve worked
  }
#endif
  UniqueFd pidfd_owner(pidfd);
  if (rep.step != 0) {
    reap_failed(static_cast<pid_t>(r), pidfd_owner.get());
    if (rep.step == step_exec || rep.step == step_chdir) {
      explain_failure(p, rep.step, rep.error, err);
    } else {
      err.fail(std::error_code(rep.error, std::system_category()),
               [&] { return failure_message(p, rep.step, rep.error); });
    }
    return;
  }
  out.pid = static_cast<pid_t>(r);
  out.pidfd = std::move(pidfd_owner);
  out.path = SpawnPath::clone3;
}

// The file actions of this thread's last posix_spawn, reused while the next spawn's are the same
// (they are plain fd numbers and a path): building them costs a getrlimit per action, glibc
// checking each fd against RLIMIT_NOFILE, and a pool starts the same layout again and again.
class FileActionsCache {
 public:
  FileActionsCache() = default;
  ~FileActionsCache() {
    if (valid_) posix_spawn_file_actions_destroy(&actions_);
  }
  FileActionsCache(const FileActionsCache&) = delete;
  FileActionsCache& operator=(const FileActionsCache&) = delete;

  // `layout` and `cwd` determine what `build` adds to an empty set of actions; it returns 0 or
  // the error of the first action glibc refused (then `error` is set and nothing is kept).
  template <class Build>
  const posix_spawn_file_actions_t* get(std::vector<int> layout, const std::string& cwd,
                                        Build&& build, int& error) {
    if (valid_ && layout == layout_ && cwd == cwd_) return &actions_;
    if (valid_) posix_spawn_file_actions_destroy(&actions_);
    posix_spawn_file_actions_init(&actions_);
    valid_ = true;
    error = build(&actions_);
    if (error != 0) {
      posix_spawn_file_actions_destroy(&actions_);
      valid_ = false;
      return nullptr;
    }
    layout_ = std::move(layout);
    cwd_ = cwd;
    return &actions_;
  }

 private:
  bool valid_ = false;
  std::vector<int> layout_;
  std::string cwd_;
  posix_spawn_file_actions_t actions_{};
};

thread_local FileActionsCache t_file_actions;

void spawn_posix(PreparedSpawn& p, int cgroup_fd, SpawnResult& out, ErrorSink& err) {
  auto unsupported = [&](std::string_view what) {
    err.fail(errc::unsupported, [&] {
      return fmt::format("spawn \"{}\": the posix_spawn path cannot {}", p.program, what);
    });
  };
  if (p.set_identity) return unsupported("change identity");
  if (!p.limits.empty()) return unsupported("set resource limits");
  if (p.umask >= 0) return unsupported("set a umask");
  // A source that an earlier dup2 action would overwrite is moved above every target first.
  std::vector<int> sources;
  std::vector<UniqueFd> moved;
  for (std::size_t i = 0; i < p.fds.size(); ++i) {
    int source = p.fds[i].source;
    bool clobbered = false;
    for (std::size_t j = 0; j < i; ++j) clobbered = clobbered || p.fds[j].target == source;
    if (clobbered) {
      UniqueFd fd(::fcntl(source, F_DUPFD_CLOEXEC, p.max_target + 1));
      if (!fd) {
        const int e = errno;
        err.fail(std::error_code(e, std::system_category()),
                 [&] { return fmt::format("spawn \"{}\": dup: {}", p.program, sys_message(e)); });
        return;
      }
      source = fd.get();
      moved.push_back(std::move(fd));
    }
    sources.push_back(source);
  }
  std::vector<int> layout{p.max_target};
  for (std::size_t i = 0; i < p.fds.size(); ++i) {
    layout.push_back(sources[i]);
    layout.push_back(p.fds[i].target);
  }
  const auto build = [&](posix_spawn_file_actions_t* a) {
    int e = 0;
    for (std::size_t i = 0; i < p.fds.size() && e == 0; ++i)
      e = posix_spawn_file_actions_adddup2(a, sources[i], p.fds[i].target);
    for (int fd = 0; fd <= p.max_target && e == 0; ++fd) {
      bool wanted = false;
      for (const auto& m : p.fds) wanted = wanted || m.target == fd;
      if (!wanted) e = posix_spawn_file_actions_addclose(a, fd);
    }
    if (e == 0) e = posix_spawn_file_actions_addclosefrom_np(a, p.max_target + 1);
    if (e == 0 && !p.cwd.empty()) e = posix_spawn_file_actions_addchdir_np(a, p.cwd.c_str());
    return e;
  };
  int actions_error = 0;
  const posix_spawn_file_actions_t* fa =
      t_file_actions.get(std::move(layout), p.cwd, build, actions_error);
  if (fa == nullptr) {
    err.fail(std::error_code(actions_error, std::system_category()), [&] {
      return fmt::format("spawn \"{}\": posix_spawn file actions: {}", p.program,
                         sys_message(actions_error));
    });
    return;
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Every disposition back to default. glibc's child walks all signals anyway (it must clear
  // the host's handlers); naming them all here spares the parent one sigaction query per signal.
  // glibc's sigfillset leaves out its internal signals.
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (p.new_session) flags = static_cast<short>(flags | POSIX_SPAWN_SETSID);
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, p.program.c_str(), fa, &attr, p.argv.data(), p.envp.data());
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    // glibc reaps a child whose exec failed before returning the error, which may also be its
    // chdir's.
    explain_failure(p, 0, rc, err);
    return;
  }
  UniqueFd pidfd;
  if (p.use_pidfd) {
    pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
      const int e = errno;
      ::kill(pid, SIGKILL);
      reap_failed(pid, -1);
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("spawn \"{}\": pidfd_open: {} (needs Linux 5.3)", p.program,
                           sys_message(e));
      });
      return;
    }
  }
  if (cgroup_fd >= 0) move_to_cgroup(cgroup_fd, pid, err);
  // posix_spawn cannot join the limits' v1 groups before execve: they apply from here on.
  const std::string pid_text = std::to_string(pid);
  for (const auto& fd : p.join_fds) {
    if (err) break;
    if (::write(fd.get(), pid_text.data(), pid_text.size()) < 0) {
      const int e = errno;
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("move pid {} into the cgroup v1 groups of its limits: {}", pid,
                           sys_message(e));
      });
    }
  }
  if (err) {
    ::kill(pid, SIGKILL);  // ours and unreaped: the PID cannot have been reused
    reap_failed(pid, pidfd.get());
    return;
  }
  out.pid = pid;
  out.pidfd = std::move(pidfd);
  out.path = SpawnPath::posix_spawn;
}

}  // namespace

void move_to_cgroup(int cgroup_fd, pid_t pid, ErrorSink& err) {
  UniqueFd procs(::openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
  const std::string text = std::to_string(pid);
  if (!procs || ::write(procs.get(), text.data(), text.size()) < 0) {
    const int e = errno;
    err.fail(std::error_code(e, std::system_category()),
             [&] { return fmt::format("move pid {} into its cgroup: {}", pid, sys_message(e)); });
  }
}

void spawn_prepared(PreparedSpawn& p, int cgroup_fd, SpawnPath path, SpawnResult& out,
                    ErrorSink& err) {
  if (path == SpawnPath::clone3 && clone3_available()) {
    spawn_clone3(p, cgroup_fd, out, err);
  } else {
    spawn_posix(p, cgroup_fd, out, err);
  }
}

bool clone3_available() noexcept {
  int state = g_clone3_state.load(std::memory_order_acquire);
  if (state == 0) {
    // clone3 with an invalid size fails with EINVAL where it exists and ENOSYS where it does not
    // (older kernels, valgrind): nothing is created either way.
    const long r = syscall(SYS_clone3, nullptr, 0);
    state = (r < 0 && errno == ENOSYS) ? -1 : 1;
    g_clone3_state.store(state, std::memory_order_release);
  }
  return state > 0;
}

bool pidfd_available(std::string& why) {
  UniqueFd self(static_cast<int>(syscall(SYS_pidfd_open, ::getpid(), 0)));
  if (!self) {
    why = fmt::format("pidfd_open: {} (needs Linux 5.3)", sys_message(errno));
    return false;
  }
  // Not our child: ECHILD where waitid knows P_PIDFD, EINVAL where it does not.
  siginfo_t si{};
  if (syscall(SYS_waitid, P_PIDFD, self.get(), &si, WEXITED | WNOHANG, nullptr) != 0 &&
      errno == EINVAL) {
    why = "waitid(P_PIDFD): not supported (needs Linux 5.4)";
    return false;
  }
  return true;
}

bool close_range_available() noexcept {
  // Closing an empty range above every possible fd is harmless and tells whether the call exists.
  return syscall(SYS_close_range, ~0U - 1, ~0U, 0) == 0 || errno != ENOSYS;
}

int native_signal(Signal s) noexcept {
  switch (s) {
    case Signal::hangup: return SIGHUP;
    case Signal::interrupt: return SIGINT;
    case Signal::quit: return SIGQUIT;
    case Signal::kill: return SIGKILL;
    case Signal::user1: return SIGUSR1;
    case Signal::user2: return SIGUSR2;
    case Signal::terminate: return SIGTERM;
    case Signal::cont: return SIGCONT;
  }
  return SIGTERM;
}

}  // namespace supervisor::detail
