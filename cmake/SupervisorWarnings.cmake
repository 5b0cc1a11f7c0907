# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
#
# supervisor_set_warnings(<target>): this project's warning set, applied PRIVATE to our own targets
# only (a function rather than an interface target, so nothing leaks into the exported package).
function(supervisor_set_warnings target)
  if(NOT SUPERVISOR_WARNINGS)
    return()
  endif()
  if(MSVC)
    # C4251/C4275: a class exported from the DLL (SUPERVISOR_API) holding or deriving from a
    # standard library type. Harmless here: a DLL and its users must share the toolset and its
    # standard library anyway (C++ has no stable ABI across them). The CRT's "use the _s
    # variant" deprecations (getenv, strerror, fopen, in the tests' helper programs) are not ours.
    target_compile_options(${target} PRIVATE /W4 /permissive- /wd4251 /wd4275)
    target_compile_definitions(${target} PRIVATE _CRT_SECURE_NO_WARNINGS)
    if(SUPERVISOR_WERROR)
      target_compile_options(${target} PRIVATE /WX)
    endif()
    return()
  endif()
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic
    -Wconversion -Wsign-conversion -Wshadow -Wold-style-cast -Wcast-qual
    -Wnon-virtual-dtor -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion
    -Wformat=2 -Wimplicit-fallthrough -Wundef -Wmissing-declarations)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wduplicated-cond -Wlogical-op -Wuseless-cast)
  endif()
  if(SUPERVISOR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
