// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The handles a Windows child gets as its standard streams, opened by the host: a pipe whose
// host end is overlapped (the loop reads it through the completion port), the NUL device, a file.

#include <cstddef>
#include <string>
#include <string_view>

#include <supervisor/error.hpp>

#include "unique_handle.hpp"

namespace supervisor::detail::win {

struct PipePair {
  UniqueHandle host;   // FILE_FLAG_OVERLAPPED: for the completion port
  UniqueHandle child;  // an ordinary blocking handle, as a program expects
};

// A pipe name nobody else can predict: \\.\pipe\supervisor-<kind>-<host pid>-<counter>-<64
// random bits in hex>.
[[nodiscard]] std::wstring unique_pipe_name(std::string_view kind);

// A byte pipe the child writes and the host reads (`host_reads`), or the other way round: a named
// pipe with a name no other process can guess (the host's pid, a counter and random bits), made
// as the first and only instance, refusing remote clients; its client end is opened at once, so
// no other process can take the instance. `field` names the stream in errors
// ("ProcessSpec.out").
PipePair make_pipe(bool host_reads, std::string_view field, ErrorSink& err);

// The largest message a channel takes: its pipe's buffer in each direction.
inline constexpr std::size_t channel_message_max = 65536;

// A channel (ProcessSpec::channel): a duplex message-mode pipe (PIPE_TYPE_MESSAGE, both ends in
// PIPE_READMODE_MESSAGE), made as make_pipe makes its pipes. Each write is one message, read
// whole by a read with room for it. The host's end is overlapped; the child's end is an
// ordinary blocking handle. Errors name ProcessSpec.channel.
PipePair make_channel_pipe(ErrorSink& err);

// The NUL device, for reading and writing (`field` names the stream in errors).
UniqueHandle open_null(std::string_view field, ErrorSink& err);

// The file of StdioSpec::Mode::file or log_file: `read` for `in`; else for writing (GENERIC_WRITE,
// the file pointer at its end), appended to or truncated, created if missing, shared for reading,
// writing and deletion (a log file is renamed while open). Without `follow_symlinks` a symbolic
// link (any reparse point) is refused, as O_NOFOLLOW does on POSIX
// (std::errc::too_many_symbolic_link_levels). Errors name `field` and the path.
UniqueHandle open_std_file(const std::string& path, bool read, bool append, bool follow_symlinks,
                           std::string_view field, ErrorSink& err);

}  // namespace supervisor::detail::win
