// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Sets variables in the test process's own environment for one scope, and puts back what was
// there (value or absence) when the scope ends: a test that plays the host's service manager
// leaves the next test the environment it found.

#include <stdlib.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace supervisor::testing {

class EnvGuard {
 public:
  EnvGuard() = default;
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

  void set(const std::string& name, const std::string& value) {
    const char* old = ::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::setenv(name.c_str(), value.c_str(), 1);
  }

  void unset(const std::string& name) {
    const char* old = ::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    ::unsetenv(name.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// The test process plays a host that systemd started as a notify service with a watchdog and two
// activated sockets: the variables such a host holds, none of them meant for its workers.
inline void set_host_service_variables(EnvGuard& host) {
  host.set("NOTIFY_SOCKET", "/run/systemd/notify");
  host.set("WATCHDOG_PID", "1");
  host.set("WATCHDOG_USEC", "30000000");
  host.set("LISTEN_FDS", "2");
  host.set("LISTEN_PID", "1");
  host.set("LISTEN_FDNAMES", "a:b");
}

}  // namespace supervisor::testing
