// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include <supervisor/clock.hpp>
#include <supervisor/error.hpp>
#include <supervisor/exit_status.hpp>
#include <supervisor/restart_policy.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "catch_compat.hpp"

namespace sv = supervisor;
using namespace std::chrono_literals;

namespace {

constexpr std::array<sv::ExitReason, 11> all_reasons = {
    sv::ExitReason::success,      sv::ExitReason::exit_code, sv::ExitReason::signal,
    sv::ExitReason::core_dump,    sv::ExitReason::timeout,   sv::ExitReason::watchdog,
    sv::ExitReason::unhealthy,    sv::ExitReason::oom_kill,  sv::ExitReason::resource_limit,
    sv::ExitReason::spawn_failed, sv::ExitReason::unknown};

constexpr std::array<sv::RestartMode, 5> all_modes = {
    sv::RestartMode::never, sv::RestartMode::always, sv::RestartMode::on_success,
    sv::RestartMode::on_failure, sv::RestartMode::on_abnormal};

// A coherent ExitStatus for `reason` (codes and signals as the process layer would fill them).
sv::ExitStatus status_for(sv::ExitReason reason, bool stop_requested = false,
                          sv::Duration uptime = 1h) {
  sv::ExitStatus s;
  s.reason = reason;
  s.stop_requested = stop_requested;
  s.uptime = uptime;
  switch (reason) {
    case sv::ExitReason::success: s.exit_code = 0; break;
    case sv::ExitReason::exit_code: s.exit_code = 1; break;
    case sv::ExitReason::signal: s.signal = stop_requested ? 15 : 11; break;
    case sv::ExitReason::core_dump:
      s.signal = 6;
      s.core_dumped = true;
      break;
    case sv::ExitReason::timeout:
    case sv::ExitReason::watchdog:
    case sv::ExitReason::oom_kill: s.signal = 9; break;  // the library's or the kernel's SIGKILL
    case sv::ExitReason::unhealthy:
      s.signal = 15;
      break;  // the StopPlan's SIGTERM  // the library's or the kernel's SIGKILL
    case sv::ExitReason::resource_limit: s.signal = 24; break;
    case sv::ExitReason::spawn_failed:
    case sv::ExitReason::unknown: break;
  }
  return s;
}

sv::ExitStatus exited(int code, sv::Duration uptime = 1h) {
  sv::ExitStatus s =
      status_for(code == 0 ? sv::ExitReason::success : sv::ExitReason::exit_code, false, uptime);
  s.exit_code = code;
  return s;
}

sv::ExitStatus killed(int sig, sv::Duration uptime = 1h, bool core = false) {
  sv::ExitStatus s =
      status_for(core ? sv::ExitReason::core_dump : sv::ExitReason::signal, false, uptime);
  s.signal = sig;
  return s;
}

sv::RestartDecision decide(sv::RestartPolicy& p, std::size_t worker, const sv::ExitStatus& s,
                           sv::TimePoint now) {
  return p.on_exit(sv::RestartContext{worker, s, now});
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Options where only the mode and the exit rules matter: no delay, every run free, no budget.
sv::StandardRestartOptions bare(sv::RestartMode mode) {
  sv::StandardRestartOptions o;
  o.mode = mode;
  o.backoff = sv::BackoffOptions::fixed(0ns);
  o.min_uptime = 0ns;
  o.budget.window = 0ns;
  return o;
}

// The classification table documented on RestartMode, written out literally.
struct ClassRow {
  sv::ExitReason reason;
  bool clean;
  bool clean_when_stop_requested;
  bool abnormal;
  bool abnormal_when_stop_requested;
};

constexpr std::array<ClassRow, 11> class_table = {{
    {sv::ExitReason::success, true, true, false, false},
    {sv::ExitReason::exit_code, false, true, false, false},
    {sv::ExitReason::signal, false, true, true, false},
    {sv::ExitReason::core_dump, false, false, true, true},
    {sv::ExitReason::timeout, false, false, true, true},
    {sv::ExitReason::watchdog, false, false, true, true},
    {sv::ExitReason::unhealthy, false, false, true, true},
    {sv::ExitReason::oom_kill, false, false, true, true},
    {sv::ExitReason::resource_limit, false, false, true, true},
    {sv::ExitReason::spawn_failed, false, false, false, false},
    {sv::ExitReason::unknown, false, false, true, true},
}};

bool expected_restart(sv::RestartMode mode, bool clean, bool abnormal) {
  switch (mode) {
    case sv::RestartMode::never: return false;
    case sv::RestartMode::always: return true;
    case sv::RestartMode::on_success: return clean;
    case sv::RestartMode::on_failure: return !clean;
    case sv::RestartMode::on_abnormal: return abnormal;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Decision helpers and the interface's defaults
// ---------------------------------------------------------------------------------------------

TEST_CASE("RestartDecision helpers build the three answers", "[unit][restart]") {
  const auto a = sv::RestartDecision::now("go");
  CHECK(a.restart);
  CHECK(a.delay == 0ns);
  CHECK(a.why == "go");
  const auto b = sv::RestartDecision::after(3s, "later");
  CHECK(b.restart);
  CHECK(b.delay == 3s);
  CHECK(b.why == "later");
  const auto c = sv::RestartDecision::give_up("broken");
  CHECK_FALSE(c.restart);
  CHECK(c.delay == 0ns);
  CHECK(c.why == "broken");
  CHECK(sv::policy_error_restart_delay == 10s);

  const sv::ExitStatus s = exited(3, 1500ms);
  const sv::RestartContext ctx{7, s, sv::TimePoint{2s}};
  CHECK(ctx.uptime() == 1500ms);
  CHECK(ctx.worker == 7);
}

TEST_CASE("the interface's optional hooks default to doing nothing", "[unit][restart]") {
  struct OnlyExit final : sv::RestartPolicy {
    sv::RestartDecision on_exit(const sv::RestartContext&) override {
      return sv::RestartDecision::now();
    }
  };
  OnlyExit p;
  p.on_started(0, sv::TimePoint{});
  p.on_ready(0, sv::TimePoint{1s});
  p.forget(0);
  std::unique_ptr<sv::RestartPolicy> owned = std::make_unique<OnlyExit>();
  CHECK(decide(*owned, 0, exited(1), sv::TimePoint{}).restart);
}

TEST_CASE("mode and jitter names", "[unit][restart]") {
  CHECK(sv::to_string(sv::RestartMode::never) == "never");
  CHECK(sv::to_string(sv::RestartMode::always) == "always");
  CHECK(sv::to_string(sv::RestartMode::on_success) == "on-success");
  CHECK(sv::to_string(sv::RestartMode::on_failure) == "on-failure");
  CHECK(sv::to_string(sv::RestartMode::on_abnormal) == "on-abnormal");
  CHECK(sv::to_string(sv::Jitter::none) == "none");
  CHECK(sv::to_string(sv::Jitter::full) == "full");
  CHECK(sv::to_string(sv::Jitter::equal) == "equal");
}

// ---------------------------------------------------------------------------------------------
// (1) When to restart
// ---------------------------------------------------------------------------------------------

TEST_CASE("every ExitReason is classified as documented, with and without a stop request",
          "[unit][restart]") {
  for (const ClassRow& row : class_table) {
    for (bool stop : {false, true}) {
      const sv::ExitStatus s = status_for(row.reason, stop);
      INFO(sv::to_string(row.reason) << (stop ? " (stop requested)" : ""));
      CHECK(sv::is_clean_exit(s) == (stop ? row.clean_when_stop_requested : row.clean));
      CHECK(sv::is_abnormal_exit(s) == (stop ? row.abnormal_when_stop_requested : row.abnormal));
      CHECK_FALSE((sv::is_clean_exit(s) && sv::is_abnormal_exit(s)));
    }
  }
  // The table covers every reason.
  for (sv::ExitReason r : all_reasons) {
    CHECK(std::any_of(class_table.begin(), class_table.end(),
                      [r](const ClassRow& row) { return row.reason == r; }));
  }
}

TEST_CASE("restart_wanted: every mode against every ExitReason", "[unit][restart]") {
  for (sv::RestartMode mode : all_modes) {
    for (const ClassRow& row : class_table) {
      for (bool stop : {false, true}) {
        const sv::ExitStatus s = status_for(row.reason, stop);
        const bool clean = stop ? row.clean_when_stop_requested : row.clean;
        const bool abnormal = stop ? row.abnormal_when_stop_requested : row.abnormal;
        INFO(sv::to_string(mode) << " / " << sv::to_string(row.reason)
                                 << (stop ? " (stop requested)" : ""));
        CHECK(sv::restart_wanted(mode, s) == expected_restart(mode, clean, abnormal));
      }
    }
  }
  // The distinctions that matter most, spelled out.
  CHECK_FALSE(sv::restart_wanted(sv::RestartMode::on_failure, exited(0)));
  CHECK(sv::restart_wanted(sv::RestartMode::on_failure, exited(1)));
  CHECK(sv::restart_wanted(sv::RestartMode::on_failure, status_for(sv::ExitReason::spawn_failed)));
  CHECK_FALSE(sv::restart_wanted(sv::RestartMode::on_abnormal, exited(1)));
  CHECK_FALSE(
      sv::restart_wanted(sv::RestartMode::on_abnormal, status_for(sv::ExitReason::spawn_failed)));
  CHECK(sv::restart_wanted(sv::RestartMode::on_abnormal, killed(11)));
  CHECK(sv::restart_wanted(sv::RestartMode::on_abnormal, status_for(sv::ExitReason::oom_kill)));
  CHECK(sv::restart_wanted(sv::RestartMode::on_abnormal, status_for(sv::ExitReason::watchdog)));
  CHECK_FALSE(sv::restart_wanted(sv::RestartMode::on_failure,
                                 status_for(sv::ExitReason::signal, /*stop_requested=*/true)));
  CHECK(sv::restart_wanted(sv::RestartMode::on_failure,
                           status_for(sv::ExitReason::timeout, /*stop_requested=*/true)));
  CHECK(sv::restart_wanted(sv::RestartMode::on_success, exited(0)));
  CHECK_FALSE(sv::restart_wanted(sv::RestartMode::on_success, exited(2)));
}

TEST_CASE("StandardRestartPolicy follows the mode table for every ExitReason", "[unit][restart]") {
  for (sv::RestartMode mode : all_modes) {
    sv::StandardRestartPolicy policy(bare(mode));
    for (sv::ExitReason reason : all_reasons) {
      for (bool stop : {false, true}) {
        const sv::ExitStatus s = status_for(reason, stop);
        INFO(sv::to_string(mode) << " / " << sv::to_string(reason)
                                 << (stop ? " (stop requested)" : ""));
        const auto d = decide(policy, 0, s, sv::TimePoint{});
        CHECK(d.restart == sv::restart_wanted(mode, s));
        CHECK(d.delay == 0ns);
        CHECK(has(d.why, sv::to_string(reason)));
        CHECK(has(d.why, std::string("mode ") + std::string(sv::to_string(mode))));
      }
    }
  }
}

TEST_CASE("the factories give the default policy in each mode", "[unit][restart]") {
  const sv::TimePoint t{};
  auto never = sv::restart_never();
  auto always = sv::restart_always();
  auto on_failure = sv::restart_on_failure();
  auto on_abnormal = sv::restart_on_abnormal();
  for (sv::ExitReason r : all_reasons) {
    INFO(sv::to_string(r));
    CHECK_FALSE(decide(*never, 0, status_for(r), t).restart);
    CHECK(decide(*always, 0, status_for(r), t).restart);
  }
  CHECK_FALSE(decide(*on_failure, 0, exited(0), t).restart);
  CHECK(decide(*on_failure, 0, exited(1), t).restart);
  CHECK_FALSE(decide(*on_abnormal, 0, exited(1), t).restart);
  CHECK(decide(*on_abnormal, 0, killed(11), t).restart);
  // The defaults' first delay: systemd's 100 ms.
  CHECK(decide(*always, 1, exited(0), t).delay == 100ms);
  auto made = sv::make_restart_policy(sv::StandardRestartOptions{});
  REQUIRE(made);
  CHECK(decide(*made, 0, exited(0), t).delay == 100ms);
}

// ---------------------------------------------------------------------------------------------
// (2) Exit-code and signal rules
// ---------------------------------------------------------------------------------------------

TEST_CASE("prevent_restart_* stops restarts whatever the mode", "[unit][restart]") {
  auto o = bare(sv::RestartMode::always);
  o.prevent_restart_exit_codes = {78, 64};
  o.prevent_restart_signals = {6};
  sv::StandardRestartPolicy p(o);
  const sv::TimePoint t{};

  const auto d78 = decide(p, 0, exited(78), t);
  CHECK_FALSE(d78.restart);
  CHECK(has(d78.why, "exit code 78 is in prevent_restart_exit_codes"));
  CHECK_FALSE(decide(p, 0, exited(64), t).restart);
  CHECK(decide(p, 0, exited(1), t).restart);
  CHECK(decide(p, 0, exited(0), t).restart);

  const auto abrt = decide(p, 0, killed(6), t);
  CHECK_FALSE(abrt.restart);
  CHECK(has(abrt.why, "signal 6 is in prevent_restart_signals"));
  CHECK_FALSE(decide(p, 0, killed(6, 1h, /*core=*/true), t).restart);  // core dump: same signal
  CHECK(decide(p, 0, killed(11), t).restart);
  CHECK(decide(p, 0, exited(6), t).restart);  // exit code 6 is not signal 6
  // A timeout kill is the library's own; its SIGKILL is not matched against the signal lists.
  auto strict = o;
  strict.prevent_restart_signals = {9};
  sv::StandardRestartPolicy p9(strict);
  CHECK_FALSE(decide(p9, 0, killed(9), t).restart);
  CHECK(decide(p9, 0, status_for(sv::ExitReason::timeout), t).restart);
  CHECK(decide(p9, 0, status_for(sv::ExitReason::oom_kill), t).restart);
}

TEST_CASE("force_restart_* restarts whatever the mode", "[unit][restart]") {
  auto o = bare(sv::RestartMode::never);
  o.force_restart_exit_codes = {75};
  o.force_restart_signals = {1};
  sv::StandardRestartPolicy p(o);
  const sv::TimePoint t{};

  const auto d = decide(p, 0, exited(75), t);
  CHECK(d.restart);
  CHECK(has(d.why, "forced: exit code 75 is in force_restart_exit_codes"));
  CHECK_FALSE(decide(p, 0, exited(1), t).restart);
  const auto hup = decide(p, 0, killed(1), t);
  CHECK(hup.restart);
  CHECK(has(hup.why, "force_restart_signals"));
  CHECK_FALSE(decide(p, 0, killed(15), t).restart);

  // Code 0 can be forced too: on-failure that also restarts clean exits.
  auto zero = bare(sv::RestartMode::on_failure);
  zero.force_restart_exit_codes = {0};
  sv::StandardRestartPolicy pz(zero);
  CHECK(decide(pz, 0, exited(0), t).restart);
}

TEST_CASE("forced restarts still wait their delay and pay the budget", "[unit][restart]") {
  auto o = bare(sv::RestartMode::never);
  o.force_restart_exit_codes = {75};
  o.backoff = sv::BackoffOptions::fixed(2s);
  o.min_uptime = 1s;
  o.budget = {2, 10s};
  sv::StandardRestartPolicy p(o);
  sv::ManualClock clock;
  CHECK(decide(p, 0, exited(75, 10ms), clock.now()).delay == 2s);
  clock.advance(1s);
  CHECK(decide(p, 0, exited(75, 10ms), clock.now()).restart);
  clock.advance(1s);
  const auto d = decide(p, 0, exited(75, 10ms), clock.now());
  CHECK_FALSE(d.restart);
  CHECK(has(d.why, "restart budget of worker 0 exhausted"));
}

// ---------------------------------------------------------------------------------------------
// (3) Delays
// ---------------------------------------------------------------------------------------------

TEST_CASE("exponential backoff without jitter: exact sequence and cap", "[unit][restart]") {
  const sv::Backoff defaults;  // 100 ms, x2, cap 5 min
  const std::vector<sv::Duration> expected = {100ms,    200ms,    400ms,   800ms,   1600ms,
                                              3200ms,   6400ms,   12800ms, 25600ms, 51200ms,
                                              102400ms, 204800ms, 5min,    5min};
  for (std::uint32_t k = 0; k < expected.size(); ++k) {
    INFO("step " << k);
    CHECK(defaults.base_delay(k) == expected[k]);
  }
  CHECK(defaults.base_delay(1000) == 5min);
  CHECK(defaults.base_delay(std::numeric_limits<std::uint32_t>::max()) == 5min);

  sv::BackoffOptions slow;
  slow.initial = 1s;
  slow.multiplier = 1.5;
  slow.max = 10s;
  const sv::Backoff b(slow);
  const std::vector<sv::Duration> expected15 = {1s,        1500ms,    2250ms, 3375ms,
                                                5062500us, 7593750us, 10s,    10s};
  for (std::uint32_t k = 0; k < expected15.size(); ++k) {
    INFO("step " << k);
    CHECK(b.base_delay(k) == expected15[k]);
  }

  sv::Backoff none(sv::BackoffOptions{});  // delay() with Jitter::none is base_delay()
  for (std::uint32_t k = 0; k < 20; ++k) CHECK(none.delay(k) == none.base_delay(k));
}

TEST_CASE("fixed, zero and first-immediately backoffs", "[unit][restart]") {
  const sv::Backoff fixed(sv::BackoffOptions::fixed(250ms));
  const sv::Backoff zero(sv::BackoffOptions::fixed(0ns));
  for (std::uint32_t k : {0u, 1u, 7u, 4000000000u}) {
    CHECK(fixed.base_delay(k) == 250ms);
    CHECK(zero.base_delay(k) == 0ns);
  }
  sv::BackoffOptions zero_growing;  // initial 0 stays 0 even where multiplier^k is infinite
  zero_growing.initial = 0ns;
  const sv::Backoff zg(zero_growing);
  CHECK(zg.base_delay(0) == 0ns);
  CHECK(zg.base_delay(5000) == 0ns);

  sv::BackoffOptions k8s;
  k8s.initial = 10s;
  k8s.first_immediately = true;
  const sv::Backoff kb(k8s);
  const std::vector<sv::Duration> expected = {0s, 10s, 20s, 40s, 80s, 160s, 5min, 5min};
  for (std::uint32_t k = 0; k < expected.size(); ++k) {
    INFO("step " << k);
    CHECK(kb.base_delay(k) == expected[k]);
  }
}

TEST_CASE("jittered delays stay within their bounds for many seeds", "[unit][restart]") {
  for (sv::Jitter jitter : {sv::Jitter::full, sv::Jitter::equal}) {
    double sum = 0;
    std::size_t n = 0;
    for (std::uint64_t seed = 0; seed < 256; ++seed) {
      sv::BackoffOptions o;
      o.initial = 100ms;
      o.max = 30s;
      o.jitter = jitter;
      o.seed = seed;
      sv::Backoff b(o);
      for (std::uint32_t k = 0; k < 20; ++k) {
        const sv::Duration base = b.base_delay(k);
        const sv::Duration d = b.delay(k);
        INFO(sv::to_string(jitter)
             << " seed " << seed << " step " << k << ": " << d.count() << " of " << base.count());
        CHECK(d <= base);
        CHECK(d >= (jitter == sv::Jitter::full ? 0ns : base / 2));
        sum += static_cast<double>(d.count()) / static_cast<double>(base.count());
        ++n;
      }
    }
    // Spread: the mean fraction of the base delay is near the middle of the allowed range.
    const double mean = sum / static_cast<double>(n);
    INFO(sv::to_string(jitter) << " mean fraction " << mean);
    if (jitter == sv::Jitter::full) {
      CHECK(std::abs(mean - 0.5) < 0.05);
    } else {
      CHECK(std::abs(mean - 0.75) < 0.03);
    }
  }
}

TEST_CASE("jitter is deterministic per seed and differs between seeds", "[unit][restart]") {
  auto draws = [](std::uint64_t seed) {
    sv::BackoffOptions o;
    o.jitter = sv::Jitter::full;
    o.seed = seed;
    sv::Backoff b(o);
    std::vector<sv::Duration> out;
    for (std::uint32_t k = 0; k < 10; ++k) out.push_back(b.delay(k));
    return out;
  };
  CHECK(draws(42) == draws(42));
  CHECK(draws(42) != draws(43));
  // Zero-length delays draw nothing odd: full jitter of 0 is 0.
  sv::BackoffOptions z = sv::BackoffOptions::fixed(0ns);
  z.jitter = sv::Jitter::equal;
  sv::Backoff zb(z);
  CHECK(zb.delay(3) == 0ns);
}

TEST_CASE("the policy's backoff grows with failed starts and resets after a stable run",
          "[unit][restart]") {
  sv::StandardRestartOptions o;  // defaults: 100 ms x2, min_uptime 10 s, reset after 10 min
  o.budget.window = 0ns;         // budget off: only the delays are under test here
  sv::StandardRestartPolicy p(o);
  sv::ManualClock clock;

  // Quick deaths (failed starts): 100, 200, 400, 800 ms.
  for (sv::Duration expected : {100ms, 200ms, 400ms, 800ms}) {
    const auto d = decide(p, 0, exited(1, 50ms), clock.now());
    CHECK(d.restart);
    CHECK(d.delay == expected);
    CHECK(has(d.why, "failed start"));
    clock.advance(d.delay + 50ms);
  }
  CHECK(p.backoff_step(0) == 4);

  // A run of 30 s started successfully: waits the current step's delay, step unchanged.
  const auto ok = decide(p, 0, exited(1, 30s), clock.now());
  CHECK(ok.delay == 1600ms);
  CHECK(has(ok.why, "started successfully"));
  CHECK(p.backoff_step(0) == 4);
  // Exactly min_uptime is a successful start.
  CHECK(decide(p, 0, exited(1, 10s), clock.now()).delay == 1600ms);
  CHECK(p.backoff_step(0) == 4);

  // Another worker is independent.
  CHECK(decide(p, 1, exited(1, 50ms), clock.now()).delay == 100ms);
  CHECK(p.backoff_step(1) == 1);

  // A run of exactly reset_after (10 min) is stable: back to step 0, and it is free.
  const auto reset = decide(p, 0, exited(1, 10min), clock.now());
  CHECK(reset.delay == 100ms);
  CHECK(has(reset.why, "stable run"));
  CHECK(p.backoff_step(0) == 0);
  CHECK(decide(p, 0, exited(1, 50ms), clock.now()).delay == 100ms);
  CHECK(decide(p, 0, exited(1, 50ms), clock.now()).delay == 200ms);
  CHECK(p.backoff_step(0) == 2);
}

TEST_CASE("the policy's jitter is reproducible from the seed", "[unit][restart]") {
  auto run = [](std::uint64_t seed) {
    auto o = sv::StandardRestartOptions{};
    o.budget.window = 0ns;
    o.backoff.jitter = sv::Jitter::equal;
    o.backoff.seed = seed;
    sv::StandardRestartPolicy p(o);
    std::vector<sv::Duration> out;
    for (int i = 0; i < 8; ++i) {
      const auto d = decide(p, static_cast<std::size_t>(i % 2), exited(1, 1ms), sv::TimePoint{});
      out.push_back(d.delay);
    }
    return out;
  };
  const auto a = run(7);
  CHECK(a == run(7));
  CHECK(a != run(8));
  // Worker 0 saw steps 0..3 (bases 100..800 ms): each delay within [base/2, base].
  const std::array<sv::Duration, 4> bases = {100ms, 200ms, 400ms, 800ms};
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(a[2 * i] >= bases[i] / 2);
    CHECK(a[2 * i] <= bases[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// (4) Minimum uptime and (5) budgets
// ---------------------------------------------------------------------------------------------

TEST_CASE("only runs shorter than min_uptime are charged to the budget", "[unit][restart]") {
  auto o = bare(sv::RestartMode::always);
  o.min_uptime = 1s;
  o.budget = {2, 10s};
  sv::StandardRestartPolicy p(o);
  sv::ManualClock clock;

  // Long runs, however many and however close together: never charged, never refused.
  for (int i = 0; i < 20; ++i) {
    CHECK(decide(p, 0, exited(1, 5s), clock.now()).restart);
    clock.advance(100ms);
  }
  CHECK(p.restarts_in_window(0, clock.now()) == 0);

  // Quick deaths are: two allowed, the third within 10 s refused.
  CHECK(decide(p, 0, exited(1, 999ms), clock.now()).restart);
  CHECK(decide(p, 0, status_for(sv::ExitReason::spawn_failed, false, 0ns), clock.now()).restart);
  CHECK(p.restarts_in_window(0, clock.now()) == 2);
  const auto d = decide(p, 0, killed(11, 10ms), clock.now());
  CHECK_FALSE(d.restart);
  CHECK(has(d.why, "restart budget of worker 0 exhausted: 2 failed starts within 10s"));
  CHECK(has(d.why, "max_restarts 2, window 10s"));
  // A long run is still restarted while the budget is exhausted.
  CHECK(decide(p, 0, exited(1, 1s), clock.now()).restart);
}

TEST_CASE("a per-worker budget is exhausted and recovers as the window slides", "[unit][restart]") {
  auto o = bare(sv::RestartMode::always);
  o.min_uptime = 1s;
  o.budget = {3, 10s};
  sv::StandardRestartPolicy p(o);
  sv::ManualClock clock;
  const auto quick = exited(1, 10ms);

  for (int i = 0; i < 3; ++i) {  // t = 0, 1, 2
    CHECK(decide(p, 0, quick, clock.now()).restart);
    clock.advance(1s);
  }
  // t = 3: three in (−7, 3]: refused, and the refusal is not charged.
  CHECK_FALSE(decide(p, 0, quick, clock.now()).restart);
  CHECK(p.restarts_in_window(0, clock.now()) == 3);
  // Another worker has its own budget.
  CHECK(decide(p, 1, quick, clock.now()).restart);

  clock.set(sv::TimePoint{9999ms});
  CHECK_FALSE(decide(p, 0, quick, clock.now()).restart);  // t=0 still inside (-0.001, 9.999]
  clock.set(sv::TimePoint{10s});  // the t=0 charge is exactly 10 s old: it has left the window
  CHECK(p.restarts_in_window(0, clock.now()) == 2);
  CHECK(decide(p, 0, quick, clock.now()).restart);  // charges t = 1, 2, 10
  clock.set(sv::TimePoint{10500ms});
  CHECK_FALSE(decide(p, 0, quick, clock.now()).restart);
  clock.set(sv::TimePoint{11s});                    // t = 1 left
  CHECK(decide(p, 0, quick, clock.now()).restart);  // charges t = 2, 10, 11
  clock.set(sv::TimePoint{30s});                    // all left
  CHECK(p.restarts_in_window(0, clock.now()) == 0);
  for (int i = 0; i < 3; ++i) CHECK(decide(p, 0, quick, clock.now()).restart);
  CHECK_FALSE(decide(p, 0, quick, clock.now()).restart);
}

TEST_CASE("forget drops a worker's backoff and budget", "[unit][restart]") {
  auto o = sv::StandardRestartOptions{};
  o.budget = {1, 1min};
  sv::StandardRestartPolicy p(o);
  const sv::TimePoint t{};
  CHECK(decide(p, 4, exited(1, 1ms), t).delay == 100ms);
  CHECK_FALSE(decide(p, 4, exited(1, 1ms), t).restart);
  CHECK(decide(p, 5, exited(1, 1ms), t).restart);
  CHECK(p.tracked_workers() == 2);
  CHECK(p.backoff_step(4) == 1);

  p.forget(4);
  CHECK(p.tracked_workers() == 1);
  CHECK(p.backoff_step(4) == 0);
  CHECK(p.restarts_in_window(4, t) == 0);
  const auto fresh = decide(p, 4, exited(1, 1ms), t);  // a new worker in slot 4
  CHECK(fresh.restart);
  CHECK(fresh.delay == 100ms);
  p.forget(99);  // unknown: nothing happens
  CHECK(p.tracked_workers() == 2);
}

TEST_CASE("RestartBudget: N in a sliding window T", "[unit][restart]") {
  sv::RestartBudget b({3, 10s});
  const sv::TimePoint t0{100s};
  CHECK(b.options().max_restarts == 3);
  CHECK(b.would_allow(t0));
  CHECK(b.try_acquire(t0));
  CHECK(b.try_acquire(t0 + 1s));
  CHECK(b.try_acquire(t0 + 2s));
  CHECK(b.used(t0 + 2s) == 3);
  CHECK_FALSE(b.would_allow(t0 + 5s));
  CHECK_FALSE(b.try_acquire(t0 + 5s));
  CHECK(b.used(t0 + 5s) == 3);  // a refusal charges nothing
  CHECK(b.used(t0 + 10s) == 2);
  CHECK(b.would_allow(t0 + 10s));
  CHECK(b.try_acquire(t0 + 10s));
  CHECK_FALSE(b.try_acquire(t0 + 10s));
  b.clear();
  CHECK(b.used(t0 + 10s) == 0);
  CHECK(b.try_acquire(t0 + 10s));

  sv::RestartBudget unlimited({0, 0ns});  // window 0: disabled
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.try_acquire(t0));
  CHECK(unlimited.used(t0) == 0);

  sv::RestartBudget none({0, 5s});  // OTP intensity 0: nothing allowed
  CHECK_FALSE(none.would_allow(t0));
  CHECK_FALSE(none.try_acquire(t0));

  // A window longer than the clock's history does not overflow.
  sv::RestartBudget forever({2, sv::Duration::max()});
  CHECK(forever.try_acquire(sv::TimePoint{}));
  CHECK(forever.try_acquire(sv::TimePoint{1h}));
  CHECK_FALSE(forever.try_acquire(sv::TimePoint{24h}));
  CHECK(forever.used(sv::TimePoint::min()) == 2);
}

TEST_CASE("RestartBudget is safe to share between threads", "[unit][restart]") {
  auto b = sv::make_restart_budget({100, 1min});
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) {
        if (b->try_acquire(sv::TimePoint{1s})) granted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(granted.load() == 100);
  CHECK(b->used(sv::TimePoint{1s}) == 100);
}

TEST_CASE("a pool-wide budget is shared across workers and policies", "[unit][restart]") {
  auto pool = sv::make_restart_budget({4, 1min});
  auto o = bare(sv::RestartMode::always);
  o.min_uptime = 1s;
  o.pool_budget = pool;
  sv::StandardRestartPolicy a(o);
  sv::StandardRestartPolicy b(o);
  sv::ManualClock clock;
  const auto quick = killed(11, 20ms);

  for (std::size_t w = 0; w < 4; ++w) {  // four workers, one quick death each, t = 0..3
    CHECK(decide(a, w, quick, clock.now()).restart);
    clock.advance(1s);
  }
  const auto refused = decide(a, 4, quick, clock.now());
  CHECK_FALSE(refused.restart);
  CHECK(has(refused.why, "pool-wide restart budget exhausted: 4 restarts within 1min"));
  CHECK_FALSE(decide(b, 0, quick, clock.now()).restart);    // the other policy shares it
  CHECK(decide(a, 5, exited(1, 2s), clock.now()).restart);  // a long run is free
  CHECK(pool->used(clock.now()) == 4);

  clock.set(sv::TimePoint{60s});  // the t=0 charge has left the window
  CHECK(decide(b, 7, quick, clock.now()).restart);
  CHECK_FALSE(decide(a, 8, quick, clock.now()).restart);
  clock.set(sv::TimePoint{61s});
  CHECK(decide(a, 8, quick, clock.now()).restart);
}

TEST_CASE("a per-worker refusal charges nothing to the pool budget", "[unit][restart]") {
  auto pool = sv::make_restart_budget({10, 10s});
  auto o = bare(sv::RestartMode::always);
  o.min_uptime = 1s;
  o.budget = {1, 10s};
  o.pool_budget = pool;
  sv::StandardRestartPolicy p(o);
  const sv::TimePoint t{};
  CHECK(decide(p, 0, exited(1, 1ms), t).restart);
  CHECK(pool->used(t) == 1);
  const auto d = decide(p, 0, exited(1, 1ms), t);
  CHECK_FALSE(d.restart);
  CHECK(has(d.why, "worker 0"));
  CHECK(pool->used(t) == 1);
}

TEST_CASE("with the default options a worker that dies at start-up is given up on",
          "[unit][restart]") {
  auto p = sv::restart_always();
  sv::ManualClock clock;
  std::vector<sv::Duration> delays;
  sv::RestartDecision d;
  for (int i = 0; i < 10; ++i) {
    d = decide(*p, 0, status_for(sv::ExitReason::spawn_failed, false, 0ns), clock.now());
    if (!d.restart) break;
    delays.push_back(d.delay);
    clock.advance(d.delay);
  }
  CHECK(delays == std::vector<sv::Duration>{100ms, 200ms, 400ms, 800ms, 1600ms});
  CHECK_FALSE(d.restart);
  CHECK(clock.now() == sv::TimePoint{3100ms});
  CHECK(has(d.why, "restart budget of worker 0 exhausted: 5 failed starts within 10s"));
}

// ---------------------------------------------------------------------------------------------
// Presets
// ---------------------------------------------------------------------------------------------

TEST_CASE("kubernetes(): 0, 10 s, 20 s ... 5 min, reset after 10 min, never gives up",
          "[unit][restart]") {
  sv::StandardRestartPolicy p(sv::StandardRestartOptions::kubernetes());
  sv::ManualClock clock;
  const std::vector<sv::Duration> expected = {0s, 10s, 20s, 40s, 80s, 160s, 5min, 5min};
  for (sv::Duration e : expected) {
    const auto d = decide(p, 0, exited(1, 3min), clock.now());  // under 10 min: a failed start
    CHECK(d.restart);
    CHECK(d.delay == e);
    clock.advance(d.delay + 3min);
  }
  for (int i = 0; i < 100; ++i) CHECK(decide(p, 0, exited(1, 1s), clock.now()).delay == 5min);
  CHECK(decide(p, 0, exited(0, 10min), clock.now()).delay == 0s);  // reset
  CHECK(decide(p, 0, exited(1, 1s), clock.now()).delay == 0s);
  CHECK(decide(p, 0, exited(1, 1s), clock.now()).delay == 10s);
}

TEST_CASE("systemd(): on-failure, 100 ms, at most 5 starts per 10 s", "[unit][restart]") {
  sv::StandardRestartPolicy p(sv::StandardRestartOptions::systemd());
  sv::ManualClock clock;
  CHECK_FALSE(decide(p, 0, exited(0, 1h), clock.now()).restart);
  for (int i = 0; i < 5; ++i) {
    const auto d = decide(p, 0, exited(1, 1h), clock.now());  // every run counts
    CHECK(d.restart);
    CHECK(d.delay == 100ms);
    clock.advance(1s);
  }
  CHECK_FALSE(decide(p, 0, exited(1, 1h), clock.now()).restart);
  clock.advance(6s);  // t = 11 s: the t = 0 and t = 1 s starts have left the window
  CHECK(decide(p, 0, exited(1, 1h), clock.now()).restart);
}

TEST_CASE("otp(): restart at once, give up on a second restart within 5 s", "[unit][restart]") {
  sv::StandardRestartPolicy p(sv::StandardRestartOptions::otp());
  sv::ManualClock clock;
  const auto first = decide(p, 0, exited(0, 1h), clock.now());
  CHECK(first.restart);
  CHECK(first.delay == 0s);
  clock.advance(4s);
  CHECK_FALSE(decide(p, 0, exited(0, 1h), clock.now()).restart);
  clock.advance(1s);
  CHECK(decide(p, 0, exited(0, 1h), clock.now()).restart);
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

TEST_CASE("defaults and presets are valid", "[unit][restart]") {
  std::error_code ec;
  sv::validate(sv::StandardRestartOptions{}, ec);
  CHECK_FALSE(ec);
  sv::validate(sv::StandardRestartOptions::kubernetes(), ec);
  CHECK_FALSE(ec);
  sv::validate(sv::StandardRestartOptions::systemd(), ec);
  CHECK_FALSE(ec);
  sv::validate(sv::StandardRestartOptions::otp(), ec);
  CHECK_FALSE(ec);
  sv::validate(sv::BackoffOptions{}, ec);
  CHECK_FALSE(ec);
  sv::validate(sv::RestartBudgetOptions{}, ec);
  CHECK_FALSE(ec);
  CHECK_NOTHROW(sv::validate(sv::StandardRestartOptions{}));
}

TEST_CASE("every bad StandardRestartOptions field is refused, naming field and value",
          "[unit][restart]") {
  struct Case {
    std::function<void(sv::StandardRestartOptions&)> mutate;
    std::string message;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<Case> cases = {
      {[](auto& o) { o.mode = static_cast<sv::RestartMode>(42); },
       "StandardRestartOptions.mode: 42 is not a RestartMode value"},
      {[](auto& o) {
         o.prevent_restart_exit_codes = {1, 300};
       },
       "StandardRestartOptions.prevent_restart_exit_codes[1]: 300 is not an exit code (0-255)"},
      {[](auto& o) { o.prevent_restart_exit_codes = {-1}; },
       "StandardRestartOptions.prevent_restart_exit_codes[0]: -1 is not an exit code (0-255)"},
      {[](auto& o) { o.prevent_restart_signals = {0}; },
       "StandardRestartOptions.prevent_restart_signals[0]: 0 is not a signal number (1-64)"},
      {[](auto& o) {
         o.prevent_restart_signals = {9, 65};
       },
       "StandardRestartOptions.prevent_restart_signals[1]: 65 is not a signal number (1-64)"},
      {[](auto& o) { o.force_restart_exit_codes = {256}; },
       "StandardRestartOptions.force_restart_exit_codes[0]: 256 is not an exit code (0-255)"},
      {[](auto& o) { o.force_restart_signals = {-9}; },
       "StandardRestartOptions.force_restart_signals[0]: -9 is not a signal number (1-64)"},
      {[](auto& o) {
         o.prevent_restart_exit_codes = {78};
         o.force_restart_exit_codes = {1, 78};
       },
       "StandardRestartOptions.force_restart_exit_codes[1]: 78 is also in "
       "prevent_restart_exit_codes"},
      {[](auto& o) {
         o.prevent_restart_signals = {6};
         o.force_restart_signals = {6};
       },
       "StandardRestartOptions.force_restart_signals[0]: 6 is also in prevent_restart_signals"},
      {[](auto& o) { o.backoff.initial = -1ms; },
       "StandardRestartOptions.backoff.initial: -1ms is negative"},
      {[](auto& o) { o.backoff.multiplier = 0.5; },
       "StandardRestartOptions.backoff.multiplier: 0.5 is not a finite number >= 1"},
      {[nan](auto& o) { o.backoff.multiplier = nan; },
       "StandardRestartOptions.backoff.multiplier: nan is not a finite number >= 1"},
      {[inf](auto& o) { o.backoff.multiplier = inf; },
       "StandardRestartOptions.backoff.multiplier: inf is not a finite number >= 1"},
      {[](auto& o) { o.backoff.max = 50ms; },
       "StandardRestartOptions.backoff.max: 50ms is less than initial 100ms"},
      {[](auto& o) { o.backoff.jitter = static_cast<sv::Jitter>(7); },
       "StandardRestartOptions.backoff.jitter: 7 is not a Jitter value"},
      {[](auto& o) { o.backoff.reset_after = -1s; },
       "StandardRestartOptions.backoff.reset_after: -1s is negative"},
      {[](auto& o) { o.min_uptime = -5s; }, "StandardRestartOptions.min_uptime: -5s is negative"},
      {[](auto& o) { o.backoff.reset_after = 5s; },
       "StandardRestartOptions.backoff.reset_after: 5s is less than min_uptime 10s"},
      {[](auto& o) { o.budget.window = -10s; },
       "StandardRestartOptions.budget.window: -10s is negative"},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    sv::StandardRestartOptions o;
    c.mutate(o);

    std::error_code ec;
    sv::validate(o, ec);
    CHECK(ec == sv::errc::invalid_argument);

    try {
      sv::validate(o);
      FAIL("validate did not throw");
    } catch (const sv::Error& e) {
      CHECK(e.code() == sv::errc::invalid_argument);
      INFO("what: " << e.what());
      CHECK(has(e.what(), c.message));
    }

    CHECK_THROWS_AS(sv::StandardRestartPolicy(o), sv::Error);
    CHECK_THROWS_AS(sv::make_restart_policy(o), sv::Error);
    ec.clear();
    CHECK(sv::make_restart_policy(o, ec) == nullptr);
    CHECK(ec == sv::errc::invalid_argument);
  }
  std::error_code ok = sv::errc::timeout;
  CHECK(sv::make_restart_policy(sv::StandardRestartOptions{}, ok) != nullptr);
  CHECK_FALSE(ok);
}

TEST_CASE("BackoffOptions and RestartBudgetOptions are validated on their own", "[unit][restart]") {
  sv::BackoffOptions b;
  b.multiplier = 0;
  std::error_code ec;
  sv::validate(b, ec);
  CHECK(ec == sv::errc::invalid_argument);
  try {
    sv::Backoff bad(b);
    FAIL("Backoff accepted multiplier 0");
  } catch (const sv::Error& e) {
    CHECK(e.code() == sv::errc::invalid_argument);
    CHECK(has(e.what(), "BackoffOptions.multiplier: 0 is not a finite number >= 1"));
  }

  const sv::RestartBudgetOptions r{3, -1ns};
  ec.clear();
  sv::validate(r, ec);
  CHECK(ec == sv::errc::invalid_argument);
  try {
    sv::RestartBudget bad(r);
    FAIL("RestartBudget accepted a negative window");
  } catch (const sv::Error& e) {
    CHECK(has(e.what(), "RestartBudgetOptions.window: -1ns is negative"));
  }
  CHECK_THROWS_AS(sv::make_restart_budget(r), sv::Error);
  ec.clear();
  CHECK(sv::make_restart_budget(r, ec) == nullptr);
  CHECK(ec == sv::errc::invalid_argument);
  ec = sv::errc::timeout;
  CHECK(sv::make_restart_budget({3, 1s}, ec) != nullptr);
  CHECK_FALSE(ec);
}

// ---------------------------------------------------------------------------------------------
// A user's own policy, and how to test it
// ---------------------------------------------------------------------------------------------

namespace {

// Example of a user policy: retry only EX_TEMPFAIL (75), with a per-worker backoff that readiness
// resets, and at most 3 retries a minute across the whole pool. It composes the library's
// Backoff and RestartBudget; everything else is the user's.
class TempFailRetry final : public sv::RestartPolicy {
 public:
  TempFailRetry() : backoff_(sv::BackoffOptions{}), budget_({3, std::chrono::minutes(1)}) {}

  sv::RestartDecision on_exit(const sv::RestartContext& ctx) override {
    if (ctx.status.reason != sv::ExitReason::exit_code || ctx.status.exit_code != 75) {
      return sv::RestartDecision::give_up("only EX_TEMPFAIL is retried");
    }
    Worker& w = workers_[ctx.worker];
    if (!budget_.try_acquire(ctx.now)) {
      return sv::RestartDecision::give_up("3 retries a minute used up");
    }
    return sv::RestartDecision::after(backoff_.delay(w.attempts++), "temporary failure");
  }
  void on_started(std::size_t worker, sv::TimePoint now) override {
    workers_[worker].started = now;
  }
  void on_ready(std::size_t worker, sv::TimePoint) override { workers_[worker].attempts = 0; }
  void forget(std::size_t worker) override { workers_.erase(worker); }

  std::size_t tracked() const { return workers_.size(); }

 private:
  struct Worker {
    std::uint32_t attempts = 0;
    sv::TimePoint started{};
  };
  sv::Backoff backoff_;
  sv::RestartBudget budget_;
  std::unordered_map<std::size_t, Worker> workers_;
};

}  // namespace

TEST_CASE("a user policy tested with a ManualClock, driven as the Pool drives it",
          "[unit][restart]") {
  TempFailRetry policy;
  sv::ManualClock clock;
  sv::RestartPolicy& p = policy;  // the Pool only sees the interface

  // The Pool's sequence for one incarnation: started, (ready), ..., exited.
  auto incarnation = [&](std::size_t worker, sv::Duration run, bool ready, int code) {
    const sv::TimePoint started = clock.now();
    p.on_started(worker, started);
    if (ready) p.on_ready(worker, started + 1ms);
    clock.advance(run);
    sv::ExitStatus s = exited(code, clock.now() - started);
    return p.on_exit(sv::RestartContext{worker, s, clock.now()});
  };

  auto d = incarnation(0, 2s, false, 75);
  CHECK(d.restart);
  CHECK(d.delay == 100ms);
  clock.advance(d.delay);
  d = incarnation(0, 2s, false, 75);
  CHECK(d.delay == 200ms);  // not ready: the backoff grows
  clock.advance(d.delay);
  d = incarnation(0, 2s, true, 75);
  CHECK(d.delay == 100ms);  // became ready: back to the first step
  clock.advance(d.delay);

  d = incarnation(1, 1s, true, 1);  // not EX_TEMPFAIL
  CHECK_FALSE(d.restart);
  CHECK(d.why == "only EX_TEMPFAIL is retried");

  d = incarnation(1, 1s, true, 75);  // the 4th retry within a minute, pool-wide
  CHECK_FALSE(d.restart);
  CHECK(d.why == "3 retries a minute used up");
  clock.advance(1min);
  CHECK(incarnation(1, 1s, true, 75).restart);

  CHECK(policy.tracked() == 2);
  p.forget(0);
  CHECK(policy.tracked() == 1);
}
