// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#include "limits.hpp"
#include "../posix/errno_text.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <system_error>

#include <fmt/format.h>

#include "cgroupfs.hpp"

namespace supervisor::detail {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE constexpr const char* k_controllers[] = {"memory", "pids", "cpu"};
SUPERVISOR_INLINE constexpr std::uint64_t k_cpu_period_us =
    100'000;  // the kernel's default CFS period

SUPERVISOR_INLINE std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  for (const auto w : cgroupfs::split_spaces(text)) {
    std::string word(w);
    while (!word.empty() && word.back() == '\n') word.pop_back();
    if (!word.empty()) words.push_back(std::move(word));
  }
  return words;
}

SUPERVISOR_LOCAL_END

// ------------------------------------------------------------------------------------------
// LimitSupport

SUPERVISOR_INLINE void LimitSupport::detect(const LinuxLoopOptions& options,
                                            const std::string& v2_base,
                                            const std::string& v2_parent,
                                            const std::string& v2_why_not) {
  v2_base_ = v2_base;
  v2_parent_ = v2_parent;
  v2_why_not_ = v2_why_not;
  if (!v2_base.empty()) {
    // What the host's group hands down to our base; we hand it on to the worker groups.
    const auto available = split_words(cgroup_v2_enabled_controllers(v2_base));
    std::string enable;
    for (const char* c : k_controllers) {
      if (std::find(available.begin(), available.end(), c) != available.end())
        enable += fmt::format("{}+{}", enable.empty() ? "" : " ", c);
    }
    if (!enable.empty()) {
      const std::string file = v2_base + "/cgroup.subtree_control";
      cgroupfs::write_file(file, enable);  // what it took shows in the file, read next
      std::string enabled;
      if (cgroupfs::read_whole_file(AT_FDCWD, file.c_str(), enabled) == 0)
        v2_ = split_words(enabled);
    }
  }
  v1_disabled_ = options.disable_cgroups || options.disable_cgroup_v1;
  for (const char* c : k_controllers) {
    V1 entry;
    if (options.disable_cgroups) {
      entry.why_not = "cgroups are disabled by LoopOptions::on_linux.disable_cgroups";
    } else if (options.disable_cgroup_v1) {
      entry.why_not = "cgroup v1 is disabled by LoopOptions::on_linux.disable_cgroup_v1";
    } else {
      entry.hierarchy = find_cgroup_v1(c, &entry.why_not);
    }
    v1_.emplace(c, std::move(entry));
  }
}

SUPERVISOR_INLINE bool LimitSupport::has_v2(std::string_view controller) const {
  return std::find(v2_.begin(), v2_.end(), controller) != v2_.end();
}

SUPERVISOR_INLINE bool LimitSupport::has_v1(std::string_view controller) const {
  const auto it = v1_.find(controller);
  return it != v1_.end() && it->second.hierarchy.has_value();
}

SUPERVISOR_INLINE std::string LimitSupport::v1_base(const std::string& controller, ErrorSink& err) {
  std::lock_guard lock(mu_);
  auto it = v1_.find(controller);
  if (it == v1_.end() || !it->second.hierarchy) {
    err.fail(errc::controller_unavailable,
             [&] { return fmt::format("no cgroup v1 {} hierarchy", controller); });
    return {};
  }
  V1& v = it->second;
  if (v.base.empty()) {
    static std::atomic<unsigned> instance{0};
    int e = 0;
    int reclaimed = 0;
    std::string base = cgroupfs::create_own_base(v.hierarchy->self_dir(), instance, reclaimed, e);
    if (base.empty()) {
      err.fail(std::error_code(e, std::system_category()), [&] {
        return fmt::format("mkdir \"{}/supervisor-{}-<n>\"", v.hierarchy->self_dir(), ::getpid());
      });
      return {};
    }
    v.base = std::move(base);
  }
  return v.base;
}

SUPERVISOR_INLINE void LimitSupport::remove_v1_bases() {
  std::lock_guard lock(mu_);
  for (auto& [name, v] : v1_) {
    if (v.base.empty()) continue;
    // Groups a worker's release could not remove then (still busy) are empty by now, and so
    // are those of ResourceGroups whose handles outlive the loop.
    if (cgroupfs::release_own_base(v.base)) v.base.clear();
  }
}

SUPERVISOR_INLINE std::string LimitSupport::why_not(std::string_view controller) const {
  std::string v2;
  if (v2_base_.empty()) {
    v2 = fmt::format("cgroup v2 is not used ({})", v2_why_not_);
  } else {
    v2 = fmt::format(
        "cgroup v2 does not delegate the {0} controller to \"{1}\": add +{0} to "
        "\"{1}/cgroup.subtree_control\" (the kernel allows that only while \"{1}\" holds no "
        "process, so the host must live in a leaf group), or run the host under systemd with "
        "Delegate=yes",
        controller, v2_parent_);
  }
  const auto it = v1_.find(controller);
  const std::string v1 =
      it == v1_.end() ? std::string("no cgroup v1 hierarchy is known for it") : it->second.why_not;
  return fmt::format("no {} controller: {}; {}", controller, v2, v1);
}

SUPERVISOR_INLINE std::vector<std::string> LimitSupport::v1_self_dirs() const {
  std::vector<std::string> dirs;
  for (const auto& [name, v] : v1_) {
    if (v.hierarchy) dirs.push_back(v.hierarchy->self_dir());
  }
  return dirs;
}

SUPERVISOR_INLINE std::string LimitSupport::v2_enable_text() const {
  std::string text;
  for (const auto& c : v2_) text += fmt::format("{}+{}", text.empty() ? "" : " ", c);
  return text;
}

SUPERVISOR_INLINE std::string LimitSupport::v2_summary() const {
  return fmt::format("{}", fmt::join(v2_, " "));
}

SUPERVISOR_INLINE std::string LimitSupport::v1_summary() const {
  std::vector<std::string> names;
  for (const char* c : k_controllers) {
    if (has_v1(c)) names.emplace_back(c);
  }
  return fmt::format("{}", fmt::join(names, " "));
}

SUPERVISOR_INLINE std::string delegate_from_leaf(const std::string& self_dir,
                                                 const std::string& leaf, std::string& note) {
  const auto words = [](const std::string& file) {
    std::string text;
    cgroupfs::read_whole_file(AT_FDCWD, file.c_str(), text);
    return split_words(text);
  };
  const auto offered = words(self_dir + "/cgroup.controllers");
  const auto enabled = words(self_dir + "/cgroup.subtree_control");
  std::string enable;
  for (const char* c : k_controllers) {
    const bool on = std::find(enabled.begin(), enabled.end(), c) != enabled.end();
    const bool offer = std::find(offered.begin(), offered.end(), c) != offered.end();
    if (offer && !on) enable += fmt::format("{}+{}", enable.empty() ? "" : " ", c);
  }
  if (enable.empty()) {
    note = fmt::format(
        "not moved: \"{}\" needs no change (offers none of memory, pids, cpu that "
        "it does not already enable)",
        self_dir);
    return {};
  }
  const std::string dir = cgroupfs::join_normalised(self_dir, leaf);
  if (leaf.empty() || leaf.find('/') != std::string::npos || leaf == "." || leaf == "..") {
    note = fmt::format("not moved: LoopOptions::host_leaf \"{}\" must be one path component", leaf);
    return {};
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    note = fmt::format("not moved: mkdir \"{}\": {}", dir, sys_message(errno));
    return {};
  }
  if (const int e = cgroupfs::write_file(dir + "/cgroup.procs", std::to_string(::getpid()));
      e != 0) {
    note = fmt::format("not moved: \"{}/cgroup.procs\": {}", dir, sys_message(e));
    return {};
  }
  if (const int e = cgroupfs::write_file(self_dir + "/cgroup.subtree_control", enable); e != 0) {
    note = fmt::format(
        "moved the host to \"{}\", but enabling \"{}\" in \"{}/cgroup.subtree_control\" failed: "
        "{} (another process still in \"{}\"?)",
        dir, enable, self_dir, sys_message(e), self_dir);
    return dir;
  }
  note = fmt::format("moved the host to \"{}\" and enabled \"{}\" for the groups below \"{}\"", dir,
                     enable, self_dir);
  return dir;
}

// ------------------------------------------------------------------------------------------
// TreeLimits

SUPERVISOR_INLINE const CgroupV1Group* TreeLimits::group(std::string_view controller) const {
  for (const auto& g : v1) {
    if (g.controller() == controller) return &g;
  }
  return nullptr;
}

SUPERVISOR_INLINE bool TreeLimits::release() {
  bool all = true;
  for (auto& g : v1) {
    ErrorSink ignored;
    all = g.remove(ignored) && all;
  }
  return all;
}

// ------------------------------------------------------------------------------------------
// apply_limits

SUPERVISOR_LOCAL_BEGIN

// Where each limit goes and what is written: before a spawn (`p` set: v1 groups are created,
// rlimits go to the child), or on a running tree (`live_pid` set: only its existing groups are
// written, rlimits are set on its main process with prlimit).
class Applier {
 public:
  // `what` names the subject in errors (`start "name"`, `ResourceGroup g2`).
  Applier(LimitSupport& support, std::string what, const ResourceLimits& r, CgroupV2Group* v2,
          const std::string& name, TreeLimits& out, ErrorSink& err)
      : support_(support),
        what_(std::move(what)),
        r_(r),
        v2_(v2),
        name_(name),
        out_(out),
        err_(err) {}

  PreparedSpawn* spawn = nullptr;  // before a spawn
  pid_t live_pid = 0;              // on a running tree
  bool create_v1 = false;          // missing v1 groups are made (a spawn, or a ResourceGroup)
  // The v1 groups new ones are made in, by controller (a ResourceGroup's); else the loop's bases.
  const V1Dirs* parent_v1 = nullptr;
  // A ResourceGroup that made a v1 group while trees may run in it: the note says for whom.
  bool note_new_v1 = false;
  // Added to the note of the next limit set through cgroup v1 (then cleared).
  std::string v1_suffix;

  // A number file of the parent's v1 group of `controller` (a ResourceGroup's), if any.
  [[nodiscard]] std::optional<std::uint64_t> parent_v1_number(const char* controller,
                                                              const char* file) const {
    const std::string dir = parent_dir(controller);
    std::string text;
    if (dir.empty() || cgroupfs::read_whole_file(AT_FDCWD, (dir + "/" + file).c_str(), text) != 0)
      return std::nullopt;
    return cgroupfs::parse_u64(text);
  }

  // Sets `kind` through a controller file: `v2_file` = `v2_value` in the v2 group, or else the
  // v1 `writes` (in order) in this incarnation's v1 group of `controller`. `v1_note` non-empty:
  // v1 cannot express this limit, and says why. `report` false: an unset limit being lifted.
  void controller_limit(LimitKind kind, const char* controller, const char* v2_file,
                        const std::string& v2_value,
                        const std::vector<std::pair<const char*, std::string>>& v1_writes,
                        const std::string& v1_note = {}, bool report = true) {
    if (err_) return;
    LimitStatus st;
    st.kind = kind;
    if (v2_ != nullptr && support_.has_v2(controller)) {
      if (v2_->set(v2_file, v2_value, err_) != 0) return;
      st.backend = LimitBackend::cgroup_v2;
      st.note = fmt::format("{}/{} = {}", v2_->path(), v2_file, v2_value);
    } else if (v1_note.empty() && support_.has_v1(controller) &&
               (create_v1 || out_.group(controller) != nullptr)) {
      const bool existed = out_.group(controller) != nullptr;
      CgroupV1Group* g = v1_group(controller);
      if (g == nullptr) return;
      for (const auto& [file, value] : v1_writes) {
        if (g->write(file, value, err_) != 0) return;
      }
      st.backend = LimitBackend::cgroup_v1;
      st.note =
          fmt::format("{}/{} = {}", g->path(), v1_writes.back().first, v1_writes.back().second);
      if (note_new_v1 && !existed) st.note += " (for trees started from now on)";
      st.note += v1_suffix;
    } else if (!create_v1 && v1_note.empty() && support_.has_v1(controller)) {
      st.note = fmt::format(
          "not applied to the running worker (it has no cgroup v1 {} group); applies from its "
          "next start",
          controller);
    } else {
      st.note = v1_note.empty() ? support_.why_not(controller)
                                : fmt::format("{}; {}", v1_note, support_.why_not(controller));
    }
    v1_suffix.clear();
    if (report) finish(std::move(st));
  }

  // A limit the loop enforces itself (wall_time: the ChildState's timer).
  void loop_limit(LimitKind kind, std::string note) {
    if (err_) return;
    finish(LimitStatus{kind, LimitBackend::loop_timer, std::move(note)});
  }

  // A group's v1 limits hold only the trees inside its v1 groups: in each hierarchy the parent
  // uses, this tree gets a group too, even without a limit of its own there.
  void join_parent_hierarchies() {
    if (parent_v1 == nullptr) return;
    for (const auto& [controller, dir] : *parent_v1) {
      if (!err_ && out_.group(controller) == nullptr) v1_group(controller.c_str());
    }
  }

  void rlimit_limit(LimitKind kind, int resource, std::uint64_t soft, std::uint64_t hard,
                    bool report = true) {
    if (err_) return;
    LimitStatus st;
    st.kind = kind;
    st.backend = LimitBackend::rlimit;
    if (spawn != nullptr) {
      spawn->limits.push_back({resource, soft, hard});
      st.note = fmt::format("soft {} hard {}, per process", soft, hard);
    } else {
      rlimit lim{soft, hard};
      if (::prlimit(live_pid, static_cast<__rlimit_resource>(resource), &lim, nullptr) != 0) {
        const int e = errno;
        if (e != EPERM) {
          err_.fail(std::error_code(e, std::system_category()), [&] {
            return fmt::format("prlimit({}, {}): {}", live_pid, to_string(kind), sys_message(e));
          });
          return;
        }
        // Raising a hard rlimit needs CAP_SYS_RESOURCE: the running process keeps its own.
        st.backend = LimitBackend::none;
        st.note = fmt::format(
            "not applied to the running worker (raising its hard limit needs CAP_SYS_RESOURCE); "
            "applies from its next start (soft {} hard {})",
            soft, hard);
      } else {
        st.note = fmt::format(
            "soft {} hard {}, set on the main process only (its children keep "
            "theirs until their next start)",
            soft, hard);
      }
    }
    if (report) finish(std::move(st));
  }

 private:
  CgroupV1Group* v1_group(const char* controller) {
    for (auto& g : out_.v1) {
      if (g.controller() == controller) return &g;
    }
    std::string base = parent_dir(controller);
    if (base.empty()) base = support_.v1_base(controller, err_);
    if (err_) return nullptr;
    auto g = CgroupV1Group::create(controller, base, name_, err_);
    if (err_) return nullptr;
    out_.v1.push_back(std::move(g));
    return &out_.v1.back();
  }

  // The parent's v1 group of `controller` ("" without one).
  [[nodiscard]] std::string parent_dir(std::string_view controller) const {
    if (parent_v1 != nullptr) {
      for (const auto& [c, dir] : *parent_v1) {
        if (c == controller) return dir;
      }
    }
    return {};
  }

  void finish(LimitStatus st) {
    if (st.backend == LimitBackend::none && r_.enforcement == LimitEnforcement::required) {
      err_.fail(errc::controller_unavailable, [&] {
        return fmt::format("{}: ResourceLimits.{} is required but cannot be enforced: {}", what_,
                           to_string(st.kind), st.note);
      });
      return;
    }
    out_.statuses.push_back(std::move(st));
  }

  LimitSupport& support_;
  std::string what_;
  const ResourceLimits& r_;
  CgroupV2Group* v2_;
  const std::string& name_;
  TreeLimits& out_;
  ErrorSink& err_;
};

// Every limit of `r`; with `previous`, also lifts (back to the kernel's unlimited value) each
// limit `previous` set and `r` does not.
SUPERVISOR_INLINE void walk_limits(Applier& a, const ResourceLimits& r,
                                   const ResourceLimits* previous, const TreeLimits& out) {
  const auto text = [](std::uint64_t v) { return std::to_string(v); };
  const auto lifted = [&](auto field) {
    return previous != nullptr && (previous->*field) && !(r.*field);
  };
  if (r.memory_max) {
    a.controller_limit(LimitKind::memory_max, "memory", "memory.max", text(*r.memory_max),
                       {{"memory.limit_in_bytes", text(*r.memory_max)}});
  } else if (lifted(&ResourceLimits::memory_max)) {
    a.controller_limit(LimitKind::memory_max, "memory", "memory.max", "max",
                       {{"memory.limit_in_bytes", "-1"}}, {}, false);
  }
  const std::string no_high =
      "cgroup v1 has no memory throttling limit (memory.high is cgroup v2 only)";
  if (r.memory_high) {
    a.controller_limit(LimitKind::memory_high, "memory", "memory.high", text(*r.memory_high), {},
                       no_high);
  } else if (lifted(&ResourceLimits::memory_high)) {
    a.controller_limit(LimitKind::memory_high, "memory", "memory.high", "max", {}, no_high, false);
  }
  if (r.swap_max) {
    // v1 limits memory and swap together (memsw), so swap alone is memory_max + swap_max.
    std::string v1_note;
    if (!r.memory_max) {
      v1_note = "cgroup v1 limits swap only together with memory: set memory_max too";
    } else {
      struct stat st {};
      const auto* mem = out.group("memory");
      if (mem == nullptr ||
          ::stat((mem->path() + "/memory.memsw.limit_in_bytes").c_str(), &st) != 0)
        v1_note = "cgroup v1 swap accounting is off (boot with swapaccount=1)";
    }
    const std::uint64_t memsw = r.memory_max ? *r.memory_max + *r.swap_max : 0;
    a.controller_limit(LimitKind::swap_max, "memory", "memory.swap.max", text(*r.swap_max),
                       {{"memory.memsw.limit_in_bytes", text(memsw)}}, v1_note);
  } else if (lifted(&ResourceLimits::swap_max)) {
    a.controller_limit(LimitKind::swap_max, "memory", "memory.swap.max", "max",
                       {{"memory.memsw.limit_in_bytes", "-1"}}, {}, false);
  }
  if (r.cpu_cores) {
    const auto quota = std::max<std::uint64_t>(
        1000, static_cast<std::uint64_t>(std::llround(*r.cpu_cores * k_cpu_period_us)));
    // cgroup v1 refuses a quota above the parent's (a ResourceGroup's): the parent's binds anyway.
    std::uint64_t v1_quota = quota;
    if (const auto parent = a.parent_v1_number("cpu", "cpu.cfs_quota_us");
        parent && *parent < quota) {
      v1_quota = *parent;
      a.v1_suffix =
          " (held to its ResourceGroup's quota: cgroup v1 refuses one above the parent's)";
    }
    a.controller_limit(
        LimitKind::cpu_cores, "cpu", "cpu.max", fmt::format("{} {}", quota, k_cpu_period_us),
        {{"cpu.cfs_period_us", text(k_cpu_period_us)}, {"cpu.cfs_quota_us", text(v1_quota)}});
  } else if (lifted(&ResourceLimits::cpu_cores)) {
    a.controller_limit(LimitKind::cpu_cores, "cpu", "cpu.max",
                       fmt::format("max {}", k_cpu_period_us), {{"cpu.cfs_quota_us", "-1"}}, {},
                       false);
  }
  if (r.cpu_weight) {
    // v2's weight 100 is v1's 1024 shares.
    const auto shares = std::max<std::uint64_t>(2, std::uint64_t{*r.cpu_weight} * 1024 / 100);
    a.controller_limit(LimitKind::cpu_weight, "cpu", "cpu.weight", text(*r.cpu_weight),
                       {{"cpu.shares", text(shares)}});
  } else if (lifted(&ResourceLimits::cpu_weight)) {
    a.controller_limit(LimitKind::cpu_weight, "cpu", "cpu.weight", "100", {{"cpu.shares", "1024"}},
                       {}, false);
  }
  if (r.max_processes) {
    a.controller_limit(LimitKind::max_processes, "pids", "pids.max", text(*r.max_processes),
                       {{"pids.max", text(*r.max_processes)}});
  } else if (lifted(&ResourceLimits::max_processes)) {
    a.controller_limit(LimitKind::max_processes, "pids", "pids.max", "max", {{"pids.max", "max"}},
                       {}, false);
  }
  if (r.max_open_files) {
    a.rlimit_limit(LimitKind::max_open_files, RLIMIT_NOFILE, *r.max_open_files, *r.max_open_files);
  } else if (lifted(&ResourceLimits::max_open_files)) {
    rlimit host{};  // the host's own, which the worker would have inherited
    ::getrlimit(RLIMIT_NOFILE, &host);
    a.rlimit_limit(LimitKind::max_open_files, RLIMIT_NOFILE, host.rlim_cur, host.rlim_max, false);
  }
  if (r.cpu_time) {
    const auto secs = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(*r.cpu_time).count());
    // SIGXCPU at the soft limit (a worker may catch it and wind down), SIGKILL a second later.
    a.rlimit_limit(LimitKind::cpu_time, RLIMIT_CPU, secs, secs + 1);
  } else if (lifted(&ResourceLimits::cpu_time)) {
    a.rlimit_limit(LimitKind::cpu_time, RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY, false);
  }
  if (r.wall_time) {
    a.loop_limit(
        LimitKind::wall_time,
        fmt::format("the StopPlan runs {} ms after the start",
                    std::chrono::duration_cast<std::chrono::milliseconds>(*r.wall_time).count()));
  }
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void apply_limits(LimitSupport& support, const ProcessSpec& spec,
                                    CgroupV2Group* v2, const std::string& name,
                                    const V1Dirs& parent_v1, PreparedSpawn& p, TreeLimits& out,
                                    ErrorSink& err) {
  const ResourceLimits& r = spec.resources;
  if (r.empty() && parent_v1.empty()) return;
  Applier a(support, fmt::format("start \"{}\"", spec.display_name()), r, v2, name, out, err);
  a.spawn = &p;
  a.create_v1 = true;
  a.parent_v1 = &parent_v1;
  walk_limits(a, r, nullptr, out);
  a.join_parent_hierarchies();
  if (err) {
    out.release();
    out.v1.clear();
    return;
  }
  for (const auto& g : out.v1) {
    p.join_fds.push_back(g.open_procs(err));
    if (err) {
      p.join_fds.clear();
      out.release();
      out.v1.clear();
      return;
    }
  }
}

SUPERVISOR_INLINE void change_limits(LimitSupport& support, const ProcessSpec& spec,
                                     const ResourceLimits& previous, const ResourceLimits& next,
                                     CgroupV2Group* v2, pid_t pid, TreeLimits& limits,
                                     ErrorSink& err) {
  limits.statuses.clear();
  const std::string no_name;
  Applier a(support, fmt::format("change limits of \"{}\"", spec.display_name()), next, v2, no_name,
            limits, err);
  a.live_pid = pid;
  walk_limits(a, next, &previous, limits);
}

// ------------------------------------------------------------------------------------------
// LinuxGroup

SUPERVISOR_INLINE LinuxGroup::~LinuxGroup() {
  // Every tree in it is gone (each holds a handle): what is left is empty.
  ErrorSink ignored;
  tree_limits.release();
  if (v2) v2->remove(ignored);
}

SUPERVISOR_INLINE ResourceLimits LinuxGroup::resources() const {
  std::lock_guard lock(mu);
  return current;
}

SUPERVISOR_INLINE std::vector<LimitStatus> LinuxGroup::limits() const {
  std::lock_guard lock(mu);
  return tree_limits.statuses;
}

SUPERVISOR_INLINE V1Dirs LinuxGroup::v1_dirs() const {
  std::lock_guard lock(mu);
  V1Dirs dirs;
  for (const auto& g : tree_limits.v1) dirs.emplace_back(g.controller(), g.path());
  return dirs;
}

SUPERVISOR_INLINE void LinuxGroup::apply(const ResourceLimits& next, bool creating,
                                         ErrorSink& err) {
  const V1Dirs parent_v1 = parent ? parent->v1_dirs() : V1Dirs{};
  std::lock_guard lock(mu);
  TreeLimits changed;
  changed.v1 = std::move(tree_limits.v1);
  Applier a(support, fmt::format("ResourceGroup {}", name), next, v2 ? &*v2 : nullptr, name,
            changed, err);
  a.create_v1 = true;
  a.note_new_v1 = !creating;
  a.parent_v1 = &parent_v1;
  walk_limits(a, next, creating ? nullptr : &current, changed);
  a.join_parent_hierarchies();
  tree_limits.v1 = std::move(changed.v1);
  if (err) return;
  tree_limits.statuses = std::move(changed.statuses);
  current = next;
}

SUPERVISOR_INLINE std::shared_ptr<LinuxGroup> make_group(
    LimitSupport& support, const std::string& v2_base, const std::string& name,
    const ResourceLimits& r, std::shared_ptr<LinuxGroup> parent, ErrorSink& err) {
  auto g = std::make_shared<LinuxGroup>(support);
  g->name = name;
  g->parent = std::move(parent);
  const std::string v2_parent = g->parent ? g->parent->v2_dir() : v2_base;
  if (!v2_parent.empty()) {
    g->v2 = CgroupV2Group::create(v2_parent, name, err);
    if (err) return nullptr;
    // The trees' own groups below it get what the loop's base hands down.
    if (const std::string enable = support.v2_enable_text(); !enable.empty())
      g->v2->set("cgroup.subtree_control", enable, err);
  }
  if (!err) g->apply(r, true, err);
  if (err) return nullptr;  // the destructor removes what was made
  return g;
}

SUPERVISOR_INLINE GroupSample LinuxGroup::sample() {
  std::lock_guard lock(mu);
  GroupSample s;
  std::optional<CgroupStats> cs;
  if (v2) {
    ErrorSink ignored;
    cs = v2->stats(ignored);
    if (cs->cpu_usage_usec) s.cpu_seconds = static_cast<double>(*cs->cpu_usage_usec) / 1e6;
    if (support.has_v2("memory")) {
      std::string local;
      cgroupfs::read_whole_file(AT_FDCWD, (v2->path() + "/memory.events.local").c_str(), local);
      s.memory_limit_hits = cgroupfs::keyed_value(local, "max");
      s.memory_oom_events = cgroupfs::keyed_value(local, "oom");
    }
  }
  const LimitCounters c = read_limit_counters(tree_limits, cs ? &*cs : nullptr);
  s.memory_bytes = c.memory_bytes;
  s.pids = c.pids;
  s.cpu_throttled_periods = c.throttled_periods;
  s.cpu_throttled_seconds = c.throttled_seconds;
  s.oom_kills = c.oom_kills;
  s.fork_refusals = c.fork_refusals;
  s.memory_high_events = c.memory_high_events;
  if (!s.memory_limit_hits) {
    if (const auto* m = tree_limits.group("memory"))
      s.memory_limit_hits = m->number("memory.failcnt");
  }
  return s;
}

SUPERVISOR_INLINE LimitCounters read_limit_counters(const TreeLimits& limits,
                                                    const CgroupStats* v2) {
  LimitCounters c;
  if (v2 != nullptr) {
    c.oom_kills = v2->oom_kill;
    c.fork_refusals = v2->pids_max_events;
    c.throttled_periods = v2->cpu_nr_throttled;
    if (v2->cpu_throttled_usec)
      c.throttled_seconds = static_cast<double>(*v2->cpu_throttled_usec) / 1e6;
    c.memory_bytes = v2->memory_current;
    c.pids = v2->pids_current;
    c.memory_high_events = v2->memory_high;
  }
  if (const auto* g = limits.group("memory")) {
    if (!c.oom_kills) c.oom_kills = g->keyed("memory.oom_control", "oom_kill");
    if (!c.memory_bytes) c.memory_bytes = g->number("memory.usage_in_bytes");
  }
  if (const auto* g = limits.group("pids")) {
    if (!c.fork_refusals) c.fork_refusals = g->keyed("pids.events", "max");
    if (!c.pids) c.pids = g->number("pids.current");
  }
  if (const auto* g = limits.group("cpu"); g != nullptr && !c.throttled_periods) {
    const std::string stat = g->text("cpu.stat");
    c.throttled_periods = cgroupfs::keyed_value(stat, "nr_throttled");
    if (auto ns = cgroupfs::keyed_value(stat, "throttled_time"))
      c.throttled_seconds = static_cast<double>(*ns) / 1e9;
  }
  return c;
}

}  // namespace supervisor::detail
