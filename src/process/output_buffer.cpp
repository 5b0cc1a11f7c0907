// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "output_buffer.hpp"

#include <cstdint>
#include <utility>

namespace supervisor::detail {

SUPERVISOR_INLINE OutputBuffer::OutputBuffer(const OutputOptions& options, bool keep_tail,
                                             bool deliver)
    : options_(options), keep_tail_(keep_tail), deliver_(deliver) {}

SUPERVISOR_INLINE bool OutputBuffer::take(std::string_view chunk, bool draining,
                                          std::vector<std::string>& lines) {
  stats_.bytes_read += chunk.size();
  ring_.append(chunk);
  const std::size_t cap = options_.ring_bytes;
  if (ring_.size() > cap) {
    if (options_.backpressure) {
      paused_ = !draining;  // keep all of it; reading resumes when the host takes output
    } else {
      stats_.bytes_dropped += ring_.size() - cap;
      ring_.erase(0, ring_.size() - cap);
    }
  }
  const std::size_t max_line = options_.max_line;
  std::size_t start = 0;
  while (start < chunk.size()) {
    const std::size_t nl = chunk.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? chunk.size() : nl;
    partial_.append(chunk.substr(start, end - start));
    while (max_line > 0 && partial_.size() > max_line) {  // an over-long line, in pieces
      if (deliver_) lines.push_back(partial_.substr(0, max_line));
      partial_.erase(0, max_line);
    }
    if (nl != std::string_view::npos) {
      ++stats_.lines;
      if (keep_tail_) keep_line(partial_);
      if (deliver_) lines.push_back(std::move(partial_));
      partial_.clear();
    }
    start = end + 1;
  }
  return !paused_;
}

SUPERVISOR_INLINE void OutputBuffer::finish() {
  if (!partial_.empty() && keep_tail_) keep_line(partial_);
}

SUPERVISOR_INLINE std::string OutputBuffer::take_ring() {
  std::string out;
  out.swap(ring_);
  return out;
}

SUPERVISOR_INLINE void OutputBuffer::keep_line(const std::string& line) {
  const std::size_t keep = options_.exit_tail_lines;
  if (keep == 0) return;
  if (tail_.size() < keep) {
    tail_.push_back(line);
    return;
  }
  tail_[tail_next_] = line;
  tail_next_ = (tail_next_ + 1) % tail_.size();
}

SUPERVISOR_INLINE std::vector<std::string> OutputBuffer::kept_lines() const {
  std::vector<std::string> out;
  out.reserve(tail_.size());
  for (std::size_t i = 0; i < tail_.size(); ++i)
    out.push_back(tail_[(tail_next_ + i) % tail_.size()]);
  return out;
}

}  // namespace supervisor::detail
