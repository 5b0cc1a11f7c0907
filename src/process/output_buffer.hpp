// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// One piped output stream of a child, as the process layer keeps it: chunks in (whatever the
// backend read), and out a bounded ring of recent bytes, complete lines for the host's callback,
// counts of what was read, dropped and split into lines, and stderr's last lines for the
// ExitStatus. No I/O and no lock: the owner reads the pipe and guards the buffer.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/process_info.hpp>
#include <supervisor/process_spec.hpp>

namespace supervisor::detail {

class OutputBuffer {
 public:
  // `keep_tail`: keep the last `options.exit_tail_lines` complete lines (stderr's, for the exit
  // status); `deliver`: hand complete lines out (there is a line callback).
  OutputBuffer(const OutputOptions& options, bool keep_tail, bool deliver);

  // Takes one chunk. Complete lines (and, of a line longer than `max_line`, each `max_line`
  // piece) are appended to `lines` when delivering. Returns false when reading should pause:
  // in backpressure mode the ring keeps every byte and asks for a pause once it holds more than
  // `ring_bytes` (unless `draining`: the tree is gone and what is left in the pipe is taken
  // whole); otherwise the oldest bytes are dropped and counted.
  bool take(std::string_view chunk, bool draining, std::vector<std::string>& lines);
  // The stream ended: an unfinished last line joins the kept tail.
  void finish();

  // The recent bytes (at most `ring_bytes`, more only while paused in backpressure mode).
  [[nodiscard]] const std::string& ring() const noexcept { return ring_; }
  // Removes and returns them (makes room in backpressure mode; the owner resumes reading).
  std::string take_ring();
  [[nodiscard]] const OutputStats& stats() const noexcept { return stats_; }
  // The kept lines, oldest first.
  [[nodiscard]] std::vector<std::string> kept_lines() const;
  // Whether reading is paused (backpressure), and its end.
  [[nodiscard]] bool paused() const noexcept { return paused_; }
  void resume() noexcept { paused_ = false; }

 private:
  void keep_line(const std::string& line);

  const OutputOptions& options_;
  const bool keep_tail_;
  const bool deliver_;
  bool paused_ = false;
  std::string ring_;
  std::string partial_;  // an unfinished line
  OutputStats stats_;
  // A ring of lines, allocated with the first one: a std::deque would allocate its first block
  // for every stream of every worker, output or not.
  std::vector<std::string> tail_;
  std::size_t tail_next_ = 0;  // the oldest, once full
};

}  // namespace supervisor::detail
