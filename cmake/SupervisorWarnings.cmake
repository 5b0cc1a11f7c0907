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
    target_compile_options(${target} PRIVATE /W4 /permissive-)
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
