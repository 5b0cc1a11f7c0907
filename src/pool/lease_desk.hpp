// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The lease desk (PoolOptions::lease_fast_path): idle, serving workers that host threads lease
// and give back under `desk_mu_` alone, without a round trip to the loop. The loop puts a worker
// on the desk and takes it back (`withdraw`) before it changes the worker's state; a worker that
// a host thread holds then becomes an ordinary `leased` one, whose release goes through the loop.
// Lock order: the core's `mu_` before `desk_mu_`, never the other way.
//
// The loop's FIFO waiters stay in the core: handing a worker to a waiter moves its state machine,
// and a release through the loop decides recycling and retirement, which are the lifecycle's.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <supervisor/circuit_breaker.hpp>
#include <supervisor/clock.hpp>
#include <supervisor/metrics.hpp>
#include <supervisor/pool.hpp>

#include "../process/host_end.hpp"

namespace supervisor::detail {

// A lease's outcome, as its breaker hears it (any thread).
void report_lease(CircuitBreaker& breaker, LeaseOutcome outcome, Duration elapsed, TimePoint t);

class LeaseDesk {
 public:
  // A worker as the desk hands it out.
  struct Worker {
    std::size_t index = 0;
    std::uint64_t incarnation = 0;
    int pid = 0;
    std::shared_ptr<HostEnd> channel;  // its channel's end, or null
  };
  // Where a lease given back to the desk went.
  enum class Return {
    not_lent,  // not a desk lease (any more): the loop takes the release
    on_desk,   // back on the desk, free for the next host thread
    closed,    // the desk closed meanwhile, or the lease ended `broken`: the loop must take the
               // worker back (`returned`)
  };
  // What a snapshot shows of the desk, copied at once under its lock.
  struct Figures {
    std::unordered_map<std::size_t, std::uint64_t> lent;  // worker -> incarnation held now
    std::unordered_map<std::size_t, std::uint64_t> leases_by_worker;
    std::uint64_t leases = 0;
    Histogram wait = Histogram::default_seconds();
    Histogram duration = Histogram::default_seconds();

    // Its leases counted in the worker's row; a worker a host thread holds shows as leased.
    void describe(bool on_desk, WorkerSnapshot& w) const;
  };

  // `enabled`: whether the pool uses the desk at all; `breaker`: the pool's lease breaker, or
  // null (owned by the pool's options, which outlive the desk).
  LeaseDesk(bool enabled, CircuitBreaker* breaker) : enabled_(enabled), breaker_(breaker) {}

  [[nodiscard]] bool enabled() const { return enabled_; }

  // ---- any thread (desk_mu_) ---------------------------------------------------------------
  // Takes the worker idle longest, if the desk is open and the lease breaker permits.
  bool take(TimePoint t, Worker& out);
  // A desk lease back at `t`; its outcome goes to the lease breaker (outside the lock: the
  // breaker's listener posts to the loop).
  Return give_back(std::size_t worker, std::uint64_t incarnation, LeaseOutcome outcome,
                   TimePoint acquired, TimePoint t);
  // No desk lease is out (drain's test; the caller may hold `mu_`).
  bool none_lent();
  Figures figures();

  // ---- loop thread -------------------------------------------------------------------------
  // A worker starts in slot `index`: a new one at the end, or a reclaimed one (which is never on
  // the desk), whose lease count starts again (the desk's total keeps counting).
  void add_slot(std::size_t index);
  // On the desk: free, or leased by a host thread.
  [[nodiscard]] bool holds(std::size_t index) const { return on_desk_[index]; }
  // Puts an idle worker on the desk if the desk is open.
  void put(const Worker& w);
  // Takes a worker back from the desk; true when a host thread holds a lease on it.
  bool withdraw(std::size_t index);
  // Closes the desk (waiters in the loop, drain, stop): its idle workers are the loop's again.
  void close();
  // Opens the desk; true when it was closed (the loop then puts its idle workers on it).
  bool open();
  // The loop took back a worker whose desk lease came back while the desk was closed.
  void returned(std::size_t index) { on_desk_[index] = false; }
  // A host thread holds a desk lease on this incarnation of the worker.
  bool lent(std::size_t index, std::uint64_t incarnation);

 private:
  const bool enabled_;             // fixed at construction
  CircuitBreaker* const breaker_;  // fixed at construction; itself thread-safe
  std::vector<bool> on_desk_;      // (loop) by worker index

  std::mutex desk_mu_;
  bool open_ = false;       // (desk_mu_)
  std::list<Worker> free_;  // (desk_mu_) idle longest first: spreads work
  // (desk_mu_) where each worker of free_ is in it: withdraw() finds one at once
  std::unordered_map<std::size_t, std::list<Worker>::iterator> free_at_;
  std::unordered_map<std::size_t, Worker> taken_;  // (desk_mu_) leased by host threads
  std::uint64_t leases_ = 0;                       // (desk_mu_)
  std::unordered_map<std::size_t, std::uint64_t> leases_by_worker_;  // (desk_mu_)
  Histogram wait_ = Histogram::default_seconds();                    // (desk_mu_)
  Histogram duration_ = Histogram::default_seconds();                // (desk_mu_)
};

}  // namespace supervisor::detail
