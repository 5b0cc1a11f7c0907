// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// `supervisor::json` (the optional component `supervisor::json`, CMake option `SUPERVISOR_JSON`,
/// `find_package(supervisor COMPONENTS json)`): pool snapshots, pool events, a pool's history
/// and a status document of several named pools as JSON, and back, in the versioned schema that
/// `docs/json-schema.md` describes key by key.
///
/// Four top-level documents, each an object carrying `"schema_version": 1`:
///   - a snapshot: `to_json(const PoolSnapshot&)`, read back by `snapshot_from_json`;
///   - an event: `to_json(const PoolEvent&)` (`"type"` names the alternative, e.g.
///     `"worker_exited"`, and `"data"` holds its fields), read back by `event_from_json`;
///   - a history: `to_json(const std::vector<PoolEvent>&)`, `{"schema_version": 1, "events":
///     [...]}`, read back by `history_from_json`;
///   - a status: `to_json(const StatusDocument&)`, `{"schema_version": 1, "generated_at": ...,
///     "pools": [{"name": ..., "snapshot": {...}}, ...]}`, read back by `status_from_json`.
/// Each comes as an `nlohmann::json` value (for hosts that use nlohmann-json already: add keys
/// to it, embed it) or as text (`to_json_string`, compact or indented); each reader takes either
/// an `nlohmann::json` value (`*_from_json`) or text (`parse_*`).
///
/// Units: durations are seconds as JSON numbers in keys ending `_seconds` (exact to the
/// nanosecond up to 2^52 ns, about 52 days; within a few nanoseconds beyond); instants of the
/// pool's monotonic clock are seconds since that clock's epoch in keys ending
/// `_monotonic_seconds`; wall-clock instants are RFC 3339 UTC strings
/// (`2026-12-07T17:11:07.123456789Z`); enumerations are their `to_string` names (`"leased"`,
/// `"exit-code"`, `"half_open"`).
///
/// Reading is strict where it must be and lenient where it may: a document whose
/// `schema_version` is not 1, text that is no JSON, a value of the wrong type, a missing
/// required key, an unknown enumeration name or an out-of-range number is
/// `errc::invalid_argument`, and the throwing overloads' message names the key's path and what
/// was wrong (`snapshot.workers[3].state: expected a string, not number`); keys the reader does
/// not know are ignored (a newer writer may add keys without a new schema version). Strings that
/// are not valid UTF-8 (a worker's `STATUS=`, its stderr) are written with U+FFFD in place of
/// each bad byte, so that every value this component makes can be dumped.
///
/// Threading: the functions share no state; call them from any threads at once.

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include <supervisor/clock.hpp>
#include <supervisor/export.hpp>
#include <supervisor/monitor.hpp>
#include <supervisor/pool.hpp>

#if defined(SUPERVISOR_BUILDING_JSON)
#  define SUPERVISOR_JSON_API SUPERVISOR_COMPONENT_EXPORT
#else
#  define SUPERVISOR_JSON_API SUPERVISOR_COMPONENT_IMPORT
#endif

/// JSON documents of pools (see the file's comment, and `docs/json-schema.md`).
namespace supervisor::json {

/// The schema version this library writes and reads (`"schema_version"` of every top-level
/// document). Additive changes (new keys, new event types, new enumeration names) keep it; a
/// change in the meaning or the type of an existing key makes it 2.
inline constexpr int schema_version = 1;

/// One pool of a status document: its name (as the host calls it) and its snapshot.
struct NamedSnapshot {
  std::string name;
  PoolSnapshot snapshot;
};

/// The status of several pools at one instant (`to_json(const StatusDocument&)`).
struct StatusDocument {
  WallTime generated_at{};  ///< When the snapshots were taken (`make_status` stamps it).
  std::vector<NamedSnapshot> pools;
};

/// A status document of `pools`, stamped with the wall-clock time now.
[[nodiscard]] SUPERVISOR_JSON_API StatusDocument make_status(std::vector<NamedSnapshot> pools);

// ---- Writing ------------------------------------------------------------------------------------
// Writing cannot fail (short of memory): no error overloads.

/// The snapshot document: the snapshot's fields and `"schema_version": 1`.
[[nodiscard]] SUPERVISOR_JSON_API nlohmann::json to_json(const PoolSnapshot& snapshot);
/// The event document: `"schema_version"`, `"sequence"`, `"at_monotonic_seconds"`,
/// `"wall_time"`, `"type"` (the alternative's snake_case name) and `"data"` (its fields).
[[nodiscard]] SUPERVISOR_JSON_API nlohmann::json to_json(const PoolEvent& event);
/// The history document: `{"schema_version": 1, "events": [...]}`, oldest first, each event as
/// in the event document without its own `"schema_version"`.
[[nodiscard]] SUPERVISOR_JSON_API nlohmann::json to_json(const std::vector<PoolEvent>& history);
/// The status document: `{"schema_version": 1, "generated_at": ..., "pools": [{"name": ...,
/// "snapshot": {...}}, ...]}` (the snapshots without their own `"schema_version"`), in the order
/// given. An object, so that a host may add keys of its own beside these.
[[nodiscard]] SUPERVISOR_JSON_API nlohmann::json to_json(const StatusDocument& status);

/// A `Monitor`'s status (`Monitor::status()`, what `supervisor::http` serves as `/status`): the
/// status document of its pools (stamped now), plus `"ready"` and `"alive"` (the host's
/// verdicts), `"readiness"` (`{"ready", "summary", "pools": [{"pool", "ready", "required", "up",
/// "needed", "size", "why"}]}`) and `"liveness"` (`{"alive", "summary", "loops": [{"loop",
/// "turning", "lag_seconds", "processes"}]}`). `status_from_json` reads its pools back (and
/// ignores the rest).
[[nodiscard]] SUPERVISOR_JSON_API nlohmann::json to_json(const Monitor::Status& status);
/// `to_json(status)` as text (see the snapshot's overload for `indent`).
[[nodiscard]] SUPERVISOR_JSON_API std::string to_json_string(const Monitor::Status& status,
                                                             int indent = -1);

/// `to_json(snapshot)` as text: compact with `indent` < 0 (the default), else pretty-printed
/// with that many spaces per level.
[[nodiscard]] SUPERVISOR_JSON_API std::string to_json_string(const PoolSnapshot& snapshot,
                                                             int indent = -1);
/// `to_json(event)` as text (see the snapshot's overload for `indent`).
[[nodiscard]] SUPERVISOR_JSON_API std::string to_json_string(const PoolEvent& event,
                                                             int indent = -1);
/// `to_json(history)` as text (see the snapshot's overload for `indent`).
[[nodiscard]] SUPERVISOR_JSON_API std::string to_json_string(const std::vector<PoolEvent>& history,
                                                             int indent = -1);
/// `to_json(status)` as text (see the snapshot's overload for `indent`).
[[nodiscard]] SUPERVISOR_JSON_API std::string to_json_string(const StatusDocument& status,
                                                             int indent = -1);

// ---- Reading ------------------------------------------------------------------------------------
// Each reader comes four times: from a value or from text, throwing `supervisor::Error` (a
// `std::system_error` whose message names the key path) or reporting through `ec`
// (`errc::invalid_argument`; the value returned then is a default one).

/// The snapshot a snapshot document describes (an equal `PoolSnapshot`).
[[nodiscard]] SUPERVISOR_JSON_API PoolSnapshot snapshot_from_json(const nlohmann::json& document);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API PoolSnapshot snapshot_from_json(const nlohmann::json& document,
                                                                  std::error_code& ec) noexcept;
/// The snapshot of a snapshot document given as text.
[[nodiscard]] SUPERVISOR_JSON_API PoolSnapshot parse_snapshot(std::string_view text);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API PoolSnapshot parse_snapshot(std::string_view text,
                                                              std::error_code& ec) noexcept;

/// The event an event document describes. An unknown `"type"` is an error (the reader cannot
/// know its fields); readers of a stream that a newer writer may extend should skip such events
/// themselves, by their `"type"`.
[[nodiscard]] SUPERVISOR_JSON_API PoolEvent event_from_json(const nlohmann::json& document);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API PoolEvent event_from_json(const nlohmann::json& document,
                                                            std::error_code& ec) noexcept;
/// The event of an event document given as text.
[[nodiscard]] SUPERVISOR_JSON_API PoolEvent parse_event(std::string_view text);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API PoolEvent parse_event(std::string_view text,
                                                        std::error_code& ec) noexcept;

/// The events of a history document, in its order.
[[nodiscard]] SUPERVISOR_JSON_API std::vector<PoolEvent> history_from_json(
    const nlohmann::json& document);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API std::vector<PoolEvent> history_from_json(
    const nlohmann::json& document, std::error_code& ec) noexcept;
/// The events of a history document given as text.
[[nodiscard]] SUPERVISOR_JSON_API std::vector<PoolEvent> parse_history(std::string_view text);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API std::vector<PoolEvent> parse_history(
    std::string_view text, std::error_code& ec) noexcept;

/// The pools and time of a status document (keys a host added beside them are ignored).
[[nodiscard]] SUPERVISOR_JSON_API StatusDocument status_from_json(const nlohmann::json& document);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API StatusDocument status_from_json(const nlohmann::json& document,
                                                                  std::error_code& ec) noexcept;
/// The status document given as text.
[[nodiscard]] SUPERVISOR_JSON_API StatusDocument parse_status(std::string_view text);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API StatusDocument parse_status(std::string_view text,
                                                              std::error_code& ec) noexcept;

// ---- Pieces ---------------------------------------------------------------------------------------

/// `t` as RFC 3339 in UTC, with as many fraction digits as it needs in groups of three (none,
/// milliseconds, microseconds or nanoseconds): `2026-12-07T17:11:07.250Z`.
[[nodiscard]] SUPERVISOR_JSON_API std::string to_rfc3339(WallTime t);
/// An RFC 3339 date-time (`2026-12-07T17:11:07Z`, `2026-12-07t19:11:07.5+02:00`; fraction digits
/// past nanoseconds are cut) as a `WallTime`. Errors: `errc::invalid_argument` naming what is
/// wrong.
[[nodiscard]] SUPERVISOR_JSON_API WallTime parse_rfc3339(std::string_view text);
/// \overload
[[nodiscard]] SUPERVISOR_JSON_API WallTime parse_rfc3339(std::string_view text,
                                                         std::error_code& ec) noexcept;

/// The category of the error codes read back from a `spawn_failed` event whose error's category
/// is none this library knows (it restores `"supervisor"`, `"system"` and `"generic"`): the
/// value is kept, the category's own name is lost. Its name is "foreign".
[[nodiscard]] SUPERVISOR_JSON_API const std::error_category& foreign_category() noexcept;

}  // namespace supervisor::json
