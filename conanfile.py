# Copyright (c) 2026 The supervisor authors
# SPDX-License-Identifier: MIT
"""Conan 2 recipe. It builds with the project's own CMakeLists and packages exactly what
`cmake --install` produces (the install the consumer tests check), then points Conan's generators
at the same names: CMake package `supervisor`, target `supervisor::supervisor`, pkg-config
`supervisor`.

    conan create . --build=missing
    # in a consumer: requires = "supervisor/0.1.0"; find_package(supervisor CONFIG REQUIRED)

Platforms: Linux (the Linux backend: pidfd, clone3, cgroups) and Windows (the Windows backend:
Job Objects and an I/O completion port; MSVC 2022 or mingw-w64; it links ws2_32 for the TCP and
HTTP probes). Elsewhere the package builds only the portable part: the strategies, the pool on the
fake world of `supervisor/testing.hpp`, and a `Loop` that throws `errc::unsupported`, so that no
real process can be started there; `validate()` says so when that is what is being built.
"""
import os
import re

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy, load, rmdir


class SupervisorConan(ConanFile):
    name = "supervisor"
    license = "MIT"
    description = ("Embeddable C++20 process supervision: spawn, watch, restart, contain and "
                   "stop worker pools")
    topics = ("process", "supervisor", "cgroups", "pidfd", "job-objects", "worker-pool")
    package_type = "library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"shared": [True, False], "fPIC": [True, False]}
    default_options = {"shared": False, "fPIC": True}
    exports_sources = ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "src/*")

    def set_version(self):
        # The one version source is include/supervisor/version.hpp.
        text = load(self, os.path.join(self.recipe_folder, "include", "supervisor", "version.hpp"))
        parts = [re.search(rf"#define SUPERVISOR_VERSION_{p} (\d+)", text).group(1)
                 for p in ("MAJOR", "MINOR", "PATCH")]
        self.version = ".".join(parts)

    def config_options(self):
        if self.settings.os == "Windows":
            del self.options.fPIC

    def configure(self):
        if self.options.shared:
            self.options.rm_safe("fPIC")

    def layout(self):
        cmake_layout(self)

    def requirements(self):
        # Private: no public header includes fmt, but a static library's users link it.
        self.requires("fmt/[>=8 <12]")

    def validate(self):
        check_min_cppstd(self, 20)
        if self.settings.os not in ("Linux", "Windows"):
            # Not refused: the strategies and the fake world are useful anywhere (tests, tools).
            self.output.warning(
                f"supervisor has no process backend for {self.settings.os}: only its portable "
                "part is built (the pool on the fake world); a real Loop throws errc::unsupported")

    def generate(self):
        tc = CMakeToolchain(self)
        tc.cache_variables["SUPERVISOR_BUILD_TESTS"] = False
        tc.cache_variables["SUPERVISOR_BUILD_EXAMPLES"] = False
        tc.cache_variables["SUPERVISOR_INSTALL"] = True
        tc.cache_variables["SUPERVISOR_WARNINGS"] = False
        tc.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        CMake(self).install()
        # Conan generates its own CMake config and .pc files from package_info below.
        rmdir(self, os.path.join(self.package_folder, "lib", "cmake"))
        rmdir(self, os.path.join(self.package_folder, "lib", "pkgconfig"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "supervisor")
        self.cpp_info.set_property("cmake_target_name", "supervisor::supervisor")
        self.cpp_info.set_property("pkg_config_name", "supervisor")
        self.cpp_info.libs = ["supervisor"]
        self.cpp_info.requires = ["fmt::fmt"]
        if self.options.shared:
            self.cpp_info.defines = ["SUPERVISOR_SHARED"]
        if self.settings.os in ("Linux", "FreeBSD"):
            self.cpp_info.system_libs = ["pthread"]
        elif self.settings.os == "Windows":
            # The Windows backend: kernel32 (linked by default) and Winsock for the probes.
            self.cpp_info.system_libs = ["ws2_32"]
