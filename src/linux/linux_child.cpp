// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "linux_child.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string_view>

#include "../process/loop_core.hpp"
#include "linux_backend.hpp"
#include "proc_stat.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE Duration from_timeval(const timeval& tv) {
  return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

SUPERVISOR_INLINE int pidfd_signal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Members of process group `pgid`, from the loop's /proc table: to count what a group kill hits.
SUPERVISOR_INLINE std::vector<pid_t> group_members(const ProcTable& table, pid_t pgid) {
  std::vector<pid_t> out;
  for (const auto& [ppid, entry] : table.by_parent) {
    if (entry.second == pgid) out.push_back(entry.first);
  }
  return out;
}

// Descendants of `root` (by parent links in /proc) that left its process group, e.g. by setsid.
SUPERVISOR_INLINE std::vector<pid_t> escaped_descendants(const ProcTable& table, pid_t root,
                                                         pid_t pgid) {
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    auto [lo, hi] = table.by_parent.equal_range(p);
    for (auto it = lo; it != hi; ++it) {
      todo.push_back(it->second.first);
      if (it->second.second != pgid) out.push_back(it->second.first);
    }
  }
  return out;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE LinuxChild::LinuxChild(LinuxBackend& backend,
                                         std::shared_ptr<const ProcessSpec> spec,
                                         const ProcessInfo& info, SpawnResult&& r,
                                         std::optional<CgroupV2Group> group, bool lean_group,
                                         TreeLimits limits, UniqueFd out, UniqueFd err)
    : backend_(backend),
      loop_(backend.loop()),
      spec_(std::move(spec)),
      pid_(info.pid),
      pgid_(info.pgid),
      cgroup_(info.cgroup),
      pidfd_(std::move(r.pidfd)),
      group_(std::move(group)),
      lean_group_(lean_group && group_),
      limits_(std::move(limits)) {
  out_.fd = std::move(out);
  err_.fd = std::move(err);
}

SUPERVISOR_INLINE LinuxChild::~LinuxChild() = default;

// Any thread: the thread that started the child (posix_spawn path) or the loop (clone3).
SUPERVISOR_INLINE bool LinuxChild::reserve() {
  // Without a cgroup, the sentinel kills this process group if the host dies.
  if (!group_ && spec_->new_session) backend_.sentinel().add_group(pgid_);
  backend_.registry().add(pid_, pgid_, cgroup_);
  pidfd_watch_ = pidfd_ ? loop_.reserve_watch(pidfd_.get(), io::readable) : 0;
  for (Pipe* p : {&out_, &err_}) {
    if (p->fd) p->watch_id = loop_.reserve_watch(p->fd.get(), io::readable);
  }
  const bool all_watched =
      pidfd_watch_ != 0 && (!out_.fd || out_.watch_id != 0) && (!err_.fd || err_.watch_id != 0);
  return !all_watched;
}

// Loop thread: the callbacks of what reserve() added to the poller (an id 0 was not added, so it
// is watched here instead, or polled).
SUPERVISOR_INLINE void LinuxChild::install(const std::shared_ptr<ChildEvents>& events) {
  events_ = events.get();
  weak_events_ = events;
  if (pidfd_ && pidfd_watch_ != 0) {
    loop_.install_watch(pidfd_watch_, [this, events](std::uint32_t) { on_pidfd(); });
  } else if (pidfd_) {
    pidfd_watch_ =
        loop_.watch(pidfd_.get(), io::readable, [this, events](std::uint32_t) { on_pidfd(); });
  }
  if (!pidfd_ || pidfd_watch_ == 0) {
    pidfd_.reset();  // unwatchable: poll by PID (still safe: the child is unreaped)
    arm_exit_poll();
  }
  for (StdStream s : {StdStream::out, StdStream::err}) {
    Pipe& p = pipe(s);
    if (!p.fd) continue;
    auto cb = [this, events, s](std::uint32_t) { events_->on_output(s); };
    if (p.watch_id != 0) {
      loop_.install_watch(p.watch_id, std::move(cb));
    } else {
      p.watch_id = loop_.watch(p.fd.get(), io::readable, std::move(cb));
    }
  }
}

// ------------------------------------------------------------------------------------------
// Exit

SUPERVISOR_INLINE void LinuxChild::on_pidfd() {
  siginfo_t si{};
  rusage ru{};
  long r;
  do {
    // __WALL: clone3 children have exit_signal 0 and are invisible to waitid without it.
    r = syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &si, WEXITED | __WALL, &ru);
  } while (r < 0 && errno == EINTR);
  // Unwatched and closed once the exit is handled (before the loop waits again): the host's
  // callback, and so a pool's restart, need not wait for two system calls.
  const std::uint64_t watch = std::exchange(pidfd_watch_, 0);
  const UniqueFd fd = std::move(pidfd_);
  on_reaped(r, si, ru);
  loop_.unwatch(watch, fd.get());
}

// Without pidfds (kernels before 5.4, or LinuxLoopOptions::disable_pidfd): nothing wakes the loop
// when the child exits, so it asks, by PID, with a backoff from 1 ms to 20 ms (reset whenever a
// signal is sent, so that a stop is seen at once). waitid(P_PID) on our own unreaped child is
// safe: its PID cannot be reused before we reap it.
SUPERVISOR_INLINE void LinuxChild::poll_exit() {
  exit_poll_timer_ = 0;
  siginfo_t si{};
  rusage ru{};
  long r;
  do {
    r = syscall(SYS_waitid, P_PID, pid_, &si, WEXITED | WNOHANG | __WALL, &ru);
  } while (r < 0 && errno == EINTR);
  if (r == 0 && si.si_pid == 0) {  // still running
    exit_poll_ = std::min<Duration>(exit_poll_ * 2, std::chrono::milliseconds(20));
    arm_exit_poll();
    return;
  }
  on_reaped(r, si, ru);
}

SUPERVISOR_INLINE void LinuxChild::arm_exit_poll() {
  if (pidfd_ || leader_exited_) return;
  if (exit_poll_timer_) loop_.cancel_timer(exit_poll_timer_);
  // Holds the portable half: an abandoned child outlives its place in the loop's set.
  exit_poll_timer_ =
      loop_.add_timer(exit_poll_, [this, keep = weak_events_.lock()] { poll_exit(); });
}

// A signal was just sent to the leader: look for its exit soon.
SUPERVISOR_INLINE void LinuxChild::expect_exit() {
  if (pidfd_ || leader_exited_) return;
  exit_poll_ = std::chrono::milliseconds(1);
  arm_exit_poll();
}

// Sends `sig` to the main process: through its pidfd, or by PID while it is unreaped (and so
// cannot have been reused) when there is no pidfd.
SUPERVISOR_INLINE int LinuxChild::signal_main(int sig) {
  if (leader_exited_) {
    errno = ESRCH;
    return -1;
  }
  const int r = pidfd_ ? pidfd_signal(pidfd_.get(), sig) : ::kill(pid_, sig);
  const int e = errno;
  expect_exit();
  errno = e;
  return r;
}

SUPERVISOR_INLINE void LinuxChild::on_reaped(long r, const siginfo_t& si, const rusage& ru) {
  if (exit_poll_timer_) loop_.cancel_timer(exit_poll_timer_);
  exit_poll_timer_ = 0;
  pidfd_.reset();
  leader_exited_ = true;
  LeaderExit e;
  if (r < 0) {
    // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN, or a waitpid(-1) in the host).
    e.observed = false;
  } else {
    e.usage.user_cpu = from_timeval(ru.ru_utime);
    e.usage.system_cpu = from_timeval(ru.ru_stime);
    e.usage.max_rss_kib = ru.ru_maxrss;
    e.usage.minor_faults = ru.ru_minflt;
    e.usage.major_faults = ru.ru_majflt;
    e.usage.voluntary_switches = ru.ru_nvcsw;
    e.usage.involuntary_switches = ru.ru_nivcsw;
    if (si.si_code == CLD_EXITED) {
      e.exit_code = si.si_status;
    } else {
      e.signal = si.si_status;
      e.core_dumped = si.si_code == CLD_DUMPED;
      e.kill_signal = e.signal == SIGKILL;
      e.cpu_limit_signal = e.signal == SIGXCPU;
    }
  }
  events_->on_leader_exit(e);
}

// The main process of a child reported unreaped long ago is gone: clean up after it.
SUPERVISOR_INLINE void LinuxChild::abandoned_exit() {
  if (group_) {
    ErrorSink e;
    group_->kill(e);
  } else if (spec_->new_session && pgid_ > 0) {
    ::kill(-pgid_, SIGKILL);
  }
  release_tree();
}

SUPERVISOR_INLINE int LinuxChild::kill_rest(bool count, bool& empty) {
  int killed = 0;
  if (!count) {
    // The tree kill is under way (counted when it was sent); only wait for it to finish.
  } else if (lean_group_ && remove_if_empty()) {
    empty = true;  // the usual case: the tree was its leader alone, and its group is gone
  } else if (group_) {
    ErrorSink e;
    if (group_->populated(e)) {
      killed = static_cast<int>(group_->procs(e).size());
      group_->kill(e);
    }
  } else if (spec_->new_session) {
    if (::kill(-pgid_, 0) != 0 && errno == ESRCH) {
      empty = true;  // the usual case, known without a second look
    } else {
      // Only when the group still has members: scanning /proc costs ~1 ms per hundred processes.
      const auto members = group_members(backend_.proc_table(), pgid_);
      if (!members.empty()) {
        killed = static_cast<int>(members.size());
        ::kill(-pgid_, SIGKILL);  // the group outlives its leader only while members remain
      }
    }
  }
  for (auto& fd : escapees_) {
    if (pidfd_signal(fd.get(), SIGKILL) == 0 && count) ++killed;
  }
  escapees_.clear();
  return killed;
}

// A lean group's rmdir: true when it succeeded (the group was empty and is gone). A failure
// other than EBUSY is no answer: then the group's files are read, as for any group.
SUPERVISOR_INLINE bool LinuxChild::remove_if_empty() {
  ErrorSink e;
  return group_->remove(e) && !e;
}

SUPERVISOR_INLINE bool LinuxChild::tree_empty() {
  if (lean_group_ && remove_if_empty()) return true;
  if (group_) {
    ErrorSink e;
    const bool populated = group_->populated(e);
    return e ? true : !populated;
  }
  if (!spec_->new_session) return true;  // the tree is the leader alone; never signal the host's
  return ::kill(-pgid_, 0) != 0 && errno == ESRCH;
}

SUPERVISOR_INLINE void LinuxChild::watch_tree() {
  if (!group_ || events_watch_ != 0) return;
  ErrorSink e;
  const int fd = group_->events_fd(e);
  if (fd < 0) return;  // polled instead (ChildCore::arm_tree_poll)
  events_watch_ = loop_.watch(fd, io::priority, [this, keep = weak_events_.lock()](std::uint32_t) {
    events_->on_tree_changed();
  });
}

SUPERVISOR_INLINE int LinuxChild::count_left() {
  if (group_) {
    ErrorSink e;
    return static_cast<int>(group_->procs(e).size());
  }
  return static_cast<int>(group_members(backend_.proc_table(), pgid_).size());
}

// Processes of the tree besides the main one: the cgroup's members, or the process group's.
SUPERVISOR_INLINE int LinuxChild::others_in_tree() {
  std::vector<int> members;
  if (group_) {
    ErrorSink e;
    members = group_->procs(e);
  } else if (spec_->new_session) {
    members = group_members(backend_.proc_table(), pgid_);
  }
  return static_cast<int>(
      std::count_if(members.begin(), members.end(), [&](int p) { return p != pid_; }));
}

// The same unit others_in_tree() counts: the fresh cgroup (its own processes), else the session
// the worker leads. Without either, the tree cannot be told from the host's own processes.
SUPERVISOR_INLINE bool LinuxChild::in_tree(int pid) {
  if (pid <= 0) return false;
  if (group_) {
    ErrorSink e;
    const std::vector<int> members = group_->procs(e);
    return std::find(members.begin(), members.end(), pid) != members.end();
  }
  if (spec_->new_session) return ::getsid(pid) == pid_;
  return false;
}

SUPERVISOR_INLINE TreeCounters LinuxChild::counters() {
  std::optional<CgroupStats> cs;
  if (group_) {
    ErrorSink ignored;
    cs = group_->stats(ignored);
  }
  const LimitCounters c = read_limit_counters(limits_, cs ? &*cs : nullptr);
  return TreeCounters{c.oom_kills.value_or(0), c.fork_refusals.value_or(0)};
}

// Removes what the tree kept on the host's side: its cgroup, its sentinel entry, its registry line.
SUPERVISOR_INLINE void LinuxChild::release_tree() {
  if (events_watch_) loop_.unwatch(events_watch_, group_->open_events_fd());
  events_watch_ = 0;
  if (group_) {
    ErrorSink e;
    group_->remove(e);
    group_.reset();
  } else if (spec_->new_session) {
    backend_.sentinel().remove_group(pgid_);
  }
  limits_.release();  // empty once the tree is gone; a leftover goes with the loop's base
  backend_.registry().remove(pid_);
}

// ------------------------------------------------------------------------------------------
// Output

// Reads what is there; false at the end of the stream. Never blocks: the fd is non-blocking.
// Bounded while the tree lives, so that one flooding worker cannot starve the loop; draining is
// bounded too (16 MiB): a descendant that escaped the kill could write forever.
SUPERVISOR_INLINE bool LinuxChild::read_output(StdStream s, bool draining, OutputSink& sink) {
  Pipe& p = pipe(s);
  if (!p.fd) return false;
  char buf[16384];
  for (int rounds = 0; rounds < (draining ? 1024 : 16); ++rounds) {
    const ssize_t n = ::read(p.fd.get(), buf, sizeof buf);
    if (n == 0) return false;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;
    if (!sink.on_chunk(s, std::string_view(buf, static_cast<std::size_t>(n)), draining))
      return true;  // paused
  }
  return true;
}

// A paused stream leaves the poller (level-triggered, it would wake the loop for as long as the
// pipe holds data), and comes back when reading resumes.
SUPERVISOR_INLINE void LinuxChild::pause_output(StdStream s, bool paused) {
  Pipe& p = pipe(s);
  if (!p.fd || p.watch_id == 0 || p.suspended == paused) return;
  p.suspended = paused;
  if (paused) {
    loop_.backend().poller().remove(p.fd.get());
  } else {
    loop_.backend().poller().add(p.fd.get(), io::readable, p.watch_id);
  }
}

SUPERVISOR_INLINE void LinuxChild::close_output(StdStream s) {
  Pipe& p = pipe(s);
  if (!p.fd) return;
  loop_.unwatch(p.watch_id, p.fd.get());  // a suspended one is only out of the poller already
  p.watch_id = 0;
  p.fd.reset();
}

// ------------------------------------------------------------------------------------------
// Stop

SUPERVISOR_INLINE void LinuxChild::prepare_stop() {
  if (group_ || !spec_->new_session || pid_ <= 0) return;
  // One /proc scan serves every worker stopped in the same moment (a pool's stop of 1000
  // workers would otherwise scan /proc 1000 times).
  for (pid_t p : escaped_descendants(backend_.proc_table(), pid_, pgid_)) {
    UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, p, 0)));
    if (fd) escapees_.push_back(std::move(fd));
  }
}

SUPERVISOR_INLINE std::error_code LinuxChild::signal_leader(Signal s) {
  if (signal_main(native_signal(s)) == 0) return {};
  return {errno, std::system_category()};
}

SUPERVISOR_INLINE void LinuxChild::signal_tree(Signal s) { signal_tree_native(native_signal(s)); }

// Sends `sig` to every process of the tree we can name: the cgroup's members, or the process
// group plus descendants that escaped it. The leader always through its pidfd (never a reused
// PID).
SUPERVISOR_INLINE void LinuxChild::signal_tree_native(int sig) {
  signal_main(sig);
  if (group_) {
    ErrorSink e;
    for (int p : group_->procs(e)) {
      if (p == pid_) continue;
      UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, p, 0)));
      if (fd) pidfd_signal(fd.get(), sig);
    }
    return;
  }
  if (spec_->new_session && pgid_ > 0) ::kill(-pgid_, sig);
  for (auto& fd : escapees_) pidfd_signal(fd.get(), sig);
}

SUPERVISOR_INLINE int LinuxChild::kill_tree() {
  if (group_) {
    ErrorSink e;
    group_->kill(e);
    return 0;
  }
  const int escaped = static_cast<int>(escapees_.size());
  signal_tree_native(SIGKILL);
  return escaped;
}

// ------------------------------------------------------------------------------------------
// Limits and sampling

SUPERVISOR_INLINE void LinuxChild::change_limits(const ResourceLimits& previous,
                                                 const ResourceLimits& next,
                                                 std::vector<LimitStatus>& statuses,
                                                 ErrorSink& err) {
  lean_group_ = false;  // its counters are read at the exit from now on
  detail::change_limits(backend_.limit_support(), *spec_, previous, next,
                        group_ ? &*group_ : nullptr, pid_, limits_, err);
  statuses = limits_.statuses;
}

SUPERVISOR_INLINE ResourceSample LinuxChild::sample(bool limit_counters) {
  ResourceSample r;
  // The pidfd keeps the PID from being reused while we read /proc/<pid>: the child is ours and
  // unreaped until the loop (this thread) reaps it.
  if (auto s = sample_process(pid_)) {
    r.alive = s->state != 'Z';
    r.rss_bytes = s->rss_bytes;
    r.cpu_seconds = s->cpu_seconds;
    r.threads = s->threads;
    r.open_fds = s->open_fds;
    r.state = s->state;
  }
  std::optional<CgroupStats> cs;
  if (group_) {
    ErrorSink e;
    r.tree_processes = static_cast<int>(group_->procs(e).size());
    cs = group_->stats(e);
    if (cs->cpu_usage_usec) r.tree_cpu_seconds = static_cast<double>(*cs->cpu_usage_usec) / 1e6;
    r.tree_memory_bytes = cs->memory_current;
    r.tree_pids = cs->pids_current;
  }
  if (!limit_counters) return r;
  const LimitCounters lc = read_limit_counters(limits_, cs ? &*cs : nullptr);
  if (!r.tree_memory_bytes) r.tree_memory_bytes = lc.memory_bytes;
  if (!r.tree_pids) r.tree_pids = lc.pids;
  r.cpu_throttled_periods = lc.throttled_periods;
  r.cpu_throttled_seconds = lc.throttled_seconds;
  r.oom_kills = lc.oom_kills;
  r.fork_refusals = lc.fork_refusals;
  r.memory_high_events = lc.memory_high_events;
  return r;
}

// Usage sampling runs once per worker per period, so it reads as little as it can: the tree's
// figures from its own cgroup v2 group (cpu.stat counts every process that ever ran in it;
// memory.current exists only where the memory controller is enabled for the group, which is
// looked at once), else from a v1 memory group (a v1 memory limit), and /proc/<pid>/stat only for
// what the groups did not give.
SUPERVISOR_INLINE std::optional<UsageReading> LinuxChild::usage() {
  UsageReading u;
  if (group_) {
    ErrorSink ignored;
    const CgroupUsage g = group_->usage(!no_memory_current_, ignored);
    if (g.cpu_usage_usec) {
      u.cpu_seconds = static_cast<double>(*g.cpu_usage_usec) / 1e6;
      u.tree_cpu = true;
    }
    if (g.memory_current) {
      u.memory_bytes = *g.memory_current;
      u.tree_memory = true;
    } else {
      no_memory_current_ = true;
    }
  }
  if (!u.tree_memory) {
    if (const auto* g = limits_.group("memory")) {
      if (const auto bytes = g->number("memory.usage_in_bytes")) {
        u.memory_bytes = *bytes;
        u.tree_memory = true;
      }
    }
  }
  if (u.tree_memory && u.tree_cpu) return u;
  // The pidfd keeps the PID from being reused while we read /proc/<pid> (see sample()).
  const auto s = sample_process(pid_, false);
  if (!s || s->state == 'Z') return std::nullopt;
  if (!u.tree_memory) u.memory_bytes = s->rss_bytes;
  if (!u.tree_cpu) u.cpu_seconds = s->cpu_seconds;
  return u;
}

}  // namespace supervisor::detail
