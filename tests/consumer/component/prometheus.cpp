// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// A downstream program of supervisor::prometheus: a collectable of a host's own small set,
// collected as prometheus-cpp would.
#include <supervisor/prometheus.hpp>

#include <cstdio>
#include <memory>

int main() {
  const auto collectable = std::make_shared<supervisor::PrometheusCollectable>([] {
    supervisor::MetricSet set;
    supervisor::MetricFamily f{
        "consumer_jobs", "Jobs waiting.", supervisor::MetricType::gauge, "", {}};
    f.samples.push_back({{{"queue", "main"}}, 4, std::nullopt});
    set.add(std::move(f));
    return set;
  });
  const std::shared_ptr<prometheus::Collectable> as_collectable = collectable;
  const auto families = as_collectable->Collect();
  if (families.size() != 1 || families[0].name != "consumer_jobs" ||
      families[0].type != prometheus::MetricType::Gauge || families[0].metric.size() != 1 ||
      families[0].metric[0].gauge.value != 4 || families[0].metric[0].label.size() != 1 ||
      families[0].metric[0].label[0].value != "main") {
    std::puts("consumer FAILED: unexpected families");
    return 1;
  }
  std::puts("consumer OK");
  return 0;
}
