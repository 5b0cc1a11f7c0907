// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "spawn_plan.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>

namespace supervisor::detail {

SUPERVISOR_INLINE bool is_service_variable(std::string_view name) noexcept {
  // systemd's sd_notify, watchdog and socket activation (sd_listen_fds) protocols.
  return name == "NOTIFY_SOCKET" || name == "WATCHDOG_PID" || name == "WATCHDOG_USEC" ||
         name == "LISTEN_FDS" || name == "LISTEN_PID" || name == "LISTEN_FDNAMES";
}

SUPERVISOR_LOCAL_BEGIN

// `kv` ("NAME=value") names `name`; returns its value, or null. Reads no further than the name.
inline const char* value_of(const char* kv, const char* name) noexcept {
  while (*name != '\0') {
    if (*kv++ != *name++) return nullptr;
  }
  return *kv == '=' ? kv + 1 : nullptr;
}

// Whether `kv` ("NAME=value") is a service-manager variable, reading only as far as needed: a spawn
// scans the host's whole environment, and most names differ from these in their first letter.
inline bool names_service_variable(const char* kv) noexcept {
  switch (kv[0]) {
    case 'N': return value_of(kv, "NOTIFY_SOCKET") != nullptr;
    case 'W':
      return value_of(kv, "WATCHDOG_PID") != nullptr || value_of(kv, "WATCHDOG_USEC") != nullptr;
    case 'L':
      return value_of(kv, "LISTEN_FDS") != nullptr || value_of(kv, "LISTEN_PID") != nullptr ||
             value_of(kv, "LISTEN_FDNAMES") != nullptr;
    default: return false;
  }
}

// A set of first letters (of the names a spawn adds): 32 bytes to clear, one test per lookup.
class Letters {
 public:
  void add(const char* name) noexcept {
    const auto c = static_cast<unsigned char>(name[0]);
    bits_[c >> 6] |= std::uint64_t{1} << (c & 63);
  }
  [[nodiscard]] bool has(const char* name) const noexcept {
    const auto c = static_cast<unsigned char>(name[0]);
    return (bits_[c >> 6] & (std::uint64_t{1} << (c & 63))) != 0;
  }
  [[nodiscard]] bool any() const noexcept {
    return (bits_[0] | bits_[1] | bits_[2] | bits_[3]) != 0;
  }

 private:
  std::uint64_t bits_[4] = {};
};

// Whether the host's `kv` ("NAME=value") names a variable `env.set` or `extra` ("NAME=value"
// entries) adds.
inline bool names_an_addition(const char* kv, const Environment& env,
                              const std::vector<std::string>& extra) noexcept {
  for (const auto& s : env.set) {
    if (value_of(kv, s.first.c_str()) != nullptr) return true;
  }
  for (const auto& entry : extra) {
    const char* k = kv;
    for (const char c : entry) {
      if (*k++ != c) break;
      if (c == '=') return true;
    }
  }
  return false;
}

// Whether `extra` names a variable `env.set` sets too (the general path then applies both, in
// order, rather than pass both on).
inline bool extra_in_set(const Environment& env, const std::vector<std::string>& extra) {
  if (env.set.empty()) return false;
  for (const auto& entry : extra) {
    if (env.set.count(entry.substr(0, entry.find('='))) != 0) return true;
  }
  return false;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE EnvPlan plan_environment(const Environment& env, const char* const* host,
                                           std::string_view default_path, const EnvVars& identity,
                                           std::vector<std::string> extra) {
  EnvPlan plan;
  if (env.inherit && env.pass.empty() && env.unset.empty() && identity.empty() &&
      !extra_in_set(env, extra)) {
    // The host's environment as it is, with what `set` and `extra` add after it (a pool adds a
    // worker's identity to every spawn), unless the host holds a service-manager variable (rare:
    // a host started by systemd with Type=notify or a watchdog) or a variable they replace:
    // those take the general path. This scan runs on every spawn: it looks at first letters,
    // and measures no string it need not.
    Letters added;  // the first letters of the names added
    for (const auto& kv : env.set) added.add(kv.first.c_str());
    for (const auto& kv : extra) added.add(kv.c_str());
    const char* path = nullptr;
    bool as_is = true;
    for (const char* const* e = host; e && *e && as_is; ++e) {
      const char* kv = *e;
      if (added.any() && added.has(kv) && names_an_addition(kv, env, extra)) {
        as_is = false;
      } else if (kv[0] == 'P' && path == nullptr) {
        path = value_of(kv, "PATH");
      } else if (names_service_variable(kv)) {
        as_is = false;
      }
    }
    if (as_is) {
      plan.host_as_is = true;
      if (env.set.empty()) {
        plan.vars = std::move(extra);  // the common case of a pool: not even a copy
      } else {
        plan.vars.reserve(env.set.size() + extra.size());
        for (const auto& kv : env.set) {
          std::string& v = plan.vars.emplace_back();
          v.reserve(kv.first.size() + 1 + kv.second.size());
          v.append(kv.first).append(1, '=').append(kv.second);
        }
        std::move(extra.begin(), extra.end(), std::back_inserter(plan.vars));
      }
      const char* own_path = nullptr;
      bool watchdog_usec = false;
      bool watchdog_pid = false;
      if (added.has("P") || added.has("W")) {
        for (const auto& v : plan.vars) {  // the host has no service-manager variable here
          if (own_path == nullptr) own_path = value_of(v.c_str(), "PATH");
          watchdog_usec = watchdog_usec || value_of(v.c_str(), "WATCHDOG_USEC") != nullptr;
          watchdog_pid = watchdog_pid || value_of(v.c_str(), "WATCHDOG_PID") != nullptr;
        }
      }
      plan.path = own_path != nullptr ? std::string(own_path)
                  : path != nullptr   ? std::string(path)
                                      : std::string(default_path);
      plan.watchdog_pid = watchdog_usec && !watchdog_pid;
      return plan;
    }
  }
  plan.path = std::string(default_path);
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
  for (const auto& kv : extra) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
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
