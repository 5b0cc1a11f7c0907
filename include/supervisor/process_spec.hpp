// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 12  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `ProcessSpec`: everything needed to start one worker process, validated before any spawn.
/// OS-neutral: no OS header is included; signals and limits are named by enums.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>
#include <supervisor/limits.hpp>

namespace supervisor {

/// Signals the library can send, named portably (mapped to the platform's numbers inside).
enum class Signal {
  hangup,     ///< SIGHUP
  interrupt,  ///< SIGINT
  quit,       ///< SIGQUIT
  kill,       ///< SIGKILL
  user1,      ///< SIGUSR1
  user2,      ///< SIGUSR2
  terminate,  ///< SIGTERM
  cont,       ///< SIGCONT
};

/// The name of a signal, e.g. "SIGTERM".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(Signal s) noexcept;

/// Which standard stream.
enum class StdStream { in, out, err };

/// How one standard stream of the child is connected.
struct SUPERVISOR_API StdioSpec {
  enum class Mode {
    inherit,  ///< The host's own stream.
    null,     ///< /dev/null.
    file,     ///< A file, opened by the library (created with mode 0640 if missing).
    /// out/err: a pipe read by the supervision loop (ring buffer + line callback).
    /// in: a pipe the host writes with `Process::write_stdin` and closes with
    /// `Process::close_stdin` (`on_line` stays empty); the child reads an ordinary blocking pipe.
    pipe,
    /// err only: the child's stderr is a copy of its stdout (its fd 2 is a dup of its fd 1),
    /// whatever stdout is: a pipe (then stderr's lines reach `out`'s callbacks and counters, as
    /// stream `out`, interleaved in the order the child wrote them), a file, a log file, the
    /// host's stdout, or /dev/null. For `out` or `in` it is refused (`errc::invalid_spec`
    /// naming the field). `ExitStatus::stderr_tail` then stays empty (stderr has no pipe).
    same_as_out,
    /// out/err: a pipe read by the loop, exactly like `pipe` (ring buffer, `on_line`, a pool's
    /// `PoolOptions::on_output`, counters), whose bytes the loop also appends to the file `path`
    /// (created 0640, opened without following a symbolic link unless `follow_symlinks`; an
    /// error opening it fails the start, naming the field and the path). With `max_bytes` set,
    /// the file is rotated (supervisord's `stdout_logfile_maxbytes` / `_backups`) before a write
    /// would take it past `max_bytes`: `path` becomes `path.1`, `path.1` becomes `path.2`, ...,
    /// keeping at most `backups` old files (the oldest is removed); with `backups` = 0 the file
    /// is emptied and written again from its start. A line is never split across two files
    /// unless it is longer than `max_bytes` (it is then cut at `max_bytes`); to that end an
    /// unfinished last line is held back (in memory, at most `max_bytes`) until its newline
    /// comes or the stream ends. Bytes are lost only when the file cannot be written (a full
    /// disk): such a write is dropped and the next one tried. In a pool, `{worker}` in `path`
    /// is replaced by the worker's index (e.g. `/var/log/app/worker-{worker}.log`); a plain
    /// `Process` leaves it as it is. Not for `in`.
    log_file,
  };
  Mode mode = Mode::null;
  std::string path;    ///< For `file`.
  bool append = true;  ///< For `file` outputs: append (true) or truncate.
  /// For `pipe`: called on the loop thread with each complete line (without the newline); lines
  /// longer than `OutputOptions::max_line` are delivered in pieces. May be empty.
  std::function<void(std::string_view line)> on_line;
  /// For `file`: whether a symbolic link at `path` is followed. Off by default: a host that runs
  /// as root would otherwise write (or, with `append = false`, truncate) whatever file a link
  /// planted at a log path names; the start fails with ELOOP instead.
  bool follow_symlinks = false;

  /// For `log_file`: rotate before the file would grow past this many bytes (0: never rotate).
  std::uint64_t max_bytes = 0;
  /// For `log_file`: how many rotated files (`path.1` ... `path.N`) are kept.
  std::size_t backups = 0;

  static StdioSpec inherit() { return with_mode(Mode::inherit); }
  static StdioSpec null() { return with_mode(Mode::null); }
  static StdioSpec file(std::string p, bool append_to = true) {
    StdioSpec s = with_mode(Mode::file);
    s.path = std::move(p);
    s.append = append_to;
    return s;
  }
  static StdioSpec pipe(std::function<void(std::string_view)> cb = {}) {
    StdioSpec s = with_mode(Mode::pipe);
    s.on_line = std::move(cb);
    return s;
  }
  /// For `err`: stderr into stdout (see `Mode::same_as_out`).
  static StdioSpec same_as_out() { return with_mode(Mode::same_as_out); }
  /// A log file the loop writes, rotated at `max_bytes` keeping `backups` old files (see
  /// `Mode::log_file`); `cb` gets its lines too, as with `pipe`.
  static StdioSpec log_file(std::string p, std::uint64_t max_bytes_each = 0,
                            std::size_t backups_kept = 0,
                            std::function<void(std::string_view)> cb = {}) {
    StdioSpec s = with_mode(Mode::log_file);
    s.path = std::move(p);
    s.max_bytes = max_bytes_each;
    s.backups = backups_kept;
    s.on_line = std::move(cb);
    return s;
  }
  /// Whether the loop reads this stream from a pipe (`pipe` or `log_file`).
  [[nodiscard]] bool piped() const noexcept { return mode == Mode::pipe || mode == Mode::log_file; }

 private:
  static StdioSpec with_mode(Mode m) {
    StdioSpec s;
    s.mode = m;
    return s;
  }
};

/// Captured-output bounds, per piped stream.
struct OutputOptions {
  std::size_t ring_bytes = 64 * 1024;  ///< Recent output kept per stream (the tail).
  std::size_t max_line = 16 * 1024;    ///< Longer lines reach `on_line` in pieces.
  std::size_t exit_tail_lines = 20;    ///< Last stderr lines copied into ExitStatus.
  /// false (default): the loop always drains the pipe; when the ring is full the oldest bytes
  /// are dropped and counted. true: the loop stops reading while the ring is full, so a
  /// flooding worker blocks in write() until `Process::take_output` makes room.
  bool backpressure = false;
};

/// The child's environment, built in this order: the host's variables (all of them, or only
/// those named in `pass`; never the host's service-manager variables, see below), then those of
/// the identity (`HOME`, `USER`, `LOGNAME`, `SHELL` when `Identity::user` is set, as systemd's
/// `User=` does), then `unset`, then `set`.
///
/// The host's service-manager variables (`NOTIFY_SOCKET`, `WATCHDOG_PID`, `WATCHDOG_USEC`,
/// `LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`) describe the host's own service, not the worker:
/// a worker that inherited them would notify the host's manager, or take a watchdog as not its
/// own. They are not inherited unless `keep_service_variables` is true. A pool that uses sd_notify
/// sets the worker's own `NOTIFY_SOCKET` (and `WATCHDOG_USEC` with its watchdog). Whenever the
/// child's environment holds `WATCHDOG_USEC` but no `WATCHDOG_PID`, the spawn sets `WATCHDOG_PID`
/// to the child's pid where the backend can (Linux clone3); where it cannot, it stays absent,
/// which sd_notify libraries read as "the watchdog is for this process".
struct Environment {
  bool inherit = true;                     ///< Start from the host's environment.
  std::map<std::string, std::string> set;  ///< Added or overridden variables.
  std::vector<std::string> unset;          ///< Removed variables (applied after inherit).
  /// Allow-list mode (systemd's `PassEnvironment=`): when not empty, only these variables of the
  /// host are inherited (those the host lacks are simply absent; a service-manager variable only
  /// with `keep_service_variables`). Needs `inherit`.
  std::vector<std::string> pass;
  /// Also inherit the host's service-manager variables (see above). Off by default.
  bool keep_service_variables = false;
};

/// Who the child runs as. Changing identity needs privilege; names are resolved before spawning.
struct Identity {
  std::optional<std::string> user;         ///< User name or numeric uid.
  std::optional<std::string> group;        ///< Group name or numeric gid (default: user's group).
  std::vector<std::string> supplementary;  ///< Supplementary groups (names or numbers).
  std::optional<std::uint32_t> umask;      ///< e.g. 027.
};

/// A resource limit applied in the child before exec (POSIX rlimits).
struct ResourceLimit {
  enum class Kind {
    address_space,
    core_size,
    cpu_seconds,
    data,
    file_size,
    open_files,
    processes,
    stack
  };
  Kind kind = Kind::open_files;
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  static constexpr std::uint64_t unlimited = ~std::uint64_t{0};
};

/// An fd of the host that the child receives as `child_fd` (>= 3). The child holds exactly 0, 1,
/// 2 and these.
struct PassFd {
  int host_fd = -1;
  int child_fd = -1;
};

/// A private channel between the host and the child: a connected pair of Unix sockets of type
/// `SOCK_SEQPACKET`, made afresh for every start (a pool worker gets a new one each incarnation).
/// The child finds its end on fd `child_fd`, announced in its environment as
/// `SUPERVISOR_CHANNEL_FD=<child_fd>` (set by the library, never inherited from the host); the
/// host reaches the other end through `Process::channel()` or, in a pool, `Lease::channel()`.
///
/// Sequenced packets keep message boundaries: each send is one message that the other side
/// receives whole (or not at all, if the sender dies first), so neither side needs framing, and a
/// child written in any language reads a job with one `recv` (Python:
/// `socket.socket(fileno=int(os.environ["SUPERVISOR_CHANNEL_FD"]))`). A message is at most about
/// the socket buffer's size (the kernel's `net.core.wmem_default`, some 200 KiB); larger ones are
/// refused. The child's end is blocking, as it would expect; the host's end never blocks past a
/// call's timeout. The host's end closes when the process (its whole tree) has ended.
///
/// On Windows the channel is a duplex named pipe in message mode (`PIPE_TYPE_MESSAGE`, both ends
/// `PIPE_READMODE_MESSAGE`), made afresh for every start in the same way. The child inherits its
/// end as a handle and finds its value, in decimal, in its environment as
/// `SUPERVISOR_CHANNEL_HANDLE=<handle>` instead of `SUPERVISOR_CHANNEL_FD` (`child_fd` is
/// ignored there): `HANDLE h = (HANDLE)(uintptr_t)strtoull(getenv("SUPERVISOR_CHANNEL_HANDLE"),
/// 0, 10)`. Each `WriteFile` of the child is one message, and each `ReadFile` with room for it
/// reads one whole message (a smaller buffer gets its first part and `ERROR_MORE_DATA`). The
/// child's end is blocking (not overlapped); when the host closes its end, the child's reads fail
/// with `ERROR_BROKEN_PIPE`. The host sends messages of at most 64 KiB (the pipe's buffer); larger
/// ones are refused with `errc::invalid_argument`; it receives the child's whole, whatever their
/// size.
struct ChannelSpec {
  /// The variable that tells the child its fd number.
  static constexpr const char* environment_variable = "SUPERVISOR_CHANNEL_FD";
  /// The variable that tells a child on Windows its handle's value (decimal).
  static constexpr const char* windows_environment_variable = "SUPERVISOR_CHANNEL_HANDLE";
  bool enabled = false;
  /// The child's fd number for its end (3 or more, not one of `pass_fds`); not used on Windows.
  int child_fd = 3;
};

/// One rung of the stop ladder: send `signal` to the whole tree, then wait up to `wait` for it to
/// exit before the next rung.
struct StopStep {
  Signal signal = Signal::terminate;
  Duration wait = std::chrono::seconds(10);
  bool then_continue = true;  ///< Also send SIGCONT, so a stopped process can act on the signal.
};

/// How a worker is stopped. After the last rung, the whole tree is killed (cgroup.kill, or
/// SIGKILL to the process group) and the library waits up to `kill_wait` to see it gone.
struct StopPlan {
  std::vector<StopStep> steps{StopStep{}};
  Duration kill_wait = std::chrono::seconds(5);
};

/// Everything needed to start one process. A plain value; validated by `validate()` (and by every
/// spawn) before anything happens.
struct ProcessSpec {
  /// argv[0] is the program: a path (with '/') used as is, or a name searched in the child's PATH.
  /// Never run through a shell.
  std::vector<std::string> argv;
  std::string name;  ///< For messages and events; defaults to argv[0].
  Environment env;
  std::string cwd;  ///< Absolute working directory; empty keeps the host's.
  StdioSpec in = StdioSpec::null();
  StdioSpec out = StdioSpec::pipe();
  StdioSpec err = StdioSpec::pipe();
  OutputOptions output;
  Identity identity;
  /// setsid(): the child leads a new session and process group (the fallback tree-kill unit).
  bool new_session = true;
  std::vector<ResourceLimit> limits;
  /// Limits of the whole tree, enforced by the kernel where it can (cgroup v2 controllers,
  /// cgroup v1 hierarchies on hybrid hosts, rlimits); `ProcessInfo::limits` says how each is.
  /// An rlimit set here (max_open_files, cpu_time) must not also be in `limits`.
  ResourceLimits resources;
  std::vector<PassFd> pass_fds;
  StopPlan stop;
  /// Arm PR_SET_PDEATHSIG(SIGKILL) in the child (Linux): it dies when the loop thread that started
  /// it dies, i.e. with the host.
  bool die_with_host = true;
  /// A channel to the child (off by default).
  ChannelSpec channel;

  /// The display name: `name`, or argv[0].
  [[nodiscard]] std::string display_name() const {
    return !name.empty() ? name : (argv.empty() ? std::string("<empty argv>") : argv.front());
  }
};

/// Checks every field; the error (`errc::invalid_spec`) names the first bad field and its value,
/// e.g. `ProcessSpec.cwd: "rel/dir" is not an absolute path`.
SUPERVISOR_API void validate(const ProcessSpec& spec);
/// \overload
SUPERVISOR_API void validate(const ProcessSpec& spec, std::error_code& ec) noexcept;
/// Returns the message `validate` would throw with, or an empty string when the spec is valid.
[[nodiscard]] SUPERVISOR_API std::string validation_error(const ProcessSpec& spec);

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 12
#  include <supervisor/detail/header_only_end.hpp>
#endif
