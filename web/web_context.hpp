// What every HTTP action needs to reach the node: its actor system, its room, its settings.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/metrics.hpp"
#include "web/http/forwarded.hpp"
#include "web/http/limits.hpp"
#include "web/stream/frame_cache.hpp"
#include "web/stream/stream_outbox.hpp"
#include "web/stream/stream_poller.hpp"

namespace watercooler {

struct web_context {
  caf::actor_system* system = nullptr;
  caf::actor room;
  caf::actor presence; // who is here: streams are counted, GET /presence asks it
  std::string node;    // shown on the home page
  std::size_t max_body = default_max_body;       // POST /publish bodies above this get 413
  std::size_t max_message = default_max_message; // characters; a longer message gets 413
  // Per client address; shared by the HTTP and HTTPS servers.
  std::shared_ptr<address_slots> streams = std::make_shared<address_slots>(default_max_streams);
  std::shared_ptr<rate_limiter> publish_rate =
    std::make_shared<rate_limiter>(default_publish_rate, default_publish_burst);
  trusted_proxies proxies; // --trust-proxy: whose X-Forwarded-* headers name the client
  std::chrono::milliseconds room_timeout{5000}; // a room slower than this gets 503
  std::string home_page_html;                   // pages are rendered once: the node name is fixed
  std::string not_found_html;
  std::shared_ptr<node_metrics> metrics;
  std::shared_ptr<stream_poller> poller; // watches plain streams' sockets
  // live messages' frames, shared by the streams
  std::shared_ptr<frame_cache> frames = std::make_shared<frame_cache>();
  stream_limits limits; // how far a stream's client may fall behind
};

} // namespace watercooler
