// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "spawn_plan.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace supervisor::detail {

SUPERVISOR_INLINE bool is_service_variable(std::string_view name) noexcept {
  // systemd's sd_notify, watchdog and socket activation (sd_listen_fds) protocols.
  return name == "NOTIFY_SOCKET" || name == "WATCHDOG_PID" || name == "WATCHDOG_USEC" ||
         name == "LISTEN_FDS" || name == "LISTEN_PID" || name == "LISTEN_FDNAMES";
}

SUPERVISOR_INLINE EnvPlan plan_environment(const Environment& env, const char* const* host,
                                           std::string_view default_path, const EnvVars& identity) {
  EnvPlan plan;
  plan.path = std::string(default_path);
  if (env.inherit && env.pass.empty() && env.set.empty() && env.unset.empty() && identity.empty()) {
    // The host's environment as it is, unless it holds a service-manager variable (rare: a host
    // started by systemd with Type=notify or a watchdog), which takes the general path.
    bool as_is = true;
    std::string_view path;
    bool has_path = false;
    for (const char* const* e = host; e && *e && as_is; ++e) {
      const std::string_view kv(*e);
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      if (kv.substr(0, eq) == "PATH") {
        path = kv.substr(eq + 1);
        has_path = true;
      }
      if (is_service_variable(kv.substr(0, eq))) as_is = false;
    }
    if (as_is) {
      plan.host_as_is = true;
      if (has_path) plan.path = std::string(path);
      return plan;
    }
  }
  std::map<std::string, std::string, std::less<>> vars;
  if (env.inherit) {
    for (const char* const* e = host; e && *e; ++e) {
      const std::string_view kv(*e);
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      const std::string_view name = kv.substr(0, eq);
      if (!env.keep_service_variables && is_service_variable(name)) continue;
      if (!env.pass.empty() && std::find(env.pass.begin(), env.pass.end(), name) == env.pass.end())
        continue;
      vars.emplace(std::string(name), std::string(kv.substr(eq + 1)));
    }
  }
  for (const auto& kv : identity) vars[kv.first] = kv.second;
  for (const auto& k : env.unset) {
    if (auto it = vars.find(k); it != vars.end()) vars.erase(it);
  }
  for (const auto& kv : env.set) vars[kv.first] = kv.second;
  if (auto it = vars.find("PATH"); it != vars.end()) plan.path = it->second;
  plan.watchdog_pid =
      vars.find("WATCHDOG_USEC") != vars.end() && vars.find("WATCHDOG_PID") == vars.end();
  plan.vars.reserve(vars.size());
  for (const auto& kv : vars) plan.vars.push_back(kv.first + "=" + kv.second);
  return plan;
}

SUPERVISOR_INLINE PathSearch
search_path(std::string_view name, std::string_view path,
            const std::function<std::error_code(const std::string&)>& check) {
  PathSearch out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    // Built by append: GCC 12 at -O2/-O3 reports a false -Wrestrict for `dir = "."` here.
    std::string candidate;
    if (end == start) candidate.push_back('.');
    candidate.append(path.substr(start, end - start));
    candidate.push_back('/');
    candidate.append(name);
    const std::error_code e = check(candidate);
    if (!e) {
      out.program = std::move(candidate);
      out.error.clear();
      return out;
    }
    const bool not_found =
        e == std::errc::no_such_file_or_directory || e == std::errc::not_a_directory;
    if (!not_found && !out.error) out.error = e;
    start = end + 1;
  }
  if (!out.error) out.error = std::make_error_code(std::errc::no_such_file_or_directory);
  return out;
}

}  // namespace supervisor::detail
