// The two shapes of a /listen event: the tutorial's plain text, and one JSON object per message.
#include "web/chat_event.hpp"

#include <nlohmann/json.hpp>

#include "web/sse.hpp"

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

} // namespace watercooler
