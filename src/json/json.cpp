// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// The documents of supervisor::json: each record of src/json/schema.hpp under a top-level
// object with its schema version, events with their type, and the readers of each.
#include <supervisor/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <supervisor/error.hpp>

#include "codec.hpp"
#include "schema.hpp"

namespace supervisor::json {
namespace detail {
namespace {

// ---- Events -----------------------------------------------------------------------------------

json encode_event(const PoolEvent& event) {
  json out = json::object();
  out.emplace("sequence", event.sequence);
  out.emplace("at_monotonic_seconds", encode(event.at));
  out.emplace("wall_time", encode(event.wall));
  out.emplace("type", event_types[event.data.index()]);
  out.emplace("data", std::visit([](const auto& data) { return encode(data); }, event.data));
  return out;
}

// Makes alternative `index` of the variant and reads its fields from `data`.
template <std::size_t... I>
PoolEventData decode_event_data(std::size_t index, const json& data, const Where& where,
                                std::index_sequence<I...> /*alternatives*/) {
  PoolEventData out;
  (void)((index == I ? (decode(data, where, out.emplace<I>()), true) : false) || ...);
  return out;
}

PoolEvent decode_event(const json& value, const Where& where) {
  const json& object = expect_object(value, where);
  PoolEvent event;
  const Reader reader{object, where};
  reader("sequence", event.sequence);
  reader("at_monotonic_seconds", event.at);
  reader("wall_time", event.wall);
  std::string type;
  reader("type", type);
  std::size_t index = 0;
  while (index < event_types.size() && event_types[index] != type) ++index;
  if (index == event_types.size()) {
    fail_name(Where{&where, "type"}, type, event_types.data(), event_types.size());
  }
  const Where data{&where, "data"};
  const auto it = object.find("data");
  if (it == object.end()) fail(data, "missing");
  event.data = decode_event_data(index, *it, data,
                                 std::make_index_sequence<std::variant_size_v<PoolEventData>>());
  return event;
}

// ---- Documents --------------------------------------------------------------------------------

// `body` as a top-level document: with its `"schema_version"`.
json with_version(json body) {
  body.emplace("schema_version", schema_version);
  return body;
}

// Refuses a document of another schema version.
void check_version(const json& document, const Where& root) {
  const Where where{&root, "schema_version"};
  const auto it = expect_object(document, root).find("schema_version");
  if (it == document.end()) fail(where, "missing (a document of supervisor::json has one)");
  const std::int64_t version = decode_signed(*it, where, std::numeric_limits<std::int64_t>::min(),
                                                std::numeric_limits<std::int64_t>::max());
  if (version != schema_version) {
    fail(where, fmt::format("{} is not supported: this library reads schema version {} (see "
                            "docs/json-schema.md)",
                            version, schema_version));
  }
}

json encode_history(const std::vector<PoolEvent>& history) {
  json events = json::array();
  events.get_ref<json::array_t&>().reserve(history.size());
  for (const auto& event : history) events.push_back(encode_event(event));
  json out = json::object();
  out.emplace("events", std::move(events));
  return with_version(std::move(out));
}

json encode_status(const StatusDocument& status) {
  json pools = json::array();
  pools.get_ref<json::array_t&>().reserve(status.pools.size());
  for (const auto& pool : status.pools) {
    json entry = json::object();
    entry.emplace("name", valid_utf8(pool.name));
    entry.emplace("snapshot", encode(pool.snapshot));
    pools.push_back(std::move(entry));
  }
  json out = json::object();
  out.emplace("generated_at", encode(status.generated_at));
  out.emplace("pools", std::move(pools));
  return with_version(std::move(out));
}

PoolSnapshot read_snapshot(const json& document) {
  const Where root{nullptr, "snapshot"};
  check_version(document, root);
  PoolSnapshot out;
  decode(document, root, out);
  return out;
}

PoolEvent read_event(const json& document) {
  const Where root{nullptr, "event"};
  check_version(document, root);
  return decode_event(document, root);
}

std::vector<PoolEvent> read_history(const json& document) {
  const Where root{nullptr, "history"};
  check_version(document, root);
  const Where where{&root, "events"};
  const auto it = document.find("events");
  if (it == document.end()) fail(where, "missing");
  const auto& items = expect_array(*it, where).get_ref<const json::array_t&>();
  std::vector<PoolEvent> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(decode_event(items[i], Where{&where, {}, i, true}));
  }
  return out;
}

StatusDocument read_status(const json& document) {
  const Where root{nullptr, "status"};
  check_version(document, root);
  StatusDocument out;
  const Reader reader{document, root};
  reader("generated_at", out.generated_at);
  const Where pools{&root, "pools"};
  const auto it = document.find("pools");
  if (it == document.end()) fail(pools, "missing");
  const auto& items = expect_array(*it, pools).get_ref<const json::array_t&>();
  out.pools.resize(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Where where{&pools, {}, i, true};
    const Reader pool{expect_object(items[i], where), where};
    pool("name", out.pools[i].name);
    pool("snapshot", out.pools[i].snapshot);
  }
  return out;
}

// The text of a document, parsed; fails naming the document when it is not JSON.
json parse_text(std::string_view text, std::string_view root) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    fail(Where{nullptr, root}, fmt::format("not JSON: {}", e.what()));
  }
}

std::string dump(const json& document, int indent) {
  // Every string was made valid UTF-8 on the way in; `replace` only guards that promise.
  return document.dump(indent < 0 ? -1 : indent, ' ', false, json::error_handler_t::replace);
}

// One body for each pair of overloads: the throwing one calls `read` directly (its errors carry
// the key path), the noexcept one through into_code (which keeps only the code).
template <class F>
auto into_code(std::error_code& ec, F&& read) noexcept {
  return supervisor::detail::into_code(
      ec, [&](supervisor::detail::ErrorSink& /*unused: errors throw*/) { return read(); });
}

}  // namespace
}  // namespace detail

StatusDocument make_status(std::vector<NamedSnapshot> pools) {
  return {std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()),
          std::move(pools)};
}

nlohmann::json to_json(const PoolSnapshot& snapshot) {
  return detail::with_version(detail::encode(snapshot));
}
nlohmann::json to_json(const PoolEvent& event) {
  return detail::with_version(detail::encode_event(event));
}
nlohmann::json to_json(const std::vector<PoolEvent>& history) {
  return detail::encode_history(history);
}
nlohmann::json to_json(const StatusDocument& status) { return detail::encode_status(status); }

std::string to_json_string(const PoolSnapshot& snapshot, int indent) {
  return detail::dump(to_json(snapshot), indent);
}
std::string to_json_string(const PoolEvent& event, int indent) {
  return detail::dump(to_json(event), indent);
}
std::string to_json_string(const std::vector<PoolEvent>& history, int indent) {
  return detail::dump(to_json(history), indent);
}
std::string to_json_string(const StatusDocument& status, int indent) {
  return detail::dump(to_json(status), indent);
}

nlohmann::json to_json(const Monitor::Status& status) {
  using nlohmann::json;
  StatusDocument doc;
  doc.generated_at = make_status({}).generated_at;
  doc.pools.reserve(status.pools.size());
  for (const auto& p : status.pools) doc.pools.push_back({p.name, p.snapshot});
  json out = detail::encode_status(doc);
  json pools = json::array();
  for (const PoolReadiness& r : status.readiness.pools) {
    pools.push_back({{"pool", detail::valid_utf8(r.pool)},
                     {"ready", r.ready},
                     {"required", r.required},
                     {"up", r.up},
                     {"needed", r.needed},
                     {"size", r.size},
                     {"why", detail::valid_utf8(r.why)}});
  }
  json loops = json::array();
  for (const LoopLiveness& l : status.liveness.loops) {
    loops.push_back({{"loop", detail::valid_utf8(l.loop)},
                     {"turning", l.heartbeat.turning},
                     {"lag_seconds", std::chrono::duration<double>(l.heartbeat.lag).count()},
                     {"processes", l.heartbeat.processes}});
  }
  out["ready"] = status.readiness.ready;
  out["alive"] = status.liveness.alive;
  out["readiness"] = {{"ready", status.readiness.ready},
                      {"summary", detail::valid_utf8(status.readiness.summary())},
                      {"pools", std::move(pools)}};
  out["liveness"] = {{"alive", status.liveness.alive},
                     {"summary", detail::valid_utf8(status.liveness.summary())},
                     {"loops", std::move(loops)}};
  return out;
}

std::string to_json_string(const Monitor::Status& status, int indent) {
  return detail::dump(to_json(status), indent);
}

PoolSnapshot snapshot_from_json(const nlohmann::json& document) {
  return detail::read_snapshot(document);
}
PoolSnapshot snapshot_from_json(const nlohmann::json& document, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return detail::read_snapshot(document); });
}
PoolSnapshot parse_snapshot(std::string_view text) {
  return detail::read_snapshot(detail::parse_text(text, "snapshot"));
}
PoolSnapshot parse_snapshot(std::string_view text, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return parse_snapshot(text); });
}

PoolEvent event_from_json(const nlohmann::json& document) { return detail::read_event(document); }
PoolEvent event_from_json(const nlohmann::json& document, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return detail::read_event(document); });
}
PoolEvent parse_event(std::string_view text) {
  return detail::read_event(detail::parse_text(text, "event"));
}
PoolEvent parse_event(std::string_view text, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return parse_event(text); });
}

std::vector<PoolEvent> history_from_json(const nlohmann::json& document) {
  return detail::read_history(document);
}
std::vector<PoolEvent> history_from_json(const nlohmann::json& document,
                                         std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return detail::read_history(document); });
}
std::vector<PoolEvent> parse_history(std::string_view text) {
  return detail::read_history(detail::parse_text(text, "history"));
}
std::vector<PoolEvent> parse_history(std::string_view text, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return parse_history(text); });
}

StatusDocument status_from_json(const nlohmann::json& document) {
  return detail::read_status(document);
}
StatusDocument status_from_json(const nlohmann::json& document, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return detail::read_status(document); });
}
StatusDocument parse_status(std::string_view text) {
  return detail::read_status(detail::parse_text(text, "status"));
}
StatusDocument parse_status(std::string_view text, std::error_code& ec) noexcept {
  return detail::into_code(ec, [&] { return parse_status(text); });
}

}  // namespace supervisor::json
