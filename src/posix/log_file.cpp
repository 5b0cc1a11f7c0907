// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// An output stream's log file (StdioSpec::Mode::log_file) on POSIX: its file operations, under the
// portable rotation (process/rotating_log.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "../process/rotating_log.hpp"
#include "spawn_prepare.hpp"
#include "unique_fd.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// The POSIX file operations of a log file (the rotation: process/rotating_log.hpp).
class PosixLogFile final : public RotatingLog {
 public:
  PosixLogFile(const StdioSpec& io, UniqueFd fd, std::uint64_t size)
      : RotatingLog(io, size), no_follow_(!io.follow_symlinks), fd_(std::move(fd)) {}

 private:
  void append_to_file(std::string_view data) override {
    while (!data.empty() && fd_) {
      const ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // dropped (a full disk): the next write tries again
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  bool truncate_file() override { return fd_ && ::ftruncate(fd_.get(), 0) == 0; }
  void rename_file(const std::string& from, const std::string& to) override {
    (void)std::rename(from.c_str(), to.c_str());
  }
  void reopen_truncated() override {
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC | O_NOCTTY;
    if (no_follow_) flags |= O_NOFOLLOW;
    fd_.reset(::open(path().c_str(), flags, 0640));
  }

  const bool no_follow_;
  UniqueFd fd_;
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
  return std::make_unique<PosixLogFile>(io, std::move(fd), size);
}

}  // namespace supervisor::detail
