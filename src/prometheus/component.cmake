# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
#
# supervisor::prometheus: the pools' and loops' metrics as a prometheus-cpp Collectable, for hosts
# that already run prometheus-cpp (Debian: prometheus-cpp-dev). Its header includes
# prometheus-cpp's, so prometheus-cpp::core is a public dependency.
find_package(prometheus-cpp CONFIG REQUIRED)
supervisor_add_component(prometheus
  SOURCES "${PROJECT_SOURCE_DIR}/src/prometheus/prometheus_collectable.cpp"
  LIBRARIES prometheus-cpp::core
  DEPENDENCIES "prometheus-cpp CONFIG")
