// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/error.hpp>

#include <new>
#include <string>
#include <system_error>

namespace supervisor {
SUPERVISOR_LOCAL_BEGIN

class Category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "supervisor"; }

  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_argument: return "invalid argument";
      case errc::invalid_spec: return "invalid process spec";
      case errc::invalid_transition: return "invalid state transition";
      case errc::spawn_failed: return "process could not be started";
      case errc::not_running: return "not running";
      case errc::already_running: return "already running";
      case errc::timeout: return "timed out";
      case errc::stopped: return "stopped";
      case errc::lease_timeout: return "no worker became available before the lease timeout";
      case errc::circuit_open: return "circuit breaker is open";
      case errc::unsupported: return "not supported on this platform or kernel";
      case errc::cgroup_unavailable: return "no usable cgroup hierarchy";
      case errc::controller_unavailable: return "cgroup controller unavailable";
      case errc::reap_stolen: return "child was reaped by someone else";
      case errc::limit_exceeded: return "resource limit exceeded";
      case errc::internal: return "internal error";
      case errc::untrusted: return "refused: another user could have written it";
      case errc::hook_failed: return "a hook of the host failed";
      case errc::unknown_worker: return "no such worker";
      case errc::peer_gone: return "the other end is gone (the child closed it or ended)";
      case errc::fd_limit: return "the open-file limit is too low";
    }
    return "unknown supervisor error " + std::to_string(value);
  }

  // Lets hosts test portable conditions: `ec == std::errc::timed_out` holds for our timeouts.
  [[nodiscard]] std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_argument:
      case errc::invalid_spec: return std::errc::invalid_argument;
      case errc::timeout:
      case errc::lease_timeout: return std::errc::timed_out;
      case errc::unsupported:
      case errc::cgroup_unavailable:
      case errc::controller_unavailable: return std::errc::not_supported;
      case errc::already_running: return std::errc::operation_in_progress;
      case errc::stopped:
      case errc::circuit_open: return std::errc::operation_canceled;
      case errc::untrusted: return std::errc::permission_denied;
      case errc::peer_gone: return std::errc::broken_pipe;
      case errc::fd_limit: return std::errc::too_many_files_open;
      default: return {value, *this};
    }
  }
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE const std::error_category& error_category() noexcept {
  static const Category instance;
  return instance;
}

SUPERVISOR_INLINE Error::Error(const std::error_code& ec, const std::string& message)
    : std::system_error(ec, message), message_(message) {}

SUPERVISOR_INLINE const char* Error::what() const noexcept { return message_.what(); }

SUPERVISOR_INLINE std::error_code detail::current_exception_code() noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  } catch (const std::system_error& e) {
    return e.code() ? e.code() : make_error_code(errc::internal);
  } catch (...) {
    return make_error_code(errc::internal);
  }
}

SUPERVISOR_INLINE void throw_error(const std::error_code& ec, std::string_view context) {
  const std::string text = ec.message();
  if (context.empty()) throw Error(ec, text);
  if (context.find(text) != std::string_view::npos) throw Error(ec, std::string(context));
  throw Error(ec, std::string(context) + ": " + text);
}

}  // namespace supervisor
