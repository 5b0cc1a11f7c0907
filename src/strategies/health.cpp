// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The portable half of the health checks: names, the default cancel, CompositeCheck.
#include <supervisor/health.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <utility>

namespace supervisor {

SUPERVISOR_INLINE std::string_view to_string(HealthStatus s) noexcept {
  switch (s) {
    case HealthStatus::healthy: return "healthy";
    case HealthStatus::degraded: return "degraded";
    case HealthStatus::unknown: return "unknown";
    case HealthStatus::unhealthy: return "unhealthy";
  }
  return "?";
}

SUPERVISOR_INLINE std::string_view to_string(ProbeRole r) noexcept {
  switch (r) {
    case ProbeRole::startup: return "startup";
    case ProbeRole::liveness: return "liveness";
    case ProbeRole::readiness: return "readiness";
  }
  return "?";
}

SUPERVISOR_INLINE void HealthCheckStrategy::cancel(const ProbeTarget& /*target*/) {}

SUPERVISOR_INLINE CompositeCheck::CompositeCheck(
    std::vector<std::shared_ptr<HealthCheckStrategy>> checks)
    : checks_(std::move(checks)) {}

SUPERVISOR_INLINE std::string CompositeCheck::name() const {
  std::string out = "all(";
  for (std::size_t i = 0; i < checks_.size(); ++i) {
    if (i > 0) out += ",";
    out += checks_[i] ? checks_[i]->name() : "null";
  }
  return out + ")";
}

SUPERVISOR_INLINE void CompositeCheck::probe(const ProbeTarget& target, ProbeCallback done) {
  if (checks_.empty()) {
    done(ProbeResult::healthy("no checks"));
    return;
  }
  // The answers come from any thread, in any order; the last one decides.
  struct Gather {
    std::mutex mu;
    std::size_t left;
    HealthStatus worst = HealthStatus::healthy;
    std::string detail;
    ProbeCallback done;
  };
  auto g = std::make_shared<Gather>();
  g->left = checks_.size();
  g->done = std::move(done);
  auto answer = [g](const std::string& who, ProbeResult r) {
    ProbeCallback finish;
    ProbeResult out;
    {
      std::lock_guard lock(g->mu);
      if (g->left == 0) return;                 // a check that answered twice
      g->worst = std::max(g->worst, r.status);  // the enum is ordered best to worst
      if (r.status != HealthStatus::healthy) {
        if (!g->detail.empty()) g->detail += "; ";
        g->detail += who + ": " + std::string(to_string(r.status));
        if (!r.detail.empty()) g->detail += " (" + r.detail + ")";
      }
      if (--g->left > 0) return;
      out = ProbeResult{g->worst, g->detail.empty() ? "all healthy" : g->detail};
      finish = std::move(g->done);
    }
    finish(std::move(out));
  };
  for (const auto& check : checks_) {
    const std::string who = check ? check->name() : "null";
    if (!check) {
      answer(who, ProbeResult::unknown("no strategy"));
      continue;
    }
    try {
      check->probe(target, [answer, who](ProbeResult r) { answer(who, std::move(r)); });
    } catch (const std::exception& e) {
      answer(who, ProbeResult::unhealthy(std::string("threw: ") + e.what()));
    } catch (...) {
      answer(who, ProbeResult::unhealthy("threw"));
    }
  }
}

SUPERVISOR_INLINE void CompositeCheck::cancel(const ProbeTarget& target) {
  for (const auto& check : checks_) {
    if (!check) continue;
    try {
      check->cancel(target);
    } catch (...) {
      // Cancelling is best effort; the pool has already counted the probe as failed.
    }
  }
}

}  // namespace supervisor
