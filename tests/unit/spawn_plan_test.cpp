// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The OS-neutral part of preparing a spawn: the child's environment, and the PATH search of a
// bare program name. No process, no file.
#include <supervisor/process_spec.hpp>

#include <algorithm>
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

TEST_CASE("the channel's variable is added last, and never inherited from the host",
          "[unit][spawn]") {
  const std::vector<std::string> own = {"SUPERVISOR_CHANNEL_FD=3"};
  // The host's environment as it is: only the channel's variable is added to it.
  const d::EnvPlan as_is = d::plan_environment(sv::Environment{}, k_host, "/default", {}, own);
  CHECK(as_is.host_as_is);
  CHECK(as_is.vars == own);
  CHECK(as_is.path == "/opt/bin:/usr/bin");
  // A host that is itself a worker: its own value is not inherited (no duplicate), and the
  // spec's `set` cannot override the child's.
  const char* const worker_host[] = {"SUPERVISOR_CHANNEL_FD=9", "PATH=/bin", "A=1", nullptr};
  const d::EnvPlan nested = d::plan_environment(sv::Environment{}, worker_host, "/d", {}, own);
  CHECK_FALSE(nested.host_as_is);
  CHECK(nested.vars == std::vector<std::string>{"A=1", "PATH=/bin", "SUPERVISOR_CHANNEL_FD=3"});
  sv::Environment set;
  set.set = {{"SUPERVISOR_CHANNEL_FD", "7"}};
  CHECK(d::plan_environment(set, k_host, "/d", {}, own).vars.back() == "SUPERVISOR_CHANNEL_FD=3");
  sv::Environment explicit_env;
  explicit_env.inherit = false;
  CHECK(d::plan_environment(explicit_env, k_host, "/d", {}, own).vars == own);
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

namespace {

const char* const k_service_host[] = {"PATH=/usr/bin",
                                      "NOTIFY_SOCKET=/run/systemd/notify",
                                      "WATCHDOG_PID=1",
                                      "WATCHDOG_USEC=30000000",
                                      "LISTEN_FDS=2",
                                      "LISTEN_PID=1",
                                      "LISTEN_FDNAMES=a:b",
                                      "LANG=C",
                                      nullptr};

}  // namespace

TEST_CASE("the host's service-manager variables are not inherited unless kept",
          "[unit][spawn][env]") {
  sv::Environment env;
  const d::EnvPlan plan = d::plan_environment(env, k_service_host, "/default");
  CHECK_FALSE(plan.host_as_is);  // the fast path would pass them on
  CHECK(plan.vars == std::vector<std::string>{"LANG=C", "PATH=/usr/bin"});
  CHECK_FALSE(plan.watchdog_pid);

  env.keep_service_variables = true;
  const d::EnvPlan kept = d::plan_environment(env, k_service_host, "/default");
  CHECK(kept.vars.size() == 8);
  CHECK_FALSE(kept.watchdog_pid);  // the host's WATCHDOG_PID came with its WATCHDOG_USEC

  for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC", "LISTEN_FDS",
                           "LISTEN_PID", "LISTEN_FDNAMES"}) {
    CHECK(d::is_service_variable(name));
  }
  CHECK_FALSE(d::is_service_variable("NOTIFY"));
  CHECK_FALSE(d::is_service_variable("LISTEN_FDS_X"));
}

TEST_CASE("the as-is scan matches whole names only, and the first PATH as getenv would",
          "[unit][spawn][env]") {
  const sv::Environment env;
  // Names that share a prefix with PATH or a service variable, or hold one without '=': none of
  // them is PATH or a service variable, so the host's environment passes as it is.
  const char* const near[] = {"PATHS=/no",       "PAT=/no",     "NOTIFY_SOCKETS=x", "NOTIFY_SOCKET",
                              "WATCHDOG_PIDX=1", "LISTEN_FD=3", "LISTEN_FDNAME=a",  "PATH=/first",
                              "PATH=/second",    nullptr};
  const d::EnvPlan plan = d::plan_environment(env, near, "/default");
  CHECK(plan.host_as_is);
  CHECK(plan.path == "/first");
  for (const char* service : {"NOTIFY_SOCKET=@x", "WATCHDOG_PID=1", "WATCHDOG_USEC=1",
                              "LISTEN_FDS=1", "LISTEN_PID=1", "LISTEN_FDNAMES=a"}) {
    const char* const one[] = {"PATH=/p", service, nullptr};
    const d::EnvPlan filtered = d::plan_environment(env, one, "/default");
    CHECK_FALSE(filtered.host_as_is);
    CHECK(filtered.vars == std::vector<std::string>{"PATH=/p"});
  }
}

TEST_CASE("a WATCHDOG_USEC without WATCHDOG_PID asks the backend for the child's own pid",
          "[unit][spawn][env]") {
  sv::Environment env;
  env.set["NOTIFY_SOCKET"] = "@own";
  env.set["WATCHDOG_USEC"] = "1000000";
  const d::EnvPlan plan = d::plan_environment(env, k_service_host, "/default");
  CHECK(plan.watchdog_pid);
  CHECK(plan.vars == std::vector<std::string>{"LANG=C", "NOTIFY_SOCKET=@own", "PATH=/usr/bin",
                                              "WATCHDOG_USEC=1000000"});
  env.set["WATCHDOG_PID"] = "42";  // the user's own choice stands
  CHECK_FALSE(d::plan_environment(env, k_service_host, "/default").watchdog_pid);
}

TEST_CASE("allow-list mode inherits only the listed variables of the host", "[unit][spawn][env]") {
  sv::Environment env;
  env.pass = {"LANG", "ABSENT", "WATCHDOG_PID"};
  env.set = {{"MODE", "x"}};
  const d::EnvPlan plan = d::plan_environment(env, k_service_host, "/default");
  // A service-manager variable stays out even when listed; an absent one is simply absent.
  CHECK(plan.vars == std::vector<std::string>{"LANG=C", "MODE=x"});
  CHECK(plan.path == "/default");  // the host's PATH was not passed
  env.set.clear();
  CHECK_FALSE(d::plan_environment(env, k_host, "/default").host_as_is);
  CHECK(d::plan_environment(env, k_host, "/default").vars == std::vector<std::string>{"LANG=C"});
}

TEST_CASE("the identity's variables come after inherit and before unset and set",
          "[unit][spawn][env]") {
  const d::EnvVars identity{
      {"HOME", "/home/w"}, {"LOGNAME", "w"}, {"USER", "w"}, {"SHELL", "/bin/sh"}};
  sv::Environment env;
  env.unset = {"SHELL"};
  env.set = {{"USER", "override"}};
  const d::EnvPlan plan = d::plan_environment(env, k_host, "/default", identity);
  CHECK(plan.vars == std::vector<std::string>{"EMPTY=", "HOME=/home/w", "LANG=C", "LOGNAME=w",
                                              "PATH=/opt/bin:/usr/bin", "USER=override"});
  sv::Environment bare;
  const d::EnvPlan replaced = d::plan_environment(bare, k_host, "/default", identity);
  CHECK_FALSE(replaced.host_as_is);
  CHECK(std::find(replaced.vars.begin(), replaced.vars.end(), "HOME=/home/w") !=
        replaced.vars.end());
}

TEST_CASE("env.pass is validated: names, and only with inherit", "[unit][spawn][env]") {
  sv::ProcessSpec spec;
  spec.argv = {"/bin/true"};
  spec.env.pass = {"GOOD", "BAD=NAME"};
  CHECK(sv::validation_error(spec).find("ProcessSpec.env.pass: \"BAD=NAME\"") != std::string::npos);
  spec.env.pass = {"GOOD"};
  CHECK(sv::validation_error(spec).empty());
  spec.env.inherit = false;
  CHECK(sv::validation_error(spec).find("ProcessSpec.env.pass: \"GOOD\"") != std::string::npos);
}

TEST_CASE("what set and extra add to an inherited environment follows the host's, uncopied",
          "[unit][spawn][env]") {
  sv::Environment env;
  env.set = {{"MODE", "batch"}};
  const std::vector<std::string> extra{"SUPERVISOR_WORKER_INDEX=2",
                                       "SUPERVISOR_WORKER_INCARNATION=5"};
  const d::EnvPlan plan = d::plan_environment(env, k_host, "/default", {}, extra);
  CHECK(plan.host_as_is);
  CHECK(plan.vars == std::vector<std::string>{"MODE=batch", "SUPERVISOR_WORKER_INDEX=2",
                                              "SUPERVISOR_WORKER_INCARNATION=5"});
  CHECK(plan.path == "/opt/bin:/usr/bin");
  CHECK_FALSE(plan.watchdog_pid);
  // Their own PATH wins, and a WATCHDOG_USEC asks for the child's pid, as on the general path.
  env.set = {{"PATH", "/mine"}, {"WATCHDOG_USEC", "1000"}};
  const char* const no_path[] = {"HOME=/", nullptr};
  const d::EnvPlan own = d::plan_environment(env, no_path, "/default", {}, extra);
  CHECK(own.host_as_is);
  CHECK(own.path == "/mine");
  CHECK(own.watchdog_pid);
}

TEST_CASE("a host variable that set or extra replaces takes the general path, extra last",
          "[unit][spawn][env]") {
  const char* const nested[] = {"PATH=/usr/bin", "SUPERVISOR_WORKER_INDEX=9", "LANG=C", nullptr};
  const sv::Environment env;
  const d::EnvPlan plan =
      d::plan_environment(env, nested, "/default", {}, {"SUPERVISOR_WORKER_INDEX=1"});
  CHECK_FALSE(plan.host_as_is);  // passing both on would leave the child two values
  CHECK(plan.vars ==
        std::vector<std::string>{"LANG=C", "PATH=/usr/bin", "SUPERVISOR_WORKER_INDEX=1"});
  // A name that only starts like an added one is no clash.
  const char* const near[] = {"SUPERVISOR_WORKER_INDEXES=x", "SUPERVISOR_WORKER=y", nullptr};
  CHECK(d::plan_environment(env, near, "/default", {}, {"SUPERVISOR_WORKER_INDEX=1"}).host_as_is);
  // set and extra naming one variable: extra wins.
  sv::Environment both;
  both.set = {{"SUPERVISOR_WORKER_INDEX", "7"}};
  const d::EnvPlan wins =
      d::plan_environment(both, k_host, "/default", {}, {"SUPERVISOR_WORKER_INDEX=1"});
  CHECK_FALSE(wins.host_as_is);
  CHECK(std::count(wins.vars.begin(), wins.vars.end(), "SUPERVISOR_WORKER_INDEX=1") == 1);
  CHECK(std::count(wins.vars.begin(), wins.vars.end(), "SUPERVISOR_WORKER_INDEX=7") == 0);
  // An explicit environment gets them too.
  sv::Environment bare;
  bare.inherit = false;
  CHECK(d::plan_environment(bare, k_host, "/default", {}, {"A=1"}).vars ==
        std::vector<std::string>{"A=1"});
}
