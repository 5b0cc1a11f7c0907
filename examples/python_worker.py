#!/usr/bin/env python3
# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
"""A job worker for examples/python_pool.cpp: takes jobs on the channel the pool gives it.

The pool passes one end of a SOCK_SEQPACKET socket pair on the fd named by
$SUPERVISOR_CHANNEL_FD: every recv() is one whole job, every send() one whole answer, so no
framing is needed. A job is `ID OP ARGS...`; the answer is `ID ok RESULT` or `ID error WHY`.
The channel's end (recv() returning b"") means the pool is done with this worker.

Readiness: once it can take jobs, the worker says READY=1 on $NOTIFY_SOCKET (sd_notify, as a
systemd service would); the pool leases it only from then on.
"""

import os
import signal
import socket
import sys


def notify_ready():
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(b"READY=1", address)


def run(op, args):
    if op == "sum":
        return str(sum(int(a) for a in args))
    if op == "upper":
        return " ".join(args).upper()
    if op == "crash":  # a worker that dies mid-job, as a segfaulting extension would
        os.kill(os.getpid(), signal.SIGKILL)
    raise ValueError(f"unknown op {op!r}")


def main():
    channel = socket.socket(fileno=int(os.environ["SUPERVISOR_CHANNEL_FD"]))
    notify_ready()
    while True:
        job = channel.recv(1 << 20)
        if not job:
            return 0
        job_id, _, rest = job.decode().partition(" ")
        try:
            op, *args = rest.split()
            answer = f"{job_id} ok {run(op, args)}"
        except Exception as e:  # the job failed; the worker goes on
            answer = f"{job_id} error {e}"
        channel.send(answer.encode())


if __name__ == "__main__":
    sys.exit(main())
