# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# Sourced by tests/run.sh and examples/demo.sh (not run on its own).
#
# supervisor_ensure_deps PKG...: make sure these Debian packages are installed. A machine that has
# them all is left untouched. As root, missing ones are installed with apt-get; as anyone else the
# exact apt-get line is printed and the script stops.

supervisor_missing_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      missing+=("$pkg")
    fi
  done
  echo "${missing[*]}"
}

supervisor_ensure_deps() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "note: not a Debian-based system; make sure these (Debian names) are installed: $*" >&2
    return 0
  fi
  local missing
  missing=$(supervisor_missing_packages "$@")
  [ -z "$missing" ] && return 0
  local line="apt-get install -y --no-install-recommends $missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing build dependencies. Install them as root, then run this again:" >&2
    echo "  $line" >&2
    exit 1
  fi
  echo "== installing missing packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  # Package lists may be absent on a fresh machine or stale on an old one: update once, then retry.
  if ! apt-get install -y --no-install-recommends $missing; then
    apt-get update -qq
    apt-get install -y --no-install-recommends $missing
  fi
  missing=$(supervisor_missing_packages "$@")
  if [ -n "$missing" ]; then
    echo "error: still missing after apt-get: $missing" >&2
    exit 1
  fi
}

# The packages the build needs, and those the tests add.
# The optional components' libraries (supervisor::json, ::http, ::prometheus), which the presets
# build: nlohmann-json, cpp-httplib, prometheus-cpp.
SUPERVISOR_BUILD_PACKAGES=(cmake ninja-build g++ libfmt-dev
  nlohmann-json3-dev libcpp-httplib-dev prometheus-cpp-dev)
# libclang-rt-14-dev: clang 14's sanitizer and libFuzzer runtimes (libclang_rt.fuzzer), which the
# fuzz stage links; only recommended by clang-14, so named here (Debian 12's clang is 14).
# python3: the workers of the Python pool example (examples/python_pool.cpp), run as a test.
# curl: the HTTP component's tests are a real client; prometheus: its promtool checks the
# metrics exposition.
SUPERVISOR_TEST_PACKAGES=(catch2 clang libclang-rt-14-dev pkgconf python3 curl prometheus)
# The VM stage (tests/vm): QEMU and a static busybox; the kernel is downloaded by the stage.
SUPERVISOR_VM_PACKAGES=(qemu-system-x86 busybox-static)
# The windows stage: the mingw-w64 cross compilers (posix threads flavour) and Wine to run the tests.
SUPERVISOR_WINDOWS_PACKAGES=(g++-mingw-w64-x86-64-posix wine)
