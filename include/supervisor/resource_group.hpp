// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 13  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `ResourceGroup`: shared limits for several process trees, like a systemd slice.

#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <supervisor/export.hpp>
#include <supervisor/limits.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/process_info.hpp>

namespace supervisor {

namespace detail {
class GroupOs;
struct GroupAccess;
}  // namespace detail

/// Shared limits for several process trees, like a systemd slice: the pool-wide tier of
/// `ResourceLimits` (`PoolOptions::group_resources` makes one per pool). Each process started with
/// `ProcessOptions::group` still gets its own fresh group, created inside this one, so its own
/// limits and counters stay its own while the kernel holds the sum of all of them to the group's
/// limits. Tree-wide limits only (`max_open_files` and `cpu_time` are per process: rejected).
/// Enforced like a spec's resources: a cgroup v2 group below the loop's base when the loop can
/// delegate the controller, else a group in the cgroup v1 hierarchy; `required` mode fails
/// `create` with `errc::controller_unavailable` when neither can. A copyable handle: the groups
/// are removed once the last handle and the last process in it are gone. Thread-safe.
///
/// One difference between the hierarchies: on cgroup v2 a tree is cloned straight into its group,
/// so a start into a group at its `max_processes` fails (EAGAIN); on cgroup v1 the tree joins by
/// migration before exec, which the pids controller never refuses, so it gets in and only its
/// forks are refused.
class SUPERVISOR_API ResourceGroup {
 public:
  ResourceGroup() noexcept;  ///< An empty handle (`valid()` is false): no group.
  /// Creates a group on `loop`. Errors: `errc::invalid_argument` (a bad value or a per-process
  /// limit, naming the field), `errc::controller_unavailable` (required mode), or the kernel's
  /// refusal to create or write a group.
  static ResourceGroup create(Loop& loop, ResourceLimits limits);
  /// \overload
  static ResourceGroup create(Loop& loop, ResourceLimits limits, std::error_code& ec) noexcept;
  /// A group inside this one, on the same loop: its trees are held to its own limits and to
  /// this group's (e.g. one budget for several pools, each with its own share of it). Errors as
  /// for `create`, and `errc::invalid_argument` for an empty handle.
  [[nodiscard]] ResourceGroup create_child(ResourceLimits limits) const;
  /// \overload
  [[nodiscard]] ResourceGroup create_child(ResourceLimits limits,
                                           std::error_code& ec) const noexcept;

  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  /// The limits as last set.
  [[nodiscard]] ResourceLimits resources() const;
  /// Its cgroup v2 directory, in which each member's own group is made (empty when the loop
  /// uses no cgroup v2).
  [[nodiscard]] std::string cgroup() const;
  /// How each set limit is enforced, with the file it is written to (or why it is not).
  [[nodiscard]] std::vector<LimitStatus> limits() const;
  /// The group's counters now.
  [[nodiscard]] GroupSample sample() const;
  /// Changes the limits while processes run in the group (limits no longer set are lifted). A
  /// controller the group has no cgroup for yet (none was needed at creation) applies only to
  /// processes started from now on, and `limits()` says so. Errors as for `create`; on cgroup v1
  /// the kernel also refuses (EINVAL) a `cpu_cores` below a member's own.
  void set_resources(const ResourceLimits& limits);
  /// \overload
  void set_resources(const ResourceLimits& limits, std::error_code& ec) noexcept;

 private:
  friend struct detail::GroupAccess;
  explicit ResourceGroup(std::shared_ptr<detail::GroupOs> state) noexcept
      : state_(std::move(state)) {}
  std::shared_ptr<detail::GroupOs> state_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 13
#  include <supervisor/detail/header_only_end.hpp>
#endif
