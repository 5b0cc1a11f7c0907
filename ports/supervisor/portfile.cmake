# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# vcpkg overlay port: builds the checkout this port sits in, with the project's own install rules
# (the install the consumer tests check).
#   vcpkg install supervisor --overlay-ports=<checkout>/ports
# On Linux and Windows it builds that platform's process backend (on Windows: Job Objects and an
# I/O completion port, with MSVC or mingw-w64; its exported target links ws2_32). Elsewhere only
# the portable part: a Loop there throws errc::unsupported. Not for UWP or Xbox ("supports"):
# CreateProcessW, which the backend spawns with, is a desktop-only API.
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DSUPERVISOR_BUILD_TESTS=OFF
    -DSUPERVISOR_BUILD_EXAMPLES=OFF
    -DSUPERVISOR_INSTALL=ON
    -DSUPERVISOR_WARNINGS=OFF)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME supervisor CONFIG_PATH "lib/cmake/supervisor")
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/usage" [[
supervisor provides CMake targets:

  find_package(supervisor CONFIG REQUIRED)
  target_link_libraries(main PRIVATE supervisor::supervisor)

Process backends: Linux and Windows (Job Objects; the target links ws2_32). On other systems only
the portable part is built, and a real supervisor::Loop throws errc::unsupported.
]])
