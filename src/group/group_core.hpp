// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The core of a SupervisionGroup: its members' pools, and a plan of steps (stop this member,
// start that one, handle a failed restart) that it works through one at a time on the loop
// thread. Built on the public Pool API: each member is a Pool made by `make_pool`, watched
// through Pool::subscribe, started with Pool::start and stopped with Pool::stop_async.
//
// Every decision is a step: a turn of the loop of its own (post_step), never run inside another.
// A pool's subscriber runs inside that pool's calls (Pool::start spawns and reports readiness at
// once; on the fake world, a failed start pumps the world), so it only notes what it saw and
// posts a step; a step posted while another runs (the fake world's pump) waits for it to end.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/supervision_group.hpp>

#include "../core/subscriber_set.hpp"
#include "../pool/pool_host.hpp"

namespace supervisor::detail {

class GroupCore final : public std::enable_shared_from_this<GroupCore> {
 public:
  using PoolFactory = std::function<std::shared_ptr<Pool>(PoolOptions)>;
  GroupCore(std::shared_ptr<PoolHost> host, PoolFactory make_pool, SupervisionGroupOptions options);

  // ---- what SupervisionGroup calls (any thread; the blocking ones not on the loop thread) ---
  void start(ErrorSink& err);
  void start_async(std::function<void(std::error_code)> done);
  void stop();
  std::shared_ptr<Pool> pool(std::string_view member, ErrorSink& err);
  GroupSnapshot snapshot();
  std::vector<GroupEvent> history();
  std::uint64_t subscribe(std::function<void(const GroupEvent&)> fn);
  void unsubscribe(std::uint64_t id);

 private:
  struct Member {
    std::shared_ptr<Pool> pool;                // (loop; read by host threads under mu_)
    std::uint64_t subscription = 0;            // (loop) on `pool`
    std::uint64_t incarnation = 0;             // (loop) starts so far
    MemberState state = MemberState::stopped;  // (loop)
    std::set<std::size_t> up;       // (loop) its workers ready or leased, this incarnation
    bool was_up = false;            // (loop) it had its ready workers (no_ready_worker)
    std::uint64_t deaths = 0;       // (loop)
    std::uint64_t start_timer = 0;  // (loop)
    std::size_t need = 0;           // ready workers for it to count as started
  };
  struct Step {
    enum class Kind { stop, start, failed };  // failed: a restart's start failed; handle it
    Kind kind;
    std::size_t member;
    std::string why{};
  };
  enum class Plan { none, start, restart, stop };
  struct Death {
    std::size_t member;
    std::uint64_t incarnation;
    std::size_t worker;
    std::string why;
  };

  // ---- loop thread ---------------------------------------------------------------------------
  void post_step(std::function<void()> f);
  void run_step(const std::function<void()>& f);
  void emit(GroupEventData data);
  void report_error(std::string_view where) noexcept;
  template <class F>
  void guarded(std::string_view where, F&& f) {
    try {
      f();
    } catch (...) {
      report_error(where);
    }
  }

  void begin_start(std::function<void(std::error_code, std::string)> done);
  void begin_stop(std::string why);
  void next();  // runs the plan's next step, or ends the plan
  void finish_plan();
  void stop_member(std::size_t i);
  void start_member(std::size_t i);
  void watch(std::size_t i, std::uint64_t incarnation, const PoolEvent& ev);
  void on_ready(std::size_t i, std::uint64_t incarnation);
  void on_stopped(std::size_t i, std::uint64_t incarnation);
  void start_failed(std::size_t i, std::error_code ec, std::string message);
  void on_death(Death d);
  void handle_death(std::size_t i, std::size_t worker, std::string why);
  [[nodiscard]] int restarts_in_period();
  [[nodiscard]] std::vector<std::size_t> affected(std::size_t dead) const;

  // ---- state -------------------------------------------------------------------------------
  const std::shared_ptr<PoolHost> host_;
  const PoolFactory make_pool_;
  const SupervisionGroupOptions options_;
  std::vector<Member> members_;  // fixed size; see Member for each field's owner

  // (loop)
  GroupState state_ = GroupState::idle;
  Plan plan_ = Plan::none;
  std::deque<Step> steps_;
  bool busy_ = false;                   // a step (a member starting or stopping) is under way
  std::optional<std::size_t> current_;  // the member a busy step waits for
  bool in_step_ = false;                // inside run_step: steps posted now wait for it
  std::vector<std::function<void()>> deferred_;
  std::deque<Death> pending_;  // deaths seen during a plan, handled after it
  std::function<void(std::error_code, std::string)> start_done_;
  std::error_code start_error_;
  std::string start_message_;
  std::string stop_why_;
  bool escalated_ = false;
  std::uint64_t restarts_ = 0;
  std::deque<TimePoint> recent_;  // when the deaths within `period` were handled
  std::deque<std::shared_ptr<const GroupEvent>> history_;
  SubscriberSet<GroupEvent> subscribers_;
  std::uint64_t sequence_ = 0;

  // What host threads read or wait on.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;  // (mu_) the group is stopped for good
};

}  // namespace supervisor::detail
