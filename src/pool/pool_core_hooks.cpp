// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A worker's own spec and the host's hooks around each incarnation: PoolOptions::per_worker_spec,
// identity_env, pre_start and post_stop (see pool.hpp for the order they run in).
#include <charconv>
#include <exception>
#include <iterator>
#include <string>

#include "../core/exception_text.hpp"
#include "../core/validate.hpp"
#include "pool_core.hpp"

namespace supervisor::detail {

// The spec incarnation `incarnation` of worker `index` starts with. The pool's one shared spec
// when nothing in it is the worker's own (no copy: a spawn is a hot path, and a copy per worker
// would be memory per worker); else a copy of it, derived by per_worker_spec and validated, with
// the incarnation's notify socket.
SUPERVISOR_INLINE std::shared_ptr<const ProcessSpec> PoolCore::worker_spec(
    std::size_t index, std::uint64_t incarnation, const NotifyChannel* notify, ErrorSink& err) {
  const std::shared_ptr<const ProcessSpec>& base = spec_of(slots_[index].revision);
  const bool worker_paths = has_worker_paths(*base);
  if (!options_.per_worker_spec && notify == nullptr && !worker_paths) return base;
  auto spec = std::make_shared<ProcessSpec>(*base);
  if (options_.per_worker_spec) {
    const WorkerContext worker{index, incarnation};
    bool threw = false;
    ++emitting_;  // like a subscriber: a resize from inside is deferred to the next turn
    try {
      options_.per_worker_spec(worker, *spec);
    } catch (...) {
      threw = true;
      const std::string what = current_exception_text();
      report_error("per_worker_spec");
      err.fail(errc::hook_failed, [&] {
        return fmt::format("worker {} (incarnation {}): PoolOptions.per_worker_spec threw: {}",
                           index, incarnation, what);
      });
    }
    --emitting_;
    if (threw) return nullptr;
    ErrorSink invalid;
    validate_spec(*spec, invalid);
    if (invalid) {
      err.fail(invalid.code, [&] {
        return fmt::format(
            "worker {} (incarnation {}): PoolOptions.per_worker_spec made an invalid spec: {}",
            index, incarnation, invalid.context);
      });
      return nullptr;
    }
  }
  expand_worker_paths(*spec, index);  // the spec's, or those per_worker_spec set
  if (notify != nullptr) {            // this incarnation's own socket
    spec->env.set["NOTIFY_SOCKET"] = notify->address();
    if (options_.watchdog > Duration::zero()) {
      spec->env.set["WATCHDOG_USEC"] = std::to_string(
          std::chrono::duration_cast<std::chrono::microseconds>(options_.watchdog).count());
    }
  }
  return spec;
}

// The pool's own variables for the incarnation (identity_env), set after the spec's: the spawn
// adds them to the child's environment without a copy of the spec, and the host's environment
// still passes on uncopied (see plan_environment).
SUPERVISOR_INLINE std::vector<std::string> PoolCore::identity_vars(
    std::size_t index, std::uint64_t incarnation) const {
  std::vector<std::string> env;
  if (!options_.identity_env) return env;
  const auto entry = [](std::string_view name, std::uint64_t value) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    std::string kv;
    kv.reserve(name.size() + 1 + static_cast<std::size_t>(end - digits));
    kv.append(name).append(1, '=').append(digits, end);
    return kv;
  };
  env.reserve(2);
  env.push_back(entry(worker_index_variable, index));
  env.push_back(entry(worker_incarnation_variable, incarnation));
  return env;
}

SUPERVISOR_INLINE void PoolCore::run_pre_start(std::size_t index, std::uint64_t incarnation,
                                               const ProcessSpec& spec, ErrorSink& err) {
  std::error_code ec;
  ++emitting_;
  try {
    ec = options_.pre_start(WorkerContext{index, incarnation}, spec);
  } catch (...) {
    const std::string what = current_exception_text();
    report_error("pre_start");
    err.fail(errc::hook_failed, [&] {
      return fmt::format("worker {} (incarnation {}): PoolOptions.pre_start threw: {}", index,
                         incarnation, what);
    });
  }
  --emitting_;
  if (ec) {
    err.fail(ec, [&] {
      return fmt::format("worker {} (incarnation {}): PoolOptions.pre_start failed: {}", index,
                         incarnation, ec.message());
    });
  }
}

SUPERVISOR_INLINE void PoolCore::run_post_stop(std::size_t index, std::uint64_t incarnation,
                                               const ExitStatus& st) {
  if (!options_.post_stop) return;
  ++emitting_;
  guarded("post_stop", [&] { options_.post_stop(WorkerContext{index, incarnation}, st); });
  --emitting_;
}

}  // namespace supervisor::detail
