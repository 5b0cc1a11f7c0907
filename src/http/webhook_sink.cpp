// Copyright (c) 2026 The supervisor authors
// SPDX-License-Identifier: MIT
// HttpWebhookSink: each alert's JSON POSTed with httplib::Client, a bounded number of times.
#include <supervisor/http.hpp>

#include <httplib.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>
#include <utility>

namespace supervisor {

namespace {

// httplib takes its timeouts as seconds and microseconds.
template <class Set>
void set_timeout(Set&& set, Duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  set(us / 1'000'000, us % 1'000'000);  // the set functions take time_t
}

bool printable_without_space(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c <= ' ' || c > '~'; });
}

// Splits `url` into its origin (scheme://host[:port]) and its path ("/" when none).
void split_url(const std::string& url, std::string& origin, std::string& path,
               detail::ErrorSink& err) {
  const auto bad = [&](std::string_view why) {
    err.fail(errc::invalid_argument,
             [&] { return fmt::format("HttpWebhookOptions::url \"{}\": {}", url, why); });
  };
  if (url.empty() || !printable_without_space(url)) {
    return bad("not a URL (empty, or spaces or control characters)");
  }
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) return bad("must start with http:// or https://");
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
  if (https) {
    err.fail(errc::unsupported, [&] {
      return fmt::format("HttpWebhookOptions::url \"{}\": this cpp-httplib has no TLS", url);
    });
    return;
  }
#endif
  const std::size_t host_at = https ? 8 : 7;
  const std::size_t slash = url.find('/', host_at);
  origin = url.substr(0, slash);
  path = slash == std::string::npos ? "/" : url.substr(slash);
  if (origin.size() == host_at) return bad("no host");
}

}  // namespace

HttpWebhookSink::HttpWebhookSink(HttpWebhookOptions options) : options_(std::move(options)) {
  detail::or_throw([this](detail::ErrorSink& err) {
    const auto bad = [&err](std::string what) {
      err.fail(errc::invalid_argument, [&] { return "HttpWebhookOptions::" + what; });
    };
    if (options_.timeout < std::chrono::milliseconds(1) || options_.timeout > std::chrono::minutes(10)) {
      return bad(fmt::format("timeout = {} ns: must be 1 ms to 10 min", options_.timeout.count()));
    }
    if (options_.max_attempts < 1 || options_.max_attempts > 10) {
      return bad(fmt::format("max_attempts = {}: must be 1 to 10", options_.max_attempts));
    }
    if (options_.retry_delay < Duration::zero() || options_.retry_delay > std::chrono::minutes(1)) {
      return bad(fmt::format("retry_delay = {} ns: must be 0 to 1 min",
                             options_.retry_delay.count()));
    }
    if (!printable_without_space(options_.bearer_token)) {
      return bad("bearer_token: only printable ASCII without spaces");
    }
    if (options_.name.empty()) return bad("name: empty");
    split_url(options_.url, origin_, path_, err);
  });
}

HttpWebhookSink::~HttpWebhookSink() = default;

std::string HttpWebhookSink::name() const { return options_.name; }

HttpWebhookStats HttpWebhookSink::stats() const {
  const std::lock_guard lock(mu_);
  return stats_;
}

void HttpWebhookSink::deliver(const Alert& alert) {
  const std::string body = to_json(alert);
  httplib::Headers headers;
  if (!options_.bearer_token.empty()) {
    headers.emplace("Authorization", "Bearer " + options_.bearer_token);
  }
  Duration delay = options_.retry_delay;
  std::string why;
  errc code = errc::peer_gone;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      std::this_thread::sleep_for(delay);
      delay *= 2;
    }
    {
      const std::lock_guard lock(mu_);
      ++stats_.attempts;
    }
    httplib::Client client(origin_);
    set_timeout([&](time_t s, time_t us) { client.set_connection_timeout(s, us); },
                options_.timeout);
    set_timeout([&](time_t s, time_t us) { client.set_read_timeout(s, us); }, options_.timeout);
    set_timeout([&](time_t s, time_t us) { client.set_write_timeout(s, us); }, options_.timeout);
    client.set_keep_alive(false);
    const httplib::Result res = client.Post(path_, headers, body, "application/json");
    bool retry = true;
    if (res && res->status >= 200 && res->status < 300) {
      const std::lock_guard lock(mu_);
      ++stats_.delivered;
      return;
    }
    if (res) {
      why = fmt::format("answered {}", res->status);
      code = errc::peer_gone;
      retry = res->status >= 500 || res->status == 429;
    } else {
      why = httplib::to_string(res.error());
      code = res.error() == httplib::Error::ConnectionTimeout ? errc::timeout : errc::peer_gone;
    }
    {
      const std::lock_guard lock(mu_);
      stats_.last_error = why;
    }
    if (!retry) break;
  }
  {
    const std::lock_guard lock(mu_);
    ++stats_.failed;
  }
  throw_error(code, fmt::format("webhook \"{}\": POST {}{}: {}", options_.name, origin_, path_, why));
}

}  // namespace supervisor
