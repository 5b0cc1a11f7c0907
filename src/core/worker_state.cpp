// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/error.hpp>
#include <supervisor/worker_state.hpp>

#include <fmt/format.h>

namespace supervisor {
SUPERVISOR_LOCAL_BEGIN

using S = WorkerState;

SUPERVISOR_INLINE constexpr std::uint16_t bit(S s) {
  return static_cast<std::uint16_t>(1u << static_cast<unsigned>(s));
}

// allowed[from] = the set of states reachable in one move.
SUPERVISOR_INLINE constexpr std::array<std::uint16_t, worker_state_count> allowed = {
    /* starting */ bit(S::ready) | bit(S::stopping) | bit(S::exited),
    /* ready    */ bit(S::leased) | bit(S::draining) | bit(S::stopping) | bit(S::exited),
    /* leased   */ bit(S::ready) | bit(S::draining) | bit(S::stopping) | bit(S::exited),
    /* draining */ bit(S::stopping) | bit(S::exited),
    /* stopping */ bit(S::exited),
    /* exited   */ bit(S::starting) | bit(S::backoff) | bit(S::failed) | bit(S::retired),
    /* backoff  */ bit(S::starting) | bit(S::failed) | bit(S::retired),
    /* failed   */ bit(S::starting) | bit(S::retired),
    /* retired  */ 0,
};

SUPERVISOR_INLINE std::size_t index(S s) { return static_cast<std::size_t>(s); }

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::string_view to_string(WorkerState s) noexcept {
  switch (s) {
    case S::starting: return "starting";
    case S::ready: return "ready";
    case S::leased: return "leased";
    case S::draining: return "draining";
    case S::stopping: return "stopping";
    case S::exited: return "exited";
    case S::backoff: return "backoff";
    case S::failed: return "failed";
    case S::retired: return "retired";
  }
  return "?";
}

SUPERVISOR_INLINE bool transition_allowed(WorkerState from, WorkerState to) noexcept {
  return index(from) < worker_state_count && (allowed[index(from)] & bit(to)) != 0;
}

SUPERVISOR_INLINE WorkerStateMachine::WorkerStateMachine(std::size_t worker, WorkerState initial,
                                                         TimePoint now) noexcept
    : worker_(worker), state_(initial), incarnation_(initial == S::starting ? 1 : 0), since_(now) {}

SUPERVISOR_INLINE WorkerStateMachine::WorkerStateMachine(std::size_t worker, WorkerState initial,
                                                         TimePoint now,
                                                         std::uint64_t last_incarnation) noexcept
    : worker_(worker), state_(initial), incarnation_(last_incarnation), since_(now) {}

SUPERVISOR_INLINE Duration WorkerStateMachine::time_in(WorkerState s,
                                                       TimePoint now) const noexcept {
  Duration d = time_in_[index(s)];
  if (s == state_ && now > since_) d += now - since_;
  return d;
}

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE WorkerTransition apply(std::size_t worker, WorkerState& state,
                                         std::uint64_t& incarnation, TimePoint& since,
                                         std::array<Duration, worker_state_count>& time_in,
                                         WorkerState to, std::string& cause, TimePoint now,
                                         detail::ErrorSink& err) {
  if (!transition_allowed(state, to)) {
    err.fail(errc::invalid_transition, [&] {
      return fmt::format("worker {}: {} -> {} is not a valid transition (cause: {})", worker,
                         to_string(state), to_string(to), cause);
    });
    return {};
  }
  if (now > since) time_in[index(state)] += now - since;
  WorkerTransition t{worker, incarnation, state, to, now, std::move(cause)};
  if (to == S::starting) t.incarnation = ++incarnation;
  state = to;
  since = now;
  return t;
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE WorkerTransition WorkerStateMachine::transition(WorkerState to, std::string cause,
                                                                  TimePoint now) {
  return detail::or_throw([&](detail::ErrorSink& err) {
    return apply(worker_, state_, incarnation_, since_, time_in_, to, cause, now, err);
  });
}

SUPERVISOR_INLINE WorkerTransition WorkerStateMachine::transition(WorkerState to, std::string cause,
                                                                  TimePoint now,
                                                                  std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](detail::ErrorSink& err) {
    return apply(worker_, state_, incarnation_, since_, time_in_, to, cause, now, err);
  });
}

}  // namespace supervisor
