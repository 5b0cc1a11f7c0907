// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// Raw clone3(2) pieces shared by the spawner and the sentinel. Declared here rather than taken
// from <linux/sched.h>, which clashes with glibc's <sched.h>.

#include <cstdint>

namespace supervisor::detail {

inline constexpr std::uint64_t k_clone_vm = 0x00000100ULL;
inline constexpr std::uint64_t k_clone_files = 0x00000400ULL;
inline constexpr std::uint64_t k_clone_pidfd = 0x00001000ULL;
inline constexpr std::uint64_t k_clone_vfork = 0x00004000ULL;
inline constexpr std::uint64_t k_clone_into_cgroup = 0x200000000ULL;
// close_range(2)'s flag: give the caller a copy of its descriptor table first (Linux 5.9).
inline constexpr unsigned k_close_range_unshare = 1U << 1;

// The kernel's struct clone_args, version 2 (with `cgroup`, Linux 5.7).
struct CloneArgs {
  std::uint64_t flags = 0;
  std::uint64_t pidfd = 0;
  std::uint64_t child_tid = 0;
  std::uint64_t parent_tid = 0;
  std::uint64_t exit_signal = 0;
  std::uint64_t stack = 0;
  std::uint64_t stack_size = 0;
  std::uint64_t tls = 0;
  std::uint64_t set_tid = 0;
  std::uint64_t set_tid_size = 0;
  std::uint64_t cgroup = 0;
};

// The kernel's sigaction layout for rt_sigaction(2) (not glibc's struct sigaction).
struct KernelSigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  std::uint64_t mask;
};

}  // namespace supervisor::detail

// Code that runs in a clone3 child before execve: a copy of a multi-threaded process, where the
// sanitizer runtimes' state may be mid-update. Such functions use raw system calls only.
#define SV_NO_SANITIZE __attribute__((no_sanitize("address", "thread", "undefined"), noinline))

// ThreadSanitizer intercepts glibc's clone() and handles it like fork(): in a child that shares
// the host's memory (CLONE_VM) that resets the sanitizer's own state under the host's threads,
// which then report races that are not there. Under it, the clone(2) path copies memory instead.
#if defined(__SANITIZE_THREAD__)
#  define SV_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define SV_TSAN 1
#  endif
#endif
#ifndef SV_TSAN
#  define SV_TSAN 0
#endif
