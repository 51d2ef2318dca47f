// The two shapes of a /listen event: the tutorial's plain text, and one JSON object per message.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "actors/chat_message.hpp"

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

} // namespace watercooler
