// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The host's end of a child's stdin pipe or channel on Windows: an overlapped named-pipe handle
// (pipes.hpp), each call's I/O waited for with its own event, within its timeout, and cancelled
// (CancelIoEx) when the timeout passes or the end is closed. See src/process/host_end.hpp for
// the contract; src/posix/fd_end.hpp is the POSIX twin. Private.

#include <memory>

#include <supervisor/error.hpp>

#include "../process/host_end.hpp"
#include "unique_handle.hpp"

namespace supervisor::detail::win {

// The host's (outbound, overlapped) end of the child's stdin pipe: make_pipe(false, ...).host.
// A child that closed its stdin, or ended, gives errc::peer_gone. Null with `err` set when the
// end's event cannot be made.
std::shared_ptr<HostEnd> make_pipe_end(UniqueHandle pipe, ErrorSink& err);
// The host's end of a channel: make_channel_pipe(...).host. Messages of at most
// channel_message_max bytes are sent; received ones are read whole, whatever their size.
std::shared_ptr<HostEnd> make_channel_end(UniqueHandle pipe, ErrorSink& err);

}  // namespace supervisor::detail::win
