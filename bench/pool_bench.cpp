// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Pool next to raw floors written here (posix_spawn + pidfd_open + poll + waitid), measured in
// one run:
//   1. restart latency: an outside SIGKILL of the pool's only worker until its replacement is
//      ready (seen by a subscriber on the loop thread), against a raw watcher thread, asleep in
//      poll() on the pidfd until the kill, that reaps and spawns again; interleaved, median of
//      many kills;
//   2. bring-up: Pool::start of 1000 workers until wait_ready(1000) returns, against 1000 raw
//      posix_spawn + pidfd_open; stopping both sides is timed for information. These workers do
//      not setsid (`new_session = false`), like the raw ones: without cgroups, stopping a worker
//      that leads its own session first scans /proc for descendants that left its group, which
//      for 1000 workers is a /proc scan per worker (26-27 s in all, measured separately);
//      the default loop's pool of 1000 (cgroups) shows the default spec's bring-up and stop;
//   3. idle CPU of the host while 1000 idle workers sit in the pool;
//   4. host RSS growth per worker of that pool;
//   5. acquire + release cycles per second on 8 ready workers, from 1 and from 8 threads.
// Ratios compare the posix_spawn Loop (cgroups off) with the raw floor, which spawns the same way;
// the default Loop (clone3, a cgroup per worker when usable) is reported for information, and is
// the one whose idle CPU and memory are measured. Host CPU per restart, per started worker and per
// lease cycle is shown next to the times: it hardly depends on how busy the machine is, the times
// do. Linux only, like the process backend itself.
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
#include "raw_child.hpp"

extern char** environ;  // NOLINT: POSIX

namespace {

namespace sv = supervisor;
using BenchClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int restart_samples = 400;  // kills per variant, interleaved
// How long a worker sits in nanosleep before it is killed: past its dynamic loader, like a
// long-lived worker, rather than interrupted half-loaded.
constexpr auto settle = 5ms;
constexpr std::size_t big_pool = 1000;  // workers for bring-up, idle CPU and memory
constexpr int bringup_rounds = 3;       // per side, interleaved
constexpr auto idle_window = 30s;       // the metric is per 30 s: measured over all of it
constexpr std::size_t lease_workers = 8;
constexpr int lease_threads = 8;
constexpr int lease_rounds = 3;  // per thread count, interleaved
constexpr auto lease_span = 1s;  // per round
constexpr auto ready_timeout = 60s;
constexpr auto event_timeout = 10s;

// Set when SIGINT, SIGTERM or SIGHUP arrives: every phase then stops at its next check and the
// pools and raw children are stopped on the way out, instead of 1000 sleeps being left behind.
std::atomic<bool> g_interrupted{false};
std::mutex g_interrupt_mu;
std::condition_variable g_interrupt_cv;  // wakes sleep_unless_interrupted

// Sleeps for `d` unless interrupted first; never wakes up in between (idle CPU is measured
// around such a sleep).
void sleep_unless_interrupted(std::chrono::nanoseconds d) {
  std::unique_lock lock(g_interrupt_mu);
  g_interrupt_cv.wait_for(lock, d, [] { return g_interrupted.load(); });
}

void check_interrupted() {
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

using supervisor::bench::fail_errno;
using supervisor::bench::RawChild;

double to_us(BenchClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}
double to_ms(BenchClock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// The value below which `q` (0..1) of the samples lie (nearest rank).
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto last = static_cast<double>(v.size() - 1);
  return v[static_cast<std::size_t>(q * last + 0.5)];
}

// Host resident set size, from /proc/self/statm (pages).
double rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0;
  long resident = 0;
  if (!(statm >> size >> resident)) throw std::runtime_error("read /proc/self/statm");
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// User + system CPU of the whole host process (every thread), in milliseconds.
double host_cpu_ms() {
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) fail_errno("getrusage", errno);
  auto ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

// Each worker holds a pidfd (and, with cgroups, a directory and an events fd): 1000 of them do
// not fit under the common soft limit of 1024. The hard limit is ours to take.
rlim_t raise_nofile() {
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

char sleep_path[] = "/bin/sleep";
char sleep_arg[] = "1000";
char* const sleep_argv[] = {sleep_path, sleep_arg, nullptr};

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
    supervisor::bench::matched_attr(attr_);
  }
  ~RawSpawner() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
    ::close(null_fd_);
  }
  RawSpawner(const RawSpawner&) = delete;
  RawSpawner& operator=(const RawSpawner&) = delete;

  RawChild spawn_sleep() {
    return supervisor::bench::spawn_raw(sleep_path, &actions_, &attr_, sleep_argv);
  }

 private:
  int null_fd_ = -1;
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
};

// A one-worker raw supervisor on its own thread (RawWatcher): the current child, replaced as soon
// as it is reaped.
class RawSlot {
 public:
  explicit RawSlot(RawSpawner& spawner) : watcher_([&spawner] { return spawner.spawn_sleep(); }) {}

  double restart_us() {
    std::this_thread::sleep_for(settle);
    return watcher_.kill_and_wait_replaced();
  }

 private:
  supervisor::bench::RawWatcher watcher_;
};

// ------------------------------------------------------------------------------------------
// Ours.

sv::PoolOptions sleep_pool(std::size_t size, bool new_session = true) {
  sv::PoolOptions o;
  o.spec.argv = {"/bin/sleep", "1000"};
  o.spec.new_session = new_session;
  o.spec.in = sv::StdioSpec::null();
  o.spec.out = sv::StdioSpec::null();
  o.spec.err = sv::StdioSpec::null();
  o.size = size;
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
Bringup pool_bringup(sv::Loop& loop, std::size_t n, bool new_session,
                     const std::function<void(sv::Pool&)>& while_up, double* rss_growth = nullptr) {
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

// `n` raw posix_spawn + pidfd_open; then SIGKILL to each and waitid for each.
Bringup raw_bringup(RawSpawner& spawner, std::size_t n) {
  Bringup b;
  std::vector<RawChild> children;
  children.reserve(n);
  const double cpu0 = host_cpu_ms();
  const auto t0 = BenchClock::now();
  try {
    for (std::size_t i = 0; i < n; ++i) children.push_back(spawner.spawn_sleep());
  } catch (const std::system_error& e) {
    b.note = "raw spawn " + std::to_string(children.size() + 1) + ": " + e.what();
  }
  const auto t1 = BenchClock::now();
  b.cpu_ms = host_cpu_ms() - cpu0;
  b.up_ms = to_ms(t1 - t0);
  b.reached = children.size();
  for (const auto& c : children) ::kill(c.pid(), SIGKILL);
  for (auto& c : children) c.reap(false);
  b.down_ms = to_ms(BenchClock::now() - t1);
  return b;
}

struct LeaseRun {
  double rate = 0;    // cycles per second: the sum of each thread's own rate
  double cpu_us = 0;  // host CPU (every thread) per cycle
};

// acquire(1 s) + release cycles from `threads` threads for `lease_span` each.
LeaseRun lease_rate(sv::Pool& pool, int threads) {
  std::vector<double> rates(static_cast<std::size_t>(threads), 0.0);
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(threads), 0);
  std::vector<std::string> errors(static_cast<std::size_t>(threads));
  std::latch line_up(threads);
  const double cpu0 = host_cpu_ms();
  std::vector<std::thread> pool_threads;
  for (int i = 0; i < threads; ++i) {
    pool_threads.emplace_back([&, i] {
      const auto k = static_cast<std::size_t>(i);
      line_up.arrive_and_wait();
      const auto t0 = BenchClock::now();
      const auto deadline = t0 + lease_span;
      std::uint64_t cycles = 0;
      auto t = t0;
      while (t < deadline && !g_interrupted.load(std::memory_order_relaxed)) {
        std::error_code ec;
        sv::Lease lease = pool.acquire(1s, ec);
        if (ec) {
          errors[k] = "acquire: " + ec.message();
          break;
        }
        lease.release();
        ++cycles;
        t = BenchClock::now();
      }
      rates[k] = static_cast<double>(cycles) / std::chrono::duration<double>(t - t0).count();
      counts[k] = cycles;
    });
  }
  for (auto& th : pool_threads) th.join();
  const double cpu_ms = host_cpu_ms() - cpu0;
  for (const auto& e : errors) {
    if (!e.empty()) throw std::runtime_error("lease cycles: " + e);
  }
  LeaseRun run;
  std::uint64_t cycles = 0;
  for (std::size_t k = 0; k < rates.size(); ++k) {
    run.rate += rates[k];
    cycles += counts[k];
  }
  run.cpu_us = cycles > 0 ? cpu_ms * 1e3 / static_cast<double>(cycles) : 0.0;
  return run;
}

double ratio(double ours, double raw) { return raw > 0 ? ours / raw : 0.0; }

// Progress on stderr, so that a slow phase shows where the time goes.
void progress(BenchClock::time_point start, const char* what) {
  std::fprintf(stderr, "[%6.1f s] %s\n",
               std::chrono::duration<double>(BenchClock::now() - start).count(), what);
}

// A worker's containment and spawn path on `loop`, for the table's header.
std::string describe_loop(sv::Loop& loop) {
  const sv::LoopInfo li = loop.info();
  std::string s = li.cgroup_usable ? "cgroup per worker under " + li.cgroup_base
                                   : "process groups (" + li.cgroup_why_not + ")";
  s += li.clone3_available ? ", clone3 available" : ", no clone3";
  return s;
}

int run() {
  const rlim_t nofile = raise_nofile();
  // Room for the pool's pidfds (three fds per worker with cgroups) and the host's own.
  std::size_t pool_size = big_pool;
  std::string size_note;
  if (nofile != RLIM_INFINITY && nofile < big_pool * 3 + 64) {
    pool_size = std::max<std::size_t>(16, (static_cast<std::size_t>(nofile) - 64) / 3);
    size_note = "RLIMIT_NOFILE is " + std::to_string(nofile) + ": pools of " +
                std::to_string(pool_size) + " instead of " + std::to_string(big_pool);
  }
  const auto bench_start = BenchClock::now();

  sv::LoopOptions posix_options;
  posix_options.on_linux.disable_cgroups = true;
  posix_options.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
  sv::Loop posix_loop(std::move(posix_options));
  sv::Loop default_loop;
  RawSpawner spawner;
  std::printf("posix_spawn loop: %s\n", describe_loop(posix_loop).c_str());
  std::printf("default loop:     %s\n", describe_loop(default_loop).c_str());
  if (!size_note.empty()) std::printf("note: %s\n", size_note.c_str());

  // ---- 3 + 4: a pool of 1000 on the default loop: RSS growth, then idle CPU -----------------
  // First of all, so that no earlier pool's freed memory hides this one's growth.
  double rss_growth = 0;
  double idle_cpu_ms = 0;
  double idle_s = 0;
  Bringup mem_run;
  for (;;) {
    mem_run = pool_bringup(
        default_loop, pool_size, true,
        [&](sv::Pool&) {
          const double cpu0 = host_cpu_ms();
          const auto w0 = BenchClock::now();
          sleep_unless_interrupted(idle_window);
          idle_cpu_ms = host_cpu_ms() - cpu0;
          idle_s = std::chrono::duration<double>(BenchClock::now() - w0).count();
        },
        &rss_growth);
    if (mem_run.reached > 0 || pool_size <= 16) break;
    std::printf("note: %s; trying %zu\n", mem_run.note.c_str(), pool_size / 2);
    size_note = mem_run.note;
    pool_size /= 2;
  }
  if (mem_run.reached == 0) throw std::runtime_error(mem_run.note);
  check_interrupted();
  progress(bench_start, "memory and idle CPU done");
  if (!mem_run.note.empty()) size_note = mem_run.note;

  // ---- 1: restart latency, interleaved -------------------------------------------------------
  std::vector<double> lat_ours;
  std::vector<double> lat_raw;
  std::vector<double> lat_default;
  // Host CPU (every thread, children excluded) per restart: unlike the latency, it does not
  // depend on how busy the machine is.
  double cpu_ours = 0;
  double cpu_raw = 0;
  double cpu_default = 0;
  auto sample = [](std::vector<double>& lat, double& cpu, auto& slot) {
    const double c0 = host_cpu_ms();
    lat.push_back(slot.restart_us());
    cpu += host_cpu_ms() - c0;
  };
  {
    PoolSlot ours(posix_loop);
    PoolSlot deflt(default_loop);
    RawSlot raw(spawner);
    for (int i = 0; i < 5; ++i) {  // warm-up
      ours.restart_us();
      raw.restart_us();
      deflt.restart_us();
    }
    sv::bench::Interleave order(3);  // shuffled every round
    for (int i = 0; i < restart_samples; ++i) {
      check_interrupted();
      for (const int v : order.next_round()) {
        switch (v) {
          case 0: sample(lat_ours, cpu_ours, ours); break;
          case 1: sample(lat_raw, cpu_raw, raw); break;
          default: sample(lat_default, cpu_default, deflt); break;
        }
      }
    }
  }

  progress(bench_start, "restart latency done");

  // ---- 2: bring-up of 1000, interleaved ------------------------------------------------------
  std::vector<Bringup> up_ours;
  std::vector<Bringup> up_raw;
  for (int r = 0; r < bringup_rounds; ++r) {
    check_interrupted();
    for (int k = 0; k < 2; ++k) {
      if ((r + k) % 2 == 0) {
        up_ours.push_back(pool_bringup(posix_loop, pool_size, false, {}));
        progress(bench_start, "bring-up round (pool) done");
      } else {
        up_raw.push_back(raw_bringup(spawner, pool_size));
        progress(bench_start, "bring-up round (raw) done");
      }
    }
  }
  auto field = [](const std::vector<Bringup>& runs, double Bringup::*f) {
    std::vector<double> v;
    for (const auto& b : runs) {
      if (b.reached > 0) v.push_back(b.*f);
    }
    return v;
  };
  std::string bringup_note;
  std::size_t reached = pool_size;
  for (const auto* runs : {&up_ours, &up_raw}) {
    for (const auto& b : *runs) {
      reached = std::min(reached, b.reached);
      if (!b.note.empty() && bringup_note.empty()) bringup_note = b.note;
    }
  }

  // ---- 5: lease cycles on 8 ready workers, interleaved ---------------------------------------
  std::vector<LeaseRun> lease_1t;
  std::vector<LeaseRun> lease_nt;
  {
    sv::Pool pool(posix_loop, sleep_pool(lease_workers));
    pool.start();
    if (!pool.wait_ready(lease_workers, ready_timeout))
      throw std::runtime_error("lease pool: workers not ready");
    lease_rate(pool, 1);  // warm-up
    for (int r = 0; r < lease_rounds; ++r) {
      check_interrupted();
      if (r % 2 == 0) {
        lease_1t.push_back(lease_rate(pool, 1));
        lease_nt.push_back(lease_rate(pool, lease_threads));
      } else {
        lease_nt.push_back(lease_rate(pool, lease_threads));
        lease_1t.push_back(lease_rate(pool, 1));
      }
    }
  }

  check_interrupted();
  progress(bench_start, "lease cycles done");

  // ---- report --------------------------------------------------------------------------------
  using sv::bench::median;
  const double r_ours = median(lat_ours);
  const double r_raw = median(lat_raw);
  const double r_default = median(lat_default);
  const double b_ours = median(field(up_ours, &Bringup::up_ms));
  const double b_raw = median(field(up_raw, &Bringup::up_ms));
  const double s_ours = median(field(up_ours, &Bringup::down_ms));
  const double s_raw = median(field(up_raw, &Bringup::down_ms));
  const double idle_per_30s = idle_s > 0 ? idle_cpu_ms * 30.0 / idle_s : 0.0;
  const double kib_per_worker = rss_growth / 1024.0 / static_cast<double>(mem_run.reached);
  auto lease_field = [](const std::vector<LeaseRun>& runs, double LeaseRun::*f) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*f);
    return median(std::move(v));
  };
  const double l1 = lease_field(lease_1t, &LeaseRun::rate);
  const double ln = lease_field(lease_nt, &LeaseRun::rate);

  std::printf("\nSIGKILL -> replacement ready (us), %d kills each, interleaved\n", restart_samples);
  std::printf("  %-44s %8s %9s %9s   %s\n", "variant", "median", "p10", "p90",
              "host CPU per restart");
  auto lat_row = [](const char* name, const std::vector<double>& v, double cpu) {
    std::printf("  %-44s %8.0f %9.0f %9.0f   %6.0f us\n", name, median(v), quantile(v, 0.1),
                quantile(v, 0.9), v.empty() ? 0.0 : cpu * 1e3 / static_cast<double>(v.size()));
  };
  lat_row("Pool, posix_spawn loop (no cgroups)", lat_ours, cpu_ours);
  lat_row("raw posix_spawn+pidfd_open+poll+waitid", lat_raw, cpu_raw);
  lat_row("Pool, default loop", lat_default, cpu_default);

  std::printf("\nbring-up of %zu sleeps (ms), %d rounds each, interleaved\n", pool_size,
              bringup_rounds);
  std::printf("  %-44s %8s %9s %9s %11s %9s\n", "variant", "up", "(min", "max)", "CPU/worker",
              "stop");
  auto up_row = [&](const char* name, const std::vector<Bringup>& runs) {
    const auto up = field(runs, &Bringup::up_ms);
    std::printf("  %-44s %8.1f %9.1f %9.1f %8.0f us %9.1f\n", name, median(up), quantile(up, 0.0),
                quantile(up, 1.0), median(field(runs, &Bringup::cpu_ms)) * 1e3 / double(pool_size),
                median(field(runs, &Bringup::down_ms)));
  };
  up_row("Pool::start .. wait_ready, posix_spawn loop", up_ours);
  up_row("raw posix_spawn + pidfd_open", up_raw);
  up_row("Pool, default loop (once, first pool)", {mem_run});
  if (!bringup_note.empty()) std::printf("  note: %s\n", bringup_note.c_str());

  std::printf("\npool of %zu idle workers, default loop\n", mem_run.reached);
  std::printf("  host CPU %.1f ms in %.2f s (%.2f ms per 30 s)\n", idle_cpu_ms, idle_s,
              idle_per_30s);
  std::printf("  host RSS growth %.0f KiB (%.2f KiB per worker)\n", rss_growth / 1024.0,
              kib_per_worker);

  std::printf("\nacquire(1 s) + release on %zu ready workers (cycles/s), %d rounds of %lld ms\n",
              lease_workers, lease_rounds,
              static_cast<long long>(std::chrono::milliseconds(lease_span).count()));
  std::printf("  1 thread:  %9.0f (%.2f us per cycle; host CPU %.2f us per cycle)\n", l1,
              l1 > 0 ? 1e6 / l1 : 0.0, lease_field(lease_1t, &LeaseRun::cpu_us));
  std::printf("  %d threads: %9.0f (host CPU %.2f us per cycle)\n", lease_threads, ln,
              lease_field(lease_nt, &LeaseRun::cpu_us));
  if (!size_note.empty() || reached < big_pool) {
    std::printf("note: the \"1000\" metrics were measured with %zu workers%s%s\n", reached,
                size_note.empty() ? "" : ": ", size_note.c_str());
  }
  std::printf("(whole benchmark: %.1f s)\n",
              std::chrono::duration<double>(BenchClock::now() - bench_start).count());

  sv::bench::metric("pool.restart_latency_us", r_ours, "us");
  sv::bench::metric("pool.raw_restart_latency_us", r_raw, "us");
  sv::bench::metric("pool.restart_latency_ratio", ratio(r_ours, r_raw), "ratio");
  sv::bench::metric("pool.restart_latency_default_us", r_default, "us");
  sv::bench::metric("pool.restart_cpu_us", cpu_ours * 1e3 / restart_samples, "us");
  sv::bench::metric("pool.raw_restart_cpu_us", cpu_raw * 1e3 / restart_samples, "us");
  sv::bench::metric("pool.bringup_1000_ms", b_ours, "ms");
  sv::bench::metric("pool.raw_bringup_1000_ms", b_raw, "ms");
  sv::bench::metric("pool.bringup_1000_ratio", ratio(b_ours, b_raw), "ratio");
  sv::bench::metric("pool.bringup_1000_default_ms", mem_run.up_ms, "ms");
  sv::bench::metric("pool.bringup_cpu_per_worker_us",
                    median(field(up_ours, &Bringup::cpu_ms)) * 1e3 / double(pool_size), "us");
  sv::bench::metric("pool.raw_bringup_cpu_per_worker_us",
                    median(field(up_raw, &Bringup::cpu_ms)) * 1e3 / double(pool_size), "us");
  sv::bench::metric("pool.stop_1000_ms", s_ours, "ms");
  sv::bench::metric("pool.raw_stop_1000_ms", s_raw, "ms");
  sv::bench::metric("pool.stop_1000_default_ms", mem_run.down_ms, "ms");
  sv::bench::metric("pool.idle_cpu_1000", idle_per_30s, "ms_per_30s");
  sv::bench::metric("pool.memory_per_worker", kib_per_worker, "KiB");
  sv::bench::metric("pool.lease_cycles_1t", l1, "per_s");
  sv::bench::metric("pool.lease_cycles_8t", ln, "per_s");
  return 0;
}

}  // namespace

int main() {
  InterruptWatch interrupts;  // first: before any other thread exists
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pool_bench: %s\n", e.what());
    return 1;
  }
}
