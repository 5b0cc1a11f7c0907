// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "env_block.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "../process/spawn_plan.hpp"
#include "utf16.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

// A name's key: its ASCII letters in upper case (see the header).
SUPERVISOR_INLINE std::u16string env_key(std::u16string_view name) {
  std::u16string key(name);
  for (char16_t& c : key) {
    if (c >= u'a' && c <= u'z') c = static_cast<char16_t>(c - u'a' + u'A');
  }
  return key;
}

// Keys in Windows' order (uppercase, code unit by code unit): std::u16string's operator<.
using WindowsVars = std::map<std::u16string, std::u16string>;  // key -> "NAME=value"

SUPERVISOR_INLINE bool is_service_key(const std::u16string& key) {
  const std::string ascii(key.begin(), key.end());  // compared only when all of it is ASCII
  return std::all_of(key.begin(), key.end(), [](char16_t c) { return c < 0x80; }) &&
         is_service_variable(ascii);
}

// A spec string in UTF-16, or an error naming `field()`.
template <class Field>
std::u16string spec_utf16(std::string_view s, const Field& field, ErrorSink& err) {
  if (s.find('\0') != std::string_view::npos) {
    err.fail(errc::invalid_spec, [&] { return field() + " contains a NUL character"; });
    return {};
  }
  ErrorSink inner{{}, {}, err.keep_context};
  std::u16string out = utf8_to_utf16(s, err.keep_context ? field() : std::string(), inner);
  if (inner) err.fail(inner.code, [&] { return inner.context; });
  return out;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::vector<std::u16string_view> split_environment_block(const char16_t* block) {
  std::vector<std::u16string_view> out;
  for (const char16_t* p = block; p != nullptr && *p != u'\0';) {
    const std::u16string_view entry(p);
    out.push_back(entry);
    p += entry.size() + 1;
  }
  return out;
}

SUPERVISOR_INLINE WindowsEnvBlock
plan_windows_environment(const Environment& env, const std::vector<std::u16string_view>& host,
                         ErrorSink& err, const std::vector<std::string>& extra) {
  WindowsEnvBlock out;
  std::vector<std::u16string_view> drives;
  WindowsVars vars;
  if (env.inherit) {
    std::vector<std::u16string> pass;
    for (std::size_t i = 0; i < env.pass.size(); ++i) {
      pass.push_back(env_key(spec_utf16(
          env.pass[i], [&] { return fmt::format("ProcessSpec.env.pass[{}]", i); }, err)));
      if (err) return {};
    }
    for (const std::u16string_view kv : host) {
      if (kv.empty()) continue;
      if (kv.front() == u'=') {
        drives.push_back(kv);
        continue;
      }
      const auto eq = kv.find(u'=');
      if (eq == std::u16string_view::npos) continue;
      std::u16string key = env_key(kv.substr(0, eq));
      if (!env.keep_service_variables && is_service_key(key)) continue;
      if (!pass.empty() && std::find(pass.begin(), pass.end(), key) == pass.end()) continue;
      vars.insert_or_assign(std::move(key), std::u16string(kv));
    }
  }
  for (std::size_t i = 0; i < env.unset.size(); ++i) {
    const std::u16string name = spec_utf16(
        env.unset[i], [&] { return fmt::format("ProcessSpec.env.unset[{}]", i); }, err);
    if (err) return {};
    vars.erase(env_key(name));
  }
  std::map<std::u16string, const std::string*> set_names;  // key -> the spelling `set` used
  for (const auto& kv : env.set) {
    const std::string& name = kv.first;  // not a structured binding: clang 14 cannot capture one
    const std::string& value = kv.second;
    const auto field = [&] { return fmt::format("ProcessSpec.env.set[\"{}\"]", name); };
    if (name.empty() || name.find('=') != std::string::npos) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format("ProcessSpec.env.set: variable name \"{}\" is {}", name,
                           name.empty() ? "empty" : "not allowed: it contains '='");
      });
      return {};
    }
    const std::u16string wname = spec_utf16(name, field, err);
    if (err) return {};
    const std::u16string wvalue = spec_utf16(value, field, err);
    if (err) return {};
    std::u16string key = env_key(wname);
    if (const auto seen = set_names.emplace(key, &name); !seen.second) {
      err.fail(errc::invalid_spec, [&] {
        return fmt::format(
            "ProcessSpec.env.set: \"{}\" and \"{}\" are one variable on Windows, where names "
            "are compared without regard to case",
            *seen.first->second, name);
      });
      return {};
    }
    vars.insert_or_assign(std::move(key), wname + u'=' + wvalue);
  }
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const std::u16string kv = spec_utf16(
        extra[i], [&] { return fmt::format("the pool's environment entry {}", extra[i]); }, err);
    if (err) return {};
    const auto eq = kv.find(u'=');
    if (eq == std::u16string::npos || eq == 0) continue;  // as plan_environment: skipped
    vars.insert_or_assign(env_key(std::u16string_view(kv).substr(0, eq)), kv);
  }
  if (const auto it = vars.find(u"PATH"); it != vars.end()) {
    out.path = utf16_to_utf8(std::u16string_view(it->second).substr(5));
  }
  std::size_t size = 1;
  for (const auto d : drives) size += d.size() + 1;
  for (const auto& kv : vars) size += kv.second.size() + 1;
  out.block.reserve(std::max<std::size_t>(size, 2));
  for (const auto d : drives) out.block.append(d).push_back(u'\0');
  for (const auto& kv : vars) out.block.append(kv.second).push_back(u'\0');
  out.block.push_back(u'\0');
  if (out.block.size() == 1) out.block.push_back(u'\0');  // Windows wants two NULs when empty
  return out;
}

SUPERVISOR_INLINE void set_environment_entry(std::u16string& block, std::u16string_view name,
                                             std::u16string_view value) {
  const std::u16string key = env_key(name);
  std::u16string out;
  out.reserve(block.size() + name.size() + value.size() + 3);
  bool placed = false;
  const auto place = [&] {
    out.append(name).append(1, u'=').append(value).push_back(u'\0');
    placed = true;
  };
  for (const std::u16string_view kv : split_environment_block(block.data())) {
    const auto eq = kv.find(u'=', 1);  // a drive's entry (`=C:=...`) starts with its '='
    const bool hidden = kv.front() == u'=';
    const std::u16string k = env_key(kv.substr(0, eq));
    if (!placed && !hidden && k >= key) {
      place();
      if (k == key) continue;  // replaced
    }
    out.append(kv).push_back(u'\0');
  }
  if (!placed) place();
  out.push_back(u'\0');
  block = std::move(out);
}

}  // namespace supervisor::detail
