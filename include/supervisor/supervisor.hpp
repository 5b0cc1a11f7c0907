// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 16  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Convenience header: includes every public header of the core library.

#include <supervisor/alerts.hpp>
#include <supervisor/circuit_breaker.hpp>
#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/export.hpp>
#include <supervisor/health.hpp>
#include <supervisor/limits.hpp>
#include <supervisor/loop.hpp>
#include <supervisor/metrics.hpp>
#include <supervisor/monitor.hpp>
#include <supervisor/pool.hpp>
#include <supervisor/process.hpp>
#include <supervisor/process_info.hpp>
#include <supervisor/process_spec.hpp>
#include <supervisor/resource_group.hpp>
#include <supervisor/restart_policy.hpp>
#include <supervisor/scaling.hpp>
#include <supervisor/service_notify.hpp>
#include <supervisor/supervision_group.hpp>
#include <supervisor/version.hpp>
#include <supervisor/worker_state.hpp>

#if SUPERVISOR_OUTERMOST == 16
#  include <supervisor/detail/header_only_end.hpp>
#endif
