// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 3  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// The library's error model (asio / Boost.Process v2 style).
///
/// Every fallible public operation comes as two overloads:
///   - `T f(args)` throws `std::system_error` (through `throw_error`) with a message naming what
///     failed and with which input;
///   - `T f(args, std::error_code& ec) noexcept` reports through `ec` and never throws.
/// Library conditions use `supervisor::errc` in `supervisor::error_category()`; errors that come
/// straight from the OS keep `std::system_category()` and their errno value.

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <supervisor/export.hpp>

namespace supervisor {

/// Library error conditions. Zero is never used: a default-constructed `std::error_code` is
/// success. Values are stable once released (append only).
enum class errc : int {
  invalid_argument = 1,     ///< An argument is out of its domain; the message names it.
  invalid_spec = 2,         ///< A ProcessSpec / option field is invalid; the message names it.
  invalid_transition = 3,   ///< A state machine refused a transition.
  spawn_failed = 4,         ///< A process could not be started (the OS reason is in the message).
  not_running = 5,          ///< The object is not running (never started, or already stopped).
  already_running = 6,      ///< The object was started already.
  timeout = 7,              ///< A deadline passed.
  stopped = 8,              ///< The pool or loop is stopping or stopped; no new work is taken.
  lease_timeout = 9,        ///< No worker became available for a lease in time.
  circuit_open = 10,        ///< A circuit breaker refused the call.
  unsupported = 11,         ///< This platform or kernel lacks the capability.
  cgroup_unavailable = 12,  ///< No usable cgroup hierarchy was found.
  controller_unavailable = 13,  ///< A needed cgroup controller cannot be enabled.
  reap_stolen = 14,     ///< Someone else reaped our child (SIGCHLD ignored, or waitpid(-1)).
  limit_exceeded = 15,  ///< A resource limit was hit.
  internal = 16,        ///< A broken invariant inside the library (a bug: please report it).
  /// A file or directory another local user could have written (owner, mode, a symlink) was
  /// refused; the message names it and what was wrong.
  untrusted = 17,
  /// A host's hook threw (e.g. `PoolOptions::pre_start`, `per_worker_spec`); the message names
  /// the hook and quotes the exception.
  hook_failed = 18,
  /// No such worker: an index the pool never had, or one of a worker that is retired (or being
  /// retired); the message names the index.
  unknown_worker = 19,
  /// The other end of a pipe or channel to a child is gone: the child closed it, or it (or its
  /// incarnation) ended. A job sent to a worker that dies mid-job ends with this.
  peer_gone = 20,
  /// The open-file limit (RLIMIT_NOFILE) is too low for what was asked (e.g. a pool's workers
  /// and their pidfds, pipes and cgroup files): the message names the limit, its soft and hard
  /// values and the value needed. Equivalent to `std::errc::too_many_files_open`.
  fd_limit = 21,
};

/// The category of `supervisor::errc`. Its name is "supervisor". Thread-safe; one instance per
/// process (it lives in the compiled library so that comparisons work across shared objects).
[[nodiscard]] SUPERVISOR_API const std::error_category& error_category() noexcept;

/// Makes `errc` values usable as `std::error_code` (found by ADL).
[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// The exception the library throws: a `std::system_error` (catch either) whose `what()` is one
/// readable sentence, e.g. `spawn "/opt/w/bin/worker": No such file or directory (cwd "/srv")`.
class SUPERVISOR_API Error : public std::system_error {
 public:
  Error(const std::error_code& ec, const std::string& message);
  [[nodiscard]] const char* what() const noexcept override;

 private:
  std::runtime_error message_;  // its copies share the text and never throw
};

/// Throws `Error(ec, ...)`. The single place the library throws from, so that a debugger
/// breakpoint here catches every error. `context` names the operation and its input, e.g.
/// `spawn "/opt/w/bin/worker" (cwd "/srv")`; when it does not already contain the error's own
/// text, `: <text>` is appended. Precondition: `ec` is an error.
[[noreturn]] SUPERVISOR_API void throw_error(const std::error_code& ec, std::string_view context);

/// As above, with an `errc`.
[[noreturn]] inline void throw_error(errc e, std::string_view context) {
  throw_error(make_error_code(e), context);
}

/// Implementation helpers for the throwing/`error_code&` overload pair.
namespace detail {

/// An `std::error_code` plus, for the throwing overload, a message naming what failed. Internal
/// code reports through `fail`; the `noexcept` overloads build a sink with `keep_context = false`,
/// so no message is formatted (and nothing can throw) on their path. Not thread-safe: a local.
struct ErrorSink {
  std::error_code code;
  std::string context;
  bool keep_context = true;

  /// Records `ec`; calls `message()` (returning std::string) only if the context is wanted.
  /// A failure is never success: a zero `ec` (e.g. a stale errno of 0) is recorded as
  /// `errc::internal`, so that no caller goes on as if the operation had worked.
  template <class MessageFn>
  void fail(std::error_code ec, MessageFn&& message) {
    code = ec ? ec : make_error_code(errc::internal);
    if (keep_context) context = std::forward<MessageFn>(message)();
  }
  template <class MessageFn>
  void fail(errc e, MessageFn&& message) {
    fail(make_error_code(e), std::forward<MessageFn>(message));
  }
  explicit operator bool() const noexcept { return static_cast<bool>(code); }
};

/// Runs `f(ErrorSink&)` and throws if it reported an error; returns what `f` returned.
template <class F>
decltype(auto) or_throw(F&& f) {
  ErrorSink sink;
  if constexpr (std::is_void_v<std::invoke_result_t<F, ErrorSink&>>) {
    std::forward<F>(f)(sink);
    if (sink) throw_error(sink.code, sink.context);
  } else {
    auto result = std::forward<F>(f)(sink);
    if (sink) throw_error(sink.code, sink.context);
    return result;
  }
}

/// The error code of the exception being handled, for a `noexcept` overload that must not let
/// it escape: out of memory, the code a `std::system_error` carries, else `errc::internal`.
/// Call only inside a `catch` block.
[[nodiscard]] SUPERVISOR_API std::error_code current_exception_code() noexcept;

/// The one body of every `noexcept` overload: runs `f(ErrorSink&)` with a sink that formats no
/// message, stores its code in `ec` (cleared on success), and returns what `f` returned. An
/// exception `f` lets through (out of memory, a broken invariant) never escapes: it becomes the
/// code `current_exception_code()` gives, and a value-initialised result.
template <class F>
decltype(auto) into_code(std::error_code& ec, F&& f) noexcept {
  using R = std::invoke_result_t<F, ErrorSink&>;
  ErrorSink sink{{}, {}, false};
  try {
    if constexpr (std::is_void_v<R>) {
      std::forward<F>(f)(sink);
      ec = sink.code;
    } else {
      R result = std::forward<F>(f)(sink);
      ec = sink.code;
      return result;
    }
  } catch (...) {
    ec = current_exception_code();
    if constexpr (!std::is_void_v<R>) return R{};
  }
}

}  // namespace detail
}  // namespace supervisor

template <>
struct std::is_error_code_enum<supervisor::errc> : std::true_type {};

#if SUPERVISOR_OUTERMOST == 3
#  include <supervisor/detail/header_only_end.hpp>
#endif
