// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The job channel (ProcessSpec::channel, Lease::channel) next to a raw floor written here: one
// job sent to a worker and its answer received, the worker a tiny C++ echo (echo_child.cpp), so
// that the exchange is what is measured.
//   ours  (pool.job_roundtrip_us): what a gateway does per job: Pool::acquire (the lease fast
//         path), lease.channel().request(job), release. The ratio is this one's.
//   held  (pool.job_roundtrip_held_us, for information): send + receive on one lease held
//         throughout: the channel alone.
//   raw   (pool.raw_job_roundtrip_us): a socketpair(AF_UNIX, SOCK_SEQPACKET) and the same echo
//         child posix_spawn'd with its end on fd 3: send(2) + recv(2), blocking.
// Each exchange is timed alone; rounds of `round_size` exchanges per variant run in an order
// shuffled afresh each round (interleaved), so that the machine's moods fall on all of them
// alike; the metric is the median of every exchange of a variant (`rounds` x `round_size`).
// Linux only, like the process backend itself.
#include <supervisor/loop.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/process_spec.hpp>

#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "raw_child.hpp"

extern char** environ;  // NOLINT: POSIX

namespace {

namespace sv = supervisor;
using BenchClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int rounds = 40;
constexpr int round_size = 500;  // 40 x 500 = 20,000 exchanges per variant
constexpr int warmup = 2000;
constexpr auto job_timeout = 10s;
const std::string job(64, 'j');  // a small job, as a request id and a few arguments would be

// The raw floor: the echo child with its end of a socketpair on fd 3, announced as the library
// announces it, started as the library starts a worker on its posix_spawn path (matched_attr).
class RawEcho {
 public:
  RawEcho() {
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
      sv::bench::fail_errno("raw: socketpair", errno);
    host_ = ends[0];
    const int theirs = ends[1];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, theirs, 3);  // dup2 clears FD_CLOEXEC
    posix_spawnattr_t attr;
    sv::bench::matched_attr(attr);
    std::vector<std::string> env_storage;
    for (char** e = environ; e && *e; ++e) env_storage.emplace_back(*e);
    env_storage.emplace_back("SUPERVISOR_CHANNEL_FD=3");
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string path = SUPERVISOR_ECHO_CHILD;
    char* const argv[] = {path.data(), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(theirs);
    if (rc != 0) sv::bench::fail_errno("raw: posix_spawn " + path, rc);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) sv::bench::fail_errno("raw: pidfd_open", errno);
    child_ = sv::bench::RawChild(pid, pidfd);
  }
  ~RawEcho() {
    ::close(host_);  // the child reads its end, and exits; ~RawChild reaps it
  }
  RawEcho(const RawEcho&) = delete;
  RawEcho& operator=(const RawEcho&) = delete;

  // One job and its answer, as a hand-written gateway does it.
  void exchange() {
    if (::send(host_, job.data(), job.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(job.size()))
      sv::bench::fail_errno("raw: send", errno);
    const ssize_t n = ::recv(host_, buf_, sizeof buf_, 0);
    if (n != static_cast<ssize_t>(job.size())) sv::bench::fail_errno("raw: recv", errno);
  }

 private:
  int host_ = -1;
  sv::bench::RawChild child_;
  char buf_[64 * 1024];
};

double to_us(BenchClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

void check_answer(const std::string& answer) {
  if (answer != job) throw std::runtime_error("ours: a wrong answer: " + answer);
}

}  // namespace

int main() {
  try {
    // Everything on one CPU: the pools' loop threads and workers inherit the mask, and so does
    // the raw child. Left to the scheduler, whether a worker runs on the gateway's CPU or on
    // another decides an exchange's time (a wake-up across CPUs costs tens of microseconds on a
    // virtual machine, one on the same CPU a few), and that placement differs from one child to
    // the next: the comparison would be of placements, not of the two sides.
    cpu_set_t one;
    CPU_ZERO(&one);
    const int cpu = ::sched_getcpu();
    CPU_SET(static_cast<std::size_t>(cpu >= 0 ? cpu : 0), &one);
    if (::sched_setaffinity(0, sizeof one, &one) != 0)
      sv::bench::fail_errno("sched_setaffinity", errno);
    sv::PoolOptions options;
    options.spec.argv = {SUPERVISOR_ECHO_CHILD};
    options.spec.out = sv::StdioSpec::null();
    options.spec.err = sv::StdioSpec::null();
    options.spec.channel.enabled = true;
    options.size = 1;
    // The ratio's pool starts its worker as the raw floor starts its child: posix_spawn, no
    // cgroup (a worker in a cgroup of its own is scheduled as a group of its own, which on a
    // busy machine is another exchange). The default loop's is shown for information.
    sv::LoopOptions posix_options;
    posix_options.on_linux.disable_cgroups = true;
    posix_options.on_linux.spawn_path = sv::SpawnPath::posix_spawn;
    sv::Loop posix_loop(posix_options);
    sv::Pool pool(posix_loop, options);
    sv::Pool default_pool(options);
    for (sv::Pool* p : {&pool, &default_pool}) {
      p->start();
      if (!p->wait_ready(1, 30s)) throw std::runtime_error("ours: the worker never became ready");
    }
    RawEcho raw;

    const auto gateway = [](sv::Pool& p) {
      sv::Lease lease = p.acquire(job_timeout);
      check_answer(lease.channel().request(job, job_timeout));
      lease.release();
    };
    sv::Lease held_lease;  // taken and given back around each round of `held`
    sv::Channel held_channel;
    const std::function<void()> variants[] = {
        [&] { gateway(pool); },
        [&] { check_answer(held_channel.request(job, job_timeout)); },
        [&] { raw.exchange(); },
        [&] { gateway(default_pool); },
    };
    constexpr int held = 1;
    constexpr int count = 4;

    for (int i = 0; i < warmup; ++i) {
      for (int v = 0; v < count; ++v) {
        if (v != held) variants[v]();
      }
    }
    std::vector<double> samples[count];
    for (auto& s : samples) s.reserve(static_cast<std::size_t>(rounds * round_size));
    sv::bench::Interleave order(count);
    for (int r = 0; r < rounds; ++r) {
      for (const int v : order.next_round()) {
        if (v == held) {
          held_lease = pool.acquire(job_timeout);
          held_channel = held_lease.channel();
        }
        for (int i = 0; i < round_size; ++i) {
          const auto t0 = BenchClock::now();
          variants[v]();
          samples[v].push_back(to_us(BenchClock::now() - t0));
        }
        if (v == held) held_lease.release();
      }
    }
    double m[count];
    for (int v = 0; v < count; ++v) m[v] = sv::bench::median(samples[v]);
    std::printf("\none %zu-byte job and its answer (us), median of %d each, interleaved\n",
                job.size(), rounds * round_size);
    std::printf("  %-66s %8.2f\n", "acquire + lease.channel().request + release, posix_spawn loop",
                m[0]);
    std::printf("  %-66s %8.2f\n", "channel.request on a held lease, posix_spawn loop", m[1]);
    std::printf("  %-66s %8.2f\n", "send + recv on a raw socketpair (raw floor)", m[2]);
    std::printf("  %-66s %8.2f\n",
                "acquire + lease.channel().request + release, default loop (cgroups)", m[3]);
    sv::bench::metric("pool.job_roundtrip_us", m[0], "us");
    sv::bench::metric("pool.raw_job_roundtrip_us", m[2], "us");
    sv::bench::metric("pool.job_roundtrip_ratio", m[2] > 0 ? m[0] / m[2] : 0.0, "ratio");
    sv::bench::metric("pool.job_roundtrip_held_us", m[1], "us");
    sv::bench::metric("pool.job_roundtrip_default_us", m[3], "us");
    pool.stop();
    default_pool.stop();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "channel_bench: %s\n", e.what());
    return 1;
  }
}
