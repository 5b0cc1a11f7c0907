// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
#pragma once

// The machinery of supervisor::json: values to JSON (`encode`) and back (`decode`), for the
// library's plain types, and for "records": structs whose fields are listed once, in
// `Fields<T>::visit` (src/json/schema.hpp), and walked by a `Writer` or a `Reader`. One list
// per struct serves both directions, so the reader cannot drift from the writer.
//
// A decode error throws `supervisor::Error` (errc::invalid_argument) whose message starts with
// the key's path, built from a chain of `Where` on the stack only when it fails.

#include <supervisor/error.hpp>
#include <supervisor/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace supervisor::json::detail {

using nlohmann::json;

// Where a value sits in the document: the root's name (`snapshot`), a member (`.state`) or an
// array element (`[3]`) below its parent. Lives on the stack of the decode that walks it.
struct Where {
  const Where* parent = nullptr;
  std::string_view key;  // the member's name, or the root's name
  std::size_t index = 0;
  bool is_index = false;
};

// `snapshot.workers[3].state`.
[[nodiscard]] std::string path_of(const Where& where);
// Throws errc::invalid_argument: "<path>: <what>".
[[noreturn]] void fail(const Where& where, std::string_view what);
// Throws "<path>: expected <expected>, not <the value's type>".
[[noreturn]] void fail_type(const Where& where, const json& value, std::string_view expected);

// `text` with U+FFFD for each byte that is not part of valid UTF-8 (a copy when it is valid).
[[nodiscard]] std::string valid_utf8(std::string_view text);

// ---- Enumerations: written as their names, read back by name --------------------------------

// How many values each enumeration has (its names are name_of(E(0)) ... name_of(E(n - 1))).
template <class E>
inline constexpr std::size_t enum_count = 0;
template <>
inline constexpr std::size_t enum_count<WorkerState> = worker_state_count;
template <>
inline constexpr std::size_t enum_count<ExitReason> = exit_reason_count;
template <>
inline constexpr std::size_t enum_count<BreakerState> =
    static_cast<std::size_t>(BreakerState::forced_open) + 1;
template <>
inline constexpr std::size_t enum_count<HealthStatus> =
    static_cast<std::size_t>(HealthStatus::unhealthy) + 1;
template <>
inline constexpr std::size_t enum_count<ProbeRole> =
    static_cast<std::size_t>(ProbeRole::readiness) + 1;
template <>
inline constexpr std::size_t enum_count<LimitKind> =
    static_cast<std::size_t>(LimitKind::wall_time) + 1;
template <>
inline constexpr std::size_t enum_count<LimitBackend> =
    static_cast<std::size_t>(LimitBackend::job_object) + 1;
template <>
inline constexpr std::size_t enum_count<PoolHealth> = static_cast<std::size_t>(PoolHealth::down) + 1;
template <>
inline constexpr std::size_t enum_count<UsageScope> = static_cast<std::size_t>(UsageScope::tree) + 1;

// The library's own `to_string` names; UsageScope has none, so it gets its enumerators' names.
[[nodiscard]] std::string_view name_of(UsageScope s) noexcept;
template <class E>
[[nodiscard]] std::string_view name_of(E e) noexcept {
  return supervisor::to_string(e);
}

// The value named `name`, or fails naming the path, the bad name and the good ones.
[[noreturn]] void fail_name(const Where& where, std::string_view name,
                            const std::string_view* names, std::size_t count);
template <class E>
E enum_from_name(const Where& where, std::string_view name) {
  static_assert(enum_count<E> > 0, "enum_count not given for this enumeration");
  std::array<std::string_view, enum_count<E>> names{};
  for (std::size_t i = 0; i < enum_count<E>; ++i) {
    names[i] = name_of(static_cast<E>(i));
    if (names[i] == name) return static_cast<E>(i);
  }
  fail_name(where, name, names.data(), names.size());
}

// ---- Plain values -----------------------------------------------------------------------------

[[nodiscard]] json encode_seconds(Duration d);
[[nodiscard]] Duration decode_seconds(const json& value, const Where& where);
[[nodiscard]] json encode_number(double v);  // null when not finite (JSON has no NaN nor inf)
[[nodiscard]] double decode_number(const json& value, const Where& where);
[[nodiscard]] std::uint64_t decode_unsigned(const json& value, const Where& where,
                                            std::uint64_t max);
[[nodiscard]] std::int64_t decode_signed(const json& value, const Where& where, std::int64_t min,
                                         std::int64_t max);
[[nodiscard]] const std::string& decode_string(const json& value, const Where& where);
[[nodiscard]] json encode_error(const std::error_code& ec);
[[nodiscard]] std::error_code decode_error(const json& value, const Where& where);
// Checks that `value` is an object (or an array) and returns it.
const json& expect_object(const json& value, const Where& where);
const json& expect_array(const json& value, const Where& where);
// RFC 3339 text as a wall-clock time (src/json/rfc3339.cpp); reports what is wrong to `err`.
[[nodiscard]] WallTime read_rfc3339(std::string_view text, supervisor::detail::ErrorSink& err);
// A wall-clock time as RFC 3339 text, failing with the path.
[[nodiscard]] WallTime parse_wall_time(const json& value, const Where& where);

// The records: a struct T with a specialization `Fields<T>` whose static `visit(io, t)` calls
// `io("key", t.field)` for each field (t const when writing).
template <class T>
struct Fields;
template <class T>
concept Record = requires { sizeof(Fields<T>); };

// Arrays indexed by an enumeration, written as an object keyed by its names.
using TimeInState = std::array<Duration, worker_state_count>;
using ExitCounts = std::array<std::uint64_t, exit_reason_count>;

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

// Checks a record once all its fields are read (e.g. a histogram's bucket counts); none by
// default.
template <class T>
void check_record(const T& /*record*/, const Where& /*where*/) {}
void check_record(const Histogram& h, const Where& where);

template <class T>
json encode(const T& v);

// Fills a JSON object from a record's fields.
struct Writer {
  json& object;
  template <class T>
  void operator()(std::string_view key, const T& value) {
    object.emplace(key, encode(value));
  }
};

template <class T>
json encode(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v;
  } else if constexpr (std::is_enum_v<T>) {
    return name_of(v);
  } else if constexpr (std::is_integral_v<T>) {
    return v;
  } else if constexpr (std::is_floating_point_v<T>) {
    return encode_number(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return valid_utf8(v);
  } else if constexpr (std::is_same_v<T, Duration>) {
    return encode_seconds(v);
  } else if constexpr (std::is_same_v<T, TimePoint>) {
    return encode_seconds(v.time_since_epoch());
  } else if constexpr (std::is_same_v<T, WallTime>) {
    return to_rfc3339(v);
  } else if constexpr (std::is_same_v<T, std::error_code>) {
    return encode_error(v);
  } else if constexpr (std::is_same_v<T, TimeInState>) {
    json out = json::object();
    for (std::size_t i = 0; i < v.size(); ++i) {
      out.emplace(name_of(static_cast<WorkerState>(i)), encode_seconds(v[i]));
    }
    return out;
  } else if constexpr (std::is_same_v<T, ExitCounts>) {
    json out = json::object();  // only the reasons seen: absent means 0
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] != 0) out.emplace(name_of(static_cast<ExitReason>(i)), v[i]);
    }
    return out;
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::uint64_t>>) {
    json out = json::object();
    for (const auto& [key, count] : v) out.emplace(valid_utf8(key), count);
    return out;
  } else if constexpr (IsOptional<T>::value) {
    return v ? encode(*v) : json(nullptr);
  } else if constexpr (IsVector<T>::value) {
    json out = json::array();
    out.get_ref<json::array_t&>().reserve(v.size());
    for (const auto& item : v) out.push_back(encode(item));
    return out;
  } else {
    static_assert(Record<T>, "no JSON form for this type");
    json out = json::object();
    Writer writer{out};
    Fields<T>::visit(writer, v);
    return out;
  }
}

template <class T>
void decode(const json& value, const Where& where, T& out);

// Reads a record's fields from a JSON object; keys it does not ask for are ignored. Every key
// is required, except those of optional values (absent or null: none).
struct Reader {
  const json& object;
  const Where& where;
  template <class T>
  void operator()(std::string_view key, T& out) const {
    const Where child{&where, key};
    const auto it = object.find(key);
    if (it == object.end()) {
      if constexpr (IsOptional<T>::value) {
        out.reset();
        return;
      } else {
        fail(child, "missing");
      }
    }
    decode(*it, child, out);
  }
};

template <class T>
void decode(const json& value, const Where& where, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) fail_type(where, value, "a boolean");
    out = value.get<bool>();
  } else if constexpr (std::is_enum_v<T>) {
    out = enum_from_name<T>(where, decode_string(value, where));
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    out = static_cast<T>(decode_unsigned(value, where, std::numeric_limits<T>::max()));
  } else if constexpr (std::is_integral_v<T>) {
    out = static_cast<T>(decode_signed(value, where, std::numeric_limits<T>::min(),
                                       std::numeric_limits<T>::max()));
  } else if constexpr (std::is_same_v<T, double>) {
    out = decode_number(value, where);
  } else if constexpr (std::is_same_v<T, std::string>) {
    out = decode_string(value, where);
  } else if constexpr (std::is_same_v<T, Duration>) {
    out = decode_seconds(value, where);
  } else if constexpr (std::is_same_v<T, TimePoint>) {
    out = TimePoint(decode_seconds(value, where));
  } else if constexpr (std::is_same_v<T, WallTime>) {
    out = parse_wall_time(value, where);
  } else if constexpr (std::is_same_v<T, std::error_code>) {
    out = decode_error(value, where);
  } else if constexpr (std::is_same_v<T, TimeInState> || std::is_same_v<T, ExitCounts>) {
    using Key = std::conditional_t<std::is_same_v<T, TimeInState>, WorkerState, ExitReason>;
    out = T{};  // absent entries: zero
    for (const auto& [name, item] : expect_object(value, where).items()) {
      const Where child{&where, name};
      const auto index = static_cast<std::size_t>(enum_from_name<Key>(child, name));
      decode(item, child, out[index]);
    }
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::uint64_t>>) {
    out.clear();
    for (const auto& [name, item] : expect_object(value, where).items()) {
      const Where child{&where, name};
      decode(item, child, out[name]);
    }
  } else if constexpr (IsOptional<T>::value) {
    if (value.is_null()) {
      out.reset();
    } else {
      decode(value, where, out.emplace());
    }
  } else if constexpr (IsVector<T>::value) {
    const auto& items = expect_array(value, where).template get_ref<const json::array_t&>();
    out.clear();
    out.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Where child{&where, {}, i, true};
      decode(items[i], child, out[i]);
    }
  } else {
    static_assert(Record<T>, "no JSON form for this type");
    const Reader reader{expect_object(value, where), where};
    Fields<T>::visit(reader, out);
    check_record(out, where);
  }
}

}  // namespace supervisor::json::detail
