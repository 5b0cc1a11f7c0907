// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The host's own open-file limit (RLIMIT_NOFILE), as the portable side sees it: read, counted,
// raised (src/posix/fd_limit.cpp; on Windows, which has no such limit, src/process/
// non_linux_parts.cpp says "none"). A pool checks its workers' fds against it before it starts
// them (PoolOptions::raise_fd_limit), and an EMFILE message names it.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

#include <supervisor/error.hpp>

namespace supervisor::detail {

inline constexpr std::uint64_t unlimited_fds = std::numeric_limits<std::uint64_t>::max();

struct FdLimits {
  bool known = false;  // false: no such limit here (Windows), or getrlimit failed
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// The limit now.
[[nodiscard]] FdLimits read_fd_limits() noexcept;
// The fds this process has open now (a listing of /proc/self/fd); 0 where unknown.
[[nodiscard]] std::size_t count_open_fds() noexcept;
// Raises the soft limit to `needed` (never above the hard limit, never lowering it); returns the
// soft limit afterwards. errc::fd_limit when the hard limit is short.
std::uint64_t raise_fd_limit(std::uint64_t needed, ErrorSink& err);
// "RLIMIT_NOFILE is 1024 (hard 524288)".
[[nodiscard]] std::string fd_limits_text(const FdLimits& limits);

// An EMFILE reported without the limit's name (e.g. `open "/sys/fs/cgroup/.../cgroup.events"`,
// whose text the throwing overload completes with the errno's): the text gets it, e.g. `...:
// Too many open files; RLIMIT_NOFILE is 1024 (hard 524288)`. The host can raise that limit.
inline void name_fd_limit(ErrorSink& err) {
  if (!err.keep_context || err.code != std::errc::too_many_files_open ||
      err.context.find("RLIMIT_NOFILE") != std::string::npos)
    return;
  const FdLimits limits = read_fd_limits();
  if (!limits.known) return;
  err.context += ": " + err.code.message() + "; " + fd_limits_text(limits);
}

}  // namespace supervisor::detail
