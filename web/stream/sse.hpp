// Server-Sent Events: framing of one event for GET /listen, and a parser for clients of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace watercooler {

// Fields written before the data lines. Line breaks in them are dropped so the frame stays
// one event.
struct sse_fields {
  std::string_view event;             // event type; empty leaves the browser's "message"
  std::optional<std::string_view> id; // sets lastEventId; an empty id resets it
};

// One event: a "data:" line per line of `data` (CRLF, CR and LF all end a line), then a blank
// line. A browser's MessageEvent.data is then `data` with every line break turned into "\n".
// "hello" -> "data: hello\n\n"; "" -> "data:\n\n"; "a\n" -> "data: a\ndata:\n\n".
std::string sse_event(std::string_view data, const sse_fields& fields = {});

// What a browser's EventSource hands to its listeners.
struct sse_message {
  std::string type = "message";
  std::string data;
  std::string last_event_id;
};

inline bool operator==(const sse_message& a, const sse_message& b) {
  return a.type == b.type && a.data == b.data && a.last_event_id == b.last_event_id;
}

// The WHATWG event stream interpretation, fed bytes as they arrive in any chunking. Bytes are
// passed through undecoded; an event not ended by a blank line is never dispatched.
class sse_parser {
public:
  // The events completed by `bytes`, in stream order.
  std::vector<sse_message> feed(std::string_view bytes);

  // The last valid "retry:" value, in milliseconds.
  std::optional<std::uint64_t> retry_ms() const {
    return retry_ms_;
  }

private:
  void feed_lines(std::string_view bytes, std::vector<sse_message>& events);
  void process_line(std::vector<sse_message>& events);

  bool at_stream_start_ = true;
  std::string stream_start_; // first bytes, held until we know whether they are a BOM
  bool after_cr_ = false;    // a CR ended the previous chunk; a leading LF belongs to it
  std::string line_;
  std::string data_;
  std::string event_type_;
  std::string last_event_id_;
  std::optional<std::uint64_t> retry_ms_;
};

} // namespace watercooler
