// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 20  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// `SupervisionGroup`: an OTP-style supervisor of pools. Services are rarely one pool: a group
/// starts its members (each a `Pool`) in order, each ready before the next starts, stops them in
/// reverse order, and when a member dies restarts it and its siblings by OTP's strategies
/// (`one_for_one`, `one_for_all`, `rest_for_one`), within a group-wide intensity/period budget
/// whose exhaustion escalates to the host.
///
/// A single process is a member whose pool has one worker (`GroupMember::single`): it gets the
/// pool's restarts, readiness modes, health checks, StopPlan, events and fake-world testing, all
/// of which a bare `Process` lacks, at the cost of one pool's bookkeeping.
///
/// Threading: every method of `SupervisionGroup` is thread-safe. The group decides on its Loop's
/// thread (the one its pools live on), in turns of its own; it never blocks that thread. Its
/// subscribers and callbacks run there (never call a blocking method of the group or of its
/// pools from them).

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/export.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/process_spec.hpp>

namespace supervisor {

namespace detail {
class GroupCore;
}
namespace testing {
class FakeWorld;
}

/// Which members a member's death restarts (OTP's restart strategies).
enum class GroupStrategy {
  /// Each member on its own: the pool's restart policy restarts its workers, and the group only
  /// counts the death against its budget. A member that died by `MemberFailure::worker_gave_up`
  /// (its pool will not restart that worker) is restarted alone, as a fresh pool.
  one_for_one,
  /// Every member: all are stopped in reverse start order, then all started again in order.
  one_for_all,
  /// The dead member and every member started after it: those are stopped in reverse order and
  /// started again in order; the members started before it are left alone.
  rest_for_one,
};

/// The strategy's name, e.g. "one_for_all".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(GroupStrategy s) noexcept;

/// What counts as the death of a member (a pool), chosen per member. Only a member that is
/// running counts: exits the group or the pool asked for (a stop, a recycle, a replacement, a
/// rolling restart, a shrink) never do.
enum class MemberFailure {
  /// One of its workers ended abnormally: any exit but a clean one (code 0) that nobody asked
  /// for, or a stop the pool made because the worker failed (`unhealthy`, `watchdog`,
  /// `oom_kill`, `resource_limit`); and a restart's spawn that failed. For a single process
  /// (a pool of one), this is OTP's "the child died". The default.
  worker_exit,
  /// The pool's restart policy gave up on one of its workers (`WorkerGaveUp`): the pool copes
  /// with single crashes itself, and the group steps in when it no longer can.
  worker_gave_up,
  /// The member had its ready workers (`GroupMember::ready_workers`) and then has none ready or
  /// leased at all: the service it provides is down, whatever each worker's story.
  no_ready_worker,
};

/// The failure's name, e.g. "worker_exit".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(MemberFailure f) noexcept;

/// One member of a group: a pool, by name.
struct GroupMember {
  std::string name;  ///< Unique within the group, not empty; names it in events and errors.
  PoolOptions pool;  ///< Its pool (a new `Pool` each time the group starts it).
  MemberFailure failure = MemberFailure::worker_exit;  ///< What counts as its death.
  /// How many of its workers must be ready (or leased) before it counts as started and the next
  /// member starts. 0: all of `pool.size`.
  std::size_t ready_workers = 0;
  /// How long it may take to get there; past it, its start failed (`errc::timeout`).
  Duration start_timeout = std::chrono::seconds(30);

  /// A single process: a pool of exactly one worker running `spec`.
  [[nodiscard]] static GroupMember single(std::string name, ProcessSpec spec) {
    GroupMember m;
    m.name = std::move(name);
    m.pool.spec = std::move(spec);
    m.pool.size = m.pool.min_size = m.pool.max_size = 1;
    return m;
  }
};

struct GroupEscalated;  // below, with the other events

/// Configuration of a SupervisionGroup.
struct SupervisionGroupOptions {
  /// The members, in start order (stopped in reverse). At least one.
  std::vector<GroupMember> members;
  GroupStrategy strategy = GroupStrategy::one_for_one;
  /// The budget (OTP's `intensity` and `period`): at most `intensity` member deaths are handled
  /// within any `period`; the next one escalates instead (`GroupEscalated`, `on_escalation`).
  /// Every handled death counts, whether the group restarts members for it or (`one_for_one`)
  /// leaves the restart to the pool; so does a restart whose member then fails to start. OTP's
  /// defaults: 1 within 5 s.
  int intensity = 1;
  Duration period = std::chrono::seconds(5);
  /// On escalation, stop the whole group (in reverse order), as an OTP supervisor terminates.
  /// Otherwise the group restarts nothing any more (each pool goes on by its own policy, and the
  /// members a failed restart left stopped stay so); it escalates once, never again.
  bool stop_on_escalation = true;
  /// Called on the loop thread when the budget is spent, before the group stops (if it does).
  /// Must not block; what it throws goes to `error_handler`.
  std::function<void(const GroupEscalated&)> on_escalation;
  std::size_t history_size = 256;  ///< Events kept for `history()`.
  /// Receives exceptions thrown by subscribers and callbacks (loop thread). Must not throw.
  std::function<void(std::exception_ptr, std::string_view where)> error_handler;
};

/// Validates the options and every member's pool options; the error names the first bad field
/// (`SupervisionGroupOptions.members[1].name: "db" is not unique`).
SUPERVISOR_API void validate(const SupervisionGroupOptions& options);
/// \overload
SUPERVISOR_API void validate(const SupervisionGroupOptions& options, std::error_code& ec) noexcept;

/// The group starts a member (a new pool; `incarnation` counts the member's starts from 1).
struct MemberStarting {
  std::size_t member = 0;  ///< Its index in `SupervisionGroupOptions::members`.
  std::string name;
  std::uint64_t incarnation = 0;
};
/// The member has its ready workers: it counts as started.
struct MemberStarted {
  std::size_t member = 0;
  std::string name;
  std::uint64_t incarnation = 0;
};
/// The member did not start: its pool's start failed, or it was not ready in time (`timeout`).
struct MemberStartFailed {
  std::size_t member = 0;
  std::string name;
  std::error_code error;
  std::string message;
};
/// A running member died (see `MemberFailure`).
struct MemberDied {
  std::size_t member = 0;
  std::string name;
  std::size_t worker = 0;  ///< The worker that died, gave up, or went down last.
  std::string why;
};
/// The group stops a member (a restart, or the group stopping).
struct MemberStopping {
  std::size_t member = 0;
  std::string name;
};
/// The member's workers are all gone.
struct MemberStopped {
  std::size_t member = 0;
  std::string name;
};
/// A death is handled: the members listed are restarted (stopped in reverse, started in order);
/// none with `one_for_one` when the pool restarts its worker itself.
struct GroupRestarting {
  std::size_t member = 0;  ///< The one that died.
  std::string name;
  std::vector<std::string> members;  ///< Those restarted, in start order.
  int restarts_in_period = 0;        ///< Deaths handled within `period`, this one included.
};
/// The budget is spent: `intensity` deaths were handled within `period` and another came.
struct GroupEscalated {
  std::size_t member = 0;  ///< The one whose death spent it.
  std::string name;
  std::string why;  ///< Its death's.
  int intensity = 0;
  Duration period{};
  bool stopping = false;  ///< The group stops (`stop_on_escalation`).
};
/// Every member is stopped: by `stop()`, an escalation, or a failed start.
struct GroupStopped {
  std::string why;
};
/// Everything a group reports.
using GroupEventData =
    std::variant<MemberStarting, MemberStarted, MemberStartFailed, MemberDied, MemberStopping,
                 MemberStopped, GroupRestarting, GroupEscalated, GroupStopped>;
/// One event, numbered in the order it happened.
struct GroupEvent {
  std::uint64_t sequence = 0;
  TimePoint at{};
  WallTime wall{};
  GroupEventData data;
};

/// Where a member is in its life.
enum class MemberState { stopped, starting, running, stopping };
/// Where the group is in its life.
enum class GroupState { idle, starting, running, restarting, stopping, stopped };

/// The state's name, e.g. "running".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(MemberState s) noexcept;
/// \overload
[[nodiscard]] SUPERVISOR_API std::string_view to_string(GroupState s) noexcept;

/// One member, as seen at snapshot time.
struct MemberSnapshot {
  std::string name;
  MemberState state = MemberState::stopped;
  std::uint64_t incarnation = 0;  ///< How many times the group started it.
  std::uint64_t deaths = 0;       ///< Deaths seen while it ran (all incarnations).
  std::size_t ready = 0;          ///< Its workers ready or leased now.
};

/// The whole group, as seen at snapshot time.
struct GroupSnapshot {
  GroupState state = GroupState::idle;
  bool escalated = false;
  std::uint64_t restarts = 0;           ///< Deaths handled (restarts made or left to a pool).
  int restarts_in_period = 0;           ///< ... within the last `period`.
  std::vector<MemberSnapshot> members;  ///< In start order.
};

/// Supervises pools on one Loop (or one FakeWorld) as an OTP supervisor does its children.
/// Thread-safe. The Loop (or world) must outlive the group and every `Pool` it handed out.
class SUPERVISOR_API SupervisionGroup {
 public:
  /// Validates `options` (throws `errc::invalid_argument` naming the field); starts nothing.
  SupervisionGroup(Loop& loop, SupervisionGroupOptions options);
  /// The same group on a fake world (see `supervisor/testing.hpp`): deterministic. Use
  /// `start_async` there (the test thread is the loop).
  SupervisionGroup(testing::FakeWorld& world, SupervisionGroupOptions options);
  /// Stops every member (in reverse order) and waits for them.
  ~SupervisionGroup();
  SupervisionGroup(const SupervisionGroup&) = delete;
  SupervisionGroup& operator=(const SupervisionGroup&) = delete;

  /// Starts the members in order, each ready before the next, and blocks until all are. If one
  /// fails (its pool's start error, or `errc::timeout` when it was not ready within its
  /// `start_timeout`; the message names it), the members started are stopped in reverse order
  /// and the group is stopped. Errors also: `errc::already_running`, `errc::stopped` (the group
  /// was stopped: it does not start again), and `std::errc::resource_deadlock_would_occur` on
  /// the loop thread (use `start_async`).
  void start();
  /// \overload
  void start(std::error_code& ec) noexcept;
  /// Like `start`, without blocking: `done` runs on the loop thread with the outcome.
  void start_async(std::function<void(std::error_code)> done);

  /// Stops every member in reverse start order, each gone before the next stops, and waits for
  /// the end. Idempotent; the group does not start again. On the loop thread it starts the
  /// stop and returns at once.
  void stop();

  /// The member's current pool: a new one each time the group starts it (an old one, once
  /// stopped, answers `errc::stopped`); null before its first start. Its lifecycle is the
  /// group's: a host that stops it itself leaves the member running without workers (not a
  /// death, except by `no_ready_worker`). Strategies given to `GroupMember::pool` as shared
  /// pointers are shared by all its incarnations (a restart policy's history carries over).
  /// Errors: `errc::invalid_argument` for an unknown name.
  [[nodiscard]] std::shared_ptr<Pool> pool(std::string_view member) const;
  /// \overload
  [[nodiscard]] std::shared_ptr<Pool> pool(std::string_view member,
                                           std::error_code& ec) const noexcept;

  [[nodiscard]] GroupSnapshot snapshot() const;
  /// The most recent events (at most `history_size`), oldest first.
  [[nodiscard]] std::vector<GroupEvent> history() const;
  /// Calls `fn` on the loop thread for every event from now on. Returns an id for `unsubscribe`.
  std::uint64_t subscribe(std::function<void(const GroupEvent&)> fn);
  void unsubscribe(std::uint64_t id);

 private:
  std::shared_ptr<detail::GroupCore> core_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 20
#  include <supervisor/detail/header_only_end.hpp>
#endif
