// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The built-in health checks, but for the network ones' I/O (the backend's): the process's state
// and resources come from the backend's sampling, exec probes are ordinary supervised children.
// Each runs on the pool's loop thread and never blocks it.
#include <supervisor/health.hpp>
#include <supervisor/process.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <system_error>

#include "backend.hpp"
#include "child.hpp"
#include "probes.hpp"

namespace supervisor {

SUPERVISOR_INLINE bool detail::same_worker(const ProbeTarget& a, const ProbeTarget& b) {
  return a.worker == b.worker && a.incarnation == b.incarnation;
}

// ------------------------------------------------------------------------------------------
// ProcessAliveCheck

SUPERVISOR_INLINE void ProcessAliveCheck::probe(const ProbeTarget& target, ProbeCallback done) {
  const auto st = detail::sample_process(target.pid);
  if (!st) {
    done(ProbeResult::unhealthy(fmt::format("pid {} is gone", target.pid)));
  } else if (st->state == 'Z' || st->state == 'X') {
    done(ProbeResult::unhealthy(fmt::format("pid {} has exited", target.pid)));
  } else if (st->state == 'T' || st->state == 't') {
    done(
        ProbeResult::unhealthy(fmt::format("pid {} is stopped (state {})", target.pid, st->state)));
  } else {
    done(ProbeResult::healthy(fmt::format("state {}", st->state)));
  }
}

// ------------------------------------------------------------------------------------------
// ResourceThresholdCheck

SUPERVISOR_INLINE ResourceThresholdCheck::ResourceThresholdCheck(Limits limits) : limits_(limits) {}

SUPERVISOR_INLINE void ResourceThresholdCheck::probe(const ProbeTarget& target,
                                                     ProbeCallback done) {
  const auto sample = detail::sample_process(target.pid);
  if (!sample) {
    done(ProbeResult::unhealthy(fmt::format("pid {} is gone", target.pid)));
    return;
  }
  const TimePoint t = default_clock().now();
  std::optional<double> cores;  // since the previous probe of this incarnation
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(previous_.begin(), previous_.end(),
                           [&](const auto& p) { return p.first == target.worker; });
    if (it == previous_.end()) it = previous_.insert(previous_.end(), {target.worker, Previous{}});
    Previous& prev = it->second;
    const double elapsed = std::chrono::duration<double>(t - prev.at).count();
    if (prev.incarnation == target.incarnation && elapsed > 0)
      cores = (sample->cpu_seconds - prev.cpu_seconds) / elapsed;
    prev = Previous{target.incarnation, sample->cpu_seconds, t};
  }
  const double mib = static_cast<double>(sample->rss_bytes) / (1024.0 * 1024.0);
  std::string detail = fmt::format("rss {:.1f} MiB", mib);
  if (cores) detail += fmt::format(", cpu {:.2f} cores", *cores);
  HealthStatus status = HealthStatus::healthy;
  auto judge = [&](double value, double limit) {
    if (limit <= 0) return;
    if (value > limit) {
      status = HealthStatus::unhealthy;
    } else if (value > limit * limits_.degraded_fraction && status == HealthStatus::healthy) {
      status = HealthStatus::degraded;
    }
  };
  judge(static_cast<double>(sample->rss_bytes), static_cast<double>(limits_.max_rss_bytes));
  if (cores) judge(*cores, limits_.max_cpu_cores);
  done(ProbeResult{status, std::move(detail)});
}

// ------------------------------------------------------------------------------------------
// ExecCheck

struct ExecCheck::Running {
  ProbeTarget target;
  Process process;
};

SUPERVISOR_INLINE ExecCheck::ExecCheck(std::vector<std::string> argv, ExecCheckOptions options)
    : argv_(std::move(argv)), options_(options) {}

SUPERVISOR_INLINE ExecCheck::~ExecCheck() {
  std::vector<std::shared_ptr<Running>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(running_);
  }
  for (auto& r : left) r->process.request_kill();  // each is reaped by its loop
}

SUPERVISOR_INLINE void ExecCheck::probe(const ProbeTarget& target, ProbeCallback done) {
  if (!target.loop) {
    done(ProbeResult::unknown("exec checks need a real Loop"));
    return;
  }
  if (argv_.empty()) {
    done(ProbeResult::unknown("exec check without a command"));
    return;
  }
  auto spec = std::make_shared<ProcessSpec>();
  const bool as_worker = !options_.run_as_host && target.spec;
  if (as_worker) {
    // Whatever the worker could change (its files, the probe's script) then runs with no more
    // privilege than the worker has.
    const ProcessSpec& worker = *target.spec;
    spec->env = worker.env;
    spec->identity = worker.identity;
    spec->cwd = worker.cwd;
    spec->limits = worker.limits;
    for (const char* own : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) {
      spec->env.set.erase(own);
      spec->env.unset.emplace_back(own);
    }
  }
  spec->argv = argv_;
  spec->in = StdioSpec::null();
  spec->out = StdioSpec::null();
  spec->err = StdioSpec::pipe();
  spec->output.exit_tail_lines = 3;
  spec->env.set["SUPERVISOR_WORKER_PID"] = std::to_string(target.pid);
  spec->env.set["SUPERVISOR_WORKER_INDEX"] = std::to_string(target.worker);
  spec->env.set["SUPERVISOR_WORKER_INCARNATION"] = std::to_string(target.incarnation);
  spec->stop.steps.clear();  // a cancelled probe is killed at once, tree and all
  ProcessOptions options;
  options.on_exit = [done](const ExitStatus& st) {
    if (st.ok()) {
      done(ProbeResult::healthy("exit 0"));
      return;
    }
    std::string why = st.describe();
    if (!st.stderr_tail.empty()) why += ": " + st.stderr_tail.back();
    done(ProbeResult::unhealthy(std::move(why)));
  };
  detail::ErrorSink err;
  Process p = detail::start_process(target.loop, std::move(spec), std::move(options), false, err,
                                    as_worker ? target.cgroup : std::string());
  if (err) {
    done(ProbeResult::unknown("exec: " + err.context));
    return;
  }
  auto running = std::make_shared<Running>(Running{target, std::move(p)});
  std::vector<std::shared_ptr<Running>> finished;
  {
    std::lock_guard lock(mu_);
    auto over = [](const std::shared_ptr<Running>& r) { return !r->process.running(); };
    for (auto& r : running_) {
      if (over(r)) finished.push_back(r);
    }
    running_.erase(std::remove_if(running_.begin(), running_.end(), over), running_.end());
    running_.push_back(std::move(running));
  }
  // `finished` goes out of scope here, outside the lock: those processes are over already.
}

SUPERVISOR_INLINE void ExecCheck::cancel(const ProbeTarget& target) {
  std::lock_guard lock(mu_);
  for (auto& r : running_) {
    if (detail::same_worker(r->target, target) && r->process.running()) r->process.request_kill();
  }
}

// ------------------------------------------------------------------------------------------
// TcpCheck and HttpCheck: their I/O is the backend's (e.g. src/linux/tcp_check.cpp).

SUPERVISOR_INLINE TcpCheck::TcpCheck(std::string address, std::uint16_t port)
    : address_(std::move(address)), port_(port) {}

SUPERVISOR_INLINE TcpCheck::TcpCheck(std::string address, std::uint16_t port, std::string request)
    : address_(std::move(address)), port_(port), request_(std::move(request)) {}

SUPERVISOR_INLINE TcpCheck::TcpCheck(ProbeEndpointFn endpoint) : endpoint_(std::move(endpoint)) {
  if (!endpoint_) throw_error(errc::invalid_argument, "TcpCheck: the endpoint function is empty");
}

SUPERVISOR_INLINE TcpCheck::TcpCheck(ProbeEndpointFn endpoint, std::string path)
    : endpoint_(std::move(endpoint)), path_(std::move(path)), http_(true) {
  if (!endpoint_) throw_error(errc::invalid_argument, "HttpCheck: the endpoint function is empty");
  static_cast<void>(detail::http_probe_request("127.0.0.1", 80, path_));  // throws for a bad path
}

SUPERVISOR_INLINE ProbeEndpoint TcpCheck::endpoint_of(const ProbeTarget& target) const {
  if (endpoint_) return endpoint_(target);
  return ProbeEndpoint{address_, port_};
}

SUPERVISOR_INLINE std::string TcpCheck::request_for(const ProbeEndpoint& at) const {
  if (!endpoint_) return request_;
  return http_ ? detail::http_probe_request(at.address, at.port, path_) : std::string();
}

SUPERVISOR_INLINE ProbeEndpointFn port_per_worker(std::string address, std::uint16_t base_port) {
  return [address = std::move(address), base_port](const ProbeTarget& target) {
    if (target.worker > 65535U - base_port) {
      throw_error(errc::invalid_argument,
                  fmt::format("port_per_worker: port {} + worker {} is past 65535", base_port,
                              target.worker));
    }
    return ProbeEndpoint{address, static_cast<std::uint16_t>(base_port + target.worker)};
  };
}

namespace detail {
// The path must be a request target (origin form): a space or a
// control character in it (CR, LF above all) would change the request's meaning.
SUPERVISOR_INLINE std::string http_probe_request(const std::string& address, std::uint16_t port,
                                                 const std::string& path) {
  const std::string target = path.empty() ? "/" : path;
  const bool bad_char = std::any_of(target.begin(), target.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
  if (target.front() != '/' || bad_char) {
    std::string shown;
    for (const char c : target) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        shown += fmt::format("\\x{:02x}", u);
      } else {
        shown += c;
      }
    }
    throw_error(errc::invalid_argument,
                fmt::format("HttpCheck: path \"{}\" is not a request target (it must start with "
                            "'/' and hold no space or control character)",
                            shown));
  }
  // An IPv6 literal is bracketed in Host, as in a URL (RFC 9110, 7.2).
  const bool ipv6 = address.find(':') != std::string::npos;
  return fmt::format(
      "GET {} HTTP/1.1\r\nHost: {}{}{}:{}\r\nUser-Agent: supervisor-probe\r\n"
      "Accept: */*\r\nConnection: close\r\n\r\n",
      target, ipv6 ? "[" : "", address, ipv6 ? "]" : "", port);
}
}  // namespace detail

SUPERVISOR_INLINE HttpCheck::HttpCheck(std::string address, std::uint16_t port, std::string path)
    : TcpCheck(address, port, detail::http_probe_request(address, port, path)) {}

SUPERVISOR_INLINE HttpCheck::HttpCheck(ProbeEndpointFn endpoint, std::string path)
    : TcpCheck(std::move(endpoint), std::move(path)) {}

}  // namespace supervisor
