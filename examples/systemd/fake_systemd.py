#!/usr/bin/env python3
# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
"""Plays systemd for a Type=notify service, to test examples/service_host.cpp as the unit file
runs it: binds a notify socket, starts the host with NOTIFY_SOCKET and WATCHDOG_USEC, waits for
READY=1, a STATUS= line saying ready and two WATCHDOG=1 pings, sends SIGTERM as `systemctl stop`
does, and expects STOPPING=1 and exit status 0.

    fake_systemd.py HOST_PROGRAM [ARGS...]
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

PATIENCE = 30  # seconds: a guard against a stuck host, never a measurement


def main() -> int:
    workdir = tempfile.mkdtemp(prefix="sv-fake-systemd-")
    path = os.path.join(workdir, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(PATIENCE)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
    env.pop("WATCHDOG_PID", None)
    host = subprocess.Popen(sys.argv[1:], env=env)
    seen = []
    try:
        def receive() -> str:
            message = sock.recv(4096).decode()
            print(f"fake systemd: {message!r}", flush=True)
            seen.append(message)
            return message

        while "READY=1" not in seen or seen.count("WATCHDOG=1") < 2:
            receive()
        host.send_signal(signal.SIGTERM)
        while receive() != "STOPPING=1":
            pass
        status = host.wait(PATIENCE)
    except Exception as e:  # a timeout, mostly
        print(f"fake systemd: {e!r}; received {seen}", file=sys.stderr)
        host.kill()
        host.wait()
        return 1
    finally:
        sock.close()
        shutil.rmtree(workdir, ignore_errors=True)
    failures = []
    if status != 0:
        failures.append(f"the host exited with status {status}")
    if not any(m.startswith("STATUS=ready") for m in seen):
        failures.append("no STATUS= line saying ready")
    if seen.index("READY=1") > seen.index("STOPPING=1"):
        failures.append("READY=1 after STOPPING=1")
    for f in failures:
        print(f"fake systemd: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
