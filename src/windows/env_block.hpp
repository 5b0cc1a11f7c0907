// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The environment block of a Windows child (CreateProcessW with CREATE_UNICODE_ENVIRONMENT), by
// the rules of Environment (include/supervisor/process_spec.hpp) that plan_environment applies on
// POSIX (src/process/spawn_plan.hpp): inherit (all, or the names in `pass`; service-manager
// variables only with `keep_service_variables`), then `unset`, then `set`, then the pool's
// `extra` ("NAME=value"). A variant beside plan_environment rather than a flag in it, because
// Windows differs in kind, not degree, and the POSIX path is a measured hot path:
// - A variable's name is compared without regard to case: `Path` and `PATH` are one variable, so
//   a `set` (or `unset`, `pass`) of `PATH` applies to the host's `Path`, and the child sees the
//   spelling of the last rule that set it. Case is folded for ASCII letters only (Windows also
//   folds other letters; a name that differs from another only in a non-ASCII letter's case is
//   kept as a variable of its own).
// - `set` naming one variable twice in two spellings (`Path` and `PATH`) is ambiguous there:
//   errc::invalid_spec naming ProcessSpec.env.set. So is a name that is empty or contains `=`,
//   and a NUL in a name or value.
// - The block is sorted by name as Windows documents it: by the names' uppercase forms, code unit
//   by code unit. Each entry is `NAME=value` and a NUL; one more NUL ends the block (an empty
//   block is two NULs).
// - The hidden entries Windows keeps for each drive's current directory (`=C:=C:\dir`, and
//   `=ExitCode=...`), whose names begin with `=`, are inherited whenever the host's environment
//   is (in `pass` mode too: they are the process's current directories, not variables), first,
//   in the host's order, and never read as an empty name. `unset` and `set` never touch them.
// The host's entries are taken in UTF-16, as Windows gives them, and passed on unchanged (no
// round trip through UTF-8); the spec's strings must be valid UTF-8 (errc::invalid_spec naming
// the field).

#include <string>
#include <string_view>
#include <vector>

#include <supervisor/error.hpp>
#include <supervisor/process_spec.hpp>

namespace supervisor::detail {

struct WindowsEnvBlock {
  std::u16string block;  // for lpEnvironment: entries, each NUL-terminated, then a NUL
  std::string path;      // the child's PATH (any spelling), UTF-8; empty when it has none
};

// The entries ("NAME=value") of a block as GetEnvironmentStringsW returns it: NUL-terminated
// strings, ended by an empty one. Views into `block`; null gives none.
[[nodiscard]] std::vector<std::u16string_view> split_environment_block(const char16_t* block);

// The child's block from the host's entries and the spec's rules; on error sets `err`.
[[nodiscard]] WindowsEnvBlock plan_windows_environment(const Environment& env,
                                                       const std::vector<std::u16string_view>& host,
                                                       ErrorSink& err,
                                                       const std::vector<std::string>& extra = {});

// Sets `name` (not empty, no '=') to `value` in `block` (a block as above; empty or a lone NUL:
// none), keeping its order: a variable of that name in any spelling is replaced, else the entry
// goes where its name sorts. For what the spawn itself announces (a handle's value the child
// inherits), known only once the handle is duplicated.
void set_environment_entry(std::u16string& block, std::u16string_view name,
                           std::u16string_view value);

}  // namespace supervisor::detail
