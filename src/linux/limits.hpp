// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Resource limits on Linux (private): which kernel mechanism enforces each limit of
// `ResourceLimits` (cgroup v2 controller, cgroup v1 hierarchy, rlimit), and the per-worker groups
// that carry them.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <supervisor/limits.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/process_info.hpp>
#include <supervisor/process_spec.hpp>

#include "../posix/spawn_prepare.hpp"
#include "../process/backend.hpp"
#include "cgroup_v1.hpp"
#include "cgroup_v2.hpp"

namespace supervisor::detail {

// What one loop can use, found once when it starts. Thread-safe.
class LimitSupport {
 public:
  // `v2_base`: the loop's cgroup v2 base ("" when cgroups are not used: `v2_why_not` says why);
  // `v2_parent`: the host's own v2 group, whose cgroup.subtree_control decides what the base gets.
  void detect(const LinuxLoopOptions& options, const std::string& v2_base,
              const std::string& v2_parent, const std::string& v2_why_not);
  // At shutdown, once every worker is gone: removes this loop's v1 bases.
  void remove_v1_bases();

  [[nodiscard]] bool has_v2(std::string_view controller) const;
  [[nodiscard]] bool has_v1(std::string_view controller) const;
  // The loop's own group in the v1 hierarchy of `controller`, made on first use.
  std::string v1_base(const std::string& controller, ErrorSink& err);
  // Why `controller` cannot carry a limit here, and how to make it possible.
  [[nodiscard]] std::string why_not(std::string_view controller) const;
  // "cpu memory pids" (v2 controllers worker groups get) and "memory pids cpu" (usable v1
  // hierarchies), for LoopInfo.
  [[nodiscard]] std::string v2_summary() const;
  // "+cpu +memory": what a group between the base and the trees' groups hands down.
  [[nodiscard]] std::string v2_enable_text() const;
  [[nodiscard]] std::string v1_summary() const;
  // The host's own groups in the usable v1 hierarchies (where dead hosts' bases are swept).
  [[nodiscard]] std::vector<std::string> v1_self_dirs() const;

 private:
  struct V1 {
    std::optional<CgroupV1Hierarchy> hierarchy;
    std::string why_not;
    std::string base;  // (mu_) made on first use
  };
  std::vector<std::string> v2_;  // controllers enabled in the base's cgroup.subtree_control
  std::string v2_base_;
  std::string v2_parent_;
  std::string v2_why_not_;
  std::map<std::string, V1, std::less<>> v1_;
  bool v1_disabled_ = false;
  mutable std::mutex mu_;
};

// LinuxLoopOptions::host_leaf: when `self_dir` (the host's cgroup v2 group) does not yet enable
// memory/pids/cpu for its children but offers them, moves this process into `self_dir/leaf` and
// enables them. Returns the leaf's path when the host was moved; `note` says what happened.
std::string delegate_from_leaf(const std::string& self_dir, const std::string& leaf,
                               std::string& note);

// The limits of one worker incarnation: how each is enforced, and its v1 groups.
struct TreeLimits {
  std::vector<LimitStatus> statuses;
  std::vector<CgroupV1Group> v1;

  [[nodiscard]] const CgroupV1Group* group(std::string_view controller) const;
  // Removes the v1 groups; false while one still has a process.
  bool release();
};

// v1 group directories by controller, e.g. {"memory", "/sys/fs/cgroup/memory/.../g1"}.
using V1Dirs = std::vector<std::pair<std::string, std::string>>;

// On the spawning thread, before the spawn: decides how each limit of `spec.resources` is
// enforced, creates this incarnation's v1 groups (named `name`, inside `parent_v1`'s group of
// their controller when it has one, plus one in each group of `parent_v1` even without a limit)
// with their limits, writes the v2 controller files of `v2` (the incarnation's group, or null),
// adds rlimits to `p`, and the v1 groups' cgroup.procs to `p.join_fds`. In `required` mode a
// limit no mechanism can enforce fails with errc::controller_unavailable; so does a write the
// kernel refuses, in either mode.
void apply_limits(LimitSupport& support, const ProcessSpec& spec, CgroupV2Group* v2,
                  const std::string& name, const V1Dirs& parent_v1, PreparedSpawn& p,
                  TreeLimits& out, ErrorSink& err);

// On a running tree (main process `pid`), from the loop thread: sets `next` where the kernel
// allows it now (the incarnation's v2 group, its existing v1 groups, prlimit on the main
// process), lifts the limits `previous` set and `next` does not, and refills `limits.statuses`
// (a limit that must wait for the next start says so). Required mode fails like a start.
void change_limits(LimitSupport& support, const ProcessSpec& spec, const ResourceLimits& previous,
                   const ResourceLimits& next, CgroupV2Group* v2, pid_t pid, TreeLimits& limits,
                   ErrorSink& err);

// Counters of a tree's limits, from whichever groups carry them.
struct LimitCounters {
  std::optional<std::uint64_t> oom_kills;      // processes the OOM killer killed in the tree
  std::optional<std::uint64_t> fork_refusals;  // forks refused at max_processes
  std::optional<std::uint64_t> throttled_periods;
  std::optional<double> throttled_seconds;
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint64_t> pids;
  std::optional<std::uint64_t> memory_high_events;  // times throttled at memory_high (v2 only)
};
// `v2`: the incarnation's v2 group counters, already read (null without a group).
LimitCounters read_limit_counters(const TreeLimits& limits, const CgroupStats* v2);

// One ResourceGroup's OS half: a v2 group below the loop's base (when cgroups are used) in which
// the trees' own groups are made, and v1 groups for the limits v2 cannot carry. Thread-safe.
class LinuxGroup final : public GroupOs {
 public:
  explicit LinuxGroup(LimitSupport& s) : support(s) {}
  ~LinuxGroup() override;
  LinuxGroup(const LinuxGroup&) = delete;
  LinuxGroup& operator=(const LinuxGroup&) = delete;

  // GroupOs
  [[nodiscard]] ResourceLimits resources() const override;
  [[nodiscard]] std::vector<LimitStatus> limits() const override;
  [[nodiscard]] std::string cgroup() const override { return v2_dir(); }
  [[nodiscard]] GroupSample sample() override;
  void set(const ResourceLimits& next, ErrorSink& err) override { apply(next, false, err); }

  // Applies `next` (`creating`: the first time; else unset limits are lifted). On error the
  // previous limits stay recorded.
  void apply(const ResourceLimits& next, bool creating, ErrorSink& err);
  [[nodiscard]] V1Dirs v1_dirs() const;
  [[nodiscard]] std::string v2_dir() const { return v2 ? v2->path() : std::string(); }

  LimitSupport& support;               // the loop's (kept alive by `core`)
  std::shared_ptr<LinuxGroup> parent;  // the group this one is inside, if any (kept alive)
  std::string name;
  std::optional<CgroupV2Group> v2;  // fixed once made
  mutable std::mutex mu;
  TreeLimits tree_limits;  // (mu)
  ResourceLimits current;  // (mu)
};

// Makes a group named `name` with the limits `r`: inside `parent` when not null, else below
// `v2_base` ("" without cgroup v2) and the loop's v1 bases.
std::shared_ptr<LinuxGroup> make_group(LimitSupport& support, const std::string& v2_base,
                                       const std::string& name, const ResourceLimits& r,
                                       std::shared_ptr<LinuxGroup> parent, ErrorSink& err);

}  // namespace supervisor::detail
