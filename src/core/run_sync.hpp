// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

#include <future>
#include <type_traits>
#include <utility>

namespace supervisor::detail {

// Runs `fn` on `executor`'s loop (anything with in_loop() and post()) and returns its result;
// inline when the caller is the loop already.
template <class Executor, class F>
auto run_sync_on(Executor& executor, F&& fn) -> std::invoke_result_t<F> {
  using R = std::invoke_result_t<F>;
  if (executor.in_loop()) return fn();
  std::packaged_task<R()> task(std::forward<F>(fn));
  auto fut = task.get_future();
  executor.post([&task] { task(); });
  return fut.get();
}

}  // namespace supervisor::detail
