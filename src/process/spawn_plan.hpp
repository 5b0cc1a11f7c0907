// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The OS-neutral part of preparing a spawn: the child's environment from the host's and the
// spec's rules, and the search of a bare program name along PATH, as execvp does it. Pure
// functions, so that their cases are unit-tested without a process (the backend's preparation,
// e.g. src/posix/spawn_prepare.cpp, calls them).

#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <supervisor/process_spec.hpp>

namespace supervisor::detail {

struct EnvPlan {
  // The host's environment as it is (inherit, nothing unset, and nothing set or added that the
  // host has): the backend passes the host's own strings on, uncopied (a spawn is a hot path),
  // and `vars` after them.
  bool host_as_is = false;
  // With `host_as_is`: what `set` (sorted by name) and then `extra` add, "NAME=value". Otherwise
  // the child's whole environment, "NAME=value", sorted by name.
  std::vector<std::string> vars;
  // The PATH a bare program name is searched in: the child's own, else `default_path`.
  std::string path;
  // The child's environment holds WATCHDOG_USEC but no WATCHDOG_PID: the backend adds
  // WATCHDOG_PID with the child's own pid where it can (known only in the child).
  bool watchdog_pid = false;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// The host's service-manager variables, which describe the host's own service and are not
// inherited unless Environment::keep_service_variables.
[[nodiscard]] bool is_service_variable(std::string_view name) noexcept;

// `host`: the host's "NAME=value" strings, null-terminated (environ); entries without '=' or
// with an empty name are skipped. The rules apply in order: inherit (all, or the names in
// `env.pass`; service-manager variables only with `keep_service_variables`), `identity` (the
// variables of the worker's user, found by the backend), unset, set, then `extra` ("NAME=value"
// entries: what a pool sets for one worker, ChildRequest::extra_env).
[[nodiscard]] EnvPlan plan_environment(const Environment& env, const char* const* host,
                                       std::string_view default_path, const EnvVars& identity = {},
                                       std::vector<std::string> extra = {});

struct PathSearch {
  std::string program;    // the first candidate that passed the check, or empty
  std::error_code error;  // when none did: the first error other than "not found", else ENOENT
};

// Tries `dir/name` for each entry of the colon-separated `path` in order (an empty entry is the
// current directory, "."), as execvp would, until `check` accepts one (returns no error).
// "No such file" and "not a directory" answers move on silently; the first other one (e.g.
// permission denied) is what a failed search reports.
[[nodiscard]] PathSearch search_path(
    std::string_view name, std::string_view path,
    const std::function<std::error_code(const std::string&)>& check);

}  // namespace supervisor::detail
