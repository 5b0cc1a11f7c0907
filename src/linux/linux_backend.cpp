// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "linux_backend.hpp"
#include "../posix/errno_text.hpp"
#include "../posix/fd_end.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <system_error>

#include "../process/loop_core.hpp"
#include "cgroup_v2.hpp"
#include "cgroupfs.hpp"
#include "clone3_spawn.hpp"
#include "linux_child.hpp"
#include "notify_socket.hpp"
#include "proc_stat.hpp"
#include "spawn.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE std::unique_ptr<Backend> make_backend(LoopCore& loop, const LoopOptions& options,
                                                        LoopInfo& info) {
  return std::make_unique<LinuxBackend>(loop, options, info);
}

SUPERVISOR_LOCAL_BEGIN

// What prepare() hands to spawn().
class LinuxPlan final : public SpawnPlan {
 public:
  [[nodiscard]] bool on_loop_thread() const override { return on_loop; }

  std::shared_ptr<const ProcessSpec> spec;
  Containment containment = Containment::process_group;
  std::shared_ptr<LinuxGroup> group;
  std::string join_cgroup;  // ChildRequest::join_cgroup
  PreparedSpawn prepared;
  SpawnPath path = SpawnPath::clone3;
  bool on_loop = true;
};

// An sd_notify socket, watched by the loop.
class LinuxNotify final : public NotifyChannel {
 public:
  LinuxNotify(LoopCore& loop, std::function<void(const NotifyNote&)> on_note)
      : loop_(loop), on_note_(std::move(on_note)) {}
  ~LinuxNotify() override {
    if (watch_) loop_.unwatch(watch_, socket_.fd());
  }
  LinuxNotify(const LinuxNotify&) = delete;
  LinuxNotify& operator=(const LinuxNotify&) = delete;

  void open(std::string_view prefix, ErrorSink& err) {
    socket_.open(prefix, err);
    if (err) return;
    watch_ = loop_.watch(socket_.fd(), io::readable, [this](std::uint32_t) {
      for (const NotifyNote& note : socket_.receive()) on_note_(note);
    });
  }
  [[nodiscard]] const std::string& address() const override { return socket_.address(); }

 private:
  LoopCore& loop_;
  std::function<void(const NotifyNote&)> on_note_;
  NotifySocket socket_;
  std::uint64_t watch_ = 0;
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE LinuxBackend::LinuxBackend(LoopCore& loop, const LoopOptions& options,
                                             LoopInfo& info)
    : loop_(loop), info_(info), options_(options.on_linux), host_pid_(::getpid()) {
  null_.reset(::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
  info_.clone3_available = clone3_available();
  info_.clone_into_cgroup_available = clone_into_cgroup_available();
  if (options_.disable_pidfd) {
    info_.pidfd_why_not = "disabled by LoopOptions::on_linux.disable_pidfd";
  } else {
    info_.pidfd_available = pidfd_available(info_.pidfd_why_not);
  }
  info_.close_range_available = close_range_available();
  if (!options.registry_path.empty()) {
    // Before anything of ours exists: sweep what a previous run of the host left behind, in
    // the cgroups where this host makes its own.
    SweepRoots roots;
    if (!options_.disable_cgroups) {
      if (auto mount = find_cgroup_v2(nullptr)) {
        roots.self_dir = mount->self_dir();
        if (options_.cgroup_base.empty()) roots.v2_root = roots.self_dir;
      }
      roots.custom_base = options_.cgroup_base;
    }
    SweepResult swept;
    or_throw([&](ErrorSink& err) { registry_.open(options.registry_path, roots, swept, err); });
    info_.swept_processes = swept.processes_killed;
    info_.swept_groups = swept.groups_removed;
    info_.stale_registry_entries = swept.stale_entries;
    info_.refused_registry_entries = swept.refused_entries;
    info_.registry_notes = std::move(swept.notes);
  }
  setup_cgroups();
  limits_.detect(options_, info_.cgroup_usable ? info_.cgroup_base : std::string(), cgroup_parent_,
                 info_.cgroup_why_not);
  for (const auto& dir : limits_.v1_self_dirs())
    info_.swept_groups += cgroupfs::remove_stale_bases(dir);
  info_.cgroup_v2_controllers = limits_.v2_summary();
  info_.cgroup_v1_controllers = limits_.v1_summary();
  info_.sentinel_running = sentinel_.start(info_.cgroup_usable ? info_.cgroup_base : std::string());
}

SUPERVISOR_INLINE LinuxBackend::~LinuxBackend() = default;

SUPERVISOR_INLINE std::string LinuxBackend::next_group_name(char prefix) {
  return fmt::format("{}{}", prefix, ++group_counter_);
}

SUPERVISOR_INLINE void LinuxBackend::setup_cgroups() {
  if (options_.disable_cgroups) {
    info_.cgroup_why_not = "disabled by LoopOptions::on_linux.disable_cgroups";
    return;
  }
  std::string base = options_.cgroup_base;
  if (!base.empty()) {
    const auto slash = base.find_last_of('/');
    cgroup_parent_ =
        slash == std::string::npos || slash == 0 ? std::string("/") : base.substr(0, slash);
  } else {
    std::string why;
    auto mount = find_cgroup_v2(&why);
    if (!mount) {
      info_.cgroup_why_not = why;
      return;
    }
    info_.swept_groups += cgroupfs::remove_stale_bases(mount->self_dir());
    cgroup_parent_ = mount->self_dir();
    if (!options_.host_leaf.empty()) {
      info_.host_leaf =
          delegate_from_leaf(mount->self_dir(), options_.host_leaf, info_.host_leaf_note);
    }
    // Our own directory below the host's group, unique per Loop instance.
    static std::atomic<unsigned> instance{0};
    int error = 0;
    base = cgroupfs::create_own_base(mount->self_dir(), instance, info_.swept_groups, error);
    if (base.empty()) {
      info_.cgroup_why_not = fmt::format("mkdir \"{}/supervisor-{}-<n>\": {}", mount->self_dir(),
                                         host_pid_, sys_message(error));
      return;
    }
    own_base_ = true;
  }
  if (!cgroup_v2_has_kill(base) && ::access((base + "/cgroup.procs").c_str(), W_OK) != 0) {
    info_.cgroup_why_not = fmt::format("\"{}\" is not a writable cgroup v2 group", base);
    if (own_base_) cgroupfs::release_own_base(base);
    own_base_ = false;
    return;
  }
  info_.cgroup_usable = true;
  info_.cgroup_base = base;
}

SUPERVISOR_INLINE void LinuxBackend::enter_loop_thread() {
  // Block every signal but SIGCHLD on our own thread (never the host's threads): the host's
  // handlers of other signals never run here. SIGCHLD stays open because the kernel sends a
  // child's SIGCHLD to the thread that started it, and drops it at once only if that thread
  // does not block it and its disposition is the default: were it blocked here, every exit of
  // a worker would interrupt one of the host's threads (which then discards the signal), or
  // wake a host's signalfd. A host that installs a SIGCHLD handler sees it run here for our
  // children, where the signal is addressed. The clone3 path blocks it around the clone.
  // SIG_SETMASK, not SIG_BLOCK: a thread inherits its creator's mask, and a host that blocks
  // SIGCHLD in its threads (to read it from a signalfd) must not have it blocked here too.
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGCHLD);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);
  pthread_setname_np(pthread_self(), "sv-loop");
}

SUPERVISOR_INLINE void LinuxBackend::after_loop() {
  if (spare_.valid()) {
    ErrorSink ignored;  // an empty group: removed, or it goes with the base below
    spare_.remove(ignored);
  }
  sentinel_.stop();
  registry_.close();
  // Groups a ResourceGroup handle still names are empty now: they go with the base.
  if (own_base_) cgroupfs::release_own_base(info_.cgroup_base);
  limits_.remove_v1_bases();
}

SUPERVISOR_INLINE const ProcTable& LinuxBackend::proc_table() {
  const TimePoint now = default_clock().now();
  if (proc_table_valid_ && now - proc_table_.taken < std::chrono::milliseconds(5))
    return proc_table_;
  proc_table_.by_parent.clear();
  proc_table_.taken = now;
  proc_table_valid_ = true;
  DIR* d = ::opendir("/proc");
  if (!d) return proc_table_;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int pid = std::atoi(e->d_name);
    if (auto st = read_proc_stat(pid); st && st->state != 'Z')
      proc_table_.by_parent.emplace(st->ppid, std::make_pair(pid, st->pgrp));
  }
  ::closedir(d);
  return proc_table_;
}

SUPERVISOR_INLINE std::unique_ptr<SpawnPlan> LinuxBackend::prepare(
    std::shared_ptr<const ProcessSpec> spec_ptr, ChildRequest& request, ErrorSink& err) {
  const ProcessSpec& spec = *spec_ptr;
  if (request.containment == Containment::job_object) {
    err.fail(errc::unsupported, [&] {
      return fmt::format(
          "start \"{}\": Containment::job_object is Windows' (Job Objects); on Linux a tree is "
          "contained by a cgroup or its process group",
          spec.display_name());
    });
    return nullptr;
  }
  auto plan = std::make_unique<LinuxPlan>();
  plan->containment = request.containment;
  if (plan->containment == Containment::automatic)
    plan->containment = info_.cgroup_usable ? Containment::cgroup : Containment::process_group;
  // The loop made it (start_process checked that the group is this loop's).
  plan->group = std::static_pointer_cast<LinuxGroup>(request.group);
  if (plan->group && plan->group->v2 && plan->containment == Containment::process_group) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format(
          "start \"{}\": ProcessOptions::group is a cgroup v2 group ({}), which process-group "
          "containment cannot place the tree in",
          spec.display_name(), plan->group->v2_dir());
    });
    return nullptr;
  }
  if (!request.join_cgroup.empty()) {
    // Born in another tree's group: that tree's kill reaches it too, and its own stop is its
    // process group's.
    if (request.containment == Containment::automatic)
      plan->containment = Containment::process_group;
    if (plan->containment != Containment::process_group || plan->group) {
      err.fail(errc::invalid_argument, [&] {
        return fmt::format(
            "start \"{}\": joining the cgroup {} needs process-group containment and no group",
            spec.display_name(), request.join_cgroup);
      });
      return nullptr;
    }
    plan->join_cgroup = request.join_cgroup;
  }
  if (plan->containment == Containment::cgroup && !info_.cgroup_usable) {
    err.fail(errc::cgroup_unavailable, [&] {
      return fmt::format("start \"{}\": cgroup containment requested, but {}", spec.display_name(),
                         info_.cgroup_why_not);
    });
    return nullptr;
  }
  PreparedSpawn& p = plan->prepared;
  p.shared_null = null_.get();
  p.use_pidfd = info_.pidfd_available;
  p.has_close_range = info_.close_range_available;
  p.parent_pid = host_pid_;
  prepare_spawn(spec, p, err, std::move(request.extra_env));
  if (err) return nullptr;
  plan->spec = std::move(spec_ptr);
  plan->path = options_.spawn_path.value_or(SpawnPath::clone3);
  // posix_spawn is safe on any thread and needs no PDEATHSIG: it runs on the caller's thread,
  // sparing the host a round trip. clone3 and clone(2) run on the loop thread: PR_SET_PDEATHSIG
  // follows the thread that creates the child, and the loop thread lives as long as the children.
  // A child with groups to join is never started by posix_spawn (spawn_prepared says why).
  const bool joins_groups = plan->containment == Containment::cgroup || !spec.resources.empty() ||
                            plan->group || !plan->join_cgroup.empty();
  plan->on_loop = (plan->path == SpawnPath::clone3 && info_.clone3_available) ||
                  plan->path == SpawnPath::clone || joins_groups;
  return plan;
}

SUPERVISOR_INLINE std::unique_ptr<ChildOs> LinuxBackend::spawn(SpawnPlan& plan_base,
                                                               ProcessInfo& info, ErrorSink& err) {
  auto& plan = static_cast<LinuxPlan&>(plan_base);
  const ProcessSpec& spec = *plan.spec;
  PreparedSpawn& prepared = plan.prepared;
  std::optional<CgroupV2Group> group;
  const V1Dirs parent_v1 = plan.group ? plan.group->v1_dirs() : V1Dirs{};
  const bool needs_group =
      plan.containment == Containment::cgroup || !spec.resources.empty() || !parent_v1.empty();
  // Named only when a group is made: the name costs a format on every start.
  std::string group_name;
  if (plan.containment == Containment::cgroup) {
    if (plan.group && plan.group->v2) {
      group_name = next_group_name();
      group = CgroupV2Group::create(plan.group->v2_dir(), group_name, err);
    } else {
      group = base_group(group_name, err);
    }
    if (err) return nullptr;
  } else if (needs_group) {
    group_name = next_group_name();
  }
  const auto drop_group = [&] {
    if (!group) return;
    ErrorSink ignored;
    group->remove(ignored);
  };
  TreeLimits limits;
  apply_limits(limits_, spec, group ? &*group : nullptr, group_name, parent_v1, prepared, limits,
               err);
  if (err) {
    drop_group();
    return nullptr;
  }
  UniqueFd joined;
  if (!plan.join_cgroup.empty()) {
    joined.reset(::open(plan.join_cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!joined) {
      const int e = errno;
      limits.release();
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("start \"{}\": open the cgroup to join {}: {}", spec.display_name(),
                           plan.join_cgroup, sys_message(e));
      });
      return nullptr;
    }
  }
  SpawnResult r;
  spawn_prepared(prepared, group ? group->dir_fd() : joined.get(), plan.path,
                 info_.clone_into_cgroup_available && !options_.disable_clone_into_cgroup, r, err);
  prepared.join_fds.clear();
  if (!err && r.pid <= 0) {
    // Never a child to signal: with pid -1 or 0 a later kill would reach every process or the
    // host's own group. (A failed clone once came back this way.)
    err.fail(errc::internal, [&] {
      return fmt::format("start \"{}\": the spawn reported pid {} and no error",
                         spec.display_name(), r.pid);
    });
  }
  if (err) {
    limits.release();
    drop_group();
    return nullptr;
  }
  // A group of nothing but the tree (no limits, no ResourceGroup: nothing is ever read of it
  // but whether it is empty) keeps no descriptor while it runs: its exit is one rmdir
  // (LinuxChild::kill_rest). The others keep theirs for their counters and limit changes.
  const bool lean = group && !plan.group && spec.resources.empty();
  if (lean) group->close_dir();
  info.pid = r.pid;
  info.pgid = spec.new_session ? r.pid : ::getpgid(r.pid);
  info.path = r.path;
  info.pidfd = static_cast<bool>(r.pidfd);
  info.containment = plan.containment;
  info.cgroup = group ? group->path() : std::string();
  info.program = prepared.program;
  info.limits = limits.statuses;
  // The child has its copies; ours close now, so that EOF on the pipes means the tree is done.
  prepared.owned.clear();
  auto child = std::make_unique<LinuxChild>(*this, plan.spec, info, std::move(r), std::move(group),
                                            lean, std::move(limits), std::move(prepared.out_read),
                                            std::move(prepared.err_read));
  HostEnds ends;
  if (prepared.in_write) ends.input = make_pipe_end(std::move(prepared.in_write));
  if (prepared.channel) ends.channel = make_channel_end(std::move(prepared.channel));
  child->set_ends(std::move(ends));
  return child;
}

// A fresh group in the loop's base: the spare made after an earlier start when there is one
// (its mkdir then cost the restart nothing), else a new one. Either way a new spare is made once
// the loop has dispatched what it is doing (the replacement runs by then): a pool that restarted
// a worker will likely start another. Only in a base of our own, which goes, spare and all, at
// shutdown or with the next loop's sweep after a crash.
SUPERVISOR_INLINE CgroupV2Group LinuxBackend::base_group(std::string& name, ErrorSink& err) {
  if (!own_base_) {
    name = next_group_name();
    return CgroupV2Group::create(info_.cgroup_base, name, err);
  }
  CgroupV2Group group;
  if (spare_.valid()) {
    group = std::move(spare_);
    name = std::move(spare_name_);
  } else {
    name = next_group_name();
    group = CgroupV2Group::create(info_.cgroup_base, name, err);
    if (err) return group;
  }
  if (!spare_wanted_) {
    spare_wanted_ = true;
    loop_.post([this] {
      spare_wanted_ = false;
      if (spare_.valid()) return;
      ErrorSink ignored;  // no spare: the next start makes its group itself, and says why
      std::string spare_name = next_group_name();
      spare_ = CgroupV2Group::create(info_.cgroup_base, spare_name, ignored);
      if (spare_.valid()) spare_name_ = std::move(spare_name);
    });
  }
  return group;
}

SUPERVISOR_INLINE std::shared_ptr<GroupOs> LinuxBackend::make_group(
    const ResourceLimits& limits, const std::shared_ptr<GroupOs>& parent, ErrorSink& err) {
  return detail::make_group(limits_, info_.cgroup_usable ? info_.cgroup_base : std::string(),
                            next_group_name('g'), limits,
                            std::static_pointer_cast<LinuxGroup>(parent), err);
}

SUPERVISOR_INLINE std::unique_ptr<NotifyChannel> LinuxBackend::open_notify(
    const std::string& name, std::function<void(const NotifyNote&)> on_note, ErrorSink& err) {
  auto channel = std::make_unique<LinuxNotify>(loop_, std::move(on_note));
  // Only the first part of the pool's name goes on the wire: the rest (the pool's address, the
  // worker's index) would tell every local user what runs here, and make the name guessable.
  // The socket adds a random part, unique on the machine (notify_socket.hpp).
  channel->open(std::string_view(name).substr(0, name.find('/')), err);
  if (err) return nullptr;
  return channel;
}

}  // namespace supervisor::detail
