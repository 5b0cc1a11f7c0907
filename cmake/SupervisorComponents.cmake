# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
#
# Optional components: each one a library of its own (supervisor::<name>) on top of the core, with
# its outside dependency found by find_package here and by find_dependency in the config package
# (find_package(supervisor COMPONENTS <name>)). The core never depends on one.
#
# supervisor_add_component(<name> SOURCES ... [LIBRARIES ...] [COMPONENTS ...]
#                          [DEPENDENCIES "<find_dependency arguments>" ...] [CMAKE_FILES ...])
#   SOURCES       its sources (src/<name>/...); its public header is include/supervisor/<name>.hpp
#   LIBRARIES     what it links (imported targets of its dependencies), PUBLIC
#   COMPONENTS    other components it builds on (their names)
#   DEPENDENCIES  one find_dependency() call's arguments per item, for the config package; an
#                 item starting with "include:" names one of CMAKE_FILES to include instead (a
#                 dependency found another way, e.g. through pkg-config)
#   CMAKE_FILES   cmake/ files installed beside the config package (and copied to the build tree)
# Makes supervisor_<name>_objects (the objects, which the tests link beside supervisor_objects, as
# for the core) and supervisor_<name> (installed, exported as supervisor::<name> in its own export
# set supervisor-<name>-targets).
set(SUPERVISOR_COMPONENTS_BUILT "" CACHE INTERNAL "")
function(supervisor_add_component name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES;COMPONENTS;DEPENDENCIES;CMAKE_FILES" ${ARGN})
  set(objects supervisor_${name}_objects)
  set(lib supervisor_${name})
  add_library(${objects} OBJECT ${ARG_SOURCES})
  target_link_libraries(${objects} PUBLIC supervisor_objects ${ARG_LIBRARIES})
  foreach(c IN LISTS ARG_COMPONENTS)
    target_link_libraries(${objects} PUBLIC supervisor_${c}_objects)
  endforeach()
  set_target_properties(${objects} PROPERTIES
    CXX_EXTENSIONS OFF CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  supervisor_set_warnings(${objects})

  add_library(${lib} $<TARGET_OBJECTS:${objects}> "include/supervisor/${name}.hpp")
  add_library(supervisor::${name} ALIAS ${lib})
  target_compile_features(${lib} PUBLIC cxx_std_20)
  target_include_directories(${lib} PUBLIC
    "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  target_link_libraries(${lib} PUBLIC supervisor ${ARG_LIBRARIES} PRIVATE fmt::fmt)
  foreach(c IN LISTS ARG_COMPONENTS)
    target_link_libraries(${lib} PUBLIC supervisor_${c})
  endforeach()
  set_target_properties(${lib} PROPERTIES
    CXX_EXTENSIONS OFF CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    VERSION "${PROJECT_VERSION}"
    SOVERSION "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}"
    EXPORT_NAME ${name})
  get_target_property(type ${lib} TYPE)
  if(type STREQUAL "SHARED_LIBRARY" AND NOT APPLE AND NOT WIN32)
    # A shared component finds the libraries installed beside it (libsupervisor, another
    # component) wherever the prefix is: its users' programs may not name them (--as-needed), and
    # their RUNPATH does not serve a library's own dependencies.
    set_target_properties(${lib} PROPERTIES INSTALL_RPATH "$ORIGIN")
  endif()
  if(type STREQUAL "SHARED_LIBRARY")
    string(TOUPPER "${name}" upper)
    target_compile_definitions(${objects} PRIVATE SUPERVISOR_BUILDING_${upper})
  endif()

  export(TARGETS ${lib} NAMESPACE supervisor::
    FILE "${PROJECT_BINARY_DIR}/supervisor-${name}-targets.cmake")
  # What the config package finds before it includes the component's targets.
  set(deps "")
  foreach(c IN LISTS ARG_COMPONENTS)
    string(APPEND deps "include(\"\${CMAKE_CURRENT_LIST_DIR}/supervisor-${c}-dependencies.cmake\")\n"
                       "if(NOT TARGET supervisor::${c})\n"
                       "  include(\"\${CMAKE_CURRENT_LIST_DIR}/supervisor-${c}-targets.cmake\")\n"
                       "endif()\n")
  endforeach()
  foreach(d IN LISTS ARG_DEPENDENCIES)
    if(d MATCHES "^include:(.*)$")
      string(APPEND deps "include(\"\${CMAKE_CURRENT_LIST_DIR}/${CMAKE_MATCH_1}\")\n")
    else()
      string(APPEND deps "find_dependency(${d})\n")
    endif()
  endforeach()
  foreach(f IN LISTS ARG_CMAKE_FILES)
    configure_file("${PROJECT_SOURCE_DIR}/cmake/${f}" "${PROJECT_BINARY_DIR}/${f}" COPYONLY)
  endforeach()
  file(WRITE "${PROJECT_BINARY_DIR}/supervisor-${name}-dependencies.cmake"
       "# Generated: what supervisor::${name} needs found.\n${deps}")
  set(ARG_CMAKE_FILES_INSTALL "")
  foreach(f IN LISTS ARG_CMAKE_FILES)
    list(APPEND ARG_CMAKE_FILES_INSTALL "${PROJECT_SOURCE_DIR}/cmake/${f}")
  endforeach()
  if(SUPERVISOR_INSTALL)
    install(TARGETS ${lib} EXPORT supervisor-${name}-targets
      ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT supervisor_development
      LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT supervisor_runtime
        NAMELINK_COMPONENT supervisor_development
      RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT supervisor_runtime)
    install(EXPORT supervisor-${name}-targets NAMESPACE supervisor::
      DESTINATION "${SUPERVISOR_CMAKE_DIR}" COMPONENT supervisor_development)
    install(FILES "${PROJECT_BINARY_DIR}/supervisor-${name}-dependencies.cmake"
      ${ARG_CMAKE_FILES_INSTALL}
      DESTINATION "${SUPERVISOR_CMAKE_DIR}" COMPONENT supervisor_development)
  endif()
  set(SUPERVISOR_COMPONENTS_BUILT ${SUPERVISOR_COMPONENTS_BUILT} ${name} CACHE INTERNAL "")
endfunction()
