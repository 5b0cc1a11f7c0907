// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The built-in alert sinks: a callback, a log line, a command with the alert as JSON on stdin.
#include <supervisor/alerts.hpp>
#include <supervisor/process.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "../core/duration.hpp"

namespace supervisor {

SUPERVISOR_LOCAL_BEGIN

class CallbackSink final : public AlertSink {
 public:
  CallbackSink(std::function<void(const Alert&)> fn, std::string name)
      : fn_(std::move(fn)), name_(std::move(name)) {}
  [[nodiscard]] std::string name() const override { return name_; }
  void deliver(const Alert& alert) override {
    if (fn_) fn_(alert);
  }

 private:
  std::function<void(const Alert&)> fn_;
  std::string name_;
};

class LogSink final : public AlertSink {
 public:
  LogSink(std::function<void(std::string_view)> write, std::string name)
      : write_(std::move(write)), name_(std::move(name)) {}
  [[nodiscard]] std::string name() const override { return name_; }
  void deliver(const Alert& alert) override {
    if (write_) write_(to_log_line(alert));
  }

 private:
  std::function<void(std::string_view)> write_;
  std::string name_;
};

SUPERVISOR_INLINE void check_exec(const ExecSinkOptions& o, detail::ErrorSink& err) {
  if (o.name.empty()) {
    err.fail(errc::invalid_argument, [] { return std::string("ExecSinkOptions.name: empty"); });
  } else if (o.spec.argv.empty()) {
    err.fail(errc::invalid_argument,
             [] { return std::string("ExecSinkOptions.spec.argv: empty (no command)"); });
  } else if (o.timeout <= Duration::zero()) {
    err.fail(errc::invalid_argument, [&] {
      return fmt::format("ExecSinkOptions.timeout: must be positive (got {})",
                         detail::format_duration(o.timeout));
    });
  } else {
    std::error_code ec;
    validate(o.spec, ec);
    if (ec) {
      // Again with the throwing overload for its message (only when someone reads it).
      err.fail(ec, [&]() -> std::string {
        try {
          validate(o.spec);
        } catch (const std::exception& e) {
          return fmt::format("ExecSinkOptions.spec: {}", e.what());
        }
        return "ExecSinkOptions.spec: invalid";
      });
    }
  }
}

// Runs the command once per notice, from the delivering thread: starts it on the loop, writes
// the JSON to its stdin and waits, all within the timeout; past it, kills the whole tree.
class ExecSink final : public AlertSink {
 public:
  ExecSink(Loop& loop, ExecSinkOptions options) : loop_(loop), options_(std::move(options)) {
    options_.spec.in = StdioSpec::pipe();
  }
  [[nodiscard]] std::string name() const override { return options_.name; }

  void deliver(const Alert& alert) override {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + options_.timeout;
    const auto left = [&] {
      return std::max(Duration::zero(),
                      std::chrono::duration_cast<Duration>(deadline - Clock::now()));
    };
    const std::string program = options_.spec.display_name();
    Process process = Process::start(loop_, options_.spec);
    const std::string json = to_json(alert) + "\n";
    std::error_code ec;
    const std::size_t written = process.write_stdin(json, left(), ec);
    // A command that does not read its stdin (it closed it, or ended) is judged by its exit.
    const bool stdin_timed_out = !ec && written < json.size();
    process.close_stdin();
    std::optional<ExitStatus> status;
    if (!stdin_timed_out) status = process.wait_for(left());
    if (!status) {
      process.kill();  // the whole tree, at once
      throw_error(errc::timeout,
                  fmt::format("alert exec sink \"{}\": \"{}\" did not finish within {}; its "
                              "process tree was killed",
                              options_.name, program, detail::format_duration(options_.timeout)));
    }
    if (!status->ok()) {
      throw_error(errc::hook_failed, fmt::format("alert exec sink \"{}\": \"{}\" failed: {}",
                                                 options_.name, program, status->describe()));
    }
  }

 private:
  Loop& loop_;
  ExecSinkOptions options_;
};

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE std::shared_ptr<AlertSink> callback_sink(std::function<void(const Alert&)> fn,
                                                           std::string name) {
  return std::make_shared<CallbackSink>(std::move(fn), std::move(name));
}

SUPERVISOR_INLINE std::shared_ptr<AlertSink> log_sink(std::function<void(std::string_view)> write,
                                                      std::string name) {
  return std::make_shared<LogSink>(std::move(write), std::move(name));
}

SUPERVISOR_INLINE std::shared_ptr<AlertSink> log_sink(std::FILE* file, std::string name) {
  return log_sink(
      [file](std::string_view line) {
        if (file == nullptr) throw_error(errc::invalid_argument, "alert log sink: no file");
        const bool ok = std::fwrite(line.data(), 1, line.size(), file) == line.size() &&
                        std::fputc('\n', file) != EOF && std::fflush(file) == 0;
        if (!ok) {
          throw_error(std::error_code(errno != 0 ? errno : EIO, std::generic_category()),
                      "alert log sink: write");
        }
      },
      std::move(name));
}

SUPERVISOR_INLINE void validate(const ExecSinkOptions& options) {
  detail::or_throw([&](detail::ErrorSink& err) { check_exec(options, err); });
}

SUPERVISOR_INLINE void validate(const ExecSinkOptions& options, std::error_code& ec) noexcept {
  detail::into_code(ec, [&](detail::ErrorSink& err) { check_exec(options, err); });
}

SUPERVISOR_INLINE std::shared_ptr<AlertSink> exec_sink(Loop& loop, ExecSinkOptions options) {
  validate(options);
  return std::make_shared<ExecSink>(loop, std::move(options));
}

SUPERVISOR_INLINE std::shared_ptr<AlertSink> exec_sink(Loop& loop, ExecSinkOptions options,
                                                       std::error_code& ec) noexcept {
  return detail::into_code(ec, [&](detail::ErrorSink& err) -> std::shared_ptr<AlertSink> {
    check_exec(options, err);
    if (err) return nullptr;
    return std::make_shared<ExecSink>(loop, std::move(options));
  });
}

}  // namespace supervisor
