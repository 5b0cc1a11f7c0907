// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Talking to children on Windows: a Process's stdin pipe, its channel (a message-mode named
// pipe whose handle the child finds in SUPERVISOR_CHANNEL_HANDLE), and a pool worker's channel
// through its Lease, against real children (tests/support/win_child.cpp: cat, close-stdin,
// echo-channel). Each test ends with the audit: no process of the test's left, the host's
// handle count back to its baseline (the host's ends of the pipes closed once their process has
// ended, even while the host still holds a Channel).
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "audit.hpp"
#include "catch_compat.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::win_testing::child;
using sv::win_testing::HandleAudit;
using sv::win_testing::process_alive;
using sv::win_testing::wait_until;

namespace {

// A guard, never a measurement: every wait here ends long before it on a healthy machine.
constexpr auto patience = 20s;

// Bytes that show a lost, doubled or reordered piece (no period that divides a pipe's buffer).
std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// What the child `cat` prints at its end for `data`.
std::string cat_summary(const std::string& data) {
  std::uint64_t fnv = 14695981039346656037ULL;
  for (const char c : data) fnv = (fnv ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char hex[17];
  const unsigned long long hash = fnv;
  std::snprintf(hex, sizeof hex, "%llx", hash);
  return "eof bytes=" + std::to_string(data.size()) + " fnv=" + hex;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A receive on another thread that waits at most `timeout`; its error.
std::future<std::error_code> waiting_receive(sv::Channel ch, sv::Duration timeout) {
  return std::async(std::launch::async, [ch, timeout]() mutable {
    std::error_code ec;
    (void)ch.receive(timeout, ec);
    return ec;
  });
}

sv::ProcessSpec echo_spec() {
  auto spec = child({"echo-channel"});
  spec.channel.enabled = true;
  return spec;
}

}  // namespace

TEST_CASE("windows: stdin as a pipe: the host writes it, closes it, the child reads to its end",
          "[windows][stdin]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto spec = child({"cat"});
    spec.in = sv::StdioSpec::pipe();
    auto p = sv::Process::start(loop, spec);
    CHECK(p.write_stdin("hello\n", patience) == 6);
    CHECK(p.write_stdin("world\n", patience) == 6);
    CHECK(p.write_stdin("", patience) == 0);
    p.close_stdin();
    p.close_stdin();  // idempotent
    std::error_code ec;
    CHECK(p.write_stdin("late\n", patience, ec) == 0);
    CHECK(ec == sv::errc::invalid_argument);
    const sv::ExitStatus status = p.wait();
    CHECK(status.ok());
    CHECK(p.output(sv::StdStream::out) == "hello\nworld\n");
    CHECK(has(p.output(sv::StdStream::err), cat_summary("hello\nworld\n")));

    // A process that ended took its stdin with it.
    auto quits = child({"exit", "0"});
    quits.in = sv::StdioSpec::pipe();
    auto q = sv::Process::start(loop, quits);
    q.wait();
    CHECK(q.write_stdin("after\n", 0s, ec) == 0);
    CHECK(ec == sv::errc::peer_gone);
    CHECK_THROWS_AS(q.write_stdin("after\n", 0s), std::system_error);

    // stdin that is not a pipe cannot be written.
    auto null_in = sv::Process::start(loop, child({"exit", "0"}));
    CHECK(null_in.write_stdin("x", 0s, ec) == 0);
    CHECK(ec == sv::errc::invalid_argument);
    null_in.wait();
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a stdin pipe never blocks past its timeout, and a reader gone is peer_gone",
          "[windows][stdin]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    // A child that reads only after a while: the pipe fills, the write returns what went by its
    // timeout, and the rest goes in later writes. Every byte arrives once, in order.
    auto spec = child({"cat", "3000"});
    spec.in = sv::StdioSpec::pipe();
    spec.out = sv::StdioSpec::null();
    auto p = sv::Process::start(loop, spec);
    const std::string big = pattern((1U << 20) + 12345);
    std::size_t sent = p.write_stdin(big, 100ms);
    INFO("the first write took " << sent << " bytes");
    CHECK(sent < big.size());
    sent += p.write_stdin(std::string_view(big).substr(sent), 0s);  // no error, maybe nothing
    while (sent < big.size()) {
      const std::size_t n = p.write_stdin(std::string_view(big).substr(sent), patience);
      REQUIRE(n > 0);
      sent += n;
    }
    p.close_stdin();
    CHECK(p.wait().ok());
    CHECK(has(p.output(sv::StdStream::err), cat_summary(big)));

    // A child that closed its stdin but lives on: the write fails with peer_gone.
    auto closer = child({"close-stdin", "600000"});
    closer.in = sv::StdioSpec::pipe();
    closer.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    auto c = sv::Process::start(loop, closer);
    REQUIRE(wait_until([&] { return has(c.output(sv::StdStream::out), "closed"); }));
    std::error_code ec;
    CHECK(c.write_stdin("anyone?", patience, ec) == 0);
    CHECK(ec == sv::errc::peer_gone);
    CHECK(c.running());
    c.stop();
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a Process's channel: whole messages both ways, its bound, its timeouts",
          "[windows][channel]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto p = sv::Process::start(loop, echo_spec());
    sv::Channel ch = p.channel();
    REQUIRE(ch.valid());
    CHECK(ch.request("hello", patience) == "echo: hello");
    CHECK(ch.request("pid", patience) == "pid=" + std::to_string(p.pid()));
    // Message boundaries hold: two sends, two whole answers, in order.
    ch.send("one", patience);
    ch.send("two", patience);
    CHECK(ch.receive(patience) == "echo: one");
    CHECK(ch.receive(patience) == "echo: two");
    // The largest message goes; its answer is larger than the pipe's buffer and is read whole.
    const std::string largest = pattern(64 * 1024);
    CHECK(ch.request(largest, patience) == "echo: " + largest);
    std::error_code ec;
    ch.send(largest + "!", patience, ec);
    CHECK(ec == sv::errc::invalid_argument);
    ch.send("", patience, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK(ch.receive(20ms, ec).empty());
    CHECK(ec == sv::errc::timeout);
    CHECK(ec == std::errc::timed_out);
    CHECK(ch.receive(0s, ec).empty());
    CHECK(ec == sv::errc::timeout);
    // Still in step after the refusals and timeouts.
    CHECK(ch.request("again", patience) == "echo: again");
    // The child ends without an answer: the receive says so, typed.
    ch.send("quit", patience);
    CHECK(ch.receive(patience, ec).empty());
    CHECK(ec == sv::errc::peer_gone);
    CHECK(p.wait().ok());
    ch.send("after", patience, ec);
    CHECK(ec == sv::errc::peer_gone);
    CHECK_THROWS_AS(ch.receive(0s), std::system_error);

    // The child finds its end in its environment, whatever the spec set there.
    auto env = child({"env", "SUPERVISOR_CHANNEL_HANDLE"});
    env.channel.enabled = true;
    env.env.set["SUPERVISOR_CHANNEL_HANDLE"] = "not-this";
    auto printer = sv::Process::start(loop, env);
    CHECK(printer.wait().ok());
    const std::string out = printer.output(sv::StdStream::out);
    INFO(out);
    const auto at = out.find("SUPERVISOR_CHANNEL_HANDLE=");
    REQUIRE(at != std::string::npos);
    const std::string value = out.substr(at + 26, out.find('\n', at) - at - 26);
    CHECK_FALSE(value.empty());
    CHECK(std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }));

    // Without a channel: an invalid one, whose calls are refused.
    auto plain = sv::Process::start(loop, child({"exit", "0"}));
    CHECK_FALSE(plain.channel().valid());
    plain.channel().send("x", 0s, ec);
    CHECK(ec == sv::errc::invalid_argument);
    plain.wait();
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a receive waiting on the channel wakes when the child's tree ends",
          "[windows][channel]") {
  HandleAudit audit;
  {
    sv::Loop loop;
    auto p = sv::Process::start(loop, echo_spec());
    const auto pid = static_cast<DWORD>(p.pid());
    // Only the end can wake it: it would wait a year.
    auto answer = waiting_receive(p.channel(), std::chrono::hours(24 * 365));
    CHECK(answer.wait_for(50ms) == std::future_status::timeout);
    p.kill();
    REQUIRE(answer.wait_for(patience) == std::future_status::ready);
    CHECK(answer.get() == sv::errc::peer_gone);
    CHECK_FALSE(process_alive(pid));
  }
  CHECK(audit.clean());
}

TEST_CASE("windows: a pool's jobs go through lease.channel() to exactly the leased worker",
          "[windows][channel][pool]") {
  HandleAudit audit;
  sv::Channel kept;  // outlives the pool: its end must be closed all the same
  {
    sv::Loop loop;
    sv::PoolOptions o;
    o.spec = echo_spec();
    o.spec.stop.steps = {sv::StopStep{sv::Signal::terminate, 100ms, false}};
    o.size = 2;
    sv::Pool pool(loop, o);
    pool.start();
    REQUIRE(pool.wait_ready(2, patience));
    std::vector<sv::Lease> leases;
    for (int i = 0; i < 2; ++i) leases.push_back(pool.acquire(patience));
    std::set<int> pids;
    for (auto& lease : leases) {
      REQUIRE(lease.channel().valid());
      CHECK(lease.channel().request("pid", patience) == "pid=" + std::to_string(lease.pid()));
      CHECK(lease.channel().request("job", patience) == "echo: job");
      pids.insert(lease.pid());
    }
    CHECK(pids.size() == 2);
    // A channel kept past its lease is refused, even when its worker is leased again.
    kept = leases[0].channel();
    for (auto& lease : leases) lease.release();
    std::error_code ec;
    kept.send("stale", patience, ec);
    CHECK(ec == sv::errc::invalid_argument);
    auto again = pool.acquire(patience);
    CHECK(again.channel().request("fresh", patience) == "echo: fresh");
    again.release();

    // A job waiting on a worker when the pool stops wakes with peer_gone.
    auto lease = pool.acquire(patience);
    auto answer = waiting_receive(lease.channel(), std::chrono::hours(24 * 365));
    pool.stop();
    REQUIRE(answer.wait_for(patience) == std::future_status::ready);
    CHECK(answer.get() == sv::errc::peer_gone);
    for (int pid : pids) CHECK_FALSE(process_alive(static_cast<DWORD>(pid)));
  }
  std::error_code ec;
  kept.receive(0s, ec);
  CHECK(ec == sv::errc::invalid_argument);
  CHECK(audit.clean());
}
