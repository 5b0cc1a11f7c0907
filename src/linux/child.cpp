// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "linux/child.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/validate.hpp"
#include "linux/proc_stat.hpp"

namespace supervisor::detail {
namespace {

Duration from_timeval(const timeval& tv) {
  return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

int pidfd_signal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Members of process group `pgid`, from the loop's /proc table: to count what a group kill hits.
std::vector<pid_t> group_members(const ProcTable& table, pid_t pgid) {
  std::vector<pid_t> out;
  for (const auto& [ppid, entry] : table.by_parent) {
    if (entry.second == pgid) out.push_back(entry.first);
  }
  return out;
}

// Descendants of `root` (by parent links in /proc) that left its process group, e.g. by setsid.
// Descendants of `root` (by parent links in /proc) that left its process group, e.g. by setsid.
std::vector<pid_t> escaped_descendants(const ProcTable& table, pid_t root, pid_t pgid) {
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

}  // namespace

void OutputChannel::keep_line(const std::string& line, std::size_t keep) {
  if (keep == 0) return;
  if (tail_.size() < keep) {
    tail_.push_back(line);
    return;
  }
  tail_[tail_next_] = line;
  tail_next_ = (tail_next_ + 1) % tail_.size();
}

std::vector<std::string> OutputChannel::kept_lines() const {
  std::vector<std::string> out;
  out.reserve(tail_.size());
  for (std::size_t i = 0; i < tail_.size(); ++i)
    out.push_back(tail_[(tail_next_ + i) % tail_.size()]);
  return out;
}

ChildState::ChildState(std::shared_ptr<LoopCore> loop_core, std::shared_ptr<const ProcessSpec> s,
                       ProcessOptions o)
    : loop(std::move(loop_core)), spec_ptr(std::move(s)), spec(*spec_ptr), options(std::move(o)) {
  out.stream = StdStream::out;
  err.stream = StdStream::err;
  out.on_line = spec.out.on_line;
  err.on_line = spec.err.on_line;
}

ChildState::~ChildState() = default;

// Any thread: the thread that started the child (posix_spawn path) or the loop (clone3). The
// child's fds join the epoll set here; the loop installs their callbacks and adopts the child.
void ChildState::begin(SpawnResult&& r, std::optional<CgroupV2Group> group, TreeLimits limits,
                       UniqueFd out_fd, UniqueFd err_fd) {
  started_at_ = default_clock().now();
  pidfd_ = std::move(r.pidfd);
  group_ = std::move(group);
  limits_ = std::move(limits);
  current_limits_ = spec.resources;
  // Without a cgroup, the sentinel kills this process group if the host dies.
  if (!group_ && spec.new_session) loop->sentinel().add_group(info.pgid);
  loop->registry().add(info.pid, info.cgroup);
  out.fd = std::move(out_fd);
  err.fd = std::move(err_fd);
  const std::uint64_t pid_id = pidfd_ ? loop->reserve_watch(pidfd_.get(), EPOLLIN) : 0;
  const std::uint64_t out_id = out.fd ? loop->reserve_watch(out.fd.get(), EPOLLIN) : 0;
  const std::uint64_t err_id = err.fd ? loop->reserve_watch(err.fd.get(), EPOLLIN) : 0;
  if (loop->in_loop()) {
    install(pid_id, out_id, err_id);
    return;
  }
  // Posted without waiting for it: commands run in order, so whatever the host asks of this
  // process next finds it adopted. When every fd of the child is already in the epoll set, the
  // loop need not even wake for it: the child's first event (or the host's next command) wakes it,
  // and it runs this command before dispatching that event. Without a watched pidfd, install()
  // arms the timer that polls for the exit, so the loop must wake now.
  auto self = shared_from_this();
  auto adopt = [self, pid_id, out_id, err_id] { self->install(pid_id, out_id, err_id); };
  const bool all_watched = pid_id != 0 && (!out.fd || out_id != 0) && (!err.fd || err_id != 0);
  if (all_watched) {
    loop->post_unwoken(std::move(adopt));
  } else {
    loop->post(std::move(adopt));
  }
}

// Loop thread: the callbacks of the fds begin() added to the epoll set (0: not added, so
// watched here instead, or polled), and the loop's ownership of the child.
void ChildState::install(std::uint64_t pid_id, std::uint64_t out_id, std::uint64_t err_id) {
  auto self = shared_from_this();
  if (pidfd_ && pid_id != 0) {
    pidfd_watch_ = pid_id;
    loop->install_watch(pid_id, [this, self](std::uint32_t) { on_pidfd(); });
  } else if (pidfd_) {
    pidfd_watch_ = loop->watch(pidfd_.get(), EPOLLIN, [this, self](std::uint32_t) { on_pidfd(); });
  }
  if (!pidfd_ || pidfd_watch_ == 0) {
    pidfd_.reset();  // unwatchable: poll by PID (still safe: the child is unreaped)
    arm_exit_poll();
  }
  auto attach = [&](OutputChannel& ch, std::uint64_t id) {
    if (!ch.fd) return;
    auto cb = [this, self, &ch](std::uint32_t ev) { on_output(ch, ev); };
    if (id != 0) {
      ch.watch_id = id;
      loop->install_watch(id, std::move(cb));
    } else {
      ch.watch_id = loop->watch(ch.fd.get(), EPOLLIN, std::move(cb));
    }
  };
  attach(out, out_id);
  attach(err, err_id);
  loop->adopt(self);
  arm_wall_time();
}

// ------------------------------------------------------------------------------------------
// Output

void ChildState::on_output(OutputChannel& ch, std::uint32_t /*events*/) {
  if (!read_output(ch)) close_output(ch);
}

// Reads what is there; false at end of stream. Never blocks: the fd is non-blocking.
// `draining`: the tree is gone; take everything left in the pipe (a finite amount: at most the
// pipe's capacity beyond the ring's bound, in backpressure mode) so that no byte is lost.
bool ChildState::read_output(OutputChannel& ch, bool draining) {
  char buf[16384];
  // Bounded while the tree lives, so that one flooding worker cannot starve the loop.
  // Draining is bounded too (16 MiB): a descendant that escaped the kill could write forever.
  for (int rounds = 0; rounds < (draining ? 1024 : 16); ++rounds) {
    if (ch.paused && !draining) return true;
    const ssize_t n = ::read(ch.fd.get(), buf, sizeof buf);
    if (n == 0) return false;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;
    const std::string_view chunk(buf, static_cast<std::size_t>(n));
    std::vector<std::string> lines;
    {
      std::lock_guard lock(mu);
      ch.stats.bytes_read += static_cast<std::uint64_t>(n);
      ch.ring.append(chunk);
      const std::size_t cap = spec.output.ring_bytes;
      if (ch.ring.size() > cap) {
        if (spec.output.backpressure) {
          ch.paused = !draining;  // keep all of it; reading resumes when the host takes output
        } else {
          ch.stats.bytes_dropped += ch.ring.size() - cap;
          ch.ring.erase(0, ch.ring.size() - cap);
        }
      }
      std::size_t start = 0;
      while (start < chunk.size()) {
        const std::size_t nl = chunk.find('\n', start);
        const std::size_t end = nl == std::string_view::npos ? chunk.size() : nl;
        ch.partial.append(chunk.substr(start, end - start));
        const bool complete = nl != std::string_view::npos;
        while (ch.partial.size() > spec.output.max_line) {  // an over-long line, in pieces
          if (ch.on_line) lines.push_back(ch.partial.substr(0, spec.output.max_line));
          ch.partial.erase(0, spec.output.max_line);
        }
        if (complete) {
          ++ch.stats.lines;
          if (ch.stream == StdStream::err) ch.keep_line(ch.partial, spec.output.exit_tail_lines);
          if (ch.on_line) lines.push_back(std::move(ch.partial));
          ch.partial.clear();
        }
        start = end + 1;
      }
    }
    for (const auto& l : lines) {
      try {
        ch.on_line(l);
      } catch (...) {
        loop->report_callback_error("on_line");
      }
    }
  }
  return true;
}

void ChildState::close_output(OutputChannel& ch) {
  if (!ch.fd) return;
  loop->unwatch(ch.watch_id, ch.fd.get());
  ch.fd.reset();
  std::lock_guard lock(mu);
  if (!ch.partial.empty() && ch.stream == StdStream::err)
    ch.keep_line(ch.partial, spec.output.exit_tail_lines);
}

void ChildState::resume_output(StdStream s) {
  OutputChannel& ch = s == StdStream::err ? err : out;
  if (!ch.paused || !ch.fd) return;
  ch.paused = false;
  if (!read_output(ch)) close_output(ch);
}

// ------------------------------------------------------------------------------------------
// Exit

void ChildState::on_pidfd() {
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
  loop->unwatch(watch, fd.get());
}

// Without pidfds (kernels before 5.4, or LoopOptions::disable_pidfd): nothing wakes the loop
// when the child exits, so it asks, by PID, with a backoff from 1 ms to 20 ms (reset whenever a
// signal is sent, so that a stop is seen at once). waitid(P_PID) on our own unreaped child is safe:
// its PID cannot be reused before we reap it.
void ChildState::poll_exit() {
  exit_poll_timer_ = 0;
  siginfo_t si{};
  rusage ru{};
  long r;
  do {
    r = syscall(SYS_waitid, P_PID, info.pid, &si, WEXITED | WNOHANG | __WALL, &ru);
  } while (r < 0 && errno == EINTR);
  if (r == 0 && si.si_pid == 0) {  // still running
    exit_poll_ = std::min<Duration>(exit_poll_ * 2, std::chrono::milliseconds(20));
    arm_exit_poll();
    return;
  }
  on_reaped(r, si, ru);
}

void ChildState::arm_exit_poll() {
  if (pidfd_ || leader_exited_) return;
  if (exit_poll_timer_) loop->cancel_timer(exit_poll_timer_);
  auto self = shared_from_this();  // an abandoned child outlives its place in the loop's set
  exit_poll_timer_ = loop->add_timer(exit_poll_, [this, self] { poll_exit(); });
}

// A signal was just sent to the leader: look for its exit soon.
void ChildState::expect_exit() {
  if (pidfd_ || leader_exited_) return;
  exit_poll_ = std::chrono::milliseconds(1);
  arm_exit_poll();
}

// Sends `sig` to the main process: through its pidfd, or by PID while it is unreaped (and so
// cannot have been reused) when there is no pidfd.
int ChildState::signal_main(int sig) {
  if (leader_exited_) {
    errno = ESRCH;
    return -1;
  }
  const int r = pidfd_ ? pidfd_signal(pidfd_.get(), sig) : ::kill(info.pid, sig);
  const int e = errno;
  expect_exit();
  errno = e;
  return r;
}

void ChildState::on_reaped(long r, const siginfo_t& si, const rusage& ru) {
  if (exit_poll_timer_) loop->cancel_timer(exit_poll_timer_);
  exit_poll_timer_ = 0;
  if (leader_timer_) loop->cancel_timer(leader_timer_);
  leader_timer_ = 0;
  if (abandoned_) {
    // The stop reported this process as unreaped long ago; now it is gone: clean up after it.
    pidfd_.reset();
    leader_exited_ = true;
    if (group_) {
      ErrorSink e;
      group_->kill(e);
    } else if (spec.new_session && info.pgid > 0) {
      ::kill(-info.pgid, SIGKILL);
    }
    release_tree();
    return;
  }
  status_.uptime = default_clock().now() - started_at_;
  if (r < 0) {
    // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN, or a waitpid(-1) in the host).
    reap_stolen_ = true;
    loop->stolen_reaps.fetch_add(1, std::memory_order_relaxed);
  } else {
    status_.usage.user_cpu = from_timeval(ru.ru_utime);
    status_.usage.system_cpu = from_timeval(ru.ru_stime);
    status_.usage.max_rss_kib = ru.ru_maxrss;
    status_.usage.minor_faults = ru.ru_minflt;
    status_.usage.major_faults = ru.ru_majflt;
    status_.usage.voluntary_switches = ru.ru_nvcsw;
    status_.usage.involuntary_switches = ru.ru_nivcsw;
    if (si.si_code == CLD_EXITED) {
      status_.exit_code = si.si_status;
    } else {
      status_.signal = si.si_status;
      status_.core_dumped = si.si_code == CLD_DUMPED;
    }
  }
  pidfd_.reset();
  leader_exited_ = true;
  after_leader_exit();
}

// The main process is gone; the rest of its tree goes with it, and is counted.
void ChildState::after_leader_exit() {
  bool group_gone = false;
  if (killing_) {
    // The tree kill is under way (counted when it was sent); only wait for it to finish.
  } else if (group_) {
    ErrorSink e;
    if (group_->populated(e)) {
      const auto members = group_->procs(e);
      status_.killed_descendants = static_cast<int>(members.size());
      group_->kill(e);
    }
  } else if (spec.new_session) {
    if (::kill(-info.pgid, 0) != 0 && errno == ESRCH) {
      group_gone = true;  // the usual case, known without a second look
    } else {
      // Only when the group still has members: scanning /proc costs ~1 ms per hundred processes.
      const auto members = group_members(loop->proc_table(), info.pgid);
      if (!members.empty()) {
        status_.killed_descendants = static_cast<int>(members.size());
        ::kill(-info.pgid, SIGKILL);  // the group outlives its leader only while members remain
      }
    }
  }
  for (auto& fd : escapees_) {
    if (pidfd_signal(fd.get(), SIGKILL) == 0 && !killing_) ++status_.killed_descendants;
  }
  escapees_.clear();
  if (group_gone || tree_empty()) {
    finalize();
    return;
  }
  tree_deadline_ = default_clock().now() + spec.stop.kill_wait;
  if (group_ && group_->events_fd() >= 0 && events_watch_ == 0) {
    auto self = shared_from_this();
    events_watch_ =
        loop->watch(group_->events_fd(), EPOLLPRI, [this, self](std::uint32_t) { check_tree(); });
  }
  // Also poll: without cgroup events (process group) nothing else tells us, and with them this
  // bounds the wait.
  tree_timer_ = loop->add_timer(tree_poll_, [this] {
    tree_timer_ = 0;
    check_tree();
  });
}

bool ChildState::tree_empty() {
  if (group_) {
    ErrorSink e;
    const bool populated = group_->populated(e);
    return e ? true : !populated;
  }
  if (!spec.new_session)
    return true;  // the tree is the leader alone; never signal the host's group
  return ::kill(-info.pgid, 0) != 0 && errno == ESRCH;
}

void ChildState::check_tree() {
  if (finalized_) return;
  if (tree_empty()) {
    finalize();
    return;
  }
  const TimePoint now = default_clock().now();
  if (now >= tree_deadline_) {
    // Could not confirm the tree gone within kill_wait: report what is left, never hang.
    if (group_) {
      ErrorSink e;
      status_.escaped_descendants = static_cast<int>(group_->procs(e).size());
    } else {
      status_.escaped_descendants =
          static_cast<int>(group_members(loop->proc_table(), info.pgid).size());
    }
    finalize();
    return;
  }
  if (tree_timer_ == 0) {
    tree_poll_ = std::min<Duration>(tree_poll_ * 2, std::chrono::milliseconds(50));
    tree_timer_ = loop->add_timer(tree_poll_, [this] {
      tree_timer_ = 0;
      check_tree();
    });
  }
}

void ChildState::finalize() {
  if (finalized_) return;
  finalized_ = true;
  if (stop_timer_) loop->cancel_timer(stop_timer_);
  if (wall_timer_) loop->cancel_timer(wall_timer_);
  wall_timer_ = 0;
  if (tree_timer_) loop->cancel_timer(tree_timer_);
  stop_timer_ = tree_timer_ = 0;
  if (events_watch_) loop->unwatch(events_watch_, group_->events_fd());
  events_watch_ = 0;
  // What the tree wrote before dying is still in the pipes: take it, then close.
  for (OutputChannel* ch : {&out, &err}) {
    if (!ch->fd) continue;
    ch->paused = false;
    read_output(*ch, true);
    close_output(*ch);
  }
  if (leader_timer_) loop->cancel_timer(leader_timer_);
  leader_timer_ = 0;
  // What the kernel did to the tree under its limits or its ResourceGroup's, read before its
  // groups go (only then: a few files per exit that a tree without limits does without).
  if (reads_limit_counters()) {
    std::optional<CgroupStats> cs;
    if (group_) {
      ErrorSink ignored;
      cs = group_->stats(ignored);
    }
    const LimitCounters counters = read_limit_counters(limits_, cs ? &*cs : nullptr);
    status_.oom_kills = counters.oom_kills.value_or(0);
    status_.fork_refusals = counters.fork_refusals.value_or(0);
  }
  // An abandoned leader keeps its group, sentinel entry and registry line until it is reaped.
  if (!abandoned_) release_tree();
  // The reason, in systemd's vocabulary.
  if (reap_stolen_ || abandoned_) {
    status_.reason = ExitReason::unknown;
  } else if (status_.signal == 0) {
    status_.reason = status_.exit_code == 0 ? ExitReason::success : ExitReason::exit_code;
  } else if (status_.signal == SIGKILL && status_.oom_kills > 0 && !killing_) {
    status_.reason = ExitReason::oom_kill;  // the kernel's OOM killer, under memory_max
  } else if (!killing_ && hit_cpu_time_limit()) {
    status_.reason = ExitReason::resource_limit;
  } else if (wall_time_hit_) {
    status_.reason = ExitReason::resource_limit;
    status_.wall_time_exceeded = true;
  } else if (killing_ && stopping_) {
    status_.reason = ExitReason::timeout;
  } else if (stopping_ && std::find(step_signals_.begin(), step_signals_.end(), status_.signal) !=
                              step_signals_.end()) {
    status_.reason = ExitReason::success;  // it died of the signal we asked it to stop with
  } else {
    status_.reason = status_.core_dumped ? ExitReason::core_dump : ExitReason::signal;
  }
  status_.stop_requested = stopping_;
  {
    std::lock_guard lock(mu);
    status_.stderr_tail = err.kept_lines();
  }
  // The host's callback runs before waiters wake, so that wait() sees its effects.
  if (options.on_exit) {
    try {
      options.on_exit(status_);
    } catch (...) {
      loop->report_callback_error("on_exit");
    }
  }
  {
    std::lock_guard lock(mu);
    final_status = status_;
  }
  cv.notify_all();
  loop->forget(this);
}

// Whether the main process died of its cpu_time rlimit: SIGXCPU at the soft limit, or the
// kernel's SIGKILL at the hard one (then its CPU time has reached the limit).
bool ChildState::hit_cpu_time_limit() const {
  if (!spec.resources.cpu_time) return false;
  if (status_.signal == SIGXCPU) return true;
  return status_.signal == SIGKILL &&
         status_.usage.user_cpu + status_.usage.system_cpu >= *spec.resources.cpu_time;
}

// (Re)arms the wall_time timer, from the start of the process (one already past stops it now).
void ChildState::arm_wall_time() {
  if (wall_timer_) loop->cancel_timer(wall_timer_);
  wall_timer_ = 0;
  if (!current_limits_.wall_time || finalized_ || leader_exited_ || stopping_) return;
  const Duration left = started_at_ + *current_limits_.wall_time - default_clock().now();
  wall_timer_ = loop->add_timer(std::max(left, Duration::zero()), [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->wall_timer_ = 0;
    if (self->finalized_ || self->stopping_) return;
    self->wall_time_hit_ = true;
    self->request_stop();
  });
}

// Removes what the tree kept on the host's side: its cgroup, its sentinel entry, its registry line.
void ChildState::release_tree() {
  if (group_) {
    ErrorSink e;
    group_->remove(e);
    group_.reset();
  } else if (spec.new_session) {
    loop->sentinel().remove_group(info.pgid);
  }
  limits_.release();  // empty once the tree is gone; a leftover goes with the loop's base
  loop->registry().remove(info.pid);
}

// Processes of the tree besides the main one: the cgroup's members, or the process group's.
int ChildState::others_in_tree() {
  std::vector<int> members;
  if (group_) {
    ErrorSink e;
    members = group_->procs(e);
  } else if (spec.new_session) {
    members = group_members(loop->proc_table(), info.pgid);
  }
  return static_cast<int>(
      std::count_if(members.begin(), members.end(), [&](int p) { return p != info.pid; }));
}

// SIGKILL was sent `kill_wait` ago and the main process still lives: it is in uninterruptible
// sleep (a hung NFS or FUSE call, a cgroup v1 freezer). Waiting longer would make stop() unbounded,
// so the stop ends here, reporting what is left; the pidfd stays watched and reaps it later.
void ChildState::leader_stuck() {
  if (finalized_ || leader_exited_) return;
  abandoned_ = true;
  status_.unreaped = true;
  status_.uptime = default_clock().now() - started_at_;
  status_.escaped_descendants = others_in_tree();
  finalize();
}

// ------------------------------------------------------------------------------------------
// Stop

void ChildState::snapshot_escapees() {
  if (group_ || !spec.new_session || info.pid <= 0) return;
  // One /proc scan serves every worker stopped in the same moment (a pool's stop of 1000
  // workers would otherwise scan /proc 1000 times).
  for (pid_t p : escaped_descendants(loop->proc_table(), info.pid, info.pgid)) {
    UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, p, 0)));
    if (fd) escapees_.push_back(std::move(fd));
  }
}

void ChildState::request_stop() {
  if (finalized_ || stopping_) return;
  stopping_ = true;
  if (leader_exited_) return;  // the tree is being killed already
  snapshot_escapees();
  step(0);
}

void ChildState::kill_now() {
  if (finalized_) return;
  stopping_ = true;
  if (leader_exited_) return;
  snapshot_escapees();
  final_kill();
}

void ChildState::step(std::size_t index) {
  stop_timer_ = 0;
  if (finalized_ || leader_exited_) return;
  if (index >= spec.stop.steps.size()) {
    final_kill();
    return;
  }
  const StopStep& s = spec.stop.steps[index];
  const int sig = native_signal(s.signal);
  step_signals_.push_back(sig);
  signal_tree(sig);
  if (s.then_continue && sig != SIGKILL) signal_tree(SIGCONT);
  stop_timer_ = loop->add_timer(s.wait, [this, index] { step(index + 1); });
}

void ChildState::final_kill() {
  killing_ = true;
  if (stop_timer_) loop->cancel_timer(stop_timer_);
  stop_timer_ = 0;
  // Count what the kill hits besides the main process, before it lands.
  status_.killed_descendants = others_in_tree();
  if (group_) {
    ErrorSink e;
    group_->kill(e);
  } else {
    status_.killed_descendants += static_cast<int>(escapees_.size());
    signal_tree(SIGKILL);
  }
  signal_main(SIGKILL);
  if (!leader_exited_ && leader_timer_ == 0) {
    leader_timer_ = loop->add_timer(spec.stop.kill_wait, [this] {
      leader_timer_ = 0;
      leader_stuck();
    });
  }
}

// Sends `sig` to every process of the tree we can name: the cgroup's members, or the process
// group plus descendants that escaped it. The leader always through its pidfd (never a reused PID).
void ChildState::signal_tree(int sig) {
  signal_main(sig);
  if (group_) {
    ErrorSink e;
    for (int p : group_->procs(e)) {
      if (p == info.pid) continue;
      UniqueFd fd(static_cast<int>(syscall(SYS_pidfd_open, p, 0)));
      if (fd) pidfd_signal(fd.get(), sig);
    }
    return;
  }
  if (spec.new_session && info.pgid > 0) ::kill(-info.pgid, sig);
  for (auto& fd : escapees_) pidfd_signal(fd.get(), sig);
}

void ChildState::signal_leader(int sig, ErrorSink& e) {
  if (leader_exited_) {
    e.fail(errc::not_running, [&] {
      return fmt::format("signal \"{}\": the process has exited", spec.display_name());
    });
    return;
  }
  if (signal_main(sig) != 0) {
    const int en = errno;
    e.fail(std::error_code(en, std::system_category()), [&] {
      return fmt::format("signal \"{}\" (pid {}): {}", spec.display_name(), info.pid,
                         std::system_category().message(en));
    });
  }
}

void ChildState::set_resources(const ResourceLimits& limits, ErrorSink& error) {
  if (finalized_ || leader_exited_) {
    error.fail(errc::not_running, [&] {
      return fmt::format("set_resources \"{}\": the process has ended", spec.display_name());
    });
    return;
  }
  ProcessSpec checked = spec;
  checked.resources = limits;
  validate_spec(checked, error);
  if (error) return;
  change_limits(loop->limit_support(), spec, current_limits_, limits, group_ ? &*group_ : nullptr,
                info.pid, limits_, error);
  if (error) return;
  current_limits_ = limits;
  arm_wall_time();  // measured from the start, as before
  std::lock_guard lock(mu);
  info.limits = limits_.statuses;
}

ResourceSample ChildState::sample() {
  ResourceSample r;
  if (finalized_ || leader_exited_) return r;
  // The pidfd keeps the PID from being reused while we read /proc/<pid>: the child is ours and
  // unreaped until the loop (this thread) reaps it.
  if (auto s = sample_process(info.pid)) {
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
  if (!reads_limit_counters()) return r;
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

std::optional<ExitStatus> ChildState::wait_for(std::optional<Duration> timeout) {
  std::unique_lock lock(mu);
  if (timeout) {
    cv.wait_for(lock, *timeout, [&] { return final_status.has_value(); });
  } else {
    cv.wait(lock, [&] { return final_status.has_value(); });
  }
  return final_status;
}

}  // namespace supervisor::detail
