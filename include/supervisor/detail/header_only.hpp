// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Header-only mode (`SUPERVISOR_HEADER_ONLY`, the `supervisor::header_only` target): the whole
/// library, compiled inline into the program that includes it. Every public header includes this
/// once it is complete (see `SUPERVISOR_OUTERMOST` in each), so a program may include any of
/// them. `supervisor/detail/impl/` is the library's `src/` folder: installed there, and linked
/// there in a build tree. The list follows the library's sources in CMakeLists.txt (its configure
/// step checks that every source is named here); the backend is picked by the platform.

#include <supervisor/supervisor.hpp>
#include <supervisor/testing.hpp>

// Portable: the alerts, the core, the strategies, the pool, the supervision group, the process
// layer above its backend, the fake world.
#include <supervisor/detail/impl/alerts/alert.cpp>
#include <supervisor/detail/impl/alerts/alert_manager.cpp>
#include <supervisor/detail/impl/alerts/rules.cpp>
#include <supervisor/detail/impl/alerts/sinks.cpp>
#include <supervisor/detail/impl/core/clock.cpp>
#include <supervisor/detail/impl/core/duration.cpp>
#include <supervisor/detail/impl/core/error.cpp>
#include <supervisor/detail/impl/core/exit_status.cpp>
#include <supervisor/detail/impl/core/limits.cpp>
#include <supervisor/detail/impl/core/metrics.cpp>
#include <supervisor/detail/impl/core/exposition.cpp>
#include <supervisor/detail/impl/core/service_notify.cpp>
#include <supervisor/detail/impl/core/validate.cpp>
#include <supervisor/detail/impl/core/version.cpp>
#include <supervisor/detail/impl/core/worker_state.cpp>
#include <supervisor/detail/impl/group/group_core.cpp>
#include <supervisor/detail/impl/group/supervision_group.cpp>
#include <supervisor/detail/impl/pool/health_runner.cpp>
#include <supervisor/detail/impl/pool/lease_desk.cpp>
#include <supervisor/detail/impl/pool/monitor.cpp>
#include <supervisor/detail/impl/pool/limit_watch.cpp>
#include <supervisor/detail/impl/pool/pool.cpp>
#include <supervisor/detail/impl/pool/pool_core.cpp>
#include <supervisor/detail/impl/pool/pool_core_control.cpp>
#include <supervisor/detail/impl/pool/pool_core_hooks.cpp>
#include <supervisor/detail/impl/pool/pool_core_leases.cpp>
#include <supervisor/detail/impl/pool/pool_core_lifecycle.cpp>
#include <supervisor/detail/impl/pool/pool_core_output.cpp>
#include <supervisor/detail/impl/pool/pool_core_update.cpp>
#include <supervisor/detail/impl/pool/pool_metrics.cpp>
#include <supervisor/detail/impl/pool/prometheus.cpp>
#include <supervisor/detail/impl/pool/rollouts.cpp>
#include <supervisor/detail/impl/pool/usage_sampler.cpp>
#include <supervisor/detail/impl/process/channel.cpp>
#include <supervisor/detail/impl/process/child.cpp>
#include <supervisor/detail/impl/process/exit_classify.cpp>
#include <supervisor/detail/impl/process/http_status.cpp>
#include <supervisor/detail/impl/process/loop.cpp>
#include <supervisor/detail/impl/process/loop_core.cpp>
#include <supervisor/detail/impl/process/notify_note.cpp>
#include <supervisor/detail/impl/process/output_buffer.cpp>
#include <supervisor/detail/impl/process/probes.cpp>
#include <supervisor/detail/impl/process/process.cpp>
#include <supervisor/detail/impl/process/real_pool_host.cpp>
#include <supervisor/detail/impl/process/resource_group.cpp>
#include <supervisor/detail/impl/process/rotating_log.cpp>
#include <supervisor/detail/impl/process/spawn_plan.cpp>
#include <supervisor/detail/impl/strategies/circuit_breaker.cpp>
#include <supervisor/detail/impl/strategies/health.cpp>
#include <supervisor/detail/impl/strategies/restart_policy.cpp>
#include <supervisor/detail/impl/strategies/sampling_limiter.cpp>
#include <supervisor/detail/impl/strategies/scaling.cpp>
#include <supervisor/detail/impl/testing/fake_world.cpp>
// The Windows backend's pure parts, portable (no OS header).
#include <supervisor/detail/impl/windows/command_line.cpp>
#include <supervisor/detail/impl/windows/env_block.cpp>
#include <supervisor/detail/impl/windows/job_limit_math.cpp>
#include <supervisor/detail/impl/windows/status_map.cpp>
#include <supervisor/detail/impl/windows/utf16.cpp>

#if defined(__linux__)
// The Linux backend, over POSIX.
#  include <supervisor/detail/impl/linux/cgroup_v1.cpp>
#  include <supervisor/detail/impl/linux/cgroup_v2.cpp>
#  include <supervisor/detail/impl/linux/cgroupfs.cpp>
#  include <supervisor/detail/impl/linux/clone3_spawn.cpp>
#  include <supervisor/detail/impl/linux/epoll_poller.cpp>
#  include <supervisor/detail/impl/linux/host_fds.cpp>
#  include <supervisor/detail/impl/linux/limits.cpp>
#  include <supervisor/detail/impl/linux/linux_backend.cpp>
#  include <supervisor/detail/impl/linux/linux_child.cpp>
#  include <supervisor/detail/impl/linux/notify_socket.cpp>
#  include <supervisor/detail/impl/linux/proc_stat.cpp>
#  include <supervisor/detail/impl/linux/registry.cpp>
#  include <supervisor/detail/impl/linux/sentinel.cpp>
#  include <supervisor/detail/impl/linux/spawn.cpp>
#  include <supervisor/detail/impl/linux/tcp_check.cpp>
#  include <supervisor/detail/impl/posix/fd_end.cpp>
#  include <supervisor/detail/impl/posix/fd_limit.cpp>
#  include <supervisor/detail/impl/posix/log_file.cpp>
#  include <supervisor/detail/impl/posix/posix_spawn.cpp>
#  include <supervisor/detail/impl/posix/service_socket.cpp>
#  include <supervisor/detail/impl/posix/signals.cpp>
#  include <supervisor/detail/impl/posix/spawn_prepare.cpp>
#elif defined(_WIN32)
// The Windows backend: Job Objects, one I/O completion port, overlapped pipes.
// tcp_check.cpp first: it includes <winsock2.h>, which must come before any <windows.h> (whose
// own <winsock.h> it clashes with). A program that includes <windows.h> itself before the first
// supervisor header defines WIN32_LEAN_AND_MEAN, or includes <winsock2.h> first.
#  include <supervisor/detail/impl/windows/tcp_check.cpp>
#  include <supervisor/detail/impl/process/no_service_socket.cpp>
#  include <supervisor/detail/impl/process/non_linux_parts.cpp>
#  include <supervisor/detail/impl/windows/handle_end.cpp>
#  include <supervisor/detail/impl/windows/iocp.cpp>
#  include <supervisor/detail/impl/windows/job_limits.cpp>
#  include <supervisor/detail/impl/windows/job_spawn.cpp>
#  include <supervisor/detail/impl/windows/log_file.cpp>
#  include <supervisor/detail/impl/windows/notify_pipe.cpp>
#  include <supervisor/detail/impl/windows/pipes.cpp>
#  include <supervisor/detail/impl/windows/unique_handle.cpp>
#  include <supervisor/detail/impl/windows/windows_backend.cpp>
#  include <supervisor/detail/impl/windows/windows_child.cpp>
#  include <supervisor/detail/impl/windows/windows_poller.cpp>
#else
// No process backend yet: a Loop cannot be made (errc::unsupported).
#  include <supervisor/detail/impl/process/no_backend.cpp>
#  include <supervisor/detail/impl/process/no_service_socket.cpp>
#  include <supervisor/detail/impl/process/non_linux_parts.cpp>
#endif
