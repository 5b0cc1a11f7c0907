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
# Instructions per restart, counted by callgrind (when valgrind is installed): the difference of
# two runs (10 and 60 kills) over 50, so that start-up and shutdown cancel out.
harness="$root/build/bench/bench/supervisor_restart_instructions"
if command -v valgrind >/dev/null 2>&1 && [ -x "$harness" ]; then
  echo "== supervisor_restart_instructions (callgrind)"
  count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$harness" "$1" 2>&1 >/dev/null |
      sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  few=$(count 10) && many=$(count 60) && [ -n "$few" ] && [ -n "$many" ] &&
    echo "metric pool.restart_instructions $(( (many - few) / 50 )) instructions" ||
    { echo "benchmark failed: supervisor_restart_instructions" >&2; failed=$((failed + 1)); }
else
  echo "note: valgrind is not installed: no instruction count of the restart path"
fi
[ "$failed" -eq 0 ] || exit 1
