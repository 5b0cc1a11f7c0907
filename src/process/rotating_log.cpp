// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "rotating_log.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE void RotatingLog::write(std::string_view chunk) {
  if (max_bytes_ == 0) {  // no rotation: nothing to keep whole
    append(chunk);
    return;
  }
  const std::size_t last_nl = chunk.rfind('\n');
  if (last_nl == std::string_view::npos) {
    held_.append(chunk);
    // A line longer than a file is cut anyway: no need to hold more of it.
    if (held_.size() > max_bytes_) {
      put(held_);
      held_.clear();
    }
    return;
  }
  const std::string_view lines = chunk.substr(0, last_nl + 1);
  if (held_.empty()) {
    put(lines);
  } else {
    held_.append(lines);
    put(held_);
    held_.clear();
  }
  held_.append(chunk.substr(last_nl + 1));
}

SUPERVISOR_INLINE void RotatingLog::finish() {
  if (held_.empty()) return;
  put(held_);
  held_.clear();
}

// Writes `data` (whole lines, but for a last piece at the stream's end or one longer than a
// file), rotating before a line that would not fit.
SUPERVISOR_INLINE void RotatingLog::put(std::string_view data) {
  while (!data.empty()) {
    if (size_ >= max_bytes_) {
      rotate();
      continue;
    }
    const std::uint64_t room = max_bytes_ - size_;
    if (data.size() <= room) {
      append(data);
      return;
    }
    // The whole lines that fit; the first line that does not starts the next file.
    std::size_t cut = data.rfind('\n', room - 1);
    if (cut != std::string_view::npos) {
      ++cut;
    } else if (size_ > 0) {
      rotate();  // a fresh file may hold it
      continue;
    } else {
      cut = room;  // longer than a whole file: cut at max_bytes
    }
    append(data.substr(0, cut));
    data.remove_prefix(cut);
    rotate();
  }
}

SUPERVISOR_INLINE void RotatingLog::append(std::string_view data) {
  // Counted as written even when the disk refuses it: the size decides rotation, and a file
  // that cannot be written must not make every later write rotate.
  size_ += data.size();
  append_to_file(data);
}

// path.(N-1) -> path.N, ..., path -> path.1 (the oldest is replaced), then a new `path`; with
// no backups, `path` is emptied. A failed rename leaves that file where it is.
SUPERVISOR_INLINE void RotatingLog::rotate() {
  size_ = 0;
  if (backups_ == 0) {
    if (truncate_file()) return;
  } else {
    const auto name = [this](std::size_t i) { return path_ + "." + std::to_string(i); };
    for (std::size_t i = backups_; i > 1; --i) rename_file(name(i - 1), name(i));
    rename_file(path_, name(1));
  }
  reopen_truncated();
}

}  // namespace supervisor::detail
