#!/usr/bin/env bash
# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# Runs one libFuzzer target for a bounded time, as a CTest test (label fuzz, tests/run.sh's fuzz
# stage) or by hand for a longer run:
#   run-target.sh BINARY SEED_CORPUS SECONDS WORK_DIR [LIBFUZZER_FLAG...]
# The committed seed corpus is never written to: the run mutates a fresh copy in
# WORK_DIR/corpus, and a crash leaves its reproducer in WORK_DIR (crash-*, leak-*, timeout-*,
# oom-*), named in the output. Exit status: libFuzzer's (0 when nothing was found). The last
# line says how many inputs ran: "fuzz NAME: N executions in S s" (also in WORK_DIR/executions).
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 BINARY SEED_CORPUS SECONDS WORK_DIR [FLAG...]" >&2; exit 2; }
binary=$1 seeds=$2 seconds=$3 work=$4
shift 4
rm -rf "$work"
mkdir -p "$work/corpus"
cp -R "$seeds"/. "$work/corpus/"
log="$work/fuzz.log"
# One process (no -jobs/-workers), inputs up to 16 KiB (a mountinfo of a busy host), 10 s per
# input at most; -print_final_stats gives the execution count.
set +e
"$binary" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/" "$@" "$work/corpus" >"$log" 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
echo "${runs:-0}" >"$work/executions"  # tests/run.sh adds these up for its summary
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$log"
  echo "fuzz $(basename "$binary"): FAILED (exit $rc); reproducer and log in $work" >&2
  exit "$rc"
fi
echo "fuzz $(basename "$binary"): ${runs:-?} executions in $seconds s, corpus $(ls "$work/corpus" | wc -l) inputs"
