// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// An output stream's log file with size rotation (StdioSpec::Mode::log_file), as supervisord's
// `stdout_logfile_maxbytes` / `_backups`: the rotation and the whole-line rule, portable; the
// file operations are the backend's (src/posix/log_file.cpp, src/windows/log_file.cpp). One file
// kept open between rotations; one write per chunk the loop read. Loop thread only.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <supervisor/process_spec.hpp>

#include "backend.hpp"

namespace supervisor::detail {

class RotatingLog : public LogFile {
 public:
  // `size`: what the file held when it was opened.
  RotatingLog(const StdioSpec& io, std::uint64_t size)
      : path_(io.path), max_bytes_(io.max_bytes), backups_(io.backups), size_(size) {}

  void write(std::string_view chunk) final;
  void finish() final;

 protected:
  ~RotatingLog() override = default;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  // Appends what it can of `data` to the open file (nothing when none is open); a failure drops
  // the rest (a full disk: the next write tries again).
  virtual void append_to_file(std::string_view data) = 0;
  // Empties the open file; false when it cannot (it is then reopened truncated).
  virtual bool truncate_file() = 0;
  // Renames `from` to `to`, replacing `to`; a failure leaves both where they are.
  virtual void rename_file(const std::string& from, const std::string& to) = 0;
  // Closes the file and opens `path()` anew, created empty (on failure none is open: writes are
  // dropped until the next rotation).
  virtual void reopen_truncated() = 0;

 private:
  void put(std::string_view data);
  void append(std::string_view data);
  void rotate();

  const std::string path_;
  const std::uint64_t max_bytes_;
  const std::size_t backups_;
  std::uint64_t size_ = 0;  // of the current file
  std::string held_;        // an unfinished last line (only with rotation)
};

}  // namespace supervisor::detail
