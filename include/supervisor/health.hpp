// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once
#ifndef SUPERVISOR_OUTERMOST
#  define SUPERVISOR_OUTERMOST 5  // this header's number (see detail/header_only_end.hpp)
#endif

/// \file
/// Health checks: the `HealthCheckStrategy` interface a Pool runs with Kubernetes' probe timing
/// (initial delay, period, timeout, success and failure thresholds) in one of three roles
/// (startup, liveness, readiness), and the built-in checks.
///
/// Threading: the pool calls `probe` and `cancel` on its loop thread; a probe must never block
/// there. It hands its result to `done`, at once or later, from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>

namespace supervisor {

struct ProcessSpec;

namespace detail {
class LoopCore;
}

/// What a check says about a worker, worst last but one: `unknown` (no answer, or a probe that
/// could not run) counts as a failure like `unhealthy`; `degraded` counts as a success.
enum class HealthStatus { healthy, degraded, unknown, unhealthy };

/// "healthy", "degraded", "unknown", "unhealthy".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(HealthStatus s) noexcept;

/// What a check decides, as in Kubernetes:
enum class ProbeRole {
  /// Runs from the start; the other checks wait until it has passed once. `failure_threshold`
  /// failures in a row: the worker is stopped (exit reason `unhealthy`) and the restart policy
  /// decides what follows.
  startup,
  /// `failure_threshold` failures in a row: the worker is stopped (exit reason `unhealthy`).
  liveness,
  /// Gates leases: a worker becomes ready only once it has passed `success_threshold` times in
  /// a row, and gets no new lease after `failure_threshold` failures in a row, until it passes
  /// again. Its process is left alone.
  readiness,
};

/// "startup", "liveness", "readiness".
[[nodiscard]] SUPERVISOR_API std::string_view to_string(ProbeRole r) noexcept;

/// When a check runs and how its results count; the defaults are Kubernetes' own.
struct ProbeTiming {
  Duration initial_delay{};                    ///< After the start (`initialDelaySeconds`: 0).
  Duration period = std::chrono::seconds(10);  ///< Between probes (`periodSeconds`: 10).
  /// A probe without an answer by then failed, and is cancelled (`timeoutSeconds`: 1).
  Duration timeout = std::chrono::seconds(1);
  int success_threshold = 1;  ///< Passes in a row that make it pass (`successThreshold`: 1).
  int failure_threshold = 3;  ///< Failures in a row that make it fail (`failureThreshold`: 3).
};

/// The worker a probe checks. Passed by value; valid for as long as the probe runs.
struct ProbeTarget {
  std::size_t worker = 0;
  std::uint64_t incarnation = 0;
  int pid = 0;  ///< Its main process (alive when the probe starts).
  /// The spec the incarnation was started with (the worker's own with a
  /// `PoolOptions::per_worker_spec`; null where unknown). The variables the pool adds to the
  /// environment over it (`SUPERVISOR_WORKER_INDEX`, ...) are not in its `env`.
  std::shared_ptr<const ProcessSpec> spec;
  /// Its cgroup v2 directory (`ProcessInfo::cgroup`); empty when it has none.
  std::string cgroup;
  /// Internal: the loop the pool runs on, which the built-in probes use to watch sockets and
  /// run processes without blocking it. Null on a `testing::FakeWorld`.
  std::shared_ptr<detail::LoopCore> loop;
};

/// The answer of one probe.
struct ProbeResult {
  HealthStatus status = HealthStatus::unknown;
  std::string detail;  ///< Why, in a few words (shown in events).

  static ProbeResult healthy(std::string why = {}) {
    return {HealthStatus::healthy, std::move(why)};
  }
  static ProbeResult degraded(std::string why = {}) {
    return {HealthStatus::degraded, std::move(why)};
  }
  static ProbeResult unhealthy(std::string why = {}) {
    return {HealthStatus::unhealthy, std::move(why)};
  }
  static ProbeResult unknown(std::string why = {}) {
    return {HealthStatus::unknown, std::move(why)};
  }
};

/// Takes a probe's result; any thread, once (later calls of a probe that timed out are ignored).
using ProbeCallback = std::function<void(ProbeResult)>;

/// A health check. Subclass it for your own; the pool runs at most one probe of a check per
/// worker at a time. An exception from `probe` counts as a failed probe (and is reported to the
/// pool's error handler).
class SUPERVISOR_API HealthCheckStrategy {
 public:
  virtual ~HealthCheckStrategy() = default;
  /// Starts one probe of `target` without blocking; calls `done` with the result, now or later.
  virtual void probe(const ProbeTarget& target, ProbeCallback done) = 0;
  /// The probe in flight for `target` took longer than its timeout, or the worker is gone: stop
  /// it (kill its process tree, close its socket). Its result no longer counts. Default: nothing.
  virtual void cancel(const ProbeTarget& target);
  /// A short name for events and metrics ("tcp", "exec", ...).
  [[nodiscard]] virtual std::string name() const = 0;
};

/// A check as a pool runs it: the strategy, its role and its timing.
struct HealthCheck {
  std::shared_ptr<HealthCheckStrategy> strategy;
  ProbeRole role = ProbeRole::liveness;
  ProbeTiming timing;
};

// ------------------------------------------------------------------------------------------
// Built-in checks.

/// Healthy while the main process runs and is not stopped or traced (state T/t in /proc, e.g. a
/// worker someone SIGSTOPped: alive, doing nothing); a zombie or a vanished process is unhealthy.
class SUPERVISOR_API ProcessAliveCheck : public HealthCheckStrategy {
 public:
  void probe(const ProbeTarget& target, ProbeCallback done) override;
  [[nodiscard]] std::string name() const override { return "process"; }
};

/// Compares the worker's main process with thresholds, from /proc: resident memory, and CPU use
/// since the previous probe (in cores: 1.0 is one core busy all the time). Above a limit is
/// unhealthy; above `degraded_fraction` of one is degraded (still a pass, but it shows, and it
/// lowers the health score). A zero limit is not checked. For limits the kernel enforces, see
/// the ResourceLimiter.
class SUPERVISOR_API ResourceThresholdCheck : public HealthCheckStrategy {
 public:
  struct Limits {
    std::uint64_t max_rss_bytes = 0;
    double max_cpu_cores = 0;
    double degraded_fraction = 0.8;
  };
  explicit ResourceThresholdCheck(Limits limits);
  void probe(const ProbeTarget& target, ProbeCallback done) override;
  [[nodiscard]] std::string name() const override { return "resources"; }

 private:
  struct Previous {
    std::uint64_t incarnation = 0;
    double cpu_seconds = 0;
    TimePoint at{};
  };
  Limits limits_;
  std::mutex mu_;
  std::vector<std::pair<std::size_t, Previous>> previous_;  // (mu_) per worker
};

/// How an `ExecCheck` runs its command.
struct ExecCheckOptions {
  /// false (default): as the worker runs, as Kubernetes runs an exec probe inside the container:
  /// with the worker's identity (user, groups, umask), environment rules, cwd and rlimits, born
  /// inside the worker's cgroup where it has one (its limits hold the probe too, and the
  /// worker's tree kill reaches it). Only the service-manager variables the pool gives the
  /// worker (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`) are left out: a probe never
  /// speaks for the worker. true: as the host (its user, often root, its environment and
  /// cwd, no cgroup of the worker's): then a worker able to write the probe's program, or
  /// anything it runs, gets the host's privileges.
  bool run_as_host = false;
};

/// Runs a command (directly, no shell) with stdio on /dev/null but for stderr, which is kept for
/// the detail; healthy when it exits 0. The command finds the worker's PID in
/// `SUPERVISOR_WORKER_PID`, its index in `SUPERVISOR_WORKER_INDEX` and its incarnation in
/// `SUPERVISOR_WORKER_INCARNATION`. By default it runs as the worker (`ExecCheckOptions`). A probe
/// that times out is killed with its whole tree. Needs a real Loop (on a fake world it answers
/// `unknown`).
class SUPERVISOR_API ExecCheck : public HealthCheckStrategy {
 public:
  explicit ExecCheck(std::vector<std::string> argv, ExecCheckOptions options = {});
  ~ExecCheck() override;
  void probe(const ProbeTarget& target, ProbeCallback done) override;
  void cancel(const ProbeTarget& target) override;
  [[nodiscard]] std::string name() const override { return "exec"; }

 private:
  struct Running;
  std::vector<std::string> argv_;
  ExecCheckOptions options_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Running>> running_;  // (mu_)
};

/// Where a network check (`TcpCheck`, `HttpCheck`) connects: a numeric IPv4 or IPv6 address or
/// "localhost" (127.0.0.1), and a port.
struct ProbeEndpoint {
  std::string address;
  std::uint16_t port = 0;
};

/// Computes the endpoint of the worker a probe is for, from its target (index, incarnation, pid,
/// spec): for workers that each listen on an endpoint of their own, so that a check judges the
/// worker it probes. Called on the pool's loop thread for each probe; it must not block. What it
/// throws fails that probe (and goes to the pool's error handler, as a check's exception does).
using ProbeEndpointFn = std::function<ProbeEndpoint(const ProbeTarget& target)>;

/// `address`:`base_port + worker index`: the endpoint of workers that listen on a port of their
/// own, e.g. one `PoolOptions::per_worker_spec` gives each (`8000 + index`). A worker whose port
/// would pass 65535 fails its probes (the function throws `errc::invalid_argument`).
[[nodiscard]] SUPERVISOR_API ProbeEndpointFn port_per_worker(std::string address,
                                                             std::uint16_t base_port);

/// Healthy when a TCP connection to its endpoint succeeds: one fixed `address`:`port` for every
/// worker, or each worker's own (`ProbeEndpointFn`, e.g. `port_per_worker`). The address is a
/// numeric IPv4 or IPv6 address or "localhost" (127.0.0.1): the probe never blocks on a name
/// lookup. Needs a real Loop (on a fake world it answers `unknown`). On Windows the socket is an
/// overlapped Winsock one whose completions come through the loop's completion port (Winsock is
/// started on the first probe, once per process, and never cleaned up: the process's end
/// releases it); errors name the Winsock code, e.g. `connect 127.0.0.1:8080: ... (Winsock error
/// 10061 WSAECONNREFUSED)`.
class SUPERVISOR_API TcpCheck : public HealthCheckStrategy {
 public:
  TcpCheck(std::string address, std::uint16_t port);
  /// Probes each worker at the endpoint `endpoint` computes for it.
  explicit TcpCheck(ProbeEndpointFn endpoint);
  ~TcpCheck() override;
  void probe(const ProbeTarget& target, ProbeCallback done) override;
  void cancel(const ProbeTarget& target) override;
  [[nodiscard]] std::string name() const override { return "tcp"; }
  /// The endpoint a probe of `target` connects to (what the endpoint function throws, this
  /// throws). Also for tests of an endpoint function.
  [[nodiscard]] ProbeEndpoint endpoint_of(const ProbeTarget& target) const;

  struct Attempt;  // internal: one probe in flight

 protected:
  /// For HttpCheck: once connected, sends `request` and judges the response's status line.
  TcpCheck(std::string address, std::uint16_t port, std::string request);
  /// For HttpCheck with an endpoint per worker: sends `GET path` to each worker's endpoint.
  TcpCheck(ProbeEndpointFn endpoint, std::string path);

 private:
  [[nodiscard]] std::string request_for(const ProbeEndpoint& at) const;

  std::string address_;
  std::uint16_t port_ = 0;
  std::string request_;
  ProbeEndpointFn endpoint_;  // when set: each worker's endpoint (address_, port_ unused)
  std::string path_;          // with endpoint_: HttpCheck's path (its request is built per probe)
  bool http_ = false;         // with endpoint_: an HttpCheck
  std::mutex mu_;
  std::vector<std::shared_ptr<Attempt>> attempts_;  // (mu_)
};

/// Healthy when `GET path` answers with a status from 200 to 399 (Kubernetes' rule), over plain
/// HTTP/1.1 to its endpoint: one fixed `address`:`port`, or each worker's own
/// (`ProbeEndpointFn`; as for TcpCheck: numeric or "localhost"). The detail quotes the status
/// line. The `Host` header names the address as a URL does (`[::1]:8080` for IPv6).
class SUPERVISOR_API HttpCheck : public TcpCheck {
 public:
  /// Throws `errc::invalid_argument` when `path` is not a request target: empty is "/", else it
  /// must start with '/' and hold no space or control character (a CR or LF would let the path
  /// inject headers).
  HttpCheck(std::string address, std::uint16_t port, std::string path = "/");
  /// Probes each worker at the endpoint `endpoint` computes for it (e.g. `port_per_worker`).
  /// Throws as above for a bad `path`.
  explicit HttpCheck(ProbeEndpointFn endpoint, std::string path = "/");
  [[nodiscard]] std::string name() const override { return "http"; }
};

/// Several checks as one: all are probed at once, and the worst answer wins (unhealthy, then
/// unknown, then degraded, then healthy); the detail lists the ones that were not healthy.
class SUPERVISOR_API CompositeCheck : public HealthCheckStrategy {
 public:
  explicit CompositeCheck(std::vector<std::shared_ptr<HealthCheckStrategy>> checks);
  void probe(const ProbeTarget& target, ProbeCallback done) override;
  void cancel(const ProbeTarget& target) override;
  [[nodiscard]] std::string name() const override;

 private:
  std::vector<std::shared_ptr<HealthCheckStrategy>> checks_;
};

}  // namespace supervisor

#if SUPERVISOR_OUTERMOST == 5
#  include <supervisor/detail/header_only_end.hpp>
#endif
