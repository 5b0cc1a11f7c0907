// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 6  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Resource limits of a worker's tree, as the kernel enforces them: cgroup v2 controllers where
/// they are delegated, cgroup v1 hierarchies on hybrid hosts, rlimits in the child before exec;
/// and the host's own open-file limit (`raise_fd_limit`). OS-neutral: no OS header is included.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

/// One kind of limit, as named in messages and events.
enum class LimitKind {
  memory_max,      ///< Hard memory ceiling of the tree: above it the kernel's OOM killer acts.
  memory_high,     ///< Memory throttling point of the tree (reclaim pressure, no kill).
  swap_max,        ///< Swap the tree may use.
  cpu_cores,       ///< CPU bandwidth quota of the tree, in cores (0.5: half of one core).
  cpu_weight,      ///< CPU share against siblings, 1..10000 (100: the default share).
  max_processes,   ///< Processes and threads in the tree (fork refused above it).
  max_open_files,  ///< Open fds per process (RLIMIT_NOFILE).
  cpu_time,        ///< CPU time per process (RLIMIT_CPU: SIGXCPU, then SIGKILL).
  wall_time,       ///< Wall-clock run time of the tree (its StopPlan runs when it is up).
};

/// `memory_max`, `cpu_cores`, ...: the field name in `ResourceLimits`.
[[nodiscard]] SUPERVISOR_API std::string_view to_string(LimitKind k) noexcept;

/// What happens when a limit cannot be enforced by the kernel on this host.
enum class LimitEnforcement {
  /// Start anyway; `ProcessInfo::limits` says which limits are not enforced and why (a Pool also
  /// says so in an event).
  best_effort,
  /// Fail the start with `errc::controller_unavailable`, naming the limit, the missing controller
  /// and how to make it available.
  required,
};

/// Limits of one worker's tree. Every limit is off unless set. Validated with the spec; each
/// invalid value gets an `errc::invalid_spec` error naming the field and the value.
struct ResourceLimits {
  std::optional<std::uint64_t> memory_max;      ///< Bytes (at least 1 MiB).
  std::optional<std::uint64_t> memory_high;     ///< Bytes (at least 1 MiB; at most memory_max).
  std::optional<std::uint64_t> swap_max;        ///< Bytes (0: no swap).
  std::optional<double> cpu_cores;              ///< More than 0 (at least 0.001 core).
  std::optional<std::uint32_t> cpu_weight;      ///< 1..10000.
  std::optional<std::uint64_t> max_processes;   ///< At least 1.
  std::optional<std::uint64_t> max_open_files;  ///< At least 3 (stdin, stdout, stderr).
  std::optional<Duration> cpu_time;             ///< At least 1 s (whole seconds).
  /// Run time from the start, like systemd's `RuntimeMaxSec=`: then the StopPlan runs and the
  /// exit's reason is `resource_limit` (`ExitStatus::wall_time_exceeded`). At least 1 ms. A Pool
  /// restarts the worker as its restart policy says; for a calm planned replacement instead, use
  /// `PoolOptions::recycle.max_runtime`.
  std::optional<Duration> wall_time;
  LimitEnforcement enforcement = LimitEnforcement::best_effort;

  /// Whether no limit is set.
  [[nodiscard]] bool empty() const noexcept {
    return !memory_max && !memory_high && !swap_max && !cpu_cores && !cpu_weight &&
           !max_processes && !max_open_files && !cpu_time && !wall_time;
  }
};

/// How the kernel enforces a limit for one process tree.
enum class LimitBackend {
  none,       ///< Not enforced: see `LimitStatus::note`.
  cgroup_v2,  ///< A controller file in the worker's own cgroup v2 group.
  cgroup_v1,  ///< A controller file in the worker's own group of a cgroup v1 hierarchy.
  rlimit,     ///< A setrlimit in the child before exec (per process, not per tree).
  /// The supervision loop's timer (for `wall_time`, which no kernel mechanism limits).
  loop_timer,
  /// Windows: a limit of the worker's Job Object (its tree), or of the ResourceGroup's job
  /// around it: job and process memory limits, CPU rate control, the active process limit, the
  /// per-process user time limit.
  job_object,
};

/// `none`, `cgroup-v2`, `cgroup-v1`, `rlimit`, `loop-timer`, `job-object`.
[[nodiscard]] SUPERVISOR_API std::string_view to_string(LimitBackend b) noexcept;

/// How one set limit is enforced for a started process.
struct LimitStatus {
  LimitKind kind = LimitKind::memory_max;
  LimitBackend backend = LimitBackend::none;
  /// Where (e.g. `/sys/fs/cgroup/memory/.../w-3/memory.limit_in_bytes`), or, for `none`, why
  /// not and how to make it possible.
  std::string note;
};

/// A reading of a worker's resources, as a `ResourceLimiter` sees it. The tree's figures (from
/// its cgroup) when the worker has one, else its main process's.
struct LimitSample {
  std::size_t worker = 0;
  std::uint64_t incarnation = 0;
  int pid = 0;
  TimePoint at{};
  std::uint64_t memory_bytes = 0;  ///< The tree's memory, or the main process's RSS.
  double cpu_seconds = 0;          ///< CPU time used so far (tree, or main process).
  bool leased = false;             ///< Held by a lease right now.
};

/// What a `ResourceLimiter` asks of the pool for one worker.
enum class LimitAction {
  none,
  /// Replace it gracefully: a new worker first, the old one drained (its lease, if any, ends
  /// normally) and stopped once the new one is ready. Never kills mid-lease.
  recycle,
};

/// A limiter's answer: an action and why (for the `WorkerRecycled` event).
struct LimitDecision {
  LimitAction action = LimitAction::none;
  std::string why;
};

/// The policy side of resource limits, run by the Pool on its loop thread: every `period()` it
/// samples each running worker and asks `on_sample`. Kernel-enforced limits are
/// `ProcessSpec::resources`; a limiter adds what only sampling can do (soft limits over a window,
/// any OS). Subclass it for your own. Not called concurrently; exceptions are caught and counted.
class SUPERVISOR_API ResourceLimiter {
 public:
  virtual ~ResourceLimiter();
  /// How often the pool samples for this limiter (at least 10 ms).
  [[nodiscard]] virtual Duration period() const = 0;
  /// One worker's sample; the answer says what to do with it.
  virtual LimitDecision on_sample(const LimitSample& sample) = 0;
  /// The incarnation ended (or was replaced): forget what was kept about it.
  virtual void on_gone(std::size_t worker, std::uint64_t incarnation);

 protected:
  ResourceLimiter() = default;
  ResourceLimiter(const ResourceLimiter&) = default;
  ResourceLimiter& operator=(const ResourceLimiter&) = default;
};

/// Soft limits for `SamplingLimiter`: a worker above `memory_bytes`, or using more than
/// `cpu_cores` (averaged between two samples), for `window` without a break is recycled.
struct SamplingLimiterOptions {
  std::optional<std::uint64_t> memory_bytes;
  std::optional<double> cpu_cores;
  Duration window = std::chrono::seconds(60);
  Duration period = std::chrono::seconds(5);
};

/// The built-in soft limiter: graceful recycling of workers that stay too big or too busy. Pair
/// it with a kernel `memory_max` above `memory_bytes`: the soft tier replaces a leaking worker
/// calmly long before the hard tier would OOM-kill it. Throws `Error(errc::invalid_argument)`
/// for a zero period or window, or no threshold.
class SUPERVISOR_API SamplingLimiter final : public ResourceLimiter {
 public:
  explicit SamplingLimiter(SamplingLimiterOptions options);
  [[nodiscard]] Duration period() const override { return options_.period; }
  LimitDecision on_sample(const LimitSample& sample) override;
  void on_gone(std::size_t worker, std::uint64_t incarnation) override;

 private:
  struct Track {
    std::uint64_t incarnation = 0;
    std::optional<TimePoint> memory_over_since;
    std::optional<TimePoint> cpu_over_since;
    std::optional<TimePoint> last_at;
    double last_cpu = 0;
  };
  SamplingLimiterOptions options_;
  std::vector<Track> tracks_;  // by worker index
};

/// Raises this process's soft open-file limit (RLIMIT_NOFILE) to `needed` when it is lower:
/// never above the hard limit, never lowering it. Returns the soft limit in force afterwards
/// (`UINT64_MAX`: unlimited). The library calls it only where the host asked
/// (`PoolOptions::raise_fd_limit`); children started afterwards inherit the raised limit.
/// Fails with `errc::fd_limit` when the hard limit is below `needed` (nothing is changed; the
/// message names both values), or with the OS's error when `setrlimit` refuses (e.g. `needed`
/// above the kernel's `fs.nr_open`). On Windows, which has no such limit, it does nothing and
/// returns `needed`. Any thread (calls are serialised; the limit is the whole process's).
SUPERVISOR_API std::uint64_t raise_fd_limit(std::size_t needed);
/// \overload
SUPERVISOR_API std::uint64_t raise_fd_limit(std::size_t needed, std::error_code& ec) noexcept;

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 6
#  include <supervisor/detail/header_only_end.hpp>
#endif
