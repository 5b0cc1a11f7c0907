#!/usr/bin/env bash
# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# The README's test command, and the only thing CI runs. Installs missing build and test
# dependencies (Debian packages), then runs every stage:
#   dev        g++, warnings as errors, every test (unit, integration, limits, consumer,
#              examples, and vm: the limits tests inside a QEMU guest with cgroup v2 controllers)
#   dev-clang  clang++, warnings as errors, every test but the VM stage
#   asan       ASan + UBSan, every test but the VM stage
#   tsan       ThreadSanitizer, the unit, integration and limits tests (the concurrency tests among them)
#   windows    mingw-w64 cross build for Windows x64 of the portable code and of its unit tests,
#              run under Wine (label windows); installs g++-mingw-w64-x86-64-posix and wine first
#   fuzz       clang++ libFuzzer targets (tests/fuzz, ASan + UBSan) of the parsers of outside
#              input, each run from a copy of its seed corpus for SUPERVISOR_FUZZ_SECONDS (25 s;
#              label fuzz, one CTest test per target); a crash fails it. The summary line adds
#              the executions. A longer run by hand: CONTRIBUTING.md.
# Usage: tests/run.sh [STAGE...]   (default: all stages, in that order)
# Every stage runs even if an earlier one failed; the exit status is non-zero if any failed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=../cmake/ensure-deps.sh
. "$root/cmake/ensure-deps.sh"
set -e
supervisor_ensure_deps "${SUPERVISOR_BUILD_PACKAGES[@]}" "${SUPERVISOR_TEST_PACKAGES[@]}"
set +e

jobs=${SUPERVISOR_JOBS:-$(nproc 2>/dev/null || echo 2)}
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(dev dev-clang asan tsan windows fuzz)

declare -A label_filter=([dev]="" [dev-clang]="" [asan]="" [tsan]="unit|integration|limits"
  [windows]="windows" [fuzz]="fuzz")
# The VM stage (label vm: QEMU under software emulation, minutes per boot) runs once, with dev.
declare -A label_exclude=([dev-clang]="vm" [asan]="vm")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# The windows stage's tools come from Debian too, installed only when it runs. Its tests run under
# Wine (the toolchain's emulator) in the build tree's Wine prefix, made once; one persistent
# wineserver serves the whole stage, so no test pays a server start (nor waits for an idle one).
wine=(env WINEPREFIX="$root/build/windows/wineprefix" WINEDEBUG=-all)
wine_begin() {
  (supervisor_ensure_deps "${SUPERVISOR_WINDOWS_PACKAGES[@]}") || return 1
  trap wine_end EXIT
  mkdir -p "$root/build/windows"
  "${wine[@]}" wineserver -k >/dev/null 2>&1  # one left by an interrupted run
  if [ ! -f "$root/build/windows/wineprefix/system.reg" ]; then
    # Made once (seconds), without Mono and Gecko, which nothing here needs.
    "${wine[@]}" WINEDLLOVERRIDES="mscoree,mshtml=" wineboot -i </dev/null \
      >"$root/build/windows-wineboot.log" 2>&1 || return 1
    "${wine[@]}" wineserver -k >/dev/null 2>&1  # wineboot's server, which is not persistent
  fi
  "${wine[@]}" wineserver -w
  "${wine[@]}" wineserver -p </dev/null >/dev/null 2>&1
  # Wine's services start with the first program and live as long as the server: start them here,
  # away from any pipe (the build's test discovery and CTest would wait for them to close it).
  "${wine[@]}" wineboot </dev/null >/dev/null 2>&1
}
wine_end() {
  command -v wineserver >/dev/null && "${wine[@]}" wineserver -k >/dev/null 2>&1
  return 0
}

summary=()
total_pass=0 total_fail=0 total_skip=0 failed_stages=0

run_stage() {
  local stage=$1 start log rc=0
  start=$(date +%s)
  log="$root/build/$stage-ctest.log"
  echo
  echo "==================== stage $stage ===================="
  if [ "$stage" = windows ] && ! wine_begin; then
    summary+=("$(printf '%-10s FAIL (mingw-w64 and Wine)' "$stage")"); return 1
  fi
  local configure_args=()
  [ "$stage" = fuzz ] && [ -n "${SUPERVISOR_FUZZ_SECONDS:-}" ] &&
    configure_args+=("-DSUPERVISOR_FUZZ_SECONDS=$SUPERVISOR_FUZZ_SECONDS")
  if ! cmake --preset "$stage" "${configure_args[@]}" >/dev/null; then
    summary+=("$(printf '%-10s FAIL (configure)' "$stage")"); return 1
  fi
  if ! cmake --build --preset "$stage" -j "$jobs"; then
    summary+=("$(printf '%-10s FAIL (build)' "$stage")"); return 1
  fi
  local args=(--test-dir "$root/build/$stage" --output-on-failure --no-tests=error -j "$jobs")
  [ -n "${label_filter[$stage]:-}" ] && args+=(-L "${label_filter[$stage]}")
  [ -n "${label_exclude[$stage]:-}" ] && args+=(-LE "${label_exclude[$stage]}")
  # Under Wine a test program now and then fails to start at all (no output, 0.01 s, seen once
  # in about 1000 launches on a loaded machine): the windows stage runs a failed test once more.
  # Its tests are the portable unit tests, deterministic, which the Linux stages run without a
  # retry, so a real failure still fails both times.
  [ "$stage" = windows ] && args+=(--repeat until-pass:2)
  mkdir -p "$root/build"
  ctest "${args[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  # "NN% tests passed, F tests failed out of T"; skipped tests are listed as "(Skipped)".
  local line total failed skipped passed
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  skipped=$(grep -c '(Skipped)' "$log" || true)
  if [ -z "$line" ]; then total=0 failed=0; rc=1; fi
  passed=$((total - failed - skipped))
  total_pass=$((total_pass + passed)); total_fail=$((total_fail + failed))
  total_skip=$((total_skip + skipped))
  local verdict=PASS; [ "$rc" -ne 0 ] && verdict=FAIL
  local extra=""
  if [ "$stage" = fuzz ]; then  # what the targets ran (run-target.sh leaves each count)
    local executions=0 count
    for count in "$root"/build/fuzz/tests/fuzz/runs/*/executions; do
      [ -f "$count" ] && executions=$((executions + $(cat "$count")))
    done
    extra=", $executions executions"
  fi
  summary+=("$(printf '%-10s %s  %d passed, %d failed, %d skipped  (%ds%s)' "$stage" "$verdict" \
    "$passed" "$failed" "$skipped" $(( $(date +%s) - start )) "$extra")")
  if [ "$skipped" -gt 0 ]; then
    # A skipped test's output is not in the console log (--output-on-failure shows failures
    # only); CTest keeps every test's output in LastTest.log.
    grep -h -o 'SUPERVISOR-SKIP: .*' "$log" "$root/build/$stage"/Testing/Temporary/LastTest*.log \
      2>/dev/null | sort -u | sed 's/^/           /' >>"$root/build/skips.txt"
  fi
  return "$rc"
}

rm -f "$root/build/skips.txt"
for stage in "${stages[@]}"; do
  if [ -z "${label_filter[$stage]+set}" ]; then
    echo "unknown stage '$stage' (known: ${!label_filter[*]})" >&2; exit 2
  fi
  run_stage "$stage" || failed_stages=$((failed_stages + 1))
  if [ "$stage" = windows ]; then wine_end; fi
done

echo
echo "==================== summary ===================="
printf '%s\n' "${summary[@]}"
if [ -s "$root/build/skips.txt" ]; then
  echo "skipped, with the missing capability:"; sort -u "$root/build/skips.txt"
fi
echo "tests: $total_pass passed, $total_fail failed, $total_skip skipped"
if [ "$failed_stages" -ne 0 ]; then
  echo "$failed_stages stage(s) failed"
  exit 1
fi
