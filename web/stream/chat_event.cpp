// The two shapes of a /listen event: the tutorial's plain text, and one JSON object per message.
#include "web/stream/chat_event.hpp"

#include <nlohmann/json.hpp>

#include "web/stream/sse.hpp"

namespace watercooler {

std::optional<stream_format> parse_stream_format(std::string_view value) {
  if (value == "text")
    return stream_format::text;
  if (value == "json")
    return stream_format::json;
  return std::nullopt;
}

std::string message_id(const chat_message& message) {
  return message.origin + "/" + std::to_string(message.incarnation) + "/"
         + std::to_string(message.seq);
}

std::string message_json(const chat_message& message) {
  nlohmann::ordered_json object{
    {"id", message_id(message)},
    {"origin", message.origin},
    {"author", message.author},
    {"text", message.text},
    {"published_ms", message.published_us / 1000},
  };
  // Line breaks become \n escapes, so the object is always a single data line.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string message_event(const chat_message& message, stream_format format) {
  if (format == stream_format::text)
    return sse_event(message.text);
  auto id = message_id(message);
  return sse_event(message_json(message), sse_fields{{}, id});
}

std::string message_event(const chat_message& message, stream_format format, std::string_view id) {
  if (format == stream_format::text)
    return sse_event(message.text, sse_fields{{}, id});
  return sse_event(message_json(message), sse_fields{{}, id});
}

std::string gap_event(const stream_gap& gap) {
  nlohmann::ordered_json object{
    {"origin", gap.origin},
    {"incarnation", std::to_string(gap.incarnation)}, // beyond JavaScript's exact integers
    {"from", gap.from},
    {"to", gap.to == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(gap.to)},
    {"reason", gap.to == 0 ? "restarted" : "trimmed"},
  };
  return sse_event(object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                   sse_fields{"gap", std::nullopt});
}

std::string unknown_position_event() {
  return sse_event(R"({"reason":"unknown position"})", sse_fields{"gap", std::nullopt});
}

std::string slow_client_event() {
  return sse_event(R"({"reason":"slow client"})", sse_fields{"gap", std::nullopt});
}

stream_start stream_start_at(stream_format format,
                             const std::optional<std::string>& last_event_id) {
  stream_start start;
  start.format = format;
  if (!last_event_id || last_event_id->empty())
    return start;
  start.resume = parse_clock(*last_event_id);
  start.position_unknown = !start.resume;
  return start;
}

stream_events::stream_events(const stream_start& start)
    : format_(start.format), clock_(start.resume.value_or(stream_clock{})) {}

std::string stream_events::message(const chat_message& m) {
  return advance(m) ? event(m) : std::string();
}

bool stream_events::advance(const chat_message& m) {
  if (clock_covers(clock_, m))
    return false;
  clock_[m.origin] = {m.incarnation, m.seq};
  return true;
}

std::string stream_events::event(const chat_message& m) const {
  return message_event(m, format_, encode_clock(clock_));
}

} // namespace watercooler
