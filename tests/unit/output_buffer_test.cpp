// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The output buffer of a piped stream: chunks in, lines, ring, counts and the kept tail out.
// No process, no pipe.
#include <supervisor/process_spec.hpp>

#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "process/output_buffer.hpp"

namespace sv = supervisor;
using supervisor::detail::OutputBuffer;

namespace {

sv::OutputOptions options(std::size_t ring, std::size_t max_line, std::size_t tail,
                          bool backpressure = false) {
  sv::OutputOptions o;
  o.ring_bytes = ring;
  o.max_line = max_line;
  o.exit_tail_lines = tail;
  o.backpressure = backpressure;
  return o;
}

}  // namespace

TEST_CASE("lines split across chunks come out whole, in order", "[unit][output]") {
  const auto o = options(1024, 100, 5);
  OutputBuffer b(o, false, true);
  std::vector<std::string> lines;
  CHECK(b.take("hel", false, lines));
  CHECK(lines.empty());
  CHECK(b.take("lo\nwor", false, lines));
  CHECK(b.take("ld\n\nlast", false, lines));
  CHECK(lines == std::vector<std::string>{"hello", "world", ""});
  CHECK(b.stats().lines == 3);
  CHECK(b.stats().bytes_read == 17);
  CHECK(b.stats().bytes_dropped == 0);
  CHECK(b.ring() == "hello\nworld\n\nlast");
}

TEST_CASE("without a line callback nothing is handed out, but lines are still counted",
          "[unit][output]") {
  const auto o = options(1024, 100, 5);
  OutputBuffer b(o, false, false);
  std::vector<std::string> lines;
  b.take("a\nb\n", false, lines);
  CHECK(lines.empty());
  CHECK(b.stats().lines == 2);
}

TEST_CASE("the ring keeps the newest bytes and counts what it drops", "[unit][output]") {
  const auto o = options(8, 100, 5);
  OutputBuffer b(o, false, false);
  std::vector<std::string> lines;
  CHECK(b.take("0123456789", false, lines));
  CHECK(b.ring() == "23456789");
  CHECK(b.stats().bytes_dropped == 2);
  CHECK(b.take("ab", false, lines));
  CHECK(b.ring() == "456789ab");
  CHECK(b.stats().bytes_dropped == 4);
  CHECK(b.stats().bytes_read == 12);
  CHECK(b.take_ring() == "456789ab");
  CHECK(b.ring().empty());
}

TEST_CASE("backpressure keeps every byte and asks to pause once the ring is over its bound",
          "[unit][output]") {
  const auto o = options(4, 100, 5, true);
  OutputBuffer b(o, false, false);
  std::vector<std::string> lines;
  CHECK(b.take("abcd", false, lines));  // at the bound: go on
  CHECK_FALSE(b.paused());
  CHECK_FALSE(b.take("e", false, lines));  // over it: pause
  CHECK(b.paused());
  CHECK(b.ring() == "abcde");
  CHECK(b.stats().bytes_dropped == 0);
  // The tree is gone: what is left is taken whole, without pausing.
  b.resume();
  CHECK(b.take("fgh", true, lines));
  CHECK_FALSE(b.paused());
  CHECK(b.ring() == "abcdefgh");
  CHECK(b.take_ring() == "abcdefgh");
}

TEST_CASE("an over-long line reaches the callback in max_line pieces", "[unit][output]") {
  const auto o = options(1024, 4, 5);
  OutputBuffer b(o, true, true);
  std::vector<std::string> lines;
  b.take("abcdefghij\nxy", false, lines);
  // Pieces are delivered but not counted as lines, nor kept: only the line's end is.
  CHECK(lines == std::vector<std::string>{"abcd", "efgh", "ij"});
  CHECK(b.stats().lines == 1);
  CHECK(b.kept_lines() == std::vector<std::string>{"ij"});
  b.take("z", false, lines);
  b.finish();  // the unfinished last line joins the tail
  CHECK(b.kept_lines() == std::vector<std::string>{"ij", "xyz"});
}

TEST_CASE("the kept tail holds the last exit_tail_lines lines, oldest first", "[unit][output]") {
  const auto o = options(1024, 100, 3);
  OutputBuffer b(o, true, false);
  std::vector<std::string> lines;
  b.take("1\n2\n", false, lines);
  CHECK(b.kept_lines() == std::vector<std::string>{"1", "2"});
  b.take("3\n4\n5\n", false, lines);
  CHECK(b.kept_lines() == std::vector<std::string>{"3", "4", "5"});
  b.finish();  // nothing unfinished: the tail is unchanged
  CHECK(b.kept_lines() == std::vector<std::string>{"3", "4", "5"});

  const auto none = options(1024, 100, 0);
  OutputBuffer n(none, true, false);
  n.take("a\nb", false, lines);
  n.finish();
  CHECK(n.kept_lines().empty());

  OutputBuffer out(o, false, false);  // stdout keeps no tail
  out.take("a\n", false, lines);
  out.finish();
  CHECK(out.kept_lines().empty());
}
