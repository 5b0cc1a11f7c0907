// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A host program for the host-death test: it supervises tagged workers that have descendants,
// says "ready", and waits to be SIGKILLed. Nothing of what it started may survive it.
//   host CHILD TAG cgroup|group|process-group|identity
// (group: the workers in a ResourceGroup; identity: process-group containment, the workers run
// as user nobody, which needs root)
#include <supervisor/process.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "leak_audit.hpp"

int main(int argc, char** argv) {
  namespace sv = supervisor;
  using namespace std::chrono_literals;
  if (argc != 4) {
    std::fprintf(stderr, "usage: host CHILD TAG cgroup|group|process-group|identity\n");
    return 64;
  }
  const std::string child = argv[1];
  const std::string tag = argv[2];
  const std::string mode = argv[3];
  const bool in_group = mode == "group";
  const bool cgroup = mode == "cgroup" || in_group;
  const bool identity = mode == "identity";
  sv::LoopOptions lo;
  lo.on_linux.disable_cgroups = !cgroup;
  sv::Loop loop(lo);
  if (cgroup && !loop.info().cgroup_usable) {
    std::printf("no-cgroup %s\n", loop.info().cgroup_why_not.c_str());
    return 3;
  }
  sv::ProcessOptions options;
  if (in_group) {
    // A group with limits where this host can have them: nested v2 groups, and v1 groups.
    sv::ResourceLimits shared;
    shared.memory_max = std::uint64_t{1} << 30;
    shared.max_processes = 1000;
    // Nested: the workers' groups sit two levels below the loop's base.
    options.group = sv::ResourceGroup::create(loop, shared).create_child(sv::ResourceLimits{});
  }
  std::vector<sv::Process> workers;
  std::vector<std::vector<std::string>> modes{{"fork-grandchild", "forever"}};
  // Without a cgroup a setsid escape is beyond a process-group kill: only cgroups contain it.
  if (cgroup) modes.push_back({"setsid-escape", "forever"});
  std::size_t expected = 0;
  for (const auto& m : modes) {
    sv::ProcessSpec spec;
    spec.argv = {child, "--tag", tag};
    spec.argv.insert(spec.argv.end(), m.begin(), m.end());
    if (identity) spec.identity.user = "nobody";
    workers.push_back(sv::Process::start(loop, spec, options));
    expected += 2;
  }
  if (!supervisor::testing::wait_until(
          [&] { return supervisor::testing::processes_with_tag(tag).size() >= expected; },
          5000ms)) {
    std::printf("workers did not start\n");
    return 4;
  }
  // SV_TEST_HOST_FORK=<file>: a child forked without exec holds copies of everything the host
  // has (the sentinel's pipe among them) and writes its PID to the file; it stays, paused.
  if (const char* fork_file = std::getenv("SV_TEST_HOST_FORK")) {
    const pid_t forked = ::fork();
    if (forked < 0) return 5;
    if (forked == 0) {
      if (FILE* f = std::fopen(fork_file, "w")) {
        std::fprintf(f, "%d\n", ::getpid());
        std::fclose(f);
      }
      for (;;) ::pause();
    }
    const auto written = [fork_file] {
      FILE* f = std::fopen(fork_file, "r");
      int pid = 0;
      const bool ok = f != nullptr && std::fscanf(f, "%d", &pid) == 1 && pid > 0;
      if (f != nullptr) std::fclose(f);
      return ok;
    };
    if (!supervisor::testing::wait_until(written, 5000ms)) return 6;
  }
  std::printf("ready %zu %s\n", expected, loop.info().cgroup_base.c_str());
  std::fflush(stdout);
  for (;;) ::pause();
}
