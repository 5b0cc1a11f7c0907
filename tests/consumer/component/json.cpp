// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A downstream program of supervisor::json, found with find_package(supervisor COMPONENTS json):
// a small snapshot to JSON and back, and nlohmann::json usable directly (a public dependency).
#include <supervisor/json.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>

int main() {
  namespace sv = supervisor;
  sv::PoolSnapshot snapshot;
  snapshot.running = true;
  snapshot.size = 1;
  snapshot.restarts = 3;
  sv::WorkerSnapshot worker;
  worker.state = sv::WorkerState::ready;
  worker.pid = 4242;
  worker.time_up = std::chrono::milliseconds(1500);
  snapshot.workers.push_back(worker);

  const std::string text = sv::json::to_json_string(snapshot);
  std::error_code ec;
  const sv::PoolSnapshot back = sv::json::parse_snapshot(text, ec);
  if (ec || back.restarts != 3 || back.workers.size() != 1 ||
      back.workers[0].state != sv::WorkerState::ready || back.workers[0].pid != 4242 ||
      back.workers[0].time_up != worker.time_up) {
    std::fprintf(stderr, "round trip failed (%s): %s\n", ec.message().c_str(), text.c_str());
    return 1;
  }
  nlohmann::json doc = sv::json::to_json(sv::json::make_status({{"web", snapshot}}));
  doc["host"] = "consumer";
  if (doc.at("schema_version") != sv::json::schema_version ||
      sv::json::status_from_json(doc).pools.at(0).name != "web") {
    std::fprintf(stderr, "status document wrong: %s\n", doc.dump().c_str());
    return 1;
  }
  std::puts("consumer OK");
  return 0;
}
