// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "windows_child.hpp"

#include <windows.h>
// After windows.h:
#include <psapi.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include <supervisor/export.hpp>

#include "../process/loop_core.hpp"
#include "job_limits.hpp"
#include "job_spawn.hpp"
#include "status_map.hpp"
#include "windows_backend.hpp"

namespace supervisor::detail::win {

// One output pipe's host end and its one overlapped read.
struct PipeReader {
  UniqueHandle handle;
  UniqueHandle event;  // manual reset, in ov.hEvent: lets a drain wait for the read, bounded
  OVERLAPPED ov{};
  std::vector<char> buf = std::vector<char>(65536);
  std::uint64_t watch = 0;
  bool pending = false;   // a ReadFile is in flight
  std::size_t ready = 0;  // bytes of a finished read not handed on yet
  bool eof = false;
  bool paused = false;

  // Starts the next read (a completion comes to the port under `watch` either way).
  void start() {
    if (pending || eof || ready > 0) return;
    ::ResetEvent(event.get());
    ov = OVERLAPPED{};
    ov.hEvent = event.get();
    if (::ReadFile(handle.get(), buf.data(), static_cast<DWORD>(buf.size()), nullptr, &ov) ||
        ::GetLastError() == ERROR_IO_PENDING) {
      pending = true;
    } else {
      eof = true;  // ERROR_BROKEN_PIPE: every writer is gone (or the pipe failed)
    }
  }
  // Takes the result of the read in flight, waiting at most `wait_ms` for it; false while it is
  // still in flight.
  bool finish(DWORD wait_ms) {
    if (!pending) return true;
    if (wait_ms > 0) ::WaitForSingleObject(event.get(), wait_ms);
    DWORD n = 0;
    if (::GetOverlappedResult(handle.get(), &ov, &n, FALSE)) {
      pending = false;
      ready = n;
      return true;
    }
    const DWORD code = ::GetLastError();
    if (code == ERROR_IO_INCOMPLETE) return false;
    pending = false;
    if (code != ERROR_OPERATION_ABORTED) eof = true;
    return true;
  }
  // Cancels the read in flight and waits for it to end: its OVERLAPPED and buffer are then free.
  void cancel() noexcept {
    if (!pending) return;
    ::CancelIoEx(handle.get(), &ov);
    DWORD n = 0;
    ::GetOverlappedResult(handle.get(), &ov, &n, TRUE);
    pending = false;
  }
};

// The process handle's wait: the thread pool's callback posts the child's job key.
struct ExitWait {
  HANDLE wait = nullptr;
  HANDLE port = nullptr;
  ULONG_PTR key = 0;
};

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void CALLBACK on_process_signalled(PVOID context, BOOLEAN) {
  auto* w = static_cast<ExitWait*>(context);
  ::PostQueuedCompletionStatus(w->port, 0, w->key, nullptr);
}

SUPERVISOR_INLINE std::uint64_t ticks(const FILETIME& f) noexcept {
  return (static_cast<std::uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime;
}

SUPERVISOR_INLINE Duration from_ticks(std::uint64_t t) noexcept {
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(t * 100));
}

SUPERVISOR_INLINE std::error_code last_win32_error() noexcept {
  const DWORD code = ::GetLastError();
  return win32_error(code, std::error_code(static_cast<int>(code), std::system_category()));
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE WindowsChild::WindowsChild(WindowsBackend& backend,
                                             std::shared_ptr<const ProcessSpec> spec,
                                             std::uint32_t pid, UniqueHandle process,
                                             UniqueHandle job, std::uint64_t job_watch,
                                             UniqueHandle out, UniqueHandle err, HostEnds ends)
    : backend_(backend),
      loop_(backend.loop()),
      spec_(std::move(spec)),
      pid_(pid),
      process_(std::move(process)),
      job_(std::move(job)),
      job_watch_(job_watch),
      ends_(std::move(ends)) {
  hits_.leader_pid = pid;
  for (auto [handle, slot] : {std::pair{&out, &out_}, std::pair{&err, &err_}}) {
    if (!*handle) continue;
    *slot = std::make_unique<PipeReader>();
    (*slot)->handle = std::move(*handle);
    (*slot)->event.reset(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  }
}

SUPERVISOR_INLINE WindowsChild::~WindowsChild() {
  stop_exit_wait();
  for (auto* p : {out_.get(), err_.get()}) {
    if (p) p->cancel();
  }
}

SUPERVISOR_INLINE PipeReader* WindowsChild::reader(StdStream s) noexcept {
  return s == StdStream::err ? err_.get() : s == StdStream::out ? out_.get() : nullptr;
}

// Any thread: the pipes join the port under ids of their own. Their reads start at install():
// a packet before it would find no watch.
SUPERVISOR_INLINE bool WindowsChild::reserve() {
  for (auto* p : {out_.get(), err_.get()}) {
    if (p)
      p->watch = loop_.reserve_watch(reinterpret_cast<NativeHandle>(p->handle.get()), io::readable);
  }
  return true;
}

SUPERVISOR_INLINE void WindowsChild::install(const std::shared_ptr<ChildEvents>& events) {
  events_ = events.get();
  weak_events_ = events;
  loop_.install_watch(job_watch_, [this, events](std::uint32_t) { on_job_packet(); });
  for (StdStream s : {StdStream::out, StdStream::err}) {
    PipeReader* p = reader(s);
    if (!p) continue;
    loop_.install_watch(p->watch, [this, events, s](std::uint32_t) { on_pipe_packet(s); });
    p->start();
    // Already at its end: say so on a turn of the loop of its own.
    if (p->eof) backend_.port().post(p->watch);
  }
  // The process handle's wait. Already signalled, its callback runs at once: no exit is missed.
  exit_wait_ = std::make_unique<ExitWait>();
  exit_wait_->port = backend_.port().native();
  exit_wait_->key = job_key(job_watch_);
  if (!::RegisterWaitForSingleObject(&exit_wait_->wait, process_.get(), on_process_signalled,
                                     exit_wait_.get(), INFINITE, WT_EXECUTEONLYONCE)) {
    exit_wait_->wait = nullptr;
    // Without the wait, the job's own messages (exit of each process, active process zero) are
    // what tells; look once now too.
    backend_.port().post(exit_wait_->key);
  }
}

SUPERVISOR_INLINE void WindowsChild::stop_exit_wait() noexcept {
  if (exit_wait_ && exit_wait_->wait != nullptr) {
    // Waits for a callback under way: it must not post with a freed context.
    ::UnregisterWaitEx(exit_wait_->wait, INVALID_HANDLE_VALUE);
    exit_wait_->wait = nullptr;
  }
}

// ------------------------------------------------------------------------------------------
// Exit

// A job message or the exit wait: look at the process handle, then at the tree.
SUPERVISOR_INLINE void WindowsChild::take_job_notes() {
  std::vector<JobNote> notes;
  backend_.poller_impl().take_job_notes(job_watch_, notes);
  for (const JobNote& n : notes) hits_.note(static_cast<JobMessage>(n.message), n.pid);
}

SUPERVISOR_INLINE TreeCounters WindowsChild::counters() {
  take_job_notes();
  return hits_.counters();
}

SUPERVISOR_INLINE void WindowsChild::on_job_packet() {
  if (!events_) return;
  take_job_notes();
  if (!leader_exited_ && process_ && ::WaitForSingleObject(process_.get(), 0) == WAIT_OBJECT_0) {
    DWORD code = 0;
    LeaderExit e;
    if (::GetExitCodeProcess(process_.get(), &code)) {
      e = hits_.leader_exit(code);  // a kill at a job limit is reported as Linux reports it
    } else {
      e.observed = false;
    }
    FILETIME created, ended, kernel, user;
    if (::GetProcessTimes(process_.get(), &created, &ended, &kernel, &user)) {
      e.usage.user_cpu = from_ticks(ticks(user));
      e.usage.system_cpu = from_ticks(ticks(kernel));
    }
    PROCESS_MEMORY_COUNTERS mem{};
    if (::K32GetProcessMemoryInfo(process_.get(), &mem, sizeof mem)) {
      e.usage.max_rss_kib = static_cast<long>(mem.PeakWorkingSetSize / 1024);
      e.usage.minor_faults = mem.PageFaultCount;
    }
    leader_exited_ = true;
    stop_exit_wait();
    events_->on_leader_exit(e);
    return;
  }
  if (leader_exited_) events_->on_tree_changed();
}

SUPERVISOR_INLINE std::vector<std::uint32_t> WindowsChild::tree_ids() {
  if (!job_) return {};
  ErrorSink ignored;
  return job_process_ids(job_.get(), ignored);
}

SUPERVISOR_INLINE int WindowsChild::others_in_tree() {
  const auto ids = tree_ids();
  return static_cast<int>(
      std::count_if(ids.begin(), ids.end(), [&](std::uint32_t p) { return p != pid_; }));
}

SUPERVISOR_INLINE bool WindowsChild::in_tree(int pid) {
  if (pid <= 0) return false;
  const auto ids = tree_ids();
  return std::find(ids.begin(), ids.end(), static_cast<std::uint32_t>(pid)) != ids.end();
}

SUPERVISOR_INLINE int WindowsChild::kill_tree() {
  if (job_) {
    ErrorSink ignored;
    terminate_job(job_.get(), k_kill_exit_code, ignored);
  }
  return 0;
}

SUPERVISOR_INLINE int WindowsChild::kill_rest(bool count, bool& empty) {
  const auto ids = tree_ids();
  if (ids.empty()) {
    empty = true;
    return 0;
  }
  ErrorSink ignored;
  terminate_job(job_.get(), k_kill_exit_code, ignored);
  return count ? static_cast<int>(ids.size()) : 0;
}

SUPERVISOR_INLINE bool WindowsChild::tree_empty() {
  if (!job_) return true;
  ErrorSink e;
  const auto ids = job_process_ids(job_.get(), e);
  return e ? true : ids.empty();
}

SUPERVISOR_INLINE int WindowsChild::count_left() { return static_cast<int>(tree_ids().size()); }

SUPERVISOR_INLINE void WindowsChild::release_tree() {
  if (job_watch_ != 0) {
    backend_.poller_impl().forget_job_notes(job_watch_);
    loop_.unwatch(std::exchange(job_watch_, 0), 0);
  }
  stop_exit_wait();
  job_.reset();  // KILL_ON_JOB_CLOSE: whatever is left of the tree goes with it
}

SUPERVISOR_INLINE void WindowsChild::abandoned_exit() {
  kill_tree();
  release_tree();
}

// ------------------------------------------------------------------------------------------
// Signals: the graceful ones as CTRL_BREAK_EVENT to the child's process group (it has one of its
// own, CREATE_NEW_PROCESS_GROUP, whose id is its pid; the event reaches the processes of that
// group that share the host's console), the kill as TerminateProcess / TerminateJobObject.

SUPERVISOR_INLINE std::error_code WindowsChild::send_break() {
  if (::GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pid_)) return {};
  return last_win32_error();
}

SUPERVISOR_INLINE std::error_code WindowsChild::signal_leader(Signal s) {
  if (leader_exited_ || !process_ || ::WaitForSingleObject(process_.get(), 0) == WAIT_OBJECT_0)
    return std::make_error_code(std::errc::no_such_process);
  switch (s) {
    case Signal::kill:
      if (::TerminateProcess(process_.get(), k_kill_exit_code)) return {};
      return last_win32_error();
    case Signal::terminate:
    case Signal::interrupt:
    case Signal::quit:
    case Signal::hangup: return send_break();
    case Signal::cont: return {};  // nothing on Windows is stopped by a signal
    case Signal::user1:
    case Signal::user2: break;
  }
  return make_error_code(errc::unsupported);
}

SUPERVISOR_INLINE void WindowsChild::signal_tree(Signal s) {
  if (s == Signal::kill) {
    kill_tree();
    return;
  }
  (void)signal_leader(s);  // the break reaches its whole process group
}

// ------------------------------------------------------------------------------------------
// Output

SUPERVISOR_INLINE void WindowsChild::on_pipe_packet(StdStream s) {
  PipeReader* p = reader(s);
  if (!p || !events_) return;
  p->finish(0);
  events_->on_output(s);
}

// Hands on what the finished read brought and starts the next one; false at the end. Draining
// (the tree is gone, so every writer is): reads on until the end, each read waited for at most
// 200 ms (only a handle that left the tree could keep it open longer).
SUPERVISOR_INLINE bool WindowsChild::read_output(StdStream s, bool draining, OutputSink& sink) {
  PipeReader* p = reader(s);
  if (!p || !p->handle) return false;
  for (int rounds = 0; rounds < (draining ? 1024 : 1); ++rounds) {
    if (draining && !p->finish(200)) return true;
    if (p->ready > 0) {
      const std::size_t n = std::exchange(p->ready, 0);
      if (!sink.on_chunk(s, std::string_view(p->buf.data(), n), draining) && !draining)
        return true;  // paused
    }
    if (p->eof) return false;
    if (p->paused && !draining) return true;
    p->start();
    if (p->eof) return false;
  }
  return true;
}

SUPERVISOR_INLINE void WindowsChild::pause_output(StdStream s, bool paused) {
  if (PipeReader* p = reader(s)) p->paused = paused;
}

SUPERVISOR_INLINE void WindowsChild::close_output(StdStream s) {
  PipeReader* p = reader(s);
  if (!p || !p->handle) return;
  p->cancel();
  loop_.unwatch(std::exchange(p->watch, 0), reinterpret_cast<NativeHandle>(p->handle.get()));
  p->handle.reset();
}

// ------------------------------------------------------------------------------------------
// Limits and sampling

SUPERVISOR_INLINE void WindowsChild::change_limits(const ResourceLimits& previous,
                                                   const ResourceLimits& next,
                                                   std::vector<LimitStatus>& statuses,
                                                   ErrorSink& err) {
  if (!job_) {
    err.fail(errc::not_running, [] { return std::string("the process tree is gone"); });
    return;
  }
  apply_job_limits(job_.get(), previous, next, statuses, err);
}

// The main process from its handle; the tree from its job's accounting.
SUPERVISOR_INLINE ResourceSample WindowsChild::sample(bool limit_counters) {
  ResourceSample r;
  if (process_) {
    r.alive = ::WaitForSingleObject(process_.get(), 0) == WAIT_TIMEOUT;
    r.state = r.alive ? 'R' : 'Z';
    FILETIME created, ended, kernel, user;
    if (::GetProcessTimes(process_.get(), &created, &ended, &kernel, &user))
      r.cpu_seconds = static_cast<double>(ticks(kernel) + ticks(user)) / 1e7;
    PROCESS_MEMORY_COUNTERS mem{};
    if (::K32GetProcessMemoryInfo(process_.get(), &mem, sizeof mem))
      r.rss_bytes = mem.WorkingSetSize;
    DWORD handles = 0;
    if (r.alive && ::GetProcessHandleCount(process_.get(), &handles))
      r.open_fds = static_cast<int>(handles);
  }
  if (job_) {
    ErrorSink e;
    const JobUsage u = read_job_usage(job_.get(), e);
    if (!e) {
      r.tree_processes = static_cast<int>(u.active_processes);
      r.tree_pids = u.active_processes;
      r.tree_cpu_seconds = u.cpu_seconds();
      r.tree_memory_bytes = u.job_memory;
    }
  }
  if (limit_counters) {
    const TreeCounters c = counters();
    r.oom_kills = c.oom_kills;
    r.fork_refusals = c.fork_refusals;
  }
  return r;
}

// The job's CPU time (every process that ran in it) and, where Windows tells it, its memory;
// else the main process's working set.
SUPERVISOR_INLINE std::optional<UsageReading> WindowsChild::usage() {
  if (leader_exited_ || !process_ || ::WaitForSingleObject(process_.get(), 0) == WAIT_OBJECT_0)
    return std::nullopt;
  UsageReading u;
  PROCESS_MEMORY_COUNTERS mem{};
  if (::K32GetProcessMemoryInfo(process_.get(), &mem, sizeof mem))
    u.memory_bytes = mem.WorkingSetSize;
  ErrorSink e;
  const JobUsage job = job_ ? read_job_usage(job_.get(), e) : JobUsage{};
  if (job_ && !e) {
    u.cpu_seconds = job.cpu_seconds();
    u.tree_cpu = true;
    if (job.job_memory) {
      u.memory_bytes = *job.job_memory;
      u.tree_memory = true;
    }
  } else {
    FILETIME created, ended, kernel, user;
    if (::GetProcessTimes(process_.get(), &created, &ended, &kernel, &user))
      u.cpu_seconds = static_cast<double>(ticks(kernel) + ticks(user)) / 1e7;
  }
  return u;
}

}  // namespace supervisor::detail::win
