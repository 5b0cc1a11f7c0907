#!/usr/bin/env bash
# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# Builds every benchmark (optimised, build/bench) and runs each one. Each prints a human table and
# machine-readable lines `metric <name> <value> <unit>`. Exits non-zero only if a benchmark failed
# to build or run, never because a goal was missed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../cmake/ensure-deps.sh
. "$root/cmake/ensure-deps.sh"
set -e
supervisor_ensure_deps "${SUPERVISOR_BUILD_PACKAGES[@]}"
cmake --preset bench -S "$root" >/dev/null
cmake --build --preset bench
set +e
failed=0
for exe in "$root"/build/bench/bench/supervisor_bench_*; do
  [ -x "$exe" ] || continue
  echo "== $(basename "$exe")"
  if ! "$exe"; then
    echo "benchmark failed: $(basename "$exe")" >&2
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] || exit 1
