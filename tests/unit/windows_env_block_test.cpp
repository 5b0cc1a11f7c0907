// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The Windows environment block (src/windows/env_block.hpp): the POSIX rules with Windows'
// case-insensitive names, sorting and hidden drive entries. Pure, on every platform.
#include <supervisor/process_spec.hpp>

#include <string>
#include <vector>

#include "catch_compat.hpp"
#include "windows/env_block.hpp"
#include "windows/utf16.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;

namespace {

// A host block as GetEnvironmentStringsW gives it: a drive's current directory first, then the
// variables in the host's own (unsorted) spelling and order.
constexpr char16_t k_host_raw[] =
    u"=C:=C:\\work\0=D:=D:\\\0Path=C:\\Windows;C:\\bin\0"
    u"zeta=1\0alpha=2\0NOTIFY_SOCKET=/run/n\0";  // + its own NUL
const std::u16string k_host_block(k_host_raw, sizeof k_host_raw / sizeof k_host_raw[0]);

std::vector<std::u16string_view> host() { return d::split_environment_block(k_host_block.data()); }

// The block's entries as UTF-8 strings, checking its shape (each entry NUL-ended, one more NUL).
std::vector<std::string> entries(const std::u16string& block) {
  REQUIRE(block.size() >= 2);
  CHECK(block[block.size() - 1] == u'\0');
  CHECK(block[block.size() - 2] == u'\0');
  std::vector<std::string> out;
  for (const auto e : d::split_environment_block(block.data())) out.push_back(d::utf16_to_utf8(e));
  return out;
}

d::WindowsEnvBlock plan(const sv::Environment& env, const std::vector<std::string>& extra = {}) {
  d::ErrorSink err;
  d::WindowsEnvBlock b = d::plan_windows_environment(env, host(), err, extra);
  REQUIRE_FALSE(err);
  return b;
}

d::ErrorSink plan_error(const sv::Environment& env) {
  d::ErrorSink err;
  (void)d::plan_windows_environment(env, host(), err);
  return err;
}

}  // namespace

TEST_CASE("Windows environment: the host's block splits into its entries", "[unit][windows]") {
  REQUIRE(k_host_block.size() == 80);
  CHECK(host().size() == 6);
  CHECK(d::split_environment_block(nullptr).empty());
  CHECK(d::split_environment_block(u"\0").empty());
}

TEST_CASE("Windows environment: drive entries first, then sorted without regard to case",
          "[unit][windows]") {
  const d::WindowsEnvBlock b = plan({});
  CHECK(entries(b.block) == std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "alpha=2",
                                                     "Path=C:\\Windows;C:\\bin", "zeta=1"});
  CHECK(b.path == "C:\\Windows;C:\\bin");
  // Uppercase order: "a" < "B" < "_x" (a case-sensitive sort would put B and _ before a).
  sv::Environment env;
  env.inherit = false;
  env.set = {{"_x", "3"}, {"B", "1"}, {"a", "2"}};
  CHECK(entries(plan(env).block) == std::vector<std::string>{"a=2", "B=1", "_x=3"});
}

TEST_CASE("Windows environment: a set of PATH replaces the host's Path", "[unit][windows]") {
  sv::Environment env;
  env.set = {{"PATH", "D:\\bin"}};
  const d::WindowsEnvBlock b = plan(env);
  CHECK(entries(b.block) ==
        std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "alpha=2", "PATH=D:\\bin", "zeta=1"});
  CHECK(b.path == "D:\\bin");
  // The pool's own entries replace it the same way.
  CHECK(entries(plan({}, {"path=E:\\x", "ZETA=9"}).block) ==
        std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "alpha=2", "path=E:\\x", "ZETA=9"});
}

TEST_CASE("Windows environment: unset and pass match without regard to case", "[unit][windows]") {
  sv::Environment env;
  env.unset = {"PATH", "Alpha"};
  CHECK(entries(plan(env).block) == std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "zeta=1"});
  CHECK(plan(env).path.empty());
  // Allow-list mode keeps the drives' directories: they are no variables.
  sv::Environment pass;
  pass.pass = {"path", "ABSENT"};
  CHECK(entries(plan(pass).block) ==
        std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "Path=C:\\Windows;C:\\bin"});
}

TEST_CASE("Windows environment: service-manager variables stay with the host unless kept",
          "[unit][windows]") {
  sv::Environment env;
  env.unset = {"Path", "alpha", "zeta"};
  CHECK(entries(plan(env).block) == std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\"});
  env.keep_service_variables = true;
  CHECK(entries(plan(env).block) ==
        std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "NOTIFY_SOCKET=/run/n"});
}

TEST_CASE("Windows environment: nothing inherited, nothing set, is two NULs", "[unit][windows]") {
  sv::Environment env;
  env.inherit = false;
  CHECK(plan(env).block == std::u16string(2, u'\0'));
  env.set = {{"A", ""}};
  CHECK(plan(env).block == std::u16string(u"A=\0\0", 4));
}

TEST_CASE("Windows environment: typed errors name ProcessSpec.env", "[unit][windows]") {
  sv::Environment env;
  env.set = {{"Path", "a"}, {"PATH", "b"}};
  d::ErrorSink err = plan_error(env);
  CHECK(err.code == sv::errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.env.set") != std::string::npos);
  CHECK(err.context.find("\"PATH\" and \"Path\"") != std::string::npos);

  env.set = {{"A=B", "x"}};
  err = plan_error(env);
  CHECK(err.code == sv::errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.env.set") != std::string::npos);
  CHECK(err.context.find("A=B") != std::string::npos);

  env.set = {{"=C:", "C:\\"}};  // a drive entry is the OS's, never the spec's
  CHECK(plan_error(env).code == sv::errc::invalid_spec);

  env.set = {{"", "x"}};
  CHECK(plan_error(env).code == sv::errc::invalid_spec);

  env.set = {{"V", std::string("a\0b", 3)}};
  err = plan_error(env);
  CHECK(err.code == sv::errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.env.set[\"V\"]") != std::string::npos);

  env.set = {{"V", "\xC3"}};
  err = plan_error(env);
  CHECK(err.code == sv::errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.env.set[\"V\"]: invalid UTF-8") != std::string::npos);

  env.set.clear();
  env.unset = {"ok", "\xFF"};
  err = plan_error(env);
  CHECK(err.code == sv::errc::invalid_spec);
  CHECK(err.context.find("ProcessSpec.env.unset[1]") != std::string::npos);
}

TEST_CASE("Windows environment: the host's UTF-16 passes on unchanged", "[unit][windows]") {
  // A lone surrogate in a host's value (Windows allows it) is not replaced on the way through.
  const std::u16string block{u'X', u'=', 0xD800, u'\0', u'\0'};
  d::ErrorSink err;
  const auto b = d::plan_windows_environment({}, d::split_environment_block(block.data()), err);
  REQUIRE_FALSE(err);
  CHECK(b.block == block);
}

TEST_CASE("Windows environment: an entry the spawn announces goes where its name sorts",
          "[unit][windows]") {
  std::u16string block = plan({}).block;
  d::set_environment_entry(block, u"SUPERVISOR_CHANNEL_HANDLE", u"124");
  CHECK(entries(block) == std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "alpha=2",
                                                   "Path=C:\\Windows;C:\\bin",
                                                   "SUPERVISOR_CHANNEL_HANDLE=124", "zeta=1"});
  // A variable of that name, in any spelling, is replaced; first and last places work too.
  d::set_environment_entry(block, u"supervisor_channel_handle", u"8");
  d::set_environment_entry(block, u"ALPHA", u"1");
  d::set_environment_entry(block, u"~last", u"z");
  CHECK(entries(block) ==
        std::vector<std::string>{"=C:=C:\\work", "=D:=D:\\", "ALPHA=1", "Path=C:\\Windows;C:\\bin",
                                 "supervisor_channel_handle=8", "zeta=1", "~last=z"});
  // Into an empty block, or none at all.
  std::u16string empty(2, u'\0');
  d::set_environment_entry(empty, u"A", u"b");
  CHECK(empty == std::u16string(u"A=b\0\0", 5));
  std::u16string none;
  d::set_environment_entry(none, u"A", u"b");
  CHECK(none == std::u16string(u"A=b\0\0", 5));
}
