# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
# supervisor::json: snapshots, events, histories and status documents as JSON (nlohmann-json,
# Debian's nlohmann-json3-dev). nlohmann::json is in its public API, so it is a PUBLIC dependency.
find_package(nlohmann_json 3 CONFIG REQUIRED)
supervisor_add_component(json
  SOURCES
    src/json/codec.cpp
    src/json/json.cpp
    src/json/rfc3339.cpp
  LIBRARIES nlohmann_json::nlohmann_json
  DEPENDENCIES "nlohmann_json 3 CONFIG")
