// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The host's open-file limit on POSIX: getrlimit/setrlimit(RLIMIT_NOFILE), and the fds open now.
#include <supervisor/limits.hpp>

#include <dirent.h>
#include <sys/resource.h>

#include <fmt/format.h>

#include <cerrno>
#include <mutex>

#include "../process/fd_limit.hpp"
#include "errno_text.hpp"

namespace supervisor {
namespace detail {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::uint64_t from_rlim(rlim_t v) noexcept {
  return v == RLIM_INFINITY ? unlimited_fds : std::uint64_t{v};
}

SUPERVISOR_INLINE std::string fd_count_text(std::uint64_t n) {
  return n == unlimited_fds ? std::string("unlimited") : std::to_string(n);
}

// Serialises read-modify-write of the limit between the library's own callers (the host's own
// setrlimit calls are its business).
SUPERVISOR_INLINE std::mutex& fd_limit_mutex() {
  static std::mutex mu;
  return mu;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE FdLimits read_fd_limits() noexcept {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  return {true, from_rlim(rl.rlim_cur), from_rlim(rl.rlim_max)};
}

SUPERVISOR_INLINE std::size_t count_open_fds() noexcept {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  std::size_t n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n > 0 ? n - 1 : 0;  // the listing's own fd is among them
}

SUPERVISOR_INLINE std::string fd_limits_text(const FdLimits& limits) {
  return fmt::format("RLIMIT_NOFILE is {} (hard {})", fd_count_text(limits.soft),
                     fd_count_text(limits.hard));
}

SUPERVISOR_INLINE std::uint64_t raise_fd_limit(std::uint64_t needed, ErrorSink& err) {
  std::lock_guard lock(fd_limit_mutex());
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    const int e = errno;
    err.fail(std::error_code(e, std::system_category()), [&] {
      return fmt::format("raise_fd_limit: getrlimit(RLIMIT_NOFILE): {}", sys_message(e));
    });
    return 0;
  }
  const FdLimits now{true, from_rlim(rl.rlim_cur), from_rlim(rl.rlim_max)};
  if (now.soft >= needed) return now.soft;
  if (now.hard < needed) {
    err.fail(errc::fd_limit, [&] {
      return fmt::format(
          "raise_fd_limit: the open-file limit is too low: {} open files needed, but {}, and "
          "only a privileged process can raise the hard limit (e.g. LimitNOFILE= in a systemd "
          "unit, or /etc/security/limits.conf)",
          needed, fd_limits_text(now));
    });
    return now.soft;
  }
  rl.rlim_cur = rlim_t{needed};
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    const int e = errno;
    err.fail(std::error_code(e, std::system_category()), [&] {
      return fmt::format("raise_fd_limit: setrlimit(RLIMIT_NOFILE) to {} ({}): {}", needed,
                         fd_limits_text(now), sys_message(e));
    });
    return now.soft;
  }
  return needed;
}

}  // namespace detail

SUPERVISOR_INLINE std::uint64_t raise_fd_limit(std::size_t needed) {
  return detail::or_throw(
      [&](detail::ErrorSink& err) { return detail::raise_fd_limit(needed, err); });
}

SUPERVISOR_INLINE std::uint64_t raise_fd_limit(std::size_t needed, std::error_code& ec) noexcept {
  return detail::into_code(
      ec, [&](detail::ErrorSink& err) { return detail::raise_fd_limit(needed, err); });
}

}  // namespace supervisor
