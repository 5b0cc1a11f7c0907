# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# cmake -DMODE=<mode> -DSCRATCH=<dir> -DSOURCE_DIR=... -DBUILD_DIR=... -P run_consumer.cmake
# Builds and runs a real downstream project against supervisor. Fails on any error.
cmake_minimum_required(VERSION 3.21)

foreach(var MODE SCRATCH SOURCE_DIR BUILD_DIR CONSUMER_DIR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")
set(prefix "${SCRATCH}/prefix")
# The compiler's family: MSVC (cl, clang-cl) takes no GCC-style command line (the pkgconfig mode).
set(msvc_like OFF)
if(CXX_COMPILER MATCHES "(^|[/\\])(cl|clang-cl)(\\.exe)?$")
  set(msvc_like ON)
endif()
set(exe "")
if(CMAKE_HOST_WIN32)
  set(exe ".exe")
endif()

# Arguments every nested configure gets: same compiler, flags (sanitizers!) and generator.
set(nested_args -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}"
    "-DCMAKE_SHARED_LINKER_FLAGS=${LINKER_FLAGS}")
if(BUILD_TYPE)
  list(APPEND nested_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
# Where the outer build found fmt (and the rest) through a toolchain file, as vcpkg's on Windows,
# the nested builds use the same one.
if(TOOLCHAIN_FILE)
  list(APPEND nested_args "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}")
endif()
if(VCPKG_TRIPLET)
  list(APPEND nested_args "-DVCPKG_TARGET_TRIPLET=${VCPKG_TRIPLET}")
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "command failed (${rc}): ${cmd}")
  endif()
endfunction()

function(install_from build_dir dest_prefix)
  run("${CMAKE_COMMAND}" -E env --unset=DESTDIR
      "${CMAKE_COMMAND}" --install "${build_dir}" --prefix "${dest_prefix}")
endfunction()

# Configure, build and run a consumer project; its program must print "consumer OK".
function(build_and_run project_dir)
  set(bdir "${SCRATCH}/consumer-build${BUILD_SUFFIX}")
  run("${CMAKE_COMMAND}" -S "${project_dir}" -B "${bdir}" ${nested_args} ${ARGN})
  run("${CMAKE_COMMAND}" --build "${bdir}")
  if(CMAKE_HOST_WIN32)
    # Windows finds a program's DLLs beside it (there is no rpath): a shared supervisor's.
    file(GLOB dlls "${prefix}/bin/*.dll")
    if(dlls)
      file(COPY ${dlls} DESTINATION "${bdir}")
    endif()
  endif()
  execute_process(COMMAND "${bdir}/consumer${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  message(STATUS "consumer printed: ${out}")
  if(NOT rc EQUAL 0 OR NOT out MATCHES "consumer OK")
    message(FATAL_ERROR "consumer program failed (${rc}): ${out}")
  endif()
endfunction()

# The consumer's link step names no libsupervisor, nor an MSVC supervisor.lib (Ninja: its
# `build consumer:` statement; Makefiles: its link.txt).
function(links_no_library bdir)
  set(link "")
  if(EXISTS "${bdir}/build.ninja")
    file(READ "${bdir}/build.ninja" ninja)
    string(REGEX MATCH "\nbuild consumer${exe}:[^\n]*(\n  [^\n]*)*" link "${ninja}")
  elseif(EXISTS "${bdir}/CMakeFiles/consumer.dir/link.txt")
    file(READ "${bdir}/CMakeFiles/consumer.dir/link.txt" link)
  endif()
  if(link STREQUAL "")
    message(FATAL_ERROR "no link step of the consumer found in ${bdir}")
  endif()
  if(link MATCHES "libsupervisor|(^|[/\\ ])supervisor\\.lib")
    message(FATAL_ERROR "the header-only consumer links the library:${link}")
  endif()
  message(STATUS "the consumer's link step names no libsupervisor:${link}")
endfunction()

if(MODE STREQUAL "install_layout")
  # 1. A plain install holds headers, the library, the config package and the .pc file only.
  install_from("${BUILD_DIR}" "${prefix}")
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${prefix}" "${prefix}/*")
  set(seen_header OFF)
  set(seen_lib OFF)
  set(seen_config OFF)
  set(seen_version OFF)
  set(seen_targets OFF)
  set(seen_pc OFF)
  set(seen_impl OFF)
  foreach(f IN LISTS files)
    if(f MATCHES "^include/supervisor/(.+/)?[a-z0-9_]+\\.hpp$")
      set(seen_header ON)
    elseif(f MATCHES "^include/supervisor/detail/impl/[a-z0-9_]+/[a-z0-9_]+\\.cpp$")
      set(seen_impl ON)  # the sources, for header-only use
    elseif(f MATCHES "^lib[^/]*/([^/]+/)?libsupervisor_(json|http|prometheus)\\.(a|so(\\.[0-9]+)*)$"
           OR f MATCHES "^lib[^/]*/([^/]+/)?cmake/supervisor/supervisor-(json|http|prometheus)-(targets(-[a-z]+)?|dependencies)\\.cmake$"
           OR f MATCHES "^lib[^/]*/([^/]+/)?cmake/supervisor/SupervisorFind[A-Za-z]+\\.cmake$")
      # An optional component (SUPERVISOR_JSON, _HTTP, _PROMETHEUS): its library, its targets,
      # what its users' find_package finds for it
    elseif(f MATCHES "^lib[^/]*/([^/]+/)?libsupervisor\\.(a|so(\\.[0-9]+)*|dylib|lib|dll\\.a)$"
           OR f MATCHES "^lib/supervisor\\.lib$")  # MSVC: the static or import library
      set(seen_lib ON)
    elseif(f MATCHES "^bin/(lib)?supervisor[-0-9.]*\\.dll$")
      # A Windows DLL (a shared build)
    elseif(f MATCHES "^lib[^/]*/([^/]+/)?cmake/supervisor/supervisor-config\\.cmake$")
      set(seen_config ON)
    elseif(f MATCHES "^lib[^/]*/([^/]+/)?cmake/supervisor/supervisor-config-version\\.cmake$")
      set(seen_version ON)
    elseif(f MATCHES "^lib[^/]*/([^/]+/)?cmake/supervisor/supervisor-targets(-[a-z]+)?\\.cmake$")
      set(seen_targets ON)
    elseif(f MATCHES "^lib[^/]*/([^/]+/)?pkgconfig/supervisor\\.pc$")
      set(seen_pc ON)
      file(READ "${prefix}/${f}" pc)
      if(NOT pc MATCHES "prefix=${prefix}" OR NOT pc MATCHES "Requires: fmt")
        message(FATAL_ERROR "supervisor.pc looks wrong:\n${pc}")
      endif()
    else()
      message(FATAL_ERROR "install put an unexpected file in the prefix: ${f}")
    endif()
  endforeach()
  foreach(kind header impl lib config version targets pc)
    if(NOT seen_${kind})
      message(FATAL_ERROR "install is missing its ${kind} file; it installed: ${files}")
    endif()
  endforeach()
  list(LENGTH files n)
  message(STATUS "install layout OK: ${n} files, all expected")

  # 2. Under DESTDIR every file must land below DESTDIR/<prefix>: an absolute destination
  #    (a file that would be written outside the prefix) shows up as anything else. Not on
  #    Windows, where a prefix has a drive, which DESTDIR cannot be put in front of.
  if(CMAKE_HOST_WIN32)
    return()
  endif()
  set(destdir "${SCRATCH}/destdir")
  set(fake_prefix "/opt/supervisor-install-check")
  run("${CMAKE_COMMAND}" -E env "DESTDIR=${destdir}"
      "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${fake_prefix}")
  file(GLOB_RECURSE all LIST_DIRECTORIES false RELATIVE "${destdir}" "${destdir}/*")
  foreach(f IN LISTS all)
    if(NOT "/${f}" MATCHES "^${fake_prefix}/")
      message(FATAL_ERROR "install wrote outside its prefix: /${f}")
    endif()
  endforeach()

elseif(MODE STREQUAL "find_package")
  install_from("${BUILD_DIR}" "${prefix}")
  build_and_run("${CONSUMER_DIR}/find_package" "-DCMAKE_PREFIX_PATH=${prefix}")

elseif(MODE STREQUAL "find_package_shared")
  # A fresh shared build of the library, installed and consumed: exercises BUILD_SHARED_LIBS,
  # hidden visibility with SUPERVISOR_API exports, the soname and the exported definitions.
  set(lib_build "${SCRATCH}/lib-build")
  # Warnings are errors, as in the dev presets; with MSVC, not until a build there has been seen
  # free of them (the windows-msvc preset leaves SUPERVISOR_WERROR off too).
  set(werror ON)
  if(msvc_like)
    set(werror OFF)
  endif()
  # The optional components the outer build has, shared too (their own export macros).
  string(REPLACE "," ";" components "${COMPONENTS}")
  set(component_args "")
  foreach(c IN LISTS components)
    string(TOUPPER "${c}" upper)
    list(APPEND component_args "-DSUPERVISOR_${upper}=ON")
  endforeach()
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${lib_build}" ${nested_args}
      -DBUILD_SHARED_LIBS=ON -DSUPERVISOR_BUILD_TESTS=OFF -DSUPERVISOR_BUILD_EXAMPLES=OFF
      -DSUPERVISOR_WARNINGS=ON -DSUPERVISOR_WERROR=${werror} ${component_args})
  run("${CMAKE_COMMAND}" --build "${lib_build}")
  install_from("${lib_build}" "${prefix}")
  file(GLOB_RECURSE so LIST_DIRECTORIES false "${prefix}/lib*/libsupervisor.so*"
       "${prefix}/bin/*supervisor*.dll")
  if(NOT so)
    message(FATAL_ERROR "shared build installed no libsupervisor.so (nor, on Windows, a DLL)")
  endif()
  build_and_run("${CONSUMER_DIR}/find_package" "-DCMAKE_PREFIX_PATH=${prefix}")
  foreach(c IN LISTS components)
    file(GLOB_RECURSE so LIST_DIRECTORIES false "${prefix}/lib*/libsupervisor_${c}.so*")
    if(NOT so)
      message(FATAL_ERROR "shared build installed no libsupervisor_${c}.so")
    endif()
    set(BUILD_SUFFIX "-${c}")
    build_and_run("${CONSUMER_DIR}/component" "-DCMAKE_PREFIX_PATH=${prefix}" "-DCOMPONENT=${c}")
  endforeach()
  set(BUILD_SUFFIX "")

elseif(MODE STREQUAL "header_only_find_package")
  # The installed package's supervisor::header_only: a program built from the headers (and the
  # sources installed with them) alone, which links no libsupervisor.
  install_from("${BUILD_DIR}" "${prefix}")
  build_and_run("${CONSUMER_DIR}/header_only" "-DCMAKE_PREFIX_PATH=${prefix}")
  links_no_library("${SCRATCH}/consumer-build")

elseif(MODE STREQUAL "header_only_subdirectory")
  # add_subdirectory and supervisor::header_only: the library target is never even built.
  build_and_run("${CONSUMER_DIR}/header_only" "-DSUPERVISOR_SOURCE_DIR=${SOURCE_DIR}")
  links_no_library("${SCRATCH}/consumer-build")
  file(GLOB_RECURSE built LIST_DIRECTORIES false "${SCRATCH}/consumer-build/libsupervisor*"
       "${SCRATCH}/consumer-build/supervisor.lib" "${SCRATCH}/consumer-build/supervisor.dll")
  if(built)
    message(FATAL_ERROR "the header-only consumer built the library: ${built}")
  endif()

elseif(MODE STREQUAL "component")
  # An optional component, as its users get it: find_package(supervisor COMPONENTS <name>).
  install_from("${BUILD_DIR}" "${prefix}")
  build_and_run("${CONSUMER_DIR}/component" "-DCMAKE_PREFIX_PATH=${prefix}"
                "-DCOMPONENT=${COMPONENT}")

elseif(MODE STREQUAL "build_tree")
  build_and_run("${CONSUMER_DIR}/find_package" "-Dsupervisor_DIR=${BUILD_DIR}")

elseif(MODE STREQUAL "add_subdirectory")
  build_and_run("${CONSUMER_DIR}/subdirectory" "-DSUPERVISOR_SOURCE_DIR=${SOURCE_DIR}")

elseif(MODE STREQUAL "pkgconfig")
  if(msvc_like)
    message("SUPERVISOR-SKIP: this mode drives a GCC-style compiler with pkg-config's flags; "
            "MSVC users take the CMake package")
    return()
  endif()
  find_program(PKG_CONFIG NAMES pkgconf pkg-config)
  if(NOT PKG_CONFIG)
    message("SUPERVISOR-SKIP: no pkg-config or pkgconf program on this machine")
    return()
  endif()
  install_from("${BUILD_DIR}" "${prefix}")
  file(GLOB_RECURSE pc LIST_DIRECTORIES false "${prefix}/*/supervisor.pc")
  get_filename_component(pcdir "${pc}" DIRECTORY)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${pcdir}"
                          "${PKG_CONFIG}" --cflags --libs supervisor
                  RESULT_VARIABLE rc OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config does not find supervisor in ${pcdir}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
  separate_arguments(ld_flags UNIX_COMMAND "${LINKER_FLAGS}")
  run("${CXX_COMPILER}" -std=c++20 ${cxx_flags} "${CONSUMER_DIR}/main.cpp"
      -o "${SCRATCH}/consumer${exe}" ${flags} ${ld_flags})
  execute_process(COMMAND "${SCRATCH}/consumer${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE out)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "consumer OK")
    message(FATAL_ERROR "pkg-config consumer failed (${rc}): ${out}")
  endif()
  message(STATUS "pkg-config consumer printed: ${out}")

else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()
