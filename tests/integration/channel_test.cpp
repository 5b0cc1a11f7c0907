// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Talking to children: a Process's stdin pipe, its channel, and a pool worker's channel through
// its Lease, against real processes (tests/support/child.cpp: stdin-echo, channel-echo). Every
// test ends with a leak audit: the host's ends of the pipes and channels are closed once their
// process has ended, even while the host still holds a Channel.
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "audited.hpp"
#include "catch_compat.hpp"
#include "child_pool.hpp"
#include "leak_audit.hpp"
#include "pool_events.hpp"

namespace sv = supervisor;
namespace st = supervisor::testing;
using namespace std::chrono_literals;

namespace {

// A guard, never a measurement: every wait here ends long before it on a healthy machine.
constexpr auto patience = 20s;

sv::ProcessSpec child_spec(const std::string& tag, std::vector<std::string> args) {
  sv::ProcessSpec spec;
  spec.argv = {SUPERVISOR_TEST_CHILD, "--tag", tag};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 2s, true}};
  return spec;
}

// `size` workers answering jobs on their channels (the test child's channel-echo).
sv::PoolOptions echo_pool(const std::string& tag, std::size_t size) {
  sv::PoolOptions o = st::child_pool(tag, {"channel-echo"}, size);
  o.spec.channel.enabled = true;
  return o;
}

std::string reply_of(int pid, const std::string& job) {
  return "pid=" + std::to_string(pid) + " " + job;
}

// Sends the worker a job it never answers; the gateway's thread that waits for the answer
// (at most `timeout`) gives the error it ended with.
std::future<std::error_code> hung_job(sv::Channel ch, sv::Duration timeout) {
  ch.send("hang", patience);
  return std::async(std::launch::async, [ch, timeout]() mutable {
    std::error_code ec;
    (void)ch.receive(timeout, ec);
    return ec;
  });
}

}  // namespace

TEST_CASE("stdin as a pipe: the host writes it, closes it, and the child reads to its end",
          "[integration][process][stdin]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("stdin");
  {
    sv::Loop loop;
    auto spec = child_spec(tag, {"stdin-echo"});
    spec.in = sv::StdioSpec::pipe();
    auto p = sv::Process::start(loop, spec);
    CHECK(p.write_stdin("hello\n", patience) == 6);
    CHECK(p.write_stdin("world\n", patience) == 6);
    p.close_stdin();
    p.close_stdin();  // idempotent
    std::error_code ec;
    CHECK(p.write_stdin("late\n", patience, ec) == 0);
    CHECK(ec == sv::errc::invalid_argument);
    const auto status = p.wait();
    CHECK(status.ok());
    const std::string out = p.output(sv::StdStream::out);
    INFO(out);
    CHECK(out.find("hello\nworld\nstdin-eof bytes=12\n") != std::string::npos);
    // A process that ended took its stdin with it.
    auto quits = child_spec(tag, {"exit", "0"});
    quits.in = sv::StdioSpec::pipe();
    auto q = sv::Process::start(loop, quits);
    q.wait();
    CHECK(q.write_stdin("after\n", 0s, ec) == 0);
    CHECK(ec == sv::errc::peer_gone);
    CHECK_THROWS_AS(q.write_stdin("after\n", 0s), std::system_error);

    // stdin that is not a pipe cannot be written.
    auto null_in = sv::Process::start(loop, child_spec(tag, {"exit", "0"}));
    CHECK(null_in.write_stdin("x", 0s, ec) == 0);
    CHECK(ec == sv::errc::invalid_argument);
    null_in.wait();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a stdin pipe never blocks past its timeout, and a reader gone is a typed error",
          "[integration][process][stdin]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("stdin-full");
  {
    sv::Loop loop;
    // A child that never reads: the pipe fills, and the rest waits for a later write.
    auto spec = child_spec(tag, {"sleep", "forever"});
    spec.in = sv::StdioSpec::pipe();
    auto sleeper = sv::Process::start(loop, spec);
    const std::string big(1 << 20, 'x');
    const std::size_t first = sleeper.write_stdin(big, 50ms);
    CHECK(first > 0);
    CHECK(first < big.size());
    CHECK(sleeper.write_stdin(big, 0s) == 0);  // full: nothing fits now, and no error
    sleeper.stop();

    // A child that closed its stdin but lives on: the write fails with peer_gone, and the
    // SIGPIPE the kernel sends the writer never reaches this host (its default would kill it).
    sv::ProcessSpec closer;
    closer.argv = {"/bin/sh", "-c",
                   "exec 0<&-; echo closed; exec \"$0\" --tag \"$1\" sleep forever",
                   SUPERVISOR_TEST_CHILD, tag};
    closer.in = sv::StdioSpec::pipe();
    closer.stop.steps = {sv::StopStep{sv::Signal::terminate, 2s, true}};
    auto p = sv::Process::start(loop, closer);
    REQUIRE(st::wait_until(
        [&] { return p.output(sv::StdStream::out).find("closed") != std::string::npos; },
        patience));
    std::error_code ec;
    CHECK(p.write_stdin("anyone?", patience, ec) == 0);
    CHECK(ec == sv::errc::peer_gone);
    CHECK(p.running());
    p.stop();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a Process's channel: whole messages both ways, on the fd its environment names",
          "[integration][process][channel]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("channel");
  {
    sv::Loop loop;
    auto spec = child_spec(tag, {"channel-echo"});
    spec.channel.enabled = true;
    auto p = sv::Process::start(loop, spec);
    sv::Channel ch = p.channel();
    REQUIRE(ch.valid());
    CHECK(ch.request("hello", patience) == reply_of(p.pid(), "hello"));
    // Message boundaries hold: two sends, two whole answers, in order.
    ch.send("one", patience);
    ch.send(std::string(100 * 1024, 'y'), patience);
    CHECK(ch.receive(patience) == reply_of(p.pid(), "one"));
    CHECK(ch.receive(patience) == reply_of(p.pid(), std::string(100 * 1024, 'y')));
    std::error_code ec;
    CHECK(ch.receive(20ms, ec).empty());
    CHECK(ec == sv::errc::timeout);
    CHECK(ec == std::errc::timed_out);
    ch.send("", patience, ec);
    CHECK(ec == sv::errc::invalid_argument);
    // The child ends without an answer: the job's receive says so, typed.
    ch.send("exit", patience);
    CHECK(ch.receive(patience, ec).empty());
    CHECK(ec == sv::errc::peer_gone);
    CHECK(p.wait().ok());
    ch.send("after", patience, ec);
    CHECK(ec == sv::errc::peer_gone);
    CHECK_THROWS_AS(ch.receive(0s), std::system_error);

    // Another fd number, announced in the environment; the child holds exactly 0, 1, 2 and it.
    auto fds = child_spec(tag, {"list-fds"});
    fds.channel.enabled = true;
    fds.channel.child_fd = 9;
    auto lister = sv::Process::start(loop, fds);
    CHECK(lister.wait().ok());
    CHECK(lister.output(sv::StdStream::out).find("\n0\n1\n2\n9\n") != std::string::npos);
    auto env = child_spec(tag, {"print-env", "SUPERVISOR_CHANNEL_FD"});
    env.channel.enabled = true;
    env.channel.child_fd = 9;
    auto printer = sv::Process::start(loop, env);
    CHECK(printer.wait().ok());
    CHECK(printer.output(sv::StdStream::out).find("SUPERVISOR_CHANNEL_FD=9") != std::string::npos);

    // Without a channel: an invalid one, whose calls are refused.
    auto plain = sv::Process::start(loop, child_spec(tag, {"exit", "0"}));
    CHECK_FALSE(plain.channel().valid());
    plain.channel().send("x", 0s, ec);
    CHECK(ec == sv::errc::invalid_argument);
    plain.wait();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a job goes through lease.channel() to exactly the leased worker",
          "[integration][pool][channel]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("lease-channel");
  for (const bool fast : {true, false}) {
    INFO("lease_fast_path " << fast);
    sv::Channel kept;  // outlives the pool: its end must be closed all the same
    {
      auto options = echo_pool(tag, 3);
      options.lease_fast_path = fast;
      sv::Pool pool(options);
      pool.start();
      REQUIRE(pool.wait_ready(3, patience));
      // Three leases held at once: each channel reaches its own worker, and no other.
      std::vector<sv::Lease> leases;
      for (int i = 0; i < 3; ++i) leases.push_back(pool.acquire(patience));
      std::set<int> pids;
      for (auto& lease : leases) {
        REQUIRE(lease.channel().valid());
        const std::string job = "job-" + std::to_string(lease.worker());
        CHECK(lease.channel().request(job, patience) == reply_of(lease.pid(), job));
        pids.insert(lease.pid());
      }
      CHECK(pids.size() == 3);
      // A channel kept past its lease is refused, even when its worker is leased again.
      kept = leases[0].channel();
      const std::size_t worker = leases[0].worker();
      for (auto& lease : leases) lease.release();
      std::error_code ec;
      kept.send("stale", patience, ec);
      CHECK(ec == sv::errc::invalid_argument);
      for (int i = 0; i < 6; ++i) {
        auto again = pool.acquire(patience);
        kept.send("stale", patience, ec);
        CHECK(ec == sv::errc::invalid_argument);
        if (again.worker() == worker)
          CHECK(again.channel().request("fresh", patience) == reply_of(again.pid(), "fresh"));
      }
      pool.stop();
    }
    std::error_code ec;
    kept.receive(0s, ec);
    CHECK(ec == sv::errc::invalid_argument);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a worker killed mid-job: the job fails with peer_gone, and the worker is replaced",
          "[integration][pool][channel]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("mid-job");
  {
    sv::Pool pool(echo_pool(tag, 1));
    pool.start();
    REQUIRE(pool.wait_ready(1, patience));
    auto lease = pool.acquire(patience);
    const int pid = lease.pid();
    // The gateway waits for the answer on another thread; the worker dies meanwhile.
    auto answer = hung_job(lease.channel(), patience);
    CHECK(answer.wait_for(50ms) == std::future_status::timeout);  // no answer to a hung job
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(answer.wait_for(patience) == std::future_status::ready);
    CHECK(answer.get() == sv::errc::peer_gone);
    lease.release(sv::LeaseOutcome::failure);
    // The job saw the death first; the pool sees it once the loop reads the exit (until then an
    // acquire may still hand out the dead worker, whose jobs then fail at once with peer_gone).
    REQUIRE(st::wait_until([&] { return st::events_of<sv::WorkerExited>(pool).size() == 1; },
                           patience));
    CHECK(st::events_of<sv::WorkerExited>(pool)[0].status.signal == SIGKILL);

    auto next = pool.acquire(patience);
    CHECK(next.pid() != pid);
    CHECK(next.channel().request("again", patience) == reply_of(next.pid(), "again"));
    next.release();
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("stopping a pool wakes a job waiting on a worker's channel",
          "[integration][pool][channel]") {
  st::LeakAudit audit;
  const auto tag = st::unique_tag("stop-wakes");
  {
    sv::Pool pool(echo_pool(tag, 1));
    pool.start();
    auto lease = pool.acquire(patience);
    auto answer = hung_job(lease.channel(), std::chrono::hours(24 * 365));  // only the end wakes it
    pool.stop();
    REQUIRE(answer.wait_for(patience) == std::future_status::ready);
    CHECK(answer.get() == sv::errc::peer_gone);
  }
  REQUIRE_CLEAN(audit, tag);
}

TEST_CASE("a pool refuses a stdin pipe, which none of its calls could write",
          "[integration][pool][channel]") {
  auto options = echo_pool("unused", 1);
  options.spec.in = sv::StdioSpec::pipe();
  std::error_code ec;
  sv::validate(options, ec);
  CHECK(ec == sv::errc::invalid_argument);
  CHECK_THROWS_WITH(sv::validate(options), Catch::Matchers::Contains("PoolOptions.spec.in"));
}
