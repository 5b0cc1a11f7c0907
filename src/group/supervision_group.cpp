// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The SupervisionGroup facade (each call goes to the group's core), validate(options) and the
// names of its enums.
#include <supervisor/supervision_group.hpp>
#include <supervisor/testing.hpp>

#include <fmt/format.h>

#include <memory>
#include <set>
#include <string>

#include "../core/duration.hpp"
#include "../process/access.hpp"
#include "../testing/fake_host.hpp"
#include "group_core.hpp"

namespace supervisor {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE void check_group_member(const SupervisionGroupOptions& o, std::size_t i,
                                          detail::ErrorSink& err) {
  const GroupMember& m = o.members[i];
  const auto field = [&](std::string_view name) {
    return fmt::format("SupervisionGroupOptions.members[{}].{}", i, name);
  };
  if (m.name.empty()) {
    err.fail(errc::invalid_argument,
             [&] { return field("name") + ": empty (a member needs a name)"; });
    return;
  }
  for (std::size_t j = 0; j < i; ++j) {
    if (o.members[j].name != m.name) continue;
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: \"{}\" is not unique (members[{}] has it)", field("name"), m.name, j);
    });
    return;
  }
  std::error_code ec;
  validate(m.pool, ec);
  if (ec) {
    err.fail(ec, [&] {
      try {
        validate(m.pool);
      } catch (const std::exception& e) {
        return fmt::format("{} (\"{}\"): {}", field("pool"), m.name, e.what());
      }
      return field("pool");
    });
    return;
  }
  if (m.ready_workers > m.pool.size) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: {} (more than its pool's size {})", field("ready_workers"),
                         m.ready_workers, m.pool.size);
    });
    return;
  }
  if (m.start_timeout <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("{}: {} (must be positive)", field("start_timeout"),
                         detail::format_duration(m.start_timeout));
    });
  }
}

SUPERVISOR_INLINE void validate_group(const SupervisionGroupOptions& o, detail::ErrorSink& err) {
  if (o.members.empty()) {
    err.fail(errc::invalid_argument, [] {
      return std::string("SupervisionGroupOptions.members: empty (at least 1 member)");
    });
    return;
  }
  for (std::size_t i = 0; i < o.members.size(); ++i) {
    check_group_member(o, i, err);
    if (err) return;
  }
  if (o.intensity < 1) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("SupervisionGroupOptions.intensity: {} (at least 1)", o.intensity);
    });
    return;
  }
  if (o.period <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("SupervisionGroupOptions.period: {} (must be positive)",
                         detail::format_duration(o.period));
    });
    return;
  }
  if (o.history_size == 0) {
    err.fail(errc::invalid_argument,
             [] { return std::string("SupervisionGroupOptions.history_size: 0 (at least 1)"); });
  }
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string_view to_string(GroupStrategy s) noexcept {
  switch (s) {
    case GroupStrategy::one_for_one: return "one_for_one";
    case GroupStrategy::one_for_all: return "one_for_all";
    case GroupStrategy::rest_for_one: return "rest_for_one";
  }
  return "unknown";
}

SUPERVISOR_INLINE std::string_view to_string(MemberFailure f) noexcept {
  switch (f) {
    case MemberFailure::worker_exit: return "worker_exit";
    case MemberFailure::worker_gave_up: return "worker_gave_up";
    case MemberFailure::no_ready_worker: return "no_ready_worker";
  }
  return "unknown";
}

SUPERVISOR_INLINE std::string_view to_string(MemberState s) noexcept {
  switch (s) {
    case MemberState::stopped: return "stopped";
    case MemberState::starting: return "starting";
    case MemberState::running: return "running";
    case MemberState::stopping: return "stopping";
  }
  return "unknown";
}

SUPERVISOR_INLINE std::string_view to_string(GroupState s) noexcept {
  switch (s) {
    case GroupState::idle: return "idle";
    case GroupState::starting: return "starting";
    case GroupState::running: return "running";
    case GroupState::restarting: return "restarting";
    case GroupState::stopping: return "stopping";
    case GroupState::stopped: return "stopped";
  }
  return "unknown";
}

SUPERVISOR_INLINE void validate(const SupervisionGroupOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { validate_group(options, err); });
}

SUPERVISOR_INLINE void validate(const SupervisionGroupOptions& options,
                                std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { validate_group(options, err); });
}

SUPERVISOR_INLINE SupervisionGroup::SupervisionGroup(Loop& loop, SupervisionGroupOptions options) {
  validate(options);
  Loop* on = &loop;
  core_ = std::make_shared<detail::GroupCore>(
      detail::make_real_pool_host(detail::LoopAccess::core(loop)),
      [on](PoolOptions o) { return std::make_shared<Pool>(*on, std::move(o)); },
      std::move(options));
}

SUPERVISOR_INLINE SupervisionGroup::SupervisionGroup(testing::FakeWorld& world,
                                                     SupervisionGroupOptions options) {
  validate(options);
  testing::FakeWorld* on = &world;
  core_ = std::make_shared<detail::GroupCore>(
      world.host_, [on](PoolOptions o) { return std::make_shared<Pool>(*on, std::move(o)); },
      std::move(options));
}

SUPERVISOR_INLINE SupervisionGroup::~SupervisionGroup() {
  try {
    stop();
  } catch (...) {
  }
}

SUPERVISOR_INLINE void SupervisionGroup::start() {
  detail::or_throw([&](detail::ErrorSink& err) { core_->start(err); });
}

SUPERVISOR_INLINE void SupervisionGroup::start(std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { core_->start(err); });
}

SUPERVISOR_INLINE void SupervisionGroup::start_async(std::function<void(std::error_code)> done) {
  core_->start_async(std::move(done));
}

SUPERVISOR_INLINE void SupervisionGroup::stop() { core_->stop(); }

SUPERVISOR_INLINE std::shared_ptr<Pool> SupervisionGroup::pool(std::string_view member) const {
  return detail::or_throw([&](detail::ErrorSink& err) { return core_->pool(member, err); });
}

SUPERVISOR_INLINE std::shared_ptr<Pool> SupervisionGroup::pool(std::string_view member,
                                                               std::error_code& ec) const noexcept {
  return detail::into_code(ec, [&](detail::ErrorSink& err) { return core_->pool(member, err); });
}

SUPERVISOR_INLINE GroupSnapshot SupervisionGroup::snapshot() const { return core_->snapshot(); }
SUPERVISOR_INLINE std::vector<GroupEvent> SupervisionGroup::history() const {
  return core_->history();
}
SUPERVISOR_INLINE std::uint64_t SupervisionGroup::subscribe(
    std::function<void(const GroupEvent&)> fn) {
  return core_->subscribe(std::move(fn));
}
SUPERVISOR_INLINE void SupervisionGroup::unsubscribe(std::uint64_t id) { core_->unsubscribe(id); }

}  // namespace supervisor
