# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
#
# Cross-compile for 64-bit Windows with Debian's mingw-w64 (packages g++-mingw-w64-x86-64-posix,
# and wine to run what it builds). The windows preset uses it: cmake --preset windows.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

# The "-posix" flavour: its libstdc++ has std::thread and std::mutex (winpthreads underneath).
set(_sv_mingw x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_sv_mingw}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_sv_mingw}-g++-posix)
set(CMAKE_RC_COMPILER ${_sv_mingw}-windres)

# Libraries, headers and packages come from the mingw sysroot only, never from the build machine's
# /usr (glibc's headers would shadow mingw's); programs (the compilers, wine) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${_sv_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static runtime (libgcc, libstdc++, winpthreads): an .exe runs without DLLs beside it.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# Tests (and Catch2's test discovery at build time) run the .exe under Wine, headless, in a Wine
# prefix of this build tree (created on first use; tests/run.sh creates it up front).
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR
    /usr/bin/env WINEDEBUG=-all "WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix" wine)
endif()
