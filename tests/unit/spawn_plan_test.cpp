// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The OS-neutral part of preparing a spawn: the child's environment, and the PATH search of a
// bare program name. No process, no file.
#include <supervisor/process_spec.hpp>

#include <string>
#include <system_error>
#include <vector>

#include "catch_compat.hpp"
#include "process/spawn_plan.hpp"

namespace sv = supervisor;
namespace d = supervisor::detail;

namespace {

const char* const k_host[] = {
    "HOME=/root", "PATH=/opt/bin:/usr/bin", "LANG=C", "=bad", "NOEQUALS", "EMPTY=", nullptr};

}  // namespace

TEST_CASE("an environment inherited as it is stays the host's own, uncopied", "[unit][spawn]") {
  const sv::Environment env;  // inherit, nothing set or unset
  const d::EnvPlan plan = d::plan_environment(env, k_host, "/default");
  CHECK(plan.host_as_is);
  CHECK(plan.vars.empty());
  CHECK(plan.path == "/opt/bin:/usr/bin");
  const char* const no_path[] = {"HOME=/", nullptr};
  CHECK(d::plan_environment(env, no_path, "/default").path == "/default");
  CHECK(d::plan_environment(env, nullptr, "/default").path == "/default");
}

TEST_CASE("inherit, then unset, then set: sorted NAME=value strings", "[unit][spawn]") {
  sv::Environment env;
  env.unset = {"HOME", "LANG", "ABSENT"};
  env.set = {{"LANG", "fr_FR"}, {"MODE", "batch"}, {"EMPTY", "x"}};
  const d::EnvPlan plan = d::plan_environment(env, k_host, "/default");
  CHECK_FALSE(plan.host_as_is);
  // Malformed host entries ("=bad", "NOEQUALS") are dropped; a set wins over an unset.
  CHECK(plan.vars ==
        std::vector<std::string>{"EMPTY=x", "LANG=fr_FR", "MODE=batch", "PATH=/opt/bin:/usr/bin"});
  CHECK(plan.path == "/opt/bin:/usr/bin");
}

TEST_CASE("an explicit environment holds only what is set, and its own PATH", "[unit][spawn]") {
  sv::Environment env;
  env.inherit = false;
  env.set = {{"PATH", "/only"}, {"A", "1"}};
  const d::EnvPlan plan = d::plan_environment(env, k_host, "/default");
  CHECK(plan.vars == std::vector<std::string>{"A=1", "PATH=/only"});
  CHECK(plan.path == "/only");
  env.set.erase("PATH");
  CHECK(d::plan_environment(env, k_host, "/default").path == "/default");
}

TEST_CASE("PATH search tries each entry in order, an empty one as the current directory",
          "[unit][spawn]") {
  std::vector<std::string> tried;
  const auto none = [&](const std::string& c) {
    tried.push_back(c);
    return std::make_error_code(std::errc::no_such_file_or_directory);
  };
  const d::PathSearch r = d::search_path("tool", "/a::/b/", none);
  CHECK(tried == std::vector<std::string>{"/a/tool", "./tool", "/b//tool"});
  CHECK(r.program.empty());
  CHECK(r.error == std::errc::no_such_file_or_directory);

  tried.clear();
  (void)d::search_path("tool", "", none);  // an empty PATH is one empty entry
  CHECK(tried == std::vector<std::string>{"./tool"});
}

TEST_CASE("PATH search takes the first candidate the check accepts", "[unit][spawn]") {
  const auto only_b = [](const std::string& c) {
    return c == "/b/tool" ? std::error_code()
                          : std::make_error_code(std::errc::no_such_file_or_directory);
  };
  const d::PathSearch r = d::search_path("tool", "/a:/b:/c", only_b);
  CHECK(r.program == "/b/tool");
  CHECK(!r.error);
}

TEST_CASE("a failed PATH search reports the first error that was not 'not found'",
          "[unit][spawn]") {
  const auto answers = [](const std::string& c) {
    if (c == "/a/tool") return std::make_error_code(std::errc::not_a_directory);
    if (c == "/b/tool") return std::make_error_code(std::errc::permission_denied);
    if (c == "/c/tool") return std::make_error_code(std::errc::is_a_directory);
    return std::make_error_code(std::errc::no_such_file_or_directory);
  };
  const d::PathSearch r = d::search_path("tool", "/a:/b:/c:/d", answers);
  CHECK(r.program.empty());
  CHECK(r.error == std::errc::permission_denied);
}
