// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "usage_sampler.hpp"

#include <algorithm>
#include <chrono>

namespace supervisor::detail {

SUPERVISOR_INLINE void UsageSampler::start() { schedule(); }

SUPERVISOR_INLINE void UsageSampler::schedule() {
  if (timer_ != 0 || core_.stopping() || !core_.running()) return;
  timer_ = host_.add_timer(period_, [self = anchor_.shared_from_this(), this] {
    timer_ = 0;
    if (core_.stopping()) return;
    sample_all();
    schedule();
  });
}

SUPERVISOR_INLINE void UsageSampler::stop() {
  if (timer_ != 0) host_.cancel_timer(timer_);
  timer_ = 0;
}

// One read of each worker whose process runs (WorkerProcess::usage). A worker's CPU use is
// measured between two samples of the same incarnation: its first sample only sets the base.
SUPERVISOR_INLINE void UsageSampler::sample_all() {
  last_.resize(core_.slot_count());
  const TimePoint now = host_.now();
  for (std::size_t i = 0; i < last_.size(); ++i) {
    WorkerProcess* process = core_.process(i);
    if (!process_runs(core_.state(i)) || process == nullptr) continue;
    std::optional<WorkerUsage> u = process->usage();
    if (!u) continue;
    u->sampled_at = now;
    Last& last = last_[i];
    const std::uint64_t incarnation = core_.incarnation(i);
    if (last.incarnation == incarnation && now > last.usage.sampled_at) {
      const double cpu = std::chrono::duration<double>(u->cpu_time - last.usage.cpu_time).count();
      const double wall = std::chrono::duration<double>(now - last.usage.sampled_at).count();
      u->cpu_cores = std::max(0.0, cpu / wall);
    }
    last.incarnation = incarnation;
    last.usage = *u;
  }
}

SUPERVISOR_INLINE void UsageSampler::on_exit(std::size_t worker, std::uint64_t incarnation,
                                             const ExitStatus& st) {
  // The main process's own CPU time at its end is exact; the tree's last sample may hold more
  // (its other processes), though it misses what came after it.
  Duration cpu = st.usage.user_cpu + st.usage.system_cpu;
  if (worker < last_.size() && last_[worker].incarnation == incarnation) {
    cpu = std::max(cpu, last_[worker].usage.cpu_time);
    last_[worker] = Last{};
  }
  ended_cpu_ += cpu;
}

SUPERVISOR_INLINE void UsageSampler::describe(std::size_t worker, std::uint64_t incarnation,
                                              bool alive, WorkerSnapshot& w) const {
  if (alive && worker < last_.size() && last_[worker].incarnation == incarnation)
    w.usage = last_[worker].usage;
}

SUPERVISOR_INLINE void UsageSampler::fill(PoolSnapshot& s) const {
  PoolUsage p;
  p.cpu_time = ended_cpu_;
  for (const Last& l : last_) {
    if (l.incarnation == 0) continue;
    p.memory_bytes += l.usage.memory_bytes;
    p.cpu_time += l.usage.cpu_time;
    ++p.workers;
  }
  s.usage = p;
}

}  // namespace supervisor::detail
