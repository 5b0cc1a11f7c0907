# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# supervisor::http: /metrics, /healthz, /readyz and /status of a Monitor (cpp-httplib).
include(SupervisorFindHttplib)
supervisor_add_component(http
  SOURCES src/http/http_server.cpp src/http/status_json.cpp src/http/webhook_sink.cpp
  LIBRARIES supervisor_deps::httplib
  COMPONENTS json  # /status is supervisor::json's Monitor status document
  DEPENDENCIES "include:SupervisorFindHttplib.cmake"
  CMAKE_FILES SupervisorFindHttplib.cmake)
