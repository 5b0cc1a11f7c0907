// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// What the pool benchmarks share: interruption, host CPU and RSS readings, the raw floors' and the
// pool's sleeping workers, and bring-up runs of either.

#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/restart_policy.hpp>
#include <supervisor/worker_state.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>
#include <vector>
#include "bench_util.hpp"
#include "raw_cgroup.hpp"
#include "raw_child.hpp"

extern char** environ;  // NOLINT: POSIX

namespace supervisor::bench {

namespace sv = supervisor;
using BenchClock = std::chrono::steady_clock;
using namespace std::chrono_literals;  // NOLINT: benchmarks only

// How long a worker sits in nanosleep before it is killed: past its dynamic loader, like a
// long-lived worker, rather than interrupted half-loaded.
inline constexpr auto settle = 5ms;
inline constexpr auto ready_timeout = 60s;
inline constexpr auto event_timeout = 10s;

// Set when SIGINT, SIGTERM or SIGHUP arrives: every phase then stops at its next check and the
// pools and raw children are stopped on the way out, instead of 1000 sleeps being left behind.
inline std::atomic<bool> g_interrupted{false};
inline std::mutex g_interrupt_mu;
inline std::condition_variable g_interrupt_cv;  // wakes sleep_unless_interrupted

// Sleeps for `d` unless interrupted first; never wakes up in between (idle CPU is measured
// around such a sleep).
inline void sleep_unless_interrupted(std::chrono::nanoseconds d) {
  std::unique_lock lock(g_interrupt_mu);
  g_interrupt_cv.wait_for(lock, d, [] { return g_interrupted.load(); });
}

inline void check_interrupted() {
  if (g_interrupted.load(std::memory_order_relaxed))
    throw std::runtime_error("interrupted; everything started was stopped");
}

// Blocks the termination signals in the calling thread (before any other exists, so that every
// thread inherits the mask) and waits for them on a thread of its own, which sleeps in sigwait:
// no polling, so it adds nothing to the idle-CPU measurement.
class InterruptWatch {
 public:
  InterruptWatch() {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, sig);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      for (;;) {
        int sig = 0;
        if (::sigwait(&set_, &sig) != 0) continue;
        if (done_.load()) return;  // the destructor's wake-up
        std::fprintf(stderr, "pool_bench: interrupted, stopping everything\n");
        {
          std::lock_guard lock(g_interrupt_mu);
          g_interrupted.store(true);
        }
        g_interrupt_cv.notify_all();
      }
    });
  }
  ~InterruptWatch() {
    done_.store(true);
    ::pthread_kill(thread_.native_handle(), SIGHUP);  // blocked there: pending until sigwait
    thread_.join();
  }
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  sigset_t set_{};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

inline double to_us(BenchClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}
inline double to_ms(BenchClock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The value below which `q` (0..1) of the samples lie (nearest rank).
inline double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto last = static_cast<double>(v.size() - 1);
  return v[static_cast<std::size_t>(q * last + 0.5)];
}

// Host resident set size, from /proc/self/statm (pages).
inline double rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0;
  long resident = 0;
  if (!(statm >> size >> resident)) throw std::runtime_error("read /proc/self/statm");
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// User + system CPU of the whole host process (every thread), in milliseconds.
inline double host_cpu_ms() {
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) fail_errno("getrusage", errno);
  auto ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

// Each worker holds a pidfd (and, with cgroups, a directory and an events fd): 1000 of them do
// not fit under the common soft limit of 1024. The hard limit is ours to take.
inline rlim_t raise_nofile() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur != lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return lim.rlim_cur;
}

// ------------------------------------------------------------------------------------------
// The raw floor: what a hand-written supervisor on Linux does at the least.

inline char sleep_path[] = "/bin/sleep";
inline char sleep_arg[] = "1000";
inline char* const sleep_argv[] = {sleep_path, sleep_arg, nullptr};

// posix_spawn with stdin/stdout/stderr on one /dev/null, then pidfd_open, starting the same child
// as the pool does (matched_attr).
class RawSpawner {
 public:
  RawSpawner() {
    const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) fail_errno("raw: open /dev/null", errno);
    null_fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);  // above 2: no dup2 below hits its own source
    ::close(fd);
    if (null_fd_ < 0) fail_errno("raw: dup /dev/null", errno);
    posix_spawn_file_actions_init(&actions_);
    for (int target = 0; target <= 2; ++target)
      posix_spawn_file_actions_adddup2(&actions_, null_fd_, target);
    // The library's child setup (own session, default signals, an empty mask: the bench blocks
    // its termination signals in InterruptWatch, which the children must not inherit).
    matched_attr(attr_);
  }
  ~RawSpawner() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
    ::close(null_fd_);
  }
  RawSpawner(const RawSpawner&) = delete;
  RawSpawner& operator=(const RawSpawner&) = delete;

  RawChild spawn_sleep() { return spawn_raw(sleep_path, &actions_, &attr_, sleep_argv); }

 private:
  int null_fd_ = -1;
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
};

// A one-worker raw supervisor on its own thread (RawWatcher): the current child, replaced as soon
// as it is reaped.
class RawSlot {
 public:
  explicit RawSlot(std::function<RawChild()> spawn) : watcher_(std::move(spawn)) {}

  double restart_us() {
    std::this_thread::sleep_for(settle);
    return watcher_.kill_and_wait_replaced();
  }

 private:
  RawWatcher watcher_;
};

// ------------------------------------------------------------------------------------------
// Ours.

inline sv::PoolOptions sleep_pool(std::size_t size, bool new_session = true) {
  sv::PoolOptions o;
  o.spec.argv = {"/bin/sleep", "1000"};
  o.spec.new_session = new_session;
  o.spec.in = sv::StdioSpec::null();
  o.spec.out = sv::StdioSpec::null();
  o.spec.err = sv::StdioSpec::null();
  o.size = size;
  o.max_size = std::max(o.max_size, size);
  sv::StandardRestartOptions restart;
  restart.backoff = sv::BackoffOptions::fixed(sv::Duration::zero());
  restart.min_uptime = sv::Duration::zero();  // every run is free: no backoff growth, no budget
  o.restart_policy = std::make_shared<sv::StandardRestartPolicy>(std::move(restart));
  return o;
}

// Follows worker 0 of a pool through a subscriber (which runs on the loop thread): its pid, and
// when each incarnation became ready.
class ReadyWatch {
 public:
  struct Ready {
    std::uint64_t incarnation = 0;
    int pid = 0;
    BenchClock::time_point at{};
  };

  explicit ReadyWatch(sv::Pool& pool) : pool_(pool) {
    id_ = pool_.subscribe([this](const sv::PoolEvent& ev) { on_event(ev); });
  }
  ~ReadyWatch() { pool_.unsubscribe(id_); }
  ReadyWatch(const ReadyWatch&) = delete;
  ReadyWatch& operator=(const ReadyWatch&) = delete;

  // Waits for an incarnation newer than `after` to be ready.
  Ready wait_beyond(std::uint64_t after) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, event_timeout, [&] { return ready_.incarnation > after; }))
      throw std::runtime_error("pool: no worker became ready after incarnation " +
                               std::to_string(after));
    return ready_;
  }

 private:
  void on_event(const sv::PoolEvent& ev) {
    const auto at = BenchClock::now();  // first of all: the moment the loop reports it
    if (const auto* s = std::get_if<sv::WorkerSpawned>(&ev.data)) {
      std::lock_guard lock(mu_);
      pid_ = s->pid;  // always before that incarnation's move to ready
      return;
    }
    const auto* t = std::get_if<sv::WorkerTransition>(&ev.data);
    if (t == nullptr || t->to != sv::WorkerState::ready) return;
    {
      std::lock_guard lock(mu_);
      if (t->incarnation <= ready_.incarnation) return;  // a released lease, not a new process
      ready_ = Ready{t->incarnation, pid_, at};
    }
    cv_.notify_all();
  }

  sv::Pool& pool_;
  std::uint64_t id_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int pid_ = 0;
  Ready ready_;
};

// A one-worker pool under test for restart latency, with its watcher.
class PoolSlot {
 public:
  explicit PoolSlot(sv::Loop& loop) : pool_(loop, sleep_pool(1)), watch_(pool_) {
    pool_.start();
    current_ = watch_.wait_beyond(0);
  }
  ~PoolSlot() = default;
  PoolSlot(const PoolSlot&) = delete;
  PoolSlot& operator=(const PoolSlot&) = delete;

  double restart_us() {
    std::this_thread::sleep_for(settle);
    const auto t0 = BenchClock::now();
    if (::kill(current_.pid, SIGKILL) != 0) fail_errno("pool: kill", errno);
    current_ = watch_.wait_beyond(current_.incarnation);
    return to_us(current_.at - t0);
  }

 private:
  sv::Pool pool_;
  ReadyWatch watch_;  // after the pool: unsubscribes before the pool goes
  ReadyWatch::Ready current_;
};

struct Bringup {
  std::size_t reached = 0;  // workers (processes) that were up
  double up_ms = 0;         // start until all up
  double cpu_ms = 0;        // host CPU (every thread) spent meanwhile
  double down_ms = 0;       // stop of all of them
  std::string note;         // why fewer than asked, if so
};

// Pool::start of `n` workers until wait_ready(n) returns. `while_up` runs (untimed) before the
// stop; `rss_growth` receives the host RSS growth from before the pool existed to all ready.
inline Bringup pool_bringup(sv::Loop& loop, std::size_t n, bool new_session,
                            const std::function<void(sv::Pool&)>& while_up,
                            double* rss_growth = nullptr) {
  Bringup b;
  const double rss_before = rss_growth ? rss_bytes() : 0.0;
  sv::Pool pool(loop, sleep_pool(n, new_session));
  const double cpu0 = host_cpu_ms();
  const auto t0 = BenchClock::now();
  std::error_code ec;
  pool.start(ec);
  if (ec) {
    b.note = "Pool::start of " + std::to_string(n) + " workers: " + ec.message();
    return b;  // a failed first start leaves nothing running
  }
  const bool all = pool.wait_ready(n, ready_timeout);
  const auto t1 = BenchClock::now();
  b.cpu_ms = host_cpu_ms() - cpu0;
  if (rss_growth) *rss_growth = rss_bytes() - rss_before;
  b.up_ms = to_ms(t1 - t0);
  b.reached = n;
  if (!all) {
    const sv::PoolSnapshot s = pool.snapshot();
    b.reached = s.ready + s.leased;
    b.note =
        "only " + std::to_string(b.reached) + " of " + std::to_string(n) + " ready within " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(ready_timeout).count()) +
        " s";
  }
  if (while_up) while_up(pool);
  const auto t2 = BenchClock::now();
  pool.stop();
  b.down_ms = to_ms(BenchClock::now() - t2);
  return b;
}

// `n` raw spawns (`spawn`: posix_spawn + pidfd_open, or the contained floor's); then SIGKILL to
// each and waitid for each (and the rmdir of each contained one's group).
inline Bringup raw_bringup(const std::function<RawChild()>& spawn, std::size_t n) {
  Bringup b;
  std::vector<RawChild> children;
  children.reserve(n);
  const double cpu0 = host_cpu_ms();
  const auto t0 = BenchClock::now();
  try {
    for (std::size_t i = 0; i < n; ++i) children.push_back(spawn());
  } catch (const std::system_error& e) {
    b.note = "raw spawn " + std::to_string(children.size() + 1) + ": " + e.what();
  }
  const auto t1 = BenchClock::now();
  b.cpu_ms = host_cpu_ms() - cpu0;
  b.up_ms = to_ms(t1 - t0);
  b.reached = children.size();
  // Every kill first: the exits then overlap, as a pool's stop overlaps them.
  for (const auto& c : children) ::kill(c.pid(), SIGKILL);
  for (auto& c : children) c.reap(false);
  b.down_ms = to_ms(BenchClock::now() - t1);
  return b;
}

inline double ratio(double ours, double raw) { return raw > 0 ? ours / raw : 0.0; }

// Progress on stderr, so that a slow phase shows where the time goes.
inline void progress(BenchClock::time_point start, const char* what) {
  std::fprintf(stderr, "[%6.1f s] %s\n",
               std::chrono::duration<double>(BenchClock::now() - start).count(), what);
}

// A worker's containment and spawn path on `loop`, for the table's header.
inline std::string describe_loop(sv::Loop& loop) {
  const sv::LoopInfo li = loop.info();
  std::string s = li.cgroup_usable ? "cgroup per worker under " + li.cgroup_base
                                   : "process groups (" + li.cgroup_why_not + ")";
  s += li.clone3_available ? ", clone3 available" : ", no clone3";
  return s;
}

// A benchmark's main: the interrupt watch first (before any other thread exists, so that every
// thread inherits its signal mask), then `run`; an exception is reported as a failure.
inline int guarded_main(int (*run)(), const char* name) {
  InterruptWatch interrupts;
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace supervisor::bench
