// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "spawn_plan.hpp"

#include <cstring>
#include <map>

namespace supervisor::detail {

SUPERVISOR_INLINE EnvPlan plan_environment(const Environment& env, const char* const* host,
                                           std::string_view default_path) {
  EnvPlan plan;
  plan.path = std::string(default_path);
  if (env.inherit && env.set.empty() && env.unset.empty()) {
    plan.host_as_is = true;
    for (const char* const* e = host; e && *e; ++e) {
      if (std::strncmp(*e, "PATH=", 5) == 0) plan.path = *e + 5;
    }
    return plan;
  }
  std::map<std::string, std::string> vars;
  if (env.inherit) {
    for (const char* const* e = host; e && *e; ++e) {
      const std::string_view kv(*e);
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      vars.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  for (const auto& k : env.unset) vars.erase(k);
  for (const auto& kv : env.set) vars[kv.first] = kv.second;
  if (auto it = vars.find("PATH"); it != vars.end()) plan.path = it->second;
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
