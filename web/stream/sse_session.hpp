// One actor per SSE stream: joins the room, turns each delivered message into an event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/metrics.hpp"
#include "web/http/limits.hpp"
#include "web/http/transport.hpp"
#include "web/stream/chat_event.hpp"
#include "web/stream/frame_cache.hpp"
#include "web/stream/stream_outbox.hpp"
#include "web/stream/stream_poller.hpp"

namespace watercooler {

// What a session records of its stream, whichever way the stream is written: its own counts for
// --inspect and the node's for /metrics. Counts as an open session from start() to destruction.
class session_counters {
public:
  session_counters() = default;
  session_counters(const session_counters&) = delete;
  session_counters& operator=(const session_counters&) = delete;
  ~session_counters();

  void start(std::shared_ptr<node_metrics> metrics, std::string client);
  // One event of `bytes` written, published at `published_us` on its origin node.
  void wrote(int64_t published_us, size_t bytes);
  // `events` replayed from the history in `bytes`: counted, but not as delivery latency.
  void replayed(size_t events, size_t bytes);
  // Bytes that are no message: the head, heartbeats, gap events, the farewell.
  void wrote_other(size_t bytes);
  // The client fell behind and the stream was ended.
  void fell_behind();
  session_report report(caf::actor_id id, size_t queued) const;

private:
  std::shared_ptr<node_metrics> metrics_;
  std::string client_;         // ip:port
  int64_t since_ms_ = 0;       // connected at
  int64_t last_active_ms_ = 0; // last event written
  uint64_t events_ = 0;
  uint64_t bytes_ = 0;
};

// Where a stream's session is wired to: the room, the node's counters, the socket poller,
// and how far a client may fall behind.
struct stream_wiring {
  caf::actor room;
  caf::actor presence; // counts the stream, and tells a JSON one who is here
  std::shared_ptr<node_metrics> metrics;
  std::shared_ptr<stream_poller> poller;
  stream_limits limits;
  std::shared_ptr<frame_cache> frames; // live messages' frames, shared by the node's streams
};

// How a stream's bytes are framed on its connection.
enum class stream_framing {
  chunked,     // HTTP/1.1: the session writes the head, then the events in chunks
  until_close, // HTTP/1.0: the head, then a body that ends when the connection closes
  frames,      // HTTP/2: the connection sent the head and frames the body itself
};

// A stream's connection (plain or TLS socket, or an HTTP/2 stream), once the front handed it over.
struct adopted_stream {
  std::shared_ptr<transport> connection;
  stream_framing framing = stream_framing::chunked;
  stream_start start;
  std::string client;  // ip:port
  address_slot slot;   // the stream's place in its address's --max-streams
  std::string person;  // ?client=: the browser's id; "" an anonymous listener
  std::string name;    // ?name=: the person's display name
  std::string address; // the client's address, for the presence bounds
};

struct sse_session_state {
  static inline const char* name = "sse_session";

  stream_wiring wiring;
  std::shared_ptr<transport> connection;
  uint64_t token = 0; // the poller's (0: an HTTP/2 stream, which tells the session itself)
  bool chunked = true;
  bool json = false; // a JSON stream, which gets presence events too
  stream_events events{stream_start{}};
  session_counters counters;
  stream_outbox outbox;
  bool flush_queued = false; // a (flush) is in the mailbox, behind whatever else came
  bool blocked = false;      // the socket was full; the poller says when it has room
  bool ending = false;       // the last bytes are queued; quit once written
  address_slot slot;         // given back when the session ends
};

// A stream written by its session with no thread of its own, over plain TCP or TLS: events that
// arrive together go out in one system call, and a client that falls behind `limits` gets a gap
// event and is disconnected (it resumes with Last-Event-ID) instead of growing the node.
caf::behavior sse_session(caf::stateful_actor<sse_session_state>* self, adopted_stream stream,
                          stream_wiring wiring);

// Written when the node stops: come back in a second (to any node: the id resumes the stream).
inline constexpr const char* stream_farewell = "retry: 1000\n: node stopping\n\n";

// The fields of an event stream's response, besides the security headers.
const std::vector<std::pair<std::string, std::string>>& stream_head_fields();

// The HTTP/1 response head of an event stream.
std::string sse_response_head(bool chunked);

// What a stream writes right after its head: a short reconnection delay, so a page is back soon
// after its node restarts; then a gap event if the client's Last-Event-ID was no position.
std::string sse_stream_start(const stream_start& start);

// Joins the room as `session`: a resuming stream first gets what it missed of the history, a new
// JSON stream the recent history.
void join_room(const caf::actor& room, const caf::actor& session, const stream_start& start);

} // namespace watercooler
