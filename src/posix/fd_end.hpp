// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The host's end of a child's stdin pipe or channel on POSIX: a non-blocking file descriptor,
// waited on with poll(2) within each call's timeout. See src/process/host_end.hpp for the
// contract. Private.

#include <memory>

#include "../process/host_end.hpp"
#include "unique_fd.hpp"

namespace supervisor::detail {

// The write end of a pipe (the child's stdin). Writes never raise SIGPIPE in the host: a child
// that closed its stdin (or ended) gives errc::peer_gone.
std::shared_ptr<HostEnd> make_pipe_end(UniqueFd fd);
// One end of a connected AF_UNIX SOCK_SEQPACKET pair (the child's channel).
std::shared_ptr<HostEnd> make_channel_end(UniqueFd fd);

}  // namespace supervisor::detail
