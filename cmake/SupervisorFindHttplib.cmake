# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
#
# Finds cpp-httplib for supervisor::http and defines one imported target for it,
# supervisor_deps::httplib: upstream's CMake package (target httplib::httplib) when there is one,
# else pkg-config's cpp-httplib (Debian's libcpp-httplib-dev ships only a .pc file and a shared
# library, whose header must be compiled with the .pc file's -D flags: they change its types).
# Included by the build and, installed beside the config package, by find_package(supervisor
# COMPONENTS http).
if(TARGET supervisor_deps::httplib)
  return()
endif()
set(_sv_httplib_target "")
find_package(httplib CONFIG QUIET)
if(TARGET httplib::httplib)
  set(_sv_httplib_target httplib::httplib)
else()
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(SUPERVISOR_HTTPLIB QUIET IMPORTED_TARGET GLOBAL cpp-httplib)
  endif()
  if(TARGET PkgConfig::SUPERVISOR_HTTPLIB)
    set(_sv_httplib_target PkgConfig::SUPERVISOR_HTTPLIB)
  endif()
endif()
if(NOT _sv_httplib_target)
  message(FATAL_ERROR
    "supervisor::http needs cpp-httplib: neither its CMake package (httplib::httplib) nor the "
    "pkg-config module cpp-httplib was found. On Debian/Ubuntu: apt-get install "
    "libcpp-httplib-dev (and pkg-config); elsewhere install cpp-httplib or set "
    "CMAKE_PREFIX_PATH / PKG_CONFIG_PATH.")
endif()
add_library(supervisor_deps::httplib INTERFACE IMPORTED)
set_target_properties(supervisor_deps::httplib PROPERTIES
  INTERFACE_LINK_LIBRARIES ${_sv_httplib_target})
unset(_sv_httplib_target)
