// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The workers' output as the pool sees it: PoolOptions::on_output (each line with its worker,
// incarnation and stream), the output counts of snapshots, and `{worker}` in a worker's
// output paths (StdioSpec::path).
#include <string>
#include <utility>

#include "pool_core.hpp"

namespace supervisor::detail {
SUPERVISOR_LOCAL_BEGIN

SUPERVISOR_INLINE constexpr std::string_view worker_placeholder = "{worker}";

SUPERVISOR_INLINE void add_stats(OutputStats& to, const OutputStats& from) {
  to.bytes_read += from.bytes_read;
  to.bytes_dropped += from.bytes_dropped;
  to.lines += from.lines;
}

SUPERVISOR_INLINE bool names_worker(const StdioSpec& io) {
  return (io.mode == StdioSpec::Mode::file || io.mode == StdioSpec::Mode::log_file) &&
         io.path.find(worker_placeholder) != std::string::npos;
}

SUPERVISOR_INLINE void expand(StdioSpec& io, const std::string& index) {
  if (!names_worker(io)) return;
  for (std::size_t at = io.path.find(worker_placeholder); at != std::string::npos;
       at = io.path.find(worker_placeholder, at + index.size()))
    io.path.replace(at, worker_placeholder.size(), index);
}

SUPERVISOR_LOCAL_END

SUPERVISOR_INLINE void add_output(OutputCounts& to, const OutputCounts& from) {
  add_stats(to.out, from.out);
  add_stats(to.err, from.err);
}

// Workers rotating one file would rotate it from under each other; appending to one is fine.
SUPERVISOR_INLINE void check_worker_logs(const ProcessSpec& spec, const PoolOptions& o,
                                         const char* owner, errc code, ErrorSink& err) {
  if (o.max_size <= 1 || o.per_worker_spec) return;  // one worker, or the host sets the paths
  for (const auto& [field, io] : {std::pair{"out", &spec.out}, std::pair{"err", &spec.err}}) {
    if (io->mode != StdioSpec::Mode::log_file || io->max_bytes == 0 || names_worker(*io)) continue;
    err.fail(code, [&, field = field, io = io] {
      return fmt::format(
          "{}.spec.{}.path: \"{}\" would be every worker's log file, which rotation needs to "
          "be a worker's own: put {{worker}} in it (or set it in per_worker_spec)",
          owner, field, io->path);
    });
    return;
  }
}

// Nothing (and so no allocation on the restart path) without PoolOptions::on_output.
SUPERVISOR_INLINE OutputHook PoolCore::output_hook(std::size_t index, std::uint64_t incarnation) {
  if (!options_.on_output) return {};
  return [weak = weak_from_this(), index, incarnation](StdStream stream, std::string_view text) {
    // The loop calls this only while the process is one of the pool's; the pool may be gone
    // (a process that outlived a destroyed Pool's stop).
    const auto self = weak.lock();
    if (!self) return;
    self->guarded("on_output", [&] {
      self->options_.on_output(OutputLine{index, incarnation, stream, text});
    });
  };
}

SUPERVISOR_INLINE void PoolCore::fold_output(Slot& slot) {
  if (!slot.worker) return;
  add_stats(slot.output.out, slot.worker->output(StdStream::out));
  add_stats(slot.output.err, slot.worker->output(StdStream::err));
  // Folded once: what is left of the process is only its pid and last figures.
  slot.worker.reset();
}

SUPERVISOR_INLINE OutputCounts PoolCore::output_of(const Slot& slot) const {
  OutputCounts c = slot.output;
  if (slot.worker) {
    add_stats(c.out, slot.worker->output(StdStream::out));
    add_stats(c.err, slot.worker->output(StdStream::err));
  }
  return c;
}

SUPERVISOR_INLINE bool PoolCore::has_worker_paths(const ProcessSpec& spec) {
  return names_worker(spec.out) || names_worker(spec.err);
}

SUPERVISOR_INLINE void PoolCore::expand_worker_paths(ProcessSpec& spec, std::size_t index) {
  if (!has_worker_paths(spec)) return;
  const std::string digits = std::to_string(index);
  expand(spec.out, digits);
  expand(spec.err, digits);
}

}  // namespace supervisor::detail
