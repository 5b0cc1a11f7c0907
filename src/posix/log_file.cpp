// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// An output stream's log file with size rotation (StdioSpec::Mode::log_file), as supervisord's
// `stdout_logfile_maxbytes` / `_backups`: one fd kept open between rotations (a write is one
// write(2) per chunk the loop read), lines kept whole across files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "../process/backend.hpp"
#include "spawn_prepare.hpp"
#include "unique_fd.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

class RotatingLogFile final : public LogFile {
 public:
  RotatingLogFile(const StdioSpec& io, UniqueFd fd, std::uint64_t size)
      : path_(io.path),
        max_bytes_(io.max_bytes),
        backups_(io.backups),
        no_follow_(!io.follow_symlinks),
        fd_(std::move(fd)),
        size_(size) {}

  void write(std::string_view chunk) override {
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

  void finish() override {
    if (held_.empty()) return;
    put(held_);
    held_.clear();
  }

 private:
  // Writes `data` (whole lines, but for a last piece at the stream's end or one longer than a
  // file), rotating before a line that would not fit.
  void put(std::string_view data) {
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

  void append(std::string_view data) {
    // Counted as written even when the disk refuses it: the size decides rotation, and a file
    // that cannot be written must not make every later write rotate.
    size_ += data.size();
    while (!data.empty() && fd_) {
      const ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // dropped (a full disk): the next write tries again
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // path.(N-1) -> path.N, ..., path -> path.1 (the oldest is replaced), then a new `path`; with
  // no backups, `path` is emptied. A failed rename leaves that file where it is.
  void rotate() {
    size_ = 0;
    if (backups_ == 0) {
      if (fd_ && ::ftruncate(fd_.get(), 0) == 0) return;
    } else {
      const auto name = [this](std::size_t i) { return path_ + "." + std::to_string(i); };
      for (std::size_t i = backups_; i > 1; --i)
        (void)std::rename(name(i - 1).c_str(), name(i).c_str());
      (void)std::rename(path_.c_str(), name(1).c_str());
    }
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC | O_NOCTTY;
    if (no_follow_) flags |= O_NOFOLLOW;
    fd_.reset(::open(path_.c_str(), flags, 0640));  // on failure, writes are dropped until the next
  }

  const std::string path_;
  const std::uint64_t max_bytes_;
  const std::size_t backups_;
  const bool no_follow_;
  UniqueFd fd_;
  std::uint64_t size_ = 0;  // of the current file
  std::string held_;        // an unfinished last line (only with rotation)
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::unique_ptr<LogFile> open_log_file(const StdioSpec& io,
                                                         std::string_view field, ErrorSink& err) {
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY;
  if (!io.follow_symlinks) flags |= O_NOFOLLOW;
  UniqueFd fd(::open(io.path.c_str(), flags, 0640));
  if (!fd) {
    fail_open(field, io.path, errno, !io.follow_symlinks, err);
    return nullptr;
  }
  struct stat st {};
  const std::uint64_t size =
      ::fstat(fd.get(), &st) == 0 && st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return std::make_unique<RotatingLogFile>(io, std::move(fd), size);
}

}  // namespace supervisor::detail
