// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "child.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "../core/validate.hpp"
#include "exit_classify.hpp"
#include "loop_core.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE ChildCore::ChildCore(std::shared_ptr<LoopCore> loop_core,
                                       std::shared_ptr<const ProcessSpec> s, ProcessOptions o,
                                       OutputHook hook)
    : loop(std::move(loop_core)),
      spec_ptr(std::move(s)),
      spec(*spec_ptr),
      options(std::move(o)),
      hook_(std::move(hook)),
      out_(spec.output, false, hook_ || spec.out.on_line),
      err_(spec.output, true, hook_ || spec.err.on_line) {}

SUPERVISOR_INLINE ChildCore::~ChildCore() = default;

SUPERVISOR_INLINE void ChildCore::begin(std::unique_ptr<ChildOs> os) {
  os_ = std::move(os);
  ends = os_->take_ends();
  if (ends.input)
    ends.input->label = fmt::format("stdin of \"{}\" (pid {})", spec.display_name(), info.pid);
  if (ends.channel)
    ends.channel->label = fmt::format("channel of \"{}\" (pid {})", spec.display_name(), info.pid);
  started_at_ = default_clock().now();
  current_limits_ = spec.resources;
  out_open_ = spec.out.piped();
  err_open_ = spec.err.piped();
  const bool wake = os_->reserve();
  if (loop->in_loop()) {
    install();
    return;
  }
  // Posted without waiting for it: commands run in order, so whatever the host asks of this
  // process next finds it adopted. When every handle of the child is already in the poller, the
  // loop need not even wake for it: the child's first event (or the host's next command) wakes
  // it, and it runs this command before dispatching that event. An exit that can only be polled
  // needs a timer, so then the loop must wake now.
  auto adopt = [self = shared_from_this()] { self->install(); };
  if (wake) {
    loop->post(std::move(adopt));
  } else {
    loop->post_unwoken(std::move(adopt));
  }
}

// Loop thread: the OS half starts reporting, and the loop owns the child.
SUPERVISOR_INLINE void ChildCore::install() {
  auto self = shared_from_this();
  os_->install(self);
  loop->adopt(self);
  arm_wall_time();
}

// ------------------------------------------------------------------------------------------
// Output

SUPERVISOR_INLINE void ChildCore::on_output(StdStream s) {
  if (!read_output(s)) close_output(s);
}

// Reads what is there; false at the end of the stream.
SUPERVISOR_INLINE bool ChildCore::read_output(StdStream s, bool draining) {
  {
    std::lock_guard lock(mu);
    if (buffer(s).paused() && !draining) return true;
  }
  return os_->read_output(s, draining, *this);
}

SUPERVISOR_INLINE bool ChildCore::on_chunk(StdStream s, std::string_view chunk, bool draining) {
  const auto& on_line = s == StdStream::err ? spec.err.on_line : spec.out.on_line;
  if (LogFile* log = (s == StdStream::err ? err_log : out_log).get()) log->write(chunk);
  std::vector<std::string> lines;
  bool more = false;
  {
    std::lock_guard lock(mu);
    more = buffer(s).take(chunk, draining, lines);
  }
  if (!more) os_->pause_output(s, true);
  for (const auto& l : lines) {
    try {
      if (on_line) on_line(l);
      if (hook_) hook_(s, l);  // the pool's own guard reports what it throws
    } catch (...) {
      loop->report_callback_error("on_line");
    }
  }
  return more;
}

SUPERVISOR_INLINE void ChildCore::close_output(StdStream s) {
  bool& open = s == StdStream::err ? err_open_ : out_open_;
  if (!open) return;
  open = false;
  os_->close_output(s);
  if (LogFile* log = (s == StdStream::err ? err_log : out_log).get()) log->finish();
  std::lock_guard lock(mu);
  buffer(s).finish();
}

SUPERVISOR_INLINE void ChildCore::resume_output(StdStream s) {
  const bool open = s == StdStream::err ? err_open_ : out_open_;
  {
    std::lock_guard lock(mu);
    if (!buffer(s).paused() || !open) return;
    buffer(s).resume();
  }
  os_->pause_output(s, false);
  if (!read_output(s)) close_output(s);
}

// ------------------------------------------------------------------------------------------
// Exit

SUPERVISOR_INLINE void ChildCore::on_leader_exit(const LeaderExit& e) {
  if (leader_timer_) loop->cancel_timer(leader_timer_);
  leader_timer_ = 0;
  if (abandoned_) {
    // The stop reported this process as unreaped long ago; now it is gone: clean up after it.
    leader_exited_ = true;
    os_->abandoned_exit();
    return;
  }
  leader_ = e;
  status_.uptime = default_clock().now() - started_at_;
  if (!e.observed) {
    loop->stolen_reaps.fetch_add(1, std::memory_order_relaxed);
  } else {
    status_.usage = e.usage;
    status_.exit_code = e.exit_code;
    status_.signal = e.signal;
    status_.core_dumped = e.core_dumped;
    status_.native_code = e.native_code;
  }
  leader_exited_ = true;
  // The rest of its tree goes with it, and is counted (unless the tree kill is under way: it
  // was counted when it was sent).
  bool empty = false;
  status_.killed_descendants += os_->kill_rest(!killing_, empty);
  if (empty || os_->tree_empty()) {
    finalize();
    return;
  }
  tree_deadline_ = default_clock().now() + spec.stop.kill_wait;
  os_->watch_tree();
  // Also poll: without tree events (a process group) nothing else tells us, and with them this
  // bounds the wait.
  arm_tree_poll();
}

SUPERVISOR_INLINE void ChildCore::arm_tree_poll() {
  tree_timer_ = loop->add_timer(tree_poll_, [this] {
    tree_timer_ = 0;
    check_tree();
  });
}

SUPERVISOR_INLINE void ChildCore::on_tree_changed() { check_tree(); }

SUPERVISOR_INLINE void ChildCore::check_tree() {
  if (finalized_) return;
  if (os_->tree_empty()) {
    finalize();
    return;
  }
  if (default_clock().now() >= tree_deadline_) {
    // Could not confirm the tree gone within kill_wait: report what is left, never hang.
    status_.escaped_descendants = os_->count_left();
    finalize();
    return;
  }
  if (tree_timer_ == 0) {
    tree_poll_ = std::min<Duration>(tree_poll_ * 2, std::chrono::milliseconds(50));
    arm_tree_poll();
  }
}

SUPERVISOR_INLINE void ChildCore::finalize() {
  if (finalized_) return;
  finalized_ = true;
  for (std::uint64_t* t : {&stop_timer_, &wall_timer_, &tree_timer_, &leader_timer_}) {
    if (*t) loop->cancel_timer(*t);
    *t = 0;
  }
  // What the tree wrote before dying is still in the pipes: take it, then close.
  for (StdStream s : {StdStream::out, StdStream::err}) {
    if (!(s == StdStream::err ? err_open_ : out_open_)) continue;
    {
      std::lock_guard lock(mu);
      buffer(s).resume();
    }
    read_output(s, true);
    close_output(s);
  }
  // What the kernel did to the tree under its limits or its ResourceGroup's, read before its
  // groups go (only then: a few files per exit that a tree without limits does without).
  if (reads_limit_counters()) {
    const TreeCounters c = os_->counters();
    status_.oom_kills = c.oom_kills;
    status_.fork_refusals = c.fork_refusals;
  }
  // An abandoned leader keeps its groups, sentinel entry and registry line until it is reaped.
  if (!abandoned_) os_->release_tree();
  // Nothing is left to talk to: a call waiting on the channel wakes with errc::peer_gone, and
  // the host's ends close (at once, or when the calls using them return).
  for (HostEnd* end : {ends.input.get(), ends.channel.get()}) {
    if (end) end->close(false);
  }
  ExitFacts facts;
  facts.observed = leader_.observed && !abandoned_;
  facts.exit_code = status_.exit_code;
  facts.signal = status_.signal;
  facts.core_dumped = status_.core_dumped;
  facts.kill_signal = leader_.kill_signal;
  facts.cpu_limit_signal = leader_.cpu_limit_signal;
  facts.oom_kills = status_.oom_kills;
  facts.cpu_time_limit = spec.resources.cpu_time;
  facts.cpu_used = status_.usage.user_cpu + status_.usage.system_cpu;
  facts.wall_time_hit = wall_time_hit_;
  facts.stop_requested = stopping_;
  facts.final_kill = killing_;
  facts.died_of_stop_signal =
      std::find(step_signals_.begin(), step_signals_.end(), status_.signal) != step_signals_.end();
  const ExitRule rule = exit_rule_for(facts);
  status_.reason = reason_of(rule);
  status_.wall_time_exceeded = rule == ExitRule::wall_time;
  status_.stop_requested = stopping_;
  {
    std::lock_guard lock(mu);
    status_.stderr_tail = err_.kept_lines();
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

// (Re)arms the wall_time timer, from the start of the process (one already past stops it now).
SUPERVISOR_INLINE void ChildCore::arm_wall_time() {
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

// The final kill was sent `kill_wait` ago and the main process still lives: it is in
// uninterruptible sleep (a hung NFS or FUSE call, a cgroup v1 freezer). Waiting longer would make
// stop() unbounded, so the stop ends here, reporting what is left; the OS half keeps watching it
// and cleans up if it ever ends.
SUPERVISOR_INLINE void ChildCore::leader_stuck() {
  if (finalized_ || leader_exited_) return;
  abandoned_ = true;
  status_.unreaped = true;
  status_.uptime = default_clock().now() - started_at_;
  status_.escaped_descendants = os_->others_in_tree();
  finalize();
}

// ------------------------------------------------------------------------------------------
// Stop

SUPERVISOR_INLINE void ChildCore::request_stop() {
  if (finalized_ || stopping_) return;
  stopping_ = true;
  if (leader_exited_) return;  // the tree is being killed already
  os_->prepare_stop();
  step(0);
}

SUPERVISOR_INLINE void ChildCore::kill_now() {
  if (finalized_) return;
  stopping_ = true;
  if (leader_exited_) return;
  os_->prepare_stop();
  final_kill();
}

SUPERVISOR_INLINE void ChildCore::step(std::size_t index) {
  stop_timer_ = 0;
  if (finalized_ || leader_exited_) return;
  if (index >= spec.stop.steps.size()) {
    final_kill();
    return;
  }
  const StopStep& s = spec.stop.steps[index];
  step_signals_.push_back(native_signal(s.signal));
  os_->signal_tree(s.signal);
  if (s.then_continue && s.signal != Signal::kill) os_->signal_tree(Signal::cont);
  stop_timer_ = loop->add_timer(s.wait, [this, index] { step(index + 1); });
}

SUPERVISOR_INLINE void ChildCore::final_kill() {
  killing_ = true;
  if (stop_timer_) loop->cancel_timer(stop_timer_);
  stop_timer_ = 0;
  // Count what the kill hits besides the main process, before it lands.
  status_.killed_descendants = os_->others_in_tree();
  status_.killed_descendants += os_->kill_tree();
  (void)os_->signal_leader(Signal::kill);
  if (!leader_exited_ && leader_timer_ == 0) {
    leader_timer_ = loop->add_timer(spec.stop.kill_wait, [this] {
      leader_timer_ = 0;
      leader_stuck();
    });
  }
}

SUPERVISOR_INLINE void ChildCore::signal_leader(Signal sig, ErrorSink& e) {
  if (leader_exited_) {
    e.fail(errc::not_running, [&] {
      return fmt::format("signal \"{}\": the process has exited", spec.display_name());
    });
    return;
  }
  if (const std::error_code ec = os_->signal_leader(sig)) {
    e.fail(ec, [&] {
      return fmt::format("signal \"{}\" (pid {}): {}", spec.display_name(), info.pid, ec.message());
    });
  }
}

SUPERVISOR_INLINE void ChildCore::set_resources(const ResourceLimits& limits, ErrorSink& error) {
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
  std::vector<LimitStatus> statuses;
  os_->change_limits(current_limits_, limits, statuses, error);
  if (error) return;
  current_limits_ = limits;
  arm_wall_time();  // measured from the start, as before
  std::lock_guard lock(mu);
  info.limits = std::move(statuses);
}

SUPERVISOR_INLINE ResourceSample ChildCore::sample() {
  if (finalized_ || leader_exited_) return {};
  return os_->sample(reads_limit_counters());
}

SUPERVISOR_INLINE std::optional<UsageReading> ChildCore::usage() {
  if (finalized_ || leader_exited_) return std::nullopt;
  return os_->usage();
}

SUPERVISOR_INLINE bool ChildCore::in_tree(int pid) {
  if (pid <= 0 || finalized_) return false;
  return pid == info.pid || os_->in_tree(pid);
}

SUPERVISOR_INLINE std::optional<ExitStatus> ChildCore::wait_for(std::optional<Duration> timeout) {
  std::unique_lock lock(mu);
  if (timeout) {
    cv.wait_for(lock, *timeout, [&] { return final_status.has_value(); });
  } else {
    cv.wait(lock, [&] { return final_status.has_value(); });
  }
  return final_status;
}

}  // namespace supervisor::detail
