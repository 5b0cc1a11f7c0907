// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The process layer next to a raw floor written here (posix_spawn + pidfd_open + poll + waitid),
// measured side by side, interleaved, in one run:
//   1. spawn+reap throughput of /bin/true (stdio on /dev/null);
//   2. latency from an outside SIGKILL of a running child to its replacement having started:
//      on each side a watcher (the raw one's thread, the library's loop) that started the child
//      itself, and starts the replacement as soon as it has reaped it.
// The ratios compare the posix_spawn Loop (cgroups off) with the raw floor, which starts the same
// child (its own session, default signal dispositions, an empty mask: `matched_attr`); a bare raw
// floor (posix_spawn with no attributes at all) is measured too, with its own ratios. The default
// Loop (clone3, a cgroup per child when usable) is shown for information. Linux only, like the
// process backend itself.
#include <supervisor/exit_status.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_spec.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "bench_util.hpp"
#include "raw_cgroup.hpp"
#include "raw_child.hpp"

extern char** environ;  // NOLINT: POSIX

namespace {

namespace sv = supervisor;
using BenchClock = std::chrono::steady_clock;

constexpr int spawn_rounds = 21;       // throughput rounds per variant, interleaved
constexpr int spawns_per_round = 200;  // spawns of /bin/true per round
constexpr int kill_samples = 400;      // SIGKILL -> replacement samples per variant, interleaved
// How long a child runs before it is killed: long enough to be past its dynamic loader and asleep
// in nanosleep, like a long-lived worker, rather than interrupted half-loaded.
constexpr auto settle = std::chrono::milliseconds(5);

using supervisor::bench::fail_errno;
using supervisor::bench::RawChild;
using supervisor::bench::RawWatcher;

// The value below which `q` (0..1) of the samples lie (nearest rank).
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto last = static_cast<double>(v.size() - 1);
  return v[static_cast<std::size_t>(q * last + 0.5)];
}

double seconds_since(BenchClock::time_point t0) {
  return std::chrono::duration<double>(BenchClock::now() - t0).count();
}

double micros_between(BenchClock::time_point t0, BenchClock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}

// ------------------------------------------------------------------------------------------
// The raw floor: what a hand-written supervisor on Linux does at the least.

// posix_spawn with stdin/stdout/stderr on /dev/null (opened once), then pidfd_open. `matched`:
// the library's child setup (matched_attr); else posix_spawn's defaults (the bare floor).
class RawSpawner {
 public:
  explicit RawSpawner(bool matched) : matched_(matched) {
    if (matched_) supervisor::bench::matched_attr(attr_);
    const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) fail_errno("raw: open /dev/null", errno);
    // Above 2, so that the dup2 actions below never hit their own source.
    null_fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    if (null_fd_ < 0) fail_errno("raw: dup /dev/null", errno);
    posix_spawn_file_actions_init(&actions_);
    for (int target = 0; target < 3; ++target)
      posix_spawn_file_actions_adddup2(&actions_, null_fd_, target);
  }
  ~RawSpawner() {
    posix_spawn_file_actions_destroy(&actions_);
    if (matched_) posix_spawnattr_destroy(&attr_);
    ::close(null_fd_);
  }
  RawSpawner(const RawSpawner&) = delete;
  RawSpawner& operator=(const RawSpawner&) = delete;

  RawChild spawn(char* const argv[]) {
    return supervisor::bench::spawn_raw(argv[0], &actions_, matched_ ? &attr_ : nullptr, argv);
  }

 private:
  bool matched_;
  int null_fd_ = -1;
  posix_spawn_file_actions_t actions_{};
  posix_spawnattr_t attr_{};
};

char true_path[] = "/bin/true";
char sleep_path[] = "/bin/sleep";
char sleep_arg[] = "1000";
char* const true_argv[] = {true_path, nullptr};
char* const sleep_argv[] = {sleep_path, sleep_arg, nullptr};

double raw_spawn_rate(RawSpawner& spawner, int n) {
  const auto t0 = BenchClock::now();
  for (int i = 0; i < n; ++i) spawner.spawn(true_argv).reap(true);
  return n / seconds_since(t0);
}

// The floor for restart latency: a raw watcher thread, asleep in poll() until the kill (by this
// thread) wakes it, as the library's loop is.
double raw_restart_us(RawWatcher& watcher) {
  std::this_thread::sleep_for(settle);
  return watcher.kill_and_wait_replaced();
}

// For information: the same with no thread at all, the killer reaping and respawning inline. No
// supervisor works this way (it never knows when the kill comes), but it shows what the wake-up
// of a sleeping thread costs on this machine.
double inline_restart_us(RawSpawner& spawner) {
  RawChild first = spawner.spawn(sleep_argv);
  std::this_thread::sleep_for(settle);
  const auto t0 = BenchClock::now();
  if (::kill(first.pid(), SIGKILL) != 0) fail_errno("raw: kill", errno);
  first.reap(true);
  RawChild replacement = spawner.spawn(sleep_argv);
  const auto t1 = BenchClock::now();
  return micros_between(t0, t1);  // `replacement` is killed and reaped here
}

// ------------------------------------------------------------------------------------------
// Ours: Process::start + wait, and an on_exit callback that starts the replacement (OursWatcher).

sv::ProcessSpec null_stdio_spec(std::vector<std::string> argv) {
  sv::ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.in = sv::StdioSpec::null();
  spec.out = sv::StdioSpec::null();
  spec.err = sv::StdioSpec::null();
  return spec;
}

double ours_spawn_rate(sv::Loop& loop, const sv::ProcessSpec& spec, int n) {
  const auto t0 = BenchClock::now();
  for (int i = 0; i < n; ++i) {
    sv::Process p = sv::Process::start(loop, spec);
    const sv::ExitStatus st = p.wait();
    if (!st.ok()) throw std::runtime_error("ours: /bin/true ended with " + st.describe());
  }
  return n / seconds_since(t0);
}

// The library's counterpart of RawWatcher: a Process whose on_exit callback (on the loop thread,
// once the killed child is reaped) starts its replacement with the same callback, so that, as on
// the raw side, the child killed is always one the watcher itself started.
class OursWatcher {
 public:
  OursWatcher(sv::Loop& loop, const sv::ProcessSpec& spec) : shared_(std::make_shared<Shared>()) {
    shared_->loop = &loop;
    shared_->spec = spec;
    std::lock_guard lock(shared_->mu);
    shared_->current = start(shared_, shared_->ec);
    if (shared_->ec) throw std::system_error(shared_->ec, "ours: start");
  }
  ~OursWatcher() {
    sv::Process last;
    {
      std::lock_guard lock(shared_->mu);
      shared_->stopping = true;
      last = std::move(shared_->current);
    }
    if (last.valid()) last.kill();
  }
  OursWatcher(const OursWatcher&) = delete;
  OursWatcher& operator=(const OursWatcher&) = delete;

  // SIGKILLs the current child from this thread; returns the microseconds until the loop had
  // started its replacement.
  double kill_and_wait_replaced() {
    std::this_thread::sleep_for(settle);
    std::unique_lock lock(shared_->mu);
    const std::uint64_t gen = shared_->generation;
    const auto t0 = BenchClock::now();
    if (::kill(shared_->current.pid(), SIGKILL) != 0) fail_errno("ours: kill", errno);
    shared_->cv.wait(lock, [&] { return shared_->generation != gen || shared_->ec; });
    if (shared_->ec) throw std::system_error(shared_->ec, "ours: start of the replacement");
    return micros_between(t0, shared_->replaced_at);
  }

 private:
  struct Shared {
    sv::Loop* loop = nullptr;
    sv::ProcessSpec spec;
    std::mutex mu;
    std::condition_variable cv;
    sv::Process current;  // (mu)
    std::uint64_t generation = 0;
    BenchClock::time_point replaced_at{};
    std::error_code ec;
    bool stopping = false;
  };

  static sv::Process start(const std::shared_ptr<Shared>& shared, std::error_code& ec) {
    sv::ProcessOptions options;
    // Runs on the loop thread; Process::start runs inline there.
    options.on_exit = [weak = std::weak_ptr<Shared>(shared)](const sv::ExitStatus&) {
      const auto s = weak.lock();
      if (!s) return;
      std::lock_guard lock(s->mu);
      if (s->stopping) return;
      sv::Process next = start(s, s->ec);
      s->replaced_at = BenchClock::now();
      s->current = std::move(next);  // the old handle goes: its process is final already
      ++s->generation;
      s->cv.notify_all();
    };
    return sv::Process::start(*shared->loop, shared->spec, std::move(options), ec);
  }

  std::shared_ptr<Shared> shared_;
};

std::string describe_loop(sv::Loop& loop, const sv::ProcessSpec& spec) {
  sv::Process p = sv::Process::start(loop, spec);
  const sv::ProcessInfo pi = p.info();
  p.wait();
  const sv::LoopInfo li = loop.info();
  std::string s =
      std::string(sv::to_string(pi.path)) + ", " + std::string(sv::to_string(pi.containment));
  if (!pi.cgroup.empty()) s += " (" + pi.cgroup + ")";
  if (!li.cgroup_usable) s += " [no cgroup: " + li.cgroup_why_not + "]";
  return s;
}

int run() {
  sv::LoopOptions posix_options;
  posix_options.on_linux.disable_cgroups = true;
  posix_options.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
  sv::Loop posix_loop(std::move(posix_options));
  sv::Loop default_loop;
  RawSpawner spawner(true);
  RawSpawner bare(false);
  const sv::ProcessSpec true_spec = null_stdio_spec({"/bin/true"});
  const sv::ProcessSpec sleep_spec = null_stdio_spec({"/bin/sleep", "1000"});

  const std::string posix_desc = describe_loop(posix_loop, true_spec);
  const std::string default_desc = describe_loop(default_loop, true_spec);

  // Warm-up: page cache, dynamic loader, the loops' first allocations.
  ours_spawn_rate(posix_loop, true_spec, 20);
  ours_spawn_rate(default_loop, true_spec, 20);
  raw_spawn_rate(spawner, 20);
  raw_spawn_rate(bare, 20);

  // Interleaved rounds, in an order shuffled every round (sv::bench::Interleave).
  // The contained floor (raw_cgroup.hpp) where the default loop contains in cgroups: the
  // default loop's spawn+reap is measured against it too.
  const sv::LoopInfo default_info = default_loop.info();
  std::unique_ptr<supervisor::bench::RawCgroupSpawner> contained;
  if (supervisor::bench::RawCgroupSpawner::supported() && default_info.cgroup_usable &&
      default_info.clone_into_cgroup_available) {
    contained = std::make_unique<supervisor::bench::RawCgroupSpawner>(default_info.cgroup_base,
                                                                      true_path, true_argv);
  }
  const auto contained_rate = [&contained](int n) {
    const auto t0 = BenchClock::now();
    for (int i = 0; i < n; ++i) contained->spawn().reap(true);
    return n / seconds_since(t0);
  };
  if (contained) contained_rate(20);
  std::vector<double> spawn_ours, spawn_raw, spawn_bare, spawn_clone3, spawn_contained;
  sv::bench::Interleave spawn_order(contained ? 5 : 4);
  for (int r = 0; r < spawn_rounds; ++r) {
    for (const int v : spawn_order.next_round()) {
      switch (v) {
        case 0:
          spawn_ours.push_back(ours_spawn_rate(posix_loop, true_spec, spawns_per_round));
          break;
        case 1: spawn_raw.push_back(raw_spawn_rate(spawner, spawns_per_round)); break;
        case 2: spawn_bare.push_back(raw_spawn_rate(bare, spawns_per_round)); break;
        case 3:
          spawn_clone3.push_back(ours_spawn_rate(default_loop, true_spec, spawns_per_round));
          break;
        default: spawn_contained.push_back(contained_rate(spawns_per_round)); break;
      }
    }
  }
  std::vector<double> restart_ours, restart_raw, restart_bare, restart_clone3, restart_inline;
  {
    RawWatcher watcher([&spawner] { return spawner.spawn(sleep_argv); });
    RawWatcher bare_watcher([&bare] { return bare.spawn(sleep_argv); });
    OursWatcher ours(posix_loop, sleep_spec);
    OursWatcher ours_clone3(default_loop, sleep_spec);
    sv::bench::Interleave kill_order(5);
    for (int i = 0; i < kill_samples; ++i) {
      for (const int v : kill_order.next_round()) {
        switch (v) {
          case 0: restart_ours.push_back(ours.kill_and_wait_replaced()); break;
          case 1: restart_raw.push_back(raw_restart_us(watcher)); break;
          case 2: restart_inline.push_back(inline_restart_us(spawner)); break;
          case 3: restart_bare.push_back(raw_restart_us(bare_watcher)); break;
          default: restart_clone3.push_back(ours_clone3.kill_and_wait_replaced()); break;
        }
      }
    }
  }

  using sv::bench::median;
  const double rate_ours = median(spawn_ours);
  const double rate_raw = median(spawn_raw);
  // The ratio is the median of the rounds' own ratios: each round measures both side by side, so
  // a slow spell of the machine (a VM neighbour, a timer storm) weighs on both sides of its ratio
  // instead of on whichever variant happened to run during it.
  const auto paired_ratios = [&](const std::vector<double>& floor) {
    std::vector<double> ratios;
    for (std::size_t r = 0; r < spawn_ours.size() && r < floor.size(); ++r)
      if (floor[r] > 0) ratios.push_back(spawn_ours[r] / floor[r]);
    return ratios;
  };
  const std::vector<double> spawn_ratios = paired_ratios(spawn_raw);
  const std::vector<double> bare_ratios = paired_ratios(spawn_bare);
  const double rate_bare = median(spawn_bare);
  const double lat_bare = median(restart_bare);
  const double rate_clone3 = median(spawn_clone3);
  const double lat_ours = median(restart_ours);
  const double lat_raw = median(restart_raw);
  const double lat_clone3 = median(restart_clone3);

  std::printf("posix_spawn loop: %s\n", posix_desc.c_str());
  std::printf("default loop:     %s\n", default_desc.c_str());
  std::printf("%-40s %21s   %27s\n", "", "spawn+reap of /bin/true", "SIGKILL -> replacement (us)");
  std::printf("%-40s %7s %13s   %7s %19s\n", "variant", "per s", "(min..max)", "median",
              "(p10..p90)");
  auto row = [](const char* name, const std::vector<double>& rates,
                const std::vector<double>& lats) {
    std::printf("%-40s %7.0f (%5.0f..%5.0f)   %7.0f (%8.0f..%8.0f)\n", name, median(rates),
                quantile(rates, 0.0), quantile(rates, 1.0), median(lats), quantile(lats, 0.1),
                quantile(lats, 0.9));
  };
  row("supervisor::Process, posix_spawn loop", spawn_ours, restart_ours);
  row("raw posix_spawn+pidfd_open+poll+waitid", spawn_raw, restart_raw);
  row("raw, bare posix_spawn (no attributes)", spawn_bare, restart_bare);
  std::printf("%-40s %7s %13s   %7.0f (%8.0f..%8.0f)\n", "raw, killer reaps inline (no watcher)",
              "", "", median(restart_inline), quantile(restart_inline, 0.1),
              quantile(restart_inline, 0.9));
  row("supervisor::Process, default loop", spawn_clone3, restart_clone3);
  std::printf(
      "(%d rounds x %d spawns, %d kills per variant, interleaved; ratios: posix_spawn loop / "
      "raw, which starts the same child (own session, default signals, empty mask); the spawn "
      "ratio is the median of the rounds' ratios)\n",
      spawn_rounds, spawns_per_round, kill_samples);

  sv::bench::metric("process.spawn_throughput", rate_ours, "per_s");
  sv::bench::metric("process.raw_spawn_throughput", rate_raw, "per_s");
  sv::bench::metric("process.spawn_throughput_ratio", median(spawn_ratios), "ratio");
  sv::bench::metric("process.spawn_throughput_ratio_of_medians",
                    rate_raw > 0 ? rate_ours / rate_raw : 0.0, "ratio");
  sv::bench::metric("process.raw_bare_spawn_throughput", rate_bare, "per_s");
  sv::bench::metric("process.spawn_throughput_ratio_vs_bare", median(bare_ratios), "ratio");
  sv::bench::metric("process.spawn_throughput_clone3", rate_clone3, "per_s");
  if (contained) {
    std::vector<double> ratios;  // paired by round, as above
    for (std::size_t r = 0; r < spawn_clone3.size() && r < spawn_contained.size(); ++r)
      if (spawn_contained[r] > 0) ratios.push_back(spawn_clone3[r] / spawn_contained[r]);
    sv::bench::metric("process.raw_contained_spawn_throughput", median(spawn_contained), "per_s");
    sv::bench::metric("process.spawn_throughput_default_ratio", median(ratios), "ratio");
  }
  sv::bench::metric("process.restart_latency_us", lat_ours, "us");
  sv::bench::metric("process.raw_restart_latency_us", lat_raw, "us");
  sv::bench::metric("process.restart_latency_ratio", lat_raw > 0 ? lat_ours / lat_raw : 0.0,
                    "ratio");
  sv::bench::metric("process.raw_bare_restart_latency_us", lat_bare, "us");
  sv::bench::metric("process.restart_latency_ratio_vs_bare",
                    lat_bare > 0 ? lat_ours / lat_bare : 0.0, "ratio");
  sv::bench::metric("process.restart_latency_clone3_us", lat_clone3, "us");
  sv::bench::metric("process.raw_restart_latency_inline_us", median(restart_inline), "us");
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "process_bench: %s\n", e.what());
    return 1;
  }
}
