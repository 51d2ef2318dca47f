// One actor per SSE stream: joins the room, turns each delivered message into an event.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/metrics.hpp"

namespace watercooler {

struct sse_session_state {
  static inline const char* name = "sse_session";

  caf::io::connection_handle connection;
  caf::actor room;
  bool chunked = true; // HTTP/1.1 gets chunked framing; HTTP/1.0 a body that ends at close
  uint64_t events = 0;
  uint64_t bytes = 0;
  std::shared_ptr<node_metrics> metrics;
  std::string client;         // ip:port
  int64_t since_ms = 0;       // connected at
  int64_t last_active_ms = 0; // last event written

  ~sse_session_state();
};

// A stream on a plain socket, owned by CAF's event loop: no thread per stream.
caf::behavior sse_session(caf::io::stateful_broker<sse_session_state>* self, int fd,
                          caf::actor room, bool chunked, std::shared_ptr<node_metrics> metrics,
                          std::string client);

// Events waiting for a stream that a thread writes (TLS connections stay with their thread).
struct sse_queue {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::string> events;
  bool closed = false;
};

struct queued_session_state {
  static inline const char* name = "tls_sse_session";

  std::shared_ptr<node_metrics> metrics;
  std::string client;
  int64_t since_ms = 0;
  int64_t last_active_ms = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;

  ~queued_session_state();
};

// The session of a thread-written stream: formats events into `queue`.
caf::behavior queued_session(caf::stateful_actor<queued_session_state>* self,
                             std::shared_ptr<sse_queue> queue,
                             std::shared_ptr<node_metrics> metrics, std::string client);

// Counts one event written to a stream.
void count_delivery(node_metrics& metrics, int64_t published_us, size_t bytes);

// The response head of an event stream.
std::string sse_response_head(bool chunked);

} // namespace watercooler
