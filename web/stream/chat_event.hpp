// The two shapes of a /listen event: the tutorial's plain text, and one JSON object per message.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "actors/logic/stream_clock.hpp"
#include "actors/wire/chat_message.hpp"

namespace watercooler {

// GET /listen (text, the tutorial's) or GET /listen?format=json.
enum class stream_format { text, json };

// The format named by the `format` query parameter; nullopt for an unknown one.
std::optional<stream_format> parse_stream_format(std::string_view value);

// Messages replayed from the room's history when a JSON stream opens.
constexpr uint64_t json_replay = 50;

// "<origin>/<incarnation>/<seq>": a message's identity, unique in the cluster.
std::string message_id(const chat_message& message);

// {"id":…,"origin":…,"author":…,"text":…,"published_ms":…} on one line. Text that is not valid
// UTF-8 (a peer's bug) is written with U+FFFD rather than failing.
std::string message_json(const chat_message& message);

// One SSE event of `message` in `format`: the text as data, or the JSON with `id:` set.
std::string message_event(const chat_message& message, stream_format format);

// The same with the SSE id `id` (the stream's position after it) in either format.
std::string message_event(const chat_message& message, stream_format format, std::string_view id);

// "event: gap": messages of `gap` may be missing from a resumed stream. Data:
// {"origin":…,"incarnation":"…","from":n,"to":n or null,"reason":"trimmed"|"restarted"}.
std::string gap_event(const stream_gap& gap);

// "event: gap" for a Last-Event-ID that is not a position: {"reason":"unknown position"}.
std::string unknown_position_event();

// "event: gap" before a stream is ended because its client fell behind: {"reason":"slow client"}.
// The client resumes from its last event's id and gets what it missed from the history.
std::string slow_client_event();

// How long a browser waits before reconnecting, sent first on every stream.
constexpr uint64_t reconnect_ms = 1000;

// The comment line written on an idle stream every --heartbeat seconds.
constexpr const char* heartbeat_comment = ": heartbeat\n\n";

// Where a stream starts: its format, and the position a reconnecting client resumes at.
struct stream_start {
  stream_format format = stream_format::text;
  std::optional<stream_clock> resume; // Last-Event-ID, parsed
  bool position_unknown = false;      // a Last-Event-ID that is not a position: a gap first
};

// The start of a stream from its Last-Event-ID header (or last_event_id query parameter); absent
// and "" start as before.
stream_start stream_start_at(stream_format format, const std::optional<std::string>& last_event_id);

// Turns what the room delivers into one stream's events, keeping the stream's position: each
// event's id is the clock after it, and a message the stream had is skipped.
class stream_events {
public:
  explicit stream_events(const stream_start& start);

  // The event of the message; "" if the stream has had it.
  std::string message(const chat_message& m);
  // The same in two steps: moves the position past `m` (false: the stream has had it), then the
  // event of `m` at that position.
  bool advance(const chat_message& m);
  std::string event(const chat_message& m) const;

  const stream_clock& clock() const {
    return clock_;
  }
  stream_format format() const {
    return format_;
  }

private:
  stream_format format_;
  stream_clock clock_;
};

} // namespace watercooler
