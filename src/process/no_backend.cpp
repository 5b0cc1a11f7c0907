// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The backend of a platform that has none yet (process/backend.hpp): everything portable builds
// and runs (the pool on a testing::FakeWorld, the strategies), but a Loop cannot be made: real
// processes need a backend. Each entry point says so with errc::unsupported (a TCP health check
// with an `unknown` result naming the gap).
#include <fmt/format.h>

#include <supervisor/health.hpp>

#include "backend.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE std::unique_ptr<Backend> make_backend(LoopCore&, const LoopOptions&, LoopInfo&) {
  throw_error(errc::unsupported,
              "Loop: this platform has no process backend yet (the pool runs on a "
              "testing::FakeWorld only)");
}

SUPERVISOR_INLINE std::optional<ProcessSample> sample_process(int, bool) { return std::nullopt; }

SUPERVISOR_INLINE std::unique_ptr<LogFile> open_log_file(const StdioSpec&, std::string_view field,
                                                         ErrorSink& err) {
  err.fail(errc::unsupported, [&] {
    return fmt::format(
        "ProcessSpec.{}: log files need a process backend, which this platform lacks", field);
  });
  return nullptr;
}

}  // namespace supervisor::detail

namespace supervisor {

struct TcpCheck::Attempt {};  // a class, not a function: no SUPERVISOR_INLINE

SUPERVISOR_INLINE TcpCheck::~TcpCheck() = default;

SUPERVISOR_INLINE void TcpCheck::probe(const ProbeTarget&, ProbeCallback done) {
  done(ProbeResult::unknown(name() + " checks are not offered on this platform yet"));
}

SUPERVISOR_INLINE void TcpCheck::cancel(const ProbeTarget&) {}

}  // namespace supervisor
