// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// Per-worker output on a FakeWorld: PoolOptions::on_output attributes each line to its worker,
// incarnation and stream; stderr merged into stdout; `{worker}` in output paths; the output
// counts of snapshots (summed over incarnations, kept for reclaimed slots) and their Prometheus
// series; and the validation of the new stdio modes.
#include <supervisor/pool.hpp>
#include <supervisor/testing.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "fake_pool.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;
using sv::StdStream;

namespace {

sv::PoolOptions options(std::size_t size) { return sv::testing::fake_pool(size); }

int pid(const sv::Pool& pool, std::size_t i) { return pool.snapshot().workers[i].pid; }

// A line as on_output saw it: "worker/incarnation/stream text".
struct Seen {
  std::vector<std::string> lines;
  void add(const sv::OutputLine& l) {
    lines.push_back(std::to_string(l.worker) + "/" + std::to_string(l.incarnation) + "/" +
                    (l.stream == StdStream::err ? "err" : "out") + " " + std::string(l.text));
  }
};

std::string validation(const sv::ProcessSpec& spec) { return sv::validation_error(spec); }

}  // namespace

TEST_CASE("fake world: on_output gets each line with its worker, incarnation and stream",
          "[unit][pool][output]") {
  sv::testing::FakeWorld world;
  Seen seen;
  std::vector<std::string> bare;  // the spec's own on_line still gets the bare line
  auto o = options(2);
  o.spec.out = sv::StdioSpec::pipe([&](std::string_view l) { bare.emplace_back(l); });
  o.on_output = [&](const sv::OutputLine& l) { seen.add(l); };
  sv::Pool pool(world, o);
  pool.start();
  world.run_pending();
  world.output(pid(pool, 0), StdStream::out, "zero\nhalf");
  world.output(pid(pool, 1), StdStream::err, "one err\n");
  world.output(pid(pool, 0), StdStream::out, " done\n");
  CHECK(seen.lines ==
        std::vector<std::string>{"0/1/out zero", "1/1/err one err", "0/1/out half done"});
  CHECK(bare == std::vector<std::string>{"zero", "half done"});

  // A restarted worker's lines carry its new incarnation; the counts add up over both.
  world.kill(pid(pool, 1));
  world.advance(100ms);
  world.output(pid(pool, 1), StdStream::err, "again\n");
  world.output(pid(pool, 1), StdStream::out, "out too\n");
  CHECK(seen.lines.size() == 5);
  CHECK(seen.lines[3] == "1/2/err again");
  CHECK(seen.lines[4] == "1/2/out out too");

  const sv::PoolSnapshot snap = pool.snapshot();
  const sv::OutputCounts& w1 = snap.workers[1].output;
  CHECK(w1.err.lines == 2);
  CHECK(w1.err.bytes_read == std::string("one err\nagain\n").size());
  CHECK(w1.out.lines == 1);
  CHECK(snap.workers[0].output.out.bytes_read == std::string("zero\nhalf done\n").size());
  CHECK(snap.workers[0].output.out.lines == 2);
  CHECK(snap.output.out.lines == 3);
  CHECK(snap.output.err.lines == 2);
  CHECK(snap.output.out.bytes_read + snap.output.err.bytes_read ==
        std::string("zero\nhalf done\none err\nagain\nout too\n").size());

  const std::string text = sv::to_prometheus(snap, "p");
  CHECK(text.find("supervisor_pool_output_lines_total{pool=\"p\",stream=\"out\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("supervisor_pool_output_bytes_total{pool=\"p\",stream=\"err\"} 14\n") !=
        std::string::npos);
  CHECK(text.find("supervisor_pool_output_dropped_bytes_total{pool=\"p\",stream=\"out\"} 0\n") !=
        std::string::npos);
  CHECK(
      text.find("supervisor_pool_worker_output_bytes_total{pool=\"p\",worker=\"1\",stream=\"err\"} "
                "14\n") != std::string::npos);
  pool.stop();
}

TEST_CASE("fake world: the ring's drops are counted per worker and for the pool",
          "[unit][pool][output]") {
  sv::testing::FakeWorld world;
  auto o = options(1);
  o.spec.output.ring_bytes = 4;
  sv::Pool pool(world, o);
  pool.start();
  world.run_pending();
  world.output(pid(pool, 0), StdStream::out, "0123456789\n");  // 11 bytes into a ring of 4
  const sv::PoolSnapshot snap = pool.snapshot();
  CHECK(snap.workers[0].output.out.bytes_read == 11);
  CHECK(snap.workers[0].output.out.bytes_dropped == 7);
  CHECK(snap.output.out.bytes_dropped == 7);
  CHECK(sv::to_prometheus(snap, "p").find(
            "supervisor_pool_output_dropped_bytes_total{pool=\"p\",stream=\"out\"} 7\n") !=
        std::string::npos);
  pool.stop();
}

TEST_CASE("fake world: stderr merged into stdout arrives as stream out", "[unit][pool][output]") {
  sv::testing::FakeWorld world;
  Seen seen;
  auto o = options(1);
  o.spec.err = sv::StdioSpec::same_as_out();
  o.on_output = [&](const sv::OutputLine& l) { seen.add(l); };
  sv::Pool pool(world, o);
  pool.start();
  world.run_pending();
  world.output(pid(pool, 0), StdStream::out, "a\n");
  world.output(pid(pool, 0), StdStream::err, "b\n");
  world.output(pid(pool, 0), StdStream::out, "c\n");
  CHECK(seen.lines == std::vector<std::string>{"0/1/out a", "0/1/out b", "0/1/out c"});
  const auto snap = pool.snapshot();
  CHECK(snap.workers[0].output.out.lines == 3);
  CHECK(snap.workers[0].output.err.bytes_read == 0);
  pool.stop();
}

TEST_CASE("fake world: an exception from on_output goes to the error handler",
          "[unit][pool][output]") {
  sv::testing::FakeWorld world;
  std::vector<std::string> wheres;
  auto o = options(1);
  o.on_output = [](const sv::OutputLine&) { throw std::runtime_error("boom"); };
  o.error_handler = [&](std::exception_ptr, std::string_view where) { wheres.emplace_back(where); };
  sv::Pool pool(world, o);
  pool.start();
  world.run_pending();
  world.output(pid(pool, 0), StdStream::out, "x\ny\n");
  CHECK(wheres == std::vector<std::string>{"on_output", "on_output"});
  CHECK(pool.snapshot().strategy_errors == 2);
  CHECK(pool.snapshot().workers[0].output.out.lines == 2);  // counted all the same
  pool.stop();
}

TEST_CASE("fake world: {worker} in an output path names each worker's own file",
          "[unit][pool][output]") {
  sv::testing::FakeWorld world;
  auto o = options(3);
  o.spec.out = sv::StdioSpec::log_file("/var/log/app/w{worker}.log", 1000, 2);
  o.spec.err = sv::StdioSpec::file("/var/log/app/{worker}-{worker}.err");
  o.per_worker_spec = [](const sv::WorkerContext& w, sv::ProcessSpec& spec) {
    if (w.index == 2) spec.out.path = "/elsewhere/{worker}.log";  // set by the hook: expanded too
  };
  sv::Pool pool(world, o);
  pool.start();
  world.run_pending();
  CHECK(world.spec_of(pid(pool, 0))->out.path == "/var/log/app/w0.log");
  CHECK(world.spec_of(pid(pool, 1))->out.path == "/var/log/app/w1.log");
  CHECK(world.spec_of(pid(pool, 1))->err.path == "/var/log/app/1-1.err");
  CHECK(world.spec_of(pid(pool, 2))->out.path == "/elsewhere/2.log");
  CHECK(world.spec_of(pid(pool, 0))->out.max_bytes == 1000);
  CHECK(world.spec_of(pid(pool, 0))->out.backups == 2);
  pool.stop();
}

TEST_CASE("fake world: without on_output or worker paths, workers share the pool's spec",
          "[unit][pool][output]") {
  sv::testing::FakeWorld world;
  auto o = options(2);
  o.spec.out = sv::StdioSpec::log_file("/var/log/app/all.log");  // appended to by all, no rotation
  sv::Pool pool(world, o);
  pool.start();
  world.run_pending();
  CHECK(world.spec_of(pid(pool, 0)) == world.spec_of(pid(pool, 1)));  // no copy per worker
  pool.stop();
}

TEST_CASE("the new stdio modes are validated, each error naming its field", "[unit][output]") {
  sv::ProcessSpec spec;
  spec.argv = {"/bin/true"};
  CHECK(validation(spec).empty());

  SECTION("same_as_out is for err only") {
    spec.out = sv::StdioSpec::same_as_out();
    CHECK(validation(spec).find("ProcessSpec.out.mode: same_as_out") != std::string::npos);
    spec.out = sv::StdioSpec::pipe();
    spec.in = sv::StdioSpec::same_as_out();
    CHECK(validation(spec).find("ProcessSpec.in.mode: same_as_out") != std::string::npos);
    spec.in = sv::StdioSpec::null();
    spec.err = sv::StdioSpec::same_as_out();
    CHECK(validation(spec).empty());
    std::error_code ec;
    spec.out = sv::StdioSpec::same_as_out();
    sv::validate(spec, ec);
    CHECK(ec == sv::errc::invalid_spec);
  }
  SECTION("log files: an output stream, a usable path, a bounded number of backups") {
    spec.in = sv::StdioSpec::log_file("/tmp/in.log");
    CHECK(validation(spec).find("ProcessSpec.in.mode: log_file") != std::string::npos);
    spec.in = sv::StdioSpec::null();
    spec.out = sv::StdioSpec::log_file("");
    CHECK(validation(spec).find("ProcessSpec.out.path") != std::string::npos);
    spec.out = sv::StdioSpec::log_file("/tmp/a.log", 100, 1001);
    CHECK(validation(spec).find("ProcessSpec.out.backups: 1001") != std::string::npos);
    spec.out = sv::StdioSpec::log_file("/tmp/a.log", 100, 1000,
                                       [](std::string_view) {});  // a callback is fine
    CHECK(validation(spec).empty());
    spec.err = sv::StdioSpec::log_file("/tmp/a.log");
    CHECK(validation(spec).find("ProcessSpec.err.path") != std::string::npos);
    spec.err = sv::StdioSpec::same_as_out();
    CHECK(validation(spec).empty());
  }
  SECTION("a line callback needs a stream the loop reads") {
    spec.err = sv::StdioSpec::file("/tmp/e");
    spec.err.on_line = [](std::string_view) {};
    CHECK(validation(spec).find("ProcessSpec.err.on_line") != std::string::npos);
  }
  SECTION("a pool's workers cannot rotate one shared log file") {
    sv::PoolOptions o;
    o.spec = spec;
    o.spec.err = sv::StdioSpec::log_file("/var/log/app/all.log", 1000, 2);
    std::error_code ec;
    sv::validate(o, ec);
    CHECK(ec == sv::errc::invalid_argument);
    CHECK_THROWS_WITH(sv::validate(o), Catch::Matchers::Contains("PoolOptions.spec.err.path") &&
                                           Catch::Matchers::Contains("{worker}"));
    o.spec.err.path = "/var/log/app/w{worker}.log";  // each worker its own
    CHECK_NOTHROW(sv::validate(o));
    o.spec.err.path = "/var/log/app/all.log";
    o.spec.err.max_bytes = 0;  // appended to by all, never rotated
    CHECK_NOTHROW(sv::validate(o));
    o.spec.err.max_bytes = 1000;
    o.max_size = 1;  // one worker only
    CHECK_NOTHROW(sv::validate(o));
    o.max_size = 2;
    o.per_worker_spec = [](const sv::WorkerContext&, sv::ProcessSpec&) {};  // the host's business
    CHECK_NOTHROW(sv::validate(o));
  }
  SECTION("a pool's spec is validated the same way") {
    sv::PoolOptions o;
    o.spec = spec;
    o.spec.out = sv::StdioSpec::same_as_out();
    std::error_code ec;
    sv::validate(o, ec);
    CHECK(ec == sv::errc::invalid_spec);
  }
}
