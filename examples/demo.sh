#!/usr/bin/env bash
# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# The README's demo command: installs missing build dependencies (Debian packages), builds the
# demo in build/demo and runs it. Arguments are passed to the demo.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../cmake/ensure-deps.sh
. "$root/cmake/ensure-deps.sh"
supervisor_ensure_deps "${SUPERVISOR_BUILD_PACKAGES[@]}"

build="$root/build/demo"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSUPERVISOR_BUILD_TESTS=OFF -DSUPERVISOR_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target supervisor_demo
echo "== running the demo"
exec "$build/examples/supervisor_demo" "$@"
