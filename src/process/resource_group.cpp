// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The public ResourceGroup: a handle on the backend's group.
#include <supervisor/resource_group.hpp>

#include "../core/validate.hpp"
#include "access.hpp"
#include "loop_core.hpp"
#include "resource_group.hpp"

namespace supervisor {

using detail::ErrorSink;
using detail::GroupAccess;

SUPERVISOR_INLINE ResourceGroup detail::create_resource_group(const std::shared_ptr<LoopCore>& core,
                                                              const ResourceLimits& limits,
                                                              const ResourceGroup& parent,
                                                              ErrorSink& err) {
  validate_group_limits(limits, "ResourceGroup", err);
  if (err) return {};
  const auto& parent_state = GroupAccess::state(parent);
  if (parent_state && parent_state->core != core) {
    err.fail(errc::invalid_argument,
             [] { return std::string("ResourceGroup: the parent group belongs to another Loop"); });
    return {};
  }
  std::shared_ptr<GroupOs> state = core->backend().make_group(limits, parent_state, err);
  if (err) return {};
  state->core = core;
  return GroupAccess::make(std::move(state));
}

SUPERVISOR_INLINE ResourceGroup::ResourceGroup() noexcept = default;

SUPERVISOR_INLINE ResourceGroup ResourceGroup::create(Loop& loop, ResourceLimits limits) {
  return detail::or_throw([&](ErrorSink& err) {
    return detail::create_resource_group(detail::LoopAccess::core(loop), limits, {}, err);
  });
}

SUPERVISOR_INLINE ResourceGroup ResourceGroup::create(Loop& loop, ResourceLimits limits,
                                                      std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](ErrorSink& err) {
    return detail::create_resource_group(detail::LoopAccess::core(loop), limits, {}, err);
  });
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE ResourceGroup child_of(const ResourceGroup& parent,
                                         const std::shared_ptr<detail::GroupOs>& state,
                                         const ResourceLimits& limits, ErrorSink& err) {
  if (!state) {
    err.fail(errc::invalid_argument,
             [] { return std::string("ResourceGroup::create_child: an empty handle"); });
    return {};
  }
  return detail::create_resource_group(state->core, limits, parent, err);
}

SUPERVISOR_INLINE void set_group_impl(const std::shared_ptr<detail::GroupOs>& s,
                                      const ResourceLimits& limits, ErrorSink& err) {
  if (!s) {
    err.fail(errc::invalid_argument,
             [] { return std::string("ResourceGroup::set_resources: an empty handle"); });
    return;
  }
  detail::validate_group_limits(limits, "ResourceGroup", err);
  if (!err) s->set(limits, err);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE ResourceGroup ResourceGroup::create_child(ResourceLimits limits) const {
  return detail::or_throw([&](ErrorSink& err) { return child_of(*this, state_, limits, err); });
}

SUPERVISOR_INLINE ResourceGroup ResourceGroup::create_child(ResourceLimits limits,
                                                            std::error_code& ec) const noexcept {
  return detail::into_code(ec,
                           [&](ErrorSink& err) { return child_of(*this, state_, limits, err); });
}

SUPERVISOR_INLINE ResourceLimits ResourceGroup::resources() const {
  return state_ ? state_->resources() : ResourceLimits{};
}

SUPERVISOR_INLINE std::string ResourceGroup::cgroup() const {
  return state_ ? state_->cgroup() : std::string();
}

SUPERVISOR_INLINE std::vector<LimitStatus> ResourceGroup::limits() const {
  return state_ ? state_->limits() : std::vector<LimitStatus>{};
}

SUPERVISOR_INLINE GroupSample ResourceGroup::sample() const {
  return state_ ? state_->sample() : GroupSample{};
}

SUPERVISOR_INLINE void ResourceGroup::set_resources(const ResourceLimits& limits) {
  detail::or_throw([&](ErrorSink& err) { set_group_impl(state_, limits, err); });
}

SUPERVISOR_INLINE void ResourceGroup::set_resources(const ResourceLimits& limits,
                                                    std::error_code& ec) noexcept {
  detail::into_code(ec, [&](ErrorSink& err) { set_group_impl(state_, limits, err); });
}

}  // namespace supervisor
