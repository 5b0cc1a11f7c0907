// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The Linux loop's poller: one epoll set, level-triggered, woken through an eventfd.

#include <sys/epoll.h>

#include <cstdint>
#include <vector>

#include "../posix/unique_fd.hpp"
#include "../process/backend.hpp"

namespace supervisor::detail {

class EpollPoller final : public Poller {
 public:
  // Throws std::system_error when epoll or eventfd cannot be made.
  EpollPoller();
  bool add(NativeHandle h, std::uint32_t events, std::uint64_t id) override;
  void modify(NativeHandle h, std::uint32_t events, std::uint64_t id) override;
  void remove(NativeHandle h) override;
  void wake() override;
  void wait(int timeout_ms, std::vector<ReadyEvent>& ready) override;

 private:
  UniqueFd epoll_;
  UniqueFd wake_;  // id 0 in the epoll set
};

}  // namespace supervisor::detail
