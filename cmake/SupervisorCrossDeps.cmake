# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
#
# fmt and Catch2 for a cross build with mingw-w64 (the windows preset), which has no packages of
# its own: the build machine's Debian headers (libfmt-dev, catch2), used header-only. Every other
# build finds fmt and Catch2 as usual, and this file does nothing there.
#
# The headers are reached through a folder of the build tree that holds nothing but links to
# them: /usr/include itself must never be on the mingw include path (glibc's headers would shadow
# mingw's). Two small config packages in the build tree then answer the ordinary
# find_package(fmt) and find_package(Catch2) calls: fmt::fmt (FMT_HEADER_ONLY) and Catch2::Catch2
# (the v2 single header, whose main() tests/support/catch_main.cpp compiles).
if(NOT (CMAKE_CROSSCOMPILING AND MINGW))
  return()
endif()

include(CMakePackageConfigHelpers)
set(_sv_cross "${CMAKE_BINARY_DIR}/cross-deps")
set(_sv_cross_include "${_sv_cross}/include")
file(MAKE_DIRECTORY "${_sv_cross_include}")

# Found on the build machine, not in the mingw sysroot (hence NO_CMAKE_FIND_ROOT_PATH).
find_path(SUPERVISOR_HOST_FMT_INCLUDE_DIR fmt/core.h PATHS /usr/include /usr/local/include
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH DOC "Build machine's headers holding fmt/ (header-only use)")
find_path(SUPERVISOR_HOST_CATCH2_INCLUDE_DIR catch2/catch.hpp PATHS /usr/include /usr/local/include
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH DOC "Build machine's headers holding catch2/catch.hpp (v2)")
find_path(SUPERVISOR_HOST_CATCH2_CMAKE_DIR Catch.cmake
  PATHS /usr/lib/cmake/Catch2 /usr/local/lib/cmake/Catch2 /usr/share/Catch2/cmake
  NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH DOC "Build machine's folder holding Catch2 v2's Catch.cmake")

# _sv_cross_package(<name> <version> <config body>): a config package <name> in the build tree,
# found first by find_package(<name>) through <name>_DIR.
function(_sv_cross_package name version body)
  set(dir "${_sv_cross}/${name}")
  file(CONFIGURE OUTPUT "${dir}/${name}Config.cmake" CONTENT "${body}" @ONLY)
  write_basic_package_version_file("${dir}/${name}ConfigVersion.cmake"
    VERSION "${version}" COMPATIBILITY AnyNewerVersion)
  set(${name}_DIR "${dir}" CACHE PATH "supervisor: ${name} for this cross build" FORCE)
endfunction()

if(SUPERVISOR_HOST_FMT_INCLUDE_DIR)
  file(CREATE_LINK "${SUPERVISOR_HOST_FMT_INCLUDE_DIR}/fmt" "${_sv_cross_include}/fmt" SYMBOLIC)
  file(STRINGS "${SUPERVISOR_HOST_FMT_INCLUDE_DIR}/fmt/core.h" _sv_fmt_version
    REGEX "^#define FMT_VERSION [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _sv_fmt_version "${_sv_fmt_version}")
  math(EXPR _sv_fmt_major "${_sv_fmt_version} / 10000")
  math(EXPR _sv_fmt_minor "${_sv_fmt_version} / 100 % 100")
  math(EXPR _sv_fmt_patch "${_sv_fmt_version} % 100")
  _sv_cross_package(fmt "${_sv_fmt_major}.${_sv_fmt_minor}.${_sv_fmt_patch}" "\
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES \"${_sv_cross_include}\"
    INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
endif()
")
endif()

if(SUPERVISOR_HOST_CATCH2_INCLUDE_DIR AND SUPERVISOR_HOST_CATCH2_CMAKE_DIR)
  file(CREATE_LINK "${SUPERVISOR_HOST_CATCH2_INCLUDE_DIR}/catch2" "${_sv_cross_include}/catch2"
    SYMBOLIC)
  file(STRINGS "${SUPERVISOR_HOST_CATCH2_INCLUDE_DIR}/catch2/catch.hpp" _sv_catch_version
    REGEX "^#define CATCH_VERSION_(MAJOR|MINOR|PATCH) [0-9]+")
  string(REGEX REPLACE "[^0-9;]*([0-9]+)" "\\1" _sv_catch_version "${_sv_catch_version}")
  string(REPLACE ";" "." _sv_catch_version "${_sv_catch_version}")
  _sv_cross_package(Catch2 "${_sv_catch_version}" "\
if(NOT TARGET Catch2::Catch2)
  add_library(Catch2::Catch2 INTERFACE IMPORTED)
  set_target_properties(Catch2::Catch2 PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES \"${_sv_cross_include}\")
endif()
list(APPEND CMAKE_MODULE_PATH \"${SUPERVISOR_HOST_CATCH2_CMAKE_DIR}\")  # include(Catch)
")
endif()
