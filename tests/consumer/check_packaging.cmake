# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# cmake -DSOURCE_DIR=... -DVERSION=... -P check_packaging.cmake
# The packaging files must agree with the one version source and name the same package/target.
file(READ "${SOURCE_DIR}/ports/supervisor/vcpkg.json" manifest)
string(JSON port_name GET "${manifest}" name)
string(JSON port_version GET "${manifest}" version-semver)
if(NOT port_name STREQUAL "supervisor" OR NOT port_version STREQUAL VERSION)
  message(FATAL_ERROR "ports/supervisor/vcpkg.json says ${port_name} ${port_version}; version.hpp says ${VERSION}")
endif()
file(READ "${SOURCE_DIR}/ports/supervisor/portfile.cmake" portfile)
if(NOT portfile MATCHES "vcpkg_cmake_config_fixup\\(PACKAGE_NAME supervisor")
  message(FATAL_ERROR "portfile.cmake does not fix up the supervisor CMake package")
endif()
file(READ "${SOURCE_DIR}/conanfile.py" recipe)
foreach(needle [["cmake_target_name", "supervisor::supervisor"]] [["cmake_file_name", "supervisor"]]
               [["version.hpp"]] [[SUPERVISOR_VERSION_{p}]])
  string(FIND "${recipe}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "conanfile.py lacks: ${needle}")
  endif()
endforeach()
message(STATUS "packaging metadata agrees with version ${VERSION}")
