// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

#include <fmt/format.h>

#include <set>
#include <string>

#include "validate.hpp"

namespace supervisor {

SUPERVISOR_INLINE std::string_view to_string(Signal s) noexcept {
  switch (s) {
    case Signal::hangup: return "SIGHUP";
    case Signal::interrupt: return "SIGINT";
    case Signal::quit: return "SIGQUIT";
    case Signal::kill: return "SIGKILL";
    case Signal::user1: return "SIGUSR1";
    case Signal::user2: return "SIGUSR2";
    case Signal::terminate: return "SIGTERM";
    case Signal::cont: return "SIGCONT";
  }
  return "SIG?";
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

// An absolute path of the platform: "/..." on POSIX; on Windows a drive's (C:\... or C:/...)
// or a UNC one (\\server\share).
SUPERVISOR_INLINE bool is_absolute_path(std::string_view p) {
#if defined(_WIN32)
  const auto sep = [](char c) { return c == '\\' || c == '/'; };
  if (p.size() >= 3 && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) &&
      p[1] == ':' && sep(p[2]))
    return true;
  return p.size() >= 3 && sep(p[0]) && sep(p[1]) && !sep(p[2]);
#else
  return !p.empty() && p.front() == '/';
#endif
}

// Quotes a value for an error message, escaping what would confuse a reader.
SUPERVISOR_INLINE std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\0') {
      out += "\\0";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

SUPERVISOR_INLINE void check_stdio(const StdioSpec& io, std::string_view field, bool is_input,
                                   detail::ErrorSink& err) {
  using Mode = StdioSpec::Mode;
  if (io.mode == Mode::same_as_out && field != "err") {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format(
          "ProcessSpec.{}.mode: same_as_out (stderr into stdout) is for ProcessSpec.err only",
          field);
    });
  } else if (io.mode == Mode::log_file && is_input) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.{}.mode: log_file is for an output stream (out, err)", field);
    });
  } else if ((io.mode == Mode::file || io.mode == Mode::log_file) &&
             (io.path.empty() || has_nul(io.path))) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.{}.path: {} is not a usable file path", field,
                         quoted(io.path));
    });
  } else if (io.mode == Mode::log_file && io.backups > 1000) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.{}.backups: {} (at most 1000)", field, io.backups);
    });
  } else if (io.mode == Mode::pipe && is_input && io.on_line) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format(
          "ProcessSpec.{}.on_line: set, but a stdin pipe is written by the host "
          "(Process::write_stdin), not read",
          field);
    });
  } else if (!io.piped() && io.on_line) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.{}.on_line: set, but the stream is not a pipe", field);
    });
  }
}

SUPERVISOR_INLINE constexpr std::uint64_t k_mib = 1024 * 1024;
SUPERVISOR_INLINE constexpr unsigned long long max_numeric_id = 4294967294ULL;  // (uid_t)-1 - 1

// Each limit of ProcessSpec.resources within its domain, and no rlimit set twice.
// The values of `r`, each checked on its own; `where` names it in messages
// ("ProcessSpec.resources").
SUPERVISOR_INLINE bool check_limit_values(const ResourceLimits& r, std::string_view where,
                                          errc code, detail::ErrorSink& err) {
  const auto bad = [&](std::string_view field, const std::string& value, std::string_view rule) {
    err.fail(code, [&] { return fmt::format("{}.{}: {} {}", where, field, value, rule); });
    return false;
  };
  if (r.memory_max && *r.memory_max < k_mib)
    return bad("memory_max", std::to_string(*r.memory_max), "bytes is below 1 MiB");
  if (r.memory_high && *r.memory_high < k_mib)
    return bad("memory_high", std::to_string(*r.memory_high), "bytes is below 1 MiB");
  if (r.memory_high && r.memory_max && *r.memory_high > *r.memory_max) {
    return bad("memory_high", std::to_string(*r.memory_high),
               fmt::format("bytes is above memory_max ({} bytes)", *r.memory_max));
  }
  if (r.cpu_cores && !(*r.cpu_cores >= 0.001 && *r.cpu_cores <= 1e6))
    return bad("cpu_cores", fmt::format("{}", *r.cpu_cores), "is not between 0.001 and 1e6");
  if (r.cpu_weight && (*r.cpu_weight < 1 || *r.cpu_weight > 10000))
    return bad("cpu_weight", std::to_string(*r.cpu_weight), "is not between 1 and 10000");
  if (r.max_processes && *r.max_processes < 1)
    return bad("max_processes", "0", "leaves no room for the worker itself");
  if (r.max_open_files && *r.max_open_files < 3)
    return bad("max_open_files", std::to_string(*r.max_open_files),
               "is below 3 (stdin, stdout and stderr)");
  if (r.cpu_time && *r.cpu_time < std::chrono::seconds(1)) {
    return bad(
        "cpu_time",
        fmt::format("{} ms",
                    std::chrono::duration_cast<std::chrono::milliseconds>(*r.cpu_time).count()),
        "is below 1 s (RLIMIT_CPU counts whole seconds)");
  }
  if (r.wall_time && *r.wall_time < std::chrono::milliseconds(1)) {
    return bad(
        "wall_time",
        fmt::format("{} us",
                    std::chrono::duration_cast<std::chrono::microseconds>(*r.wall_time).count()),
        "is below 1 ms");
  }
  return true;
}

SUPERVISOR_INLINE bool check_resources(const ProcessSpec& spec, detail::ErrorSink& err) {
  const ResourceLimits& r = spec.resources;
  if (!check_limit_values(r, "ProcessSpec.resources", errc::invalid_spec, err)) return false;
  for (std::size_t i = 0; i < spec.limits.size(); ++i) {
    const auto kind = spec.limits[i].kind;
    const char* twin = nullptr;
    if (kind == ResourceLimit::Kind::open_files && r.max_open_files) twin = "max_open_files";
    if (kind == ResourceLimit::Kind::cpu_seconds && r.cpu_time) twin = "cpu_time";
    if (twin != nullptr) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.limits[{}]: sets the same rlimit as resources.{}", i, twin);
      });
      return false;
    }
  }
  return true;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void detail::validate_group_limits(const ResourceLimits& r,
                                                     std::string_view where,
                                                     detail::ErrorSink& err) {
  if (!check_limit_values(r, where, errc::invalid_argument, err)) return;
  const char* per_tree = r.max_open_files ? "max_open_files"
                         : r.cpu_time     ? "cpu_time"
                         : r.wall_time    ? "wall_time"
                                          : nullptr;
  if (per_tree != nullptr) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "{}.{}: limits each process or tree on its own, not a group of trees; set it in "
          "ProcessSpec.resources",
          where, per_tree);
    });
  }
}

SUPERVISOR_INLINE void detail::validate_spec(const ProcessSpec& spec, detail::ErrorSink& err) {
  if (spec.argv.empty()) {
    err.fail(errc::invalid_spec,
             [] { return std::string("ProcessSpec.argv: empty (argv[0] names the program)"); });
    return;
  }
  if (spec.argv[0].empty()) {
    err.fail(errc::invalid_spec,
             [] { return std::string("ProcessSpec.argv[0]: empty program name"); });
    return;
  }
  for (std::size_t i = 0; i < spec.argv.size(); ++i) {
    if (has_nul(spec.argv[i])) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.argv[{}]: {} contains a NUL byte", i, quoted(spec.argv[i]));
      });
      return;
    }
  }
  auto check_env_name = [&](const std::string& n, std::string_view where) {
    if (n.empty() || n.find('=') != std::string::npos || has_nul(n)) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.env.{}: {} is not a valid variable name", where, quoted(n));
      });
      return false;
    }
    return true;
  };
  for (const auto& kv : spec.env.set) {
    if (!check_env_name(kv.first, "set")) return;
    if (has_nul(kv.second)) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.env.set[{}]: value contains a NUL byte", quoted(kv.first));
      });
      return;
    }
  }
  for (const auto& k : spec.env.unset) {
    if (!check_env_name(k, "unset")) return;
  }
  for (const auto& k : spec.env.pass) {
    if (!check_env_name(k, "pass")) return;
  }
  if (!spec.env.pass.empty() && !spec.env.inherit) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.env.pass: {} listed but env.inherit is false",
                         quoted(spec.env.pass.front()));
    });
    return;
  }
  if (!spec.cwd.empty() && (!is_absolute_path(spec.cwd) || has_nul(spec.cwd))) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.cwd: {} is not an absolute path", quoted(spec.cwd));
    });
    return;
  }
  check_stdio(spec.in, "in", true, err);
  if (err) return;
  check_stdio(spec.out, "out", false, err);
  if (err) return;
  check_stdio(spec.err, "err", false, err);
  if (err) return;
  if (spec.out.mode == StdioSpec::Mode::log_file && spec.err.mode == StdioSpec::Mode::log_file &&
      spec.out.path == spec.err.path) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format(
          "ProcessSpec.err.path: {} is also ProcessSpec.out's log file (two writers would rotate "
          "it apart; use StdioSpec::same_as_out for err)",
          quoted(spec.err.path));
    });
    return;
  }
  const bool piped = spec.out.piped() || spec.err.piped();
  if (piped && spec.output.ring_bytes == 0) {
    err.fail(errc::invalid_spec,
             [] { return std::string("ProcessSpec.output.ring_bytes: 0 (must be at least 1)"); });
    return;
  }
  if (piped && spec.output.max_line == 0) {
    err.fail(errc::invalid_spec,
             [] { return std::string("ProcessSpec.output.max_line: 0 (must be at least 1)"); });
    return;
  }
  if (spec.identity.umask && *spec.identity.umask > 0777) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.identity.umask: {:o} is not a permission mask (0..0777)",
                         *spec.identity.umask);
    });
    return;
  }
  auto check_name = [&](const std::string& n, std::string_view where) {
    if (n.empty() || has_nul(n)) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.identity.{}: {} is not a user or group", where, quoted(n));
      });
      return false;
    }
    // A numeric id is a 32-bit uid/gid, and 4294967295 ((uid_t)-1) means "unchanged" to the
    // kernel: a wider number must not wrap around to another id (4294967296 to root).
    if (n.find_first_not_of("0123456789") == std::string::npos &&
        (n.size() > 10 || std::stoull(n) > max_numeric_id)) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.identity.{}: numeric id {} is out of range (0..{})", where,
                           n, max_numeric_id);
      });
      return false;
    }
    return true;
  };
  if (spec.identity.user && !check_name(*spec.identity.user, "user")) return;
  if (spec.identity.group && !check_name(*spec.identity.group, "group")) return;
  for (const auto& g : spec.identity.supplementary) {
    if (!check_name(g, "supplementary")) return;
  }
  for (std::size_t i = 0; i < spec.limits.size(); ++i) {
    const auto& l = spec.limits[i];
    if (l.soft > l.hard) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.limits[{}]: soft limit {} is above hard limit {}", i,
                           l.soft, l.hard);
      });
      return;
    }
  }
  if (!check_resources(spec, err)) return;
  if (spec.pass_fds.size() > 60) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.pass_fds: {} fds (at most 60)", spec.pass_fds.size());
    });
    return;
  }
  std::set<int> targets;
  for (std::size_t i = 0; i < spec.pass_fds.size(); ++i) {
    const auto& p = spec.pass_fds[i];
    if (p.host_fd < 0) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.pass_fds[{}].host_fd: {} is not an fd", i, p.host_fd);
      });
      return;
    }
    if (p.child_fd < 3) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format(
            "ProcessSpec.pass_fds[{}].child_fd: {} (0, 1 and 2 are set by in/out/err; use 3 or "
            "more)",
            i, p.child_fd);
      });
      return;
    }
    if (!targets.insert(p.child_fd).second) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.pass_fds[{}].child_fd: {} is given twice", i, p.child_fd);
      });
      return;
    }
  }
  if (spec.channel.enabled) {
    if (spec.channel.child_fd < 3) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format(
            "ProcessSpec.channel.child_fd: {} (0, 1 and 2 are set by in/out/err; use 3 or more)",
            spec.channel.child_fd);
      });
      return;
    }
    if (targets.count(spec.channel.child_fd) != 0) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.channel.child_fd: {} is also a target of pass_fds",
                           spec.channel.child_fd);
      });
      return;
    }
  }
  for (std::size_t i = 0; i < spec.stop.steps.size(); ++i) {
    if (spec.stop.steps[i].wait < Duration::zero()) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.stop.steps[{}].wait: negative ({}ns)", i,
                           spec.stop.steps[i].wait.count());
      });
      return;
    }
  }
  if (spec.stop.kill_wait <= Duration::zero()) {
    err.fail(errc::invalid_spec, [&] {
      return fmt::format("ProcessSpec.stop.kill_wait: {}ns (must be positive)",
                         spec.stop.kill_wait.count());
    });
    return;
  }
}

SUPERVISOR_INLINE void validate(const ProcessSpec& spec) {
  detail::or_throw([&](detail::ErrorSink& err) { detail::validate_spec(spec, err); });
}

SUPERVISOR_INLINE void validate(const ProcessSpec& spec, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { detail::validate_spec(spec, err); });
}

SUPERVISOR_INLINE std::string validation_error(const ProcessSpec& spec) {
  detail::ErrorSink err;
  detail::validate_spec(spec, err);
  return err ? err.context : std::string();
}

}  // namespace supervisor
