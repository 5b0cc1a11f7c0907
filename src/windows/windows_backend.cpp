// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
//
// The Windows backend: see windows_backend.hpp. What a ProcessSpec may ask for that it does not
// offer (yet) fails the start with errc::unsupported naming the field, never silently:
// Identity (another user), POSIX rlimits (ProcessSpec::limits), pass_fds.
#include "windows_backend.hpp"

#include <windows.h>
// After windows.h:
#include <psapi.h>

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <string_view>
#include <utility>

#include <supervisor/health.hpp>

#include "../process/loop_core.hpp"
#include "command_line.hpp"
#include "env_block.hpp"
#include "handle_end.hpp"
#include "job_limits.hpp"
#include "job_spawn.hpp"
#include "notify_pipe.hpp"
#include "pipes.hpp"
#include "status_map.hpp"
#include "utf16.hpp"
#include "windows_child.hpp"

namespace supervisor::detail {

SUPERVISOR_INLINE std::unique_ptr<Backend> make_backend(LoopCore& loop, const LoopOptions& options,
                                                        LoopInfo& info) {
  return std::make_unique<win::WindowsBackend>(loop, options, info);
}

SUPERVISOR_INLINE std::optional<ProcessSample> sample_process(int pid, bool) {
  win::UniqueHandle h{::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE,
                                    static_cast<DWORD>(pid))};
  if (!h) return std::nullopt;
  ProcessSample s;
  FILETIME created, ended, kernel, user;
  if (::GetProcessTimes(h.get(), &created, &ended, &kernel, &user)) {
    const auto ticks = [](const FILETIME& f) {
      return (static_cast<std::uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime;
    };
    s.cpu_seconds = static_cast<double>(ticks(kernel) + ticks(user)) / 1e7;
  }
  PROCESS_MEMORY_COUNTERS mem{};
  if (::K32GetProcessMemoryInfo(h.get(), &mem, sizeof mem)) s.rss_bytes = mem.WorkingSetSize;
  s.state = ::WaitForSingleObject(h.get(), 0) == WAIT_OBJECT_0 ? 'Z' : 'R';
  return s;
}

namespace win {

SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE std::wstring wide(const std::u16string& s) {
  return std::wstring(s.begin(), s.end());
}

SUPERVISOR_INLINE std::u16string to_u16(std::wstring_view s) {
  return std::u16string(s.begin(), s.end());
}

// GetFileAttributesW's answer for `path`: nothing when it does not exist (`code` says why).
SUPERVISOR_INLINE std::optional<DWORD> attributes_of(const std::wstring& path, DWORD& code) {
  const DWORD a = ::GetFileAttributesW(path.c_str());
  if (a == INVALID_FILE_ATTRIBUTES) {
    code = ::GetLastError();
    return std::nullopt;
  }
  return a;
}

SUPERVISOR_INLINE bool has_separator(std::string_view s) {
  return s.find_first_of("/\\:") != std::string_view::npos;
}

SUPERVISOR_INLINE bool has_extension(std::string_view s) {
  const auto slash = s.find_last_of("/\\");
  const auto dot = s.find_last_of('.');
  return dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash);
}

class WindowsGroup;

// What spawn() needs, ready: converted, resolved, opened.
class WindowsPlan final : public SpawnPlan {
 public:
  [[nodiscard]] bool on_loop_thread() const override { return false; }

  std::shared_ptr<const ProcessSpec> spec;
  std::wstring program;
  std::string program_utf8;
  std::wstring command_line;
  std::wstring environment;
  std::wstring cwd;
  // The child's std handles: owned ones, and the raw ones handed to the spawn (an inherited
  // stream is the host's own handle, not ours to close).
  UniqueHandle owned[3];
  Handle std_handles[3] = {nullptr, nullptr, nullptr};
  UniqueHandle out_read;  // the host's ends of the output pipes (overlapped)
  UniqueHandle err_read;
  std::shared_ptr<WindowsGroup> group;  // a ResourceGroup to start it in, or null
  // The host's end of the stdin pipe and of the channel (HostEnds), and the child's channel end.
  std::shared_ptr<HostEnd> in_write;
  std::shared_ptr<HostEnd> channel;
  UniqueHandle channel_child;
};

SUPERVISOR_INLINE void unsupported(ErrorSink& err, const ProcessSpec& spec, std::string_view field,
                                   std::string_view why) {
  err.fail(errc::unsupported, [&] {
    return fmt::format("start \"{}\": ProcessSpec.{}: {}", spec.display_name(), field, why);
  });
}

// The fields this backend cannot honour yet; the first one found fails the start.
SUPERVISOR_INLINE bool refuse_unsupported(const ProcessSpec& spec, ErrorSink& err) {
  const Identity& id = spec.identity;
  if (id.user || id.group || !id.supplementary.empty() || id.umask) {
    unsupported(err, spec, "identity",
                "running a child as another user (or with a umask) is not offered on Windows");
    return true;
  }
  if (!spec.limits.empty()) {
    unsupported(err, spec, "limits",
                "POSIX rlimits do not exist on Windows; use ProcessSpec::resources (Job Object "
                "limits)");
    return true;
  }
  if (!spec.pass_fds.empty()) {
    unsupported(err, spec, "pass_fds", "passing descriptors is not offered on Windows yet");
    return true;
  }
  return false;
}

// The program `spec.argv[0]` names: a path (relative ones from the child's working directory,
// as execve after chdir would take them), or a bare name searched along the child's PATH
// (`;`-separated). A name without an extension is tried as it is, then with ".exe" (CreateProcessW
// itself adds nothing when given the program).
SUPERVISOR_INLINE std::wstring resolve_program(const ProcessSpec& spec, const std::wstring& argv0,
                                               const std::wstring& cwd, const std::string& path,
                                               ErrorSink& err) {
  const std::string& name = spec.argv.front();
  const auto try_file = [&](const std::wstring& candidate,
                            DWORD& code) -> std::optional<std::wstring> {
    // The first answer other than "not found" is the one reported (a directory: as execve's
    // EACCES), not the ".exe" try's "not found" after it.
    const int tries = has_extension(name) ? 1 : 2;
    DWORD first = 0;
    for (int i = 0; i < tries; ++i) {
      const std::wstring c = i == 0 ? candidate : candidate + L".exe";
      DWORD answer = 0;
      if (auto a = attributes_of(c, answer)) {
        if ((*a & FILE_ATTRIBUTE_DIRECTORY) == 0) return c;
        answer = ERROR_ACCESS_DENIED;
      }
      const bool not_found = answer == ERROR_FILE_NOT_FOUND || answer == ERROR_PATH_NOT_FOUND;
      if (first == 0 && !not_found) first = answer;
      code = answer;
    }
    if (first != 0) code = first;
    return std::nullopt;
  };
  DWORD code = ERROR_FILE_NOT_FOUND;
  if (has_separator(name)) {
    const bool relative =
        !(argv0.size() > 1 && (argv0[1] == L':' || (argv0[0] == L'\\' && argv0[1] == L'\\')));
    const std::wstring candidate = relative && !cwd.empty() ? cwd + L"\\" + argv0 : argv0;
    if (auto found = try_file(candidate, code)) return *found;
    const std::error_code ec(static_cast<int>(code), std::system_category());
    err.fail(win32_error(code, ec), [&] {
      return fmt::format("spawn \"{}\": {} ({})", name, ec.message(), win32_error_note(code));
    });
    return {};
  }
  DWORD first_other = 0;
  for (std::size_t at = 0; at <= path.size();) {
    const std::size_t end = std::min(path.find(';', at), path.size());
    const std::string dir = path.substr(at, end - at);
    at = end + 1;
    if (dir.empty()) continue;
    ErrorSink ignored;
    const std::wstring wdir = wide(utf8_to_utf16(dir, "PATH", ignored));
    if (ignored) continue;
    DWORD c = 0;
    if (auto found = try_file(wdir + L"\\" + argv0, c)) return *found;
    if (c != ERROR_FILE_NOT_FOUND && c != ERROR_PATH_NOT_FOUND && first_other == 0) first_other = c;
  }
  if (first_other != 0) {
    const std::error_code ec(static_cast<int>(first_other), std::system_category());
    err.fail(win32_error(first_other, ec), [&] {
      return fmt::format("spawn \"{}\": {} (first match in PATH \"{}\")", name, ec.message(), path);
    });
  } else {
    err.fail(std::make_error_code(std::errc::no_such_file_or_directory),
             [&] { return fmt::format("spawn \"{}\": not found in PATH \"{}\"", name, path); });
  }
  return {};
}

// The working directory, checked before the spawn: CreateProcessW answers ERROR_DIRECTORY for a
// missing one and a file alike, where Linux tells ENOENT from ENOTDIR.
SUPERVISOR_INLINE bool check_cwd(const ProcessSpec& spec, const std::wstring& cwd, ErrorSink& err) {
  DWORD code = 0;
  const auto a = attributes_of(cwd, code);
  std::error_code ec;
  if (!a) {
    ec = win32_error(code, std::error_code(static_cast<int>(code), std::system_category()));
  } else if ((*a & FILE_ATTRIBUTE_DIRECTORY) == 0) {
    ec = std::make_error_code(std::errc::not_a_directory);
  } else {
    return true;
  }
  err.fail(ec, [&] {
    return fmt::format("spawn \"{}\": cwd \"{}\": {}", spec.display_name(), spec.cwd,
                       std::make_error_condition(static_cast<std::errc>(ec.value())).message());
  });
  return false;
}

// Opens the child's standard stream `s` into `plan`.
SUPERVISOR_INLINE bool open_stream(const ProcessSpec& spec, StdStream s, WindowsPlan& plan,
                                   ErrorSink& err) {
  const int i = s == StdStream::in ? 0 : s == StdStream::out ? 1 : 2;
  const StdioSpec& io = i == 0 ? spec.in : i == 1 ? spec.out : spec.err;
  const std::string_view field = i == 0 ? "in" : i == 1 ? "out" : "err";
  switch (io.mode) {
    case StdioSpec::Mode::inherit:
      plan.std_handles[i] = ::GetStdHandle(i == 0   ? STD_INPUT_HANDLE
                                           : i == 1 ? STD_OUTPUT_HANDLE
                                                    : STD_ERROR_HANDLE);
      return true;
    case StdioSpec::Mode::null: plan.owned[i] = open_null(field, err); break;
    case StdioSpec::Mode::file:
      plan.owned[i] = open_std_file(io.path, i == 0, io.append, io.follow_symlinks, field, err);
      break;
    case StdioSpec::Mode::pipe:
    case StdioSpec::Mode::log_file: {
      PipePair p = make_pipe(i != 0, field, err);
      plan.owned[i] = std::move(p.child);
      if (i == 0) {
        if (!err) plan.in_write = make_pipe_end(std::move(p.host), err);
      } else {
        (i == 1 ? plan.out_read : plan.err_read) = std::move(p.host);
      }
      break;
    }
    case StdioSpec::Mode::same_as_out: plan.std_handles[i] = plan.std_handles[1]; return true;
  }
  if (err) return false;
  plan.std_handles[i] = plan.owned[i].get();
  return true;
}

// A ResourceGroup's job (job_limits.hpp, create_group_job): each child started in the group
// joins it, and the jobs of the groups around it, before its own.
class WindowsGroup final : public GroupOs {
 public:
  WindowsGroup(UniqueHandle job, ResourceLimits limits, std::vector<LimitStatus> statuses,
               std::shared_ptr<WindowsGroup> parent)
      : job_(std::move(job)),
        limits_(std::move(limits)),
        statuses_(std::move(statuses)),
        parent_(std::move(parent)) {}

  [[nodiscard]] ResourceLimits resources() const override {
    std::lock_guard lock(mu_);
    return limits_;
  }
  [[nodiscard]] std::vector<LimitStatus> limits() const override {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  [[nodiscard]] std::string cgroup() const override { return {}; }
  [[nodiscard]] GroupSample sample() override {
    GroupSample g;
    ErrorSink e;
    const JobUsage u = read_job_usage(job_.get(), e);
    if (e) return g;
    g.pids = u.active_processes;
    g.cpu_seconds = u.cpu_seconds();
    g.memory_bytes = u.job_memory;
    return g;
  }
  void set(const ResourceLimits& next, ErrorSink& err) override {
    std::lock_guard lock(mu_);
    std::vector<LimitStatus> statuses;
    apply_job_limits(job_.get(), limits_, next, statuses, err);
    if (err) return;
    limits_ = next;
    statuses_ = std::move(statuses);
  }
  // The jobs a child of this group joins before its own, outermost first.
  void chain(std::vector<Handle>& out) const {
    if (parent_) parent_->chain(out);
    out.push_back(job_.get());
  }

 private:
  const UniqueHandle job_;
  mutable std::mutex mu_;
  ResourceLimits limits_;                       // (mu_)
  std::vector<LimitStatus> statuses_;           // (mu_)
  const std::shared_ptr<WindowsGroup> parent_;  // keeps the outer jobs open
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE WindowsBackend::WindowsBackend(LoopCore& loop, const LoopOptions&, LoopInfo& info)
    : loop_(loop) {
  info.cgroup_why_not = "Windows: each child is contained by a Job Object of its own";
  info.pidfd_available = true;  // the process handle
}

SUPERVISOR_INLINE WindowsBackend::~WindowsBackend() = default;

SUPERVISOR_INLINE std::unique_ptr<SpawnPlan> WindowsBackend::prepare(
    std::shared_ptr<const ProcessSpec> spec_ptr, ChildRequest& request, ErrorSink& err) {
  const ProcessSpec& spec = *spec_ptr;
  if (request.containment == Containment::cgroup) {
    err.fail(errc::cgroup_unavailable, [&] {
      return fmt::format(
          "start \"{}\": cgroup containment requested, but Windows has no cgroups (each child is "
          "contained by a Job Object: Containment::automatic)",
          spec.display_name());
    });
    return nullptr;
  }
  if (refuse_unsupported(spec, err)) return nullptr;
  auto plan = std::make_unique<WindowsPlan>();
  // The environment block, from the host's own (in UTF-16, as Windows keeps it).
  WindowsEnvBlock env;
  {
    wchar_t* host = ::GetEnvironmentStringsW();
    const auto entries = split_environment_block(reinterpret_cast<const char16_t*>(host));
    env = plan_windows_environment(spec.env, entries, err, request.extra_env);
    if (host != nullptr) ::FreeEnvironmentStringsW(host);
  }
  if (err) return nullptr;
  plan->environment = wide(env.block);
  const std::u16string line = build_command_line(spec.argv, err);
  if (err) return nullptr;
  plan->command_line = wide(line);
  if (!spec.cwd.empty()) {
    plan->cwd = wide(utf8_to_utf16(spec.cwd, "ProcessSpec.cwd", err));
    if (err || !check_cwd(spec, plan->cwd, err)) return nullptr;
  }
  const std::wstring argv0 = wide(utf8_to_utf16(spec.argv.front(), "ProcessSpec.argv[0]", err));
  if (err) return nullptr;
  plan->program = resolve_program(spec, argv0, plan->cwd, env.path, err);
  if (err) return nullptr;
  plan->program_utf8 = utf16_to_utf8(to_u16(plan->program));
  // The loop made it (start_process checked that the group is this loop's).
  plan->group = std::static_pointer_cast<WindowsGroup>(request.group);
  for (StdStream s : {StdStream::in, StdStream::out, StdStream::err}) {
    if (!open_stream(spec, s, *plan, err)) return nullptr;
  }
  if (spec.channel.enabled) {
    // The child's end is announced by the spawn (ChannelSpec::windows_environment_variable),
    // which alone knows its value in the child.
    PipePair p = make_channel_pipe(err);
    if (!err) plan->channel = make_channel_end(std::move(p.host), err);
    if (err) return nullptr;
    plan->channel_child = std::move(p.child);
  }
  plan->spec = std::move(spec_ptr);
  return plan;
}

SUPERVISOR_INLINE std::unique_ptr<ChildOs> WindowsBackend::spawn(SpawnPlan& plan_base,
                                                                 ProcessInfo& info,
                                                                 ErrorSink& err) {
  auto& plan = static_cast<WindowsPlan&>(plan_base);
  // The id the job's messages and the exit wait come under (installed by the child).
  const std::uint64_t job_watch = loop_.reserve_watch(0, io::priority);
  JobSpawnRequest request;
  request.program = plan.program;
  request.command_line = plan.command_line;
  request.environment = plan.environment;
  request.cwd = plan.cwd;
  request.std_in = plan.std_handles[0];
  request.std_out = plan.std_handles[1];
  request.std_err = plan.std_handles[2];
  request.completion_port = port().native();
  request.completion_key = job_key(job_watch);
  if (plan.group) plan.group->chain(request.outer_jobs);
  // The limits go on the job before the child exists: the program never runs without them.
  const ResourceLimits& limits = plan.spec->resources;
  if (!limits.empty()) {
    request.prepare_job = [&](Handle job, ErrorSink& e) {
      apply_job_limits(job, {}, limits, info.limits, e);
      if (e) e.context = fmt::format("start \"{}\": {}", plan.spec->display_name(), e.context);
    };
  }
  if (plan.channel_child) {
    const std::string_view variable = ChannelSpec::windows_environment_variable;
    request.extra_inherit.push_back(
        {plan.channel_child.get(), std::wstring(variable.begin(), variable.end())});
  }
  JobSpawnResult r = spawn_in_job(request, err);
  if (err) return nullptr;
  info.pid = static_cast<int>(r.pid);
  info.pgid = static_cast<int>(r.pid);  // CREATE_NEW_PROCESS_GROUP: its group's id is its pid
  info.path = r.attach == JobAttach::job_list ? SpawnPath::job_list : SpawnPath::job_assign;
  info.pidfd = true;
  info.containment = Containment::job_object;
  info.program = plan.program_utf8;
  // The child has its copies; ours close now, so that the end of a pipe means the tree is done.
  for (auto& h : plan.owned) h.reset();
  plan.channel_child.reset();
  return std::make_unique<WindowsChild>(
      *this, plan.spec, r.pid, std::move(r.process), std::move(r.job), job_watch,
      std::move(plan.out_read), std::move(plan.err_read),
      HostEnds{std::move(plan.in_write), std::move(plan.channel)});
}

SUPERVISOR_INLINE std::shared_ptr<GroupOs> WindowsBackend::make_group(
    const ResourceLimits& limits, const std::shared_ptr<GroupOs>& parent, ErrorSink& err) {
  std::vector<LimitStatus> statuses;
  UniqueHandle job = create_group_job(limits, statuses, err);
  if (err) return nullptr;
  return std::make_shared<WindowsGroup>(std::move(job), limits, std::move(statuses),
                                        std::static_pointer_cast<WindowsGroup>(parent));
}

SUPERVISOR_INLINE std::unique_ptr<NotifyChannel> WindowsBackend::open_notify(
    const std::string&, std::function<void(const NotifyNote&)> on_note, ErrorSink& err) {
  // The name's parts (the pool's address, the worker's index) stay off the wire, as on Linux: the
  // pipe's name is random (notify_pipe.hpp).
  auto channel = std::make_unique<NotifyPipe>(loop_, std::move(on_note));
  channel->open(err);
  if (err) return nullptr;
  return channel;
}

}  // namespace win
}  // namespace supervisor::detail
