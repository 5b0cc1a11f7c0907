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
# Conan writes its own config package from package_info, so the recipe itself must name what a
# static library's users link on Windows: ws2_32 (the TCP and HTTP probes).
if(NOT recipe MATCHES "system_libs = \\[\"ws2_32\"\\]")
  message(FATAL_ERROR "conanfile.py does not give Windows users ws2_32, which the backend links")
endif()

# What a user's compiler reads (the public headers, and the sources the header-only form
# compiles) is ASCII: MSVC reads a file without a byte order mark in the machine's code page unless
# told /utf-8, and warns (C4819) or misreads in one where a UTF-8 byte is not a character.
file(GLOB_RECURSE read_by_users "${SOURCE_DIR}/include/*.hpp" "${SOURCE_DIR}/src/*.hpp"
     "${SOURCE_DIR}/src/*.cpp")
foreach(f IN LISTS read_by_users)
  file(READ "${f}" text)
  if(text MATCHES "[^\t\n\r -~]")
    message(FATAL_ERROR "${f}: a byte that is not printable ASCII (${CMAKE_MATCH_0}); "
                        "users' compilers read this file")
  endif()
endforeach()
message(STATUS "packaging metadata agrees with version ${VERSION}")
