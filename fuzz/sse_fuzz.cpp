// Fuzzes the SSE writer and the /listen events built on it: whatever the text, author, origin or
// id, the frame is exactly one well-formed event that a browser's parser reads back unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/event_source.hpp"
#include "web/form.hpp"
#include "web/stream/chat_event.hpp"
#include "web/stream/sse.hpp"

namespace {

using namespace std::string_view_literals;
using watercooler::as_browser_data;

[[noreturn]] void fail(const char* what, std::string_view frame) {
  std::fprintf(stderr, "sse_fuzz: %s\nframe: %.*s\n", what, static_cast<int>(frame.size()),
               frame.data());
  std::abort();
}

std::string without_line_breaks(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '\r' && c != '\n')
      out += c;
  return out;
}

// The frame must be one event: line breaks only as '\n', the only blank line at its end.
void check_framing(std::string_view frame) {
  if (frame.size() < 2 || frame.substr(frame.size() - 2) != "\n\n"sv)
    fail("a frame must end with a blank line", frame);
  if (frame.find("\n\n") != frame.size() - 2 || frame.front() == '\n')
    fail("a frame must hold no other blank line", frame);
  if (frame.find('\r') != std::string_view::npos)
    fail("a frame must not hold a CR", frame);
}

// The frame parsed whole and in `chunk`-byte pieces, which must agree; it must be one event.
watercooler::sse_message parse_one(std::string_view frame, std::size_t chunk) {
  check_framing(frame);
  watercooler::sse_parser whole;
  auto events = whole.feed(frame);
  if (events.size() != 1)
    fail("a frame must be parsed as exactly one event", frame);
  watercooler::sse_parser pieces;
  std::vector<watercooler::sse_message> events_in_pieces;
  for (std::size_t at = 0; at < frame.size(); at += chunk)
    for (auto& event : pieces.feed(frame.substr(at, chunk)))
      events_in_pieces.push_back(std::move(event));
  if (events_in_pieces != events)
    fail("parsing in pieces must give the same event", frame);
  // Twice in a row with a heartbeat between: two equal events.
  auto twice = std::string(frame) + watercooler::heartbeat_comment + std::string(frame);
  auto both = watercooler::sse_parser{}.feed(twice);
  if (both.size() != 2 || !(both[0] == events[0]) || !(both[1] == events[0]))
    fail("a frame repeated must give the same event twice", frame);
  return events.front();
}

void check_json_message(const watercooler::sse_message& event, const watercooler::chat_message& m,
                        std::string_view frame) {
  if (event.data.find('\n') != std::string::npos)
    fail("a JSON event must be one data line", frame);
  auto json = nlohmann::json::parse(event.data, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    fail("a JSON event's data must be a JSON object", frame);
  if (json.value("id", "") != watercooler::message_id(m) && watercooler::is_valid_utf8(m.origin))
    fail("the JSON id must be the message id", frame);
  if (json.value("published_ms", int64_t{1}) != m.published_us / 1000)
    fail("the JSON published_ms must be the message's", frame);
  const auto field = [&](const char* name, const std::string& expected) {
    if (watercooler::is_valid_utf8(expected) && json.value(name, "") != expected)
      fail("a JSON field must be the message's text unchanged", frame);
  };
  field("origin", m.origin);
  field("author", m.author);
  field("text", m.text);
}

// The input: a mode byte (bit 0: raw or chat; 1-4: chunk size; 5-7: numbers), then up to three
// fields separated by 0x1f (the last takes the rest).
struct input {
  std::uint8_t mode = 0;
  std::vector<std::string_view> fields;
};

input split(const std::uint8_t* data, std::size_t size) {
  input in;
  if (size == 0)
    return in;
  in.mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (in.fields.size() < 2) {
    auto separator = rest.find('\x1f');
    if (separator == std::string_view::npos)
      break;
    in.fields.push_back(rest.substr(0, separator));
    rest.remove_prefix(separator + 1);
  }
  in.fields.push_back(rest);
  return in;
}

// Raw frames: [event 0x1f [id 0x1f]] data.
void raw_event(const input& in, std::size_t chunk) {
  std::string_view event;
  std::optional<std::string_view> id;
  if (in.fields.size() >= 2)
    event = in.fields[0];
  if (in.fields.size() == 3)
    id = in.fields[1];
  const auto data = in.fields.back();
  const auto frame = watercooler::sse_event(data, {event, id});
  const auto parsed = parse_one(frame, chunk);
  const auto type = without_line_breaks(event);
  if (parsed.type != (type.empty() ? "message" : type))
    fail("the event type must be the given one without line breaks", frame);
  if (parsed.data != as_browser_data(data))
    fail("the data must be the given data with browser line breaks", frame);
  const bool id_applies = id && id->find('\0') == std::string_view::npos;
  if (parsed.last_event_id != (id_applies ? without_line_breaks(*id) : ""))
    fail("the id must be the given one without line breaks", frame);
}

// Chat messages: origin 0x1f author 0x1f text, as a session writes them in either format.
void chat_event(const input& in, std::size_t chunk) {
  watercooler::chat_message m;
  m.origin = in.fields.size() == 3 ? in.fields[0] : "node1@127.0.0.1";
  m.author = in.fields.size() >= 2 ? in.fields[in.fields.size() - 2] : "";
  m.text = in.fields.back();
  m.incarnation = in.mode * 0x9e3779b97f4a7c15u;
  m.seq = in.mode & 0x20 ? UINT64_MAX : m.text.size() + 1;
  m.published_us = in.mode & 0x40 ? INT64_MIN : static_cast<int64_t>(m.incarnation);
  for (auto format : {watercooler::stream_format::text, watercooler::stream_format::json}) {
    watercooler::stream_events events(watercooler::stream_start_at(format, std::nullopt));
    const auto frame = events.message(m);
    const auto parsed = parse_one(frame, chunk);
    if (parsed.last_event_id != watercooler::encode_clock(events.clock()))
      fail("a message's SSE id must be the stream's position after it", frame);
    if (format == watercooler::stream_format::text && parsed.data != as_browser_data(m.text))
      fail("a text event's data must be the text", frame);
    if (format == watercooler::stream_format::json)
      check_json_message(parsed, m, frame);
    if (!events.message(m).empty())
      fail("a message the stream has had must be skipped", frame);
    // The same message with a foreign id, as a stream that resumes writes it.
    const auto id = in.fields.front();
    const auto with_id = watercooler::message_event(m, format, id);
    const auto parsed_with_id = parse_one(with_id, chunk);
    if (id.find('\0') == std::string_view::npos
        && parsed_with_id.last_event_id != without_line_breaks(id))
      fail("a message event must carry the given id", with_id);
  }
  watercooler::stream_gap gap{m.origin, m.incarnation, m.seq, in.mode & 0x80 ? 0 : m.seq};
  const auto frame = watercooler::gap_event(gap);
  const auto parsed = parse_one(frame, chunk);
  auto json = nlohmann::json::parse(parsed.data, nullptr, false);
  if (parsed.type != "gap" || json.is_discarded() || parsed.data.find('\n') != std::string::npos)
    fail("a gap event must be one JSON data line of type gap", frame);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = split(data, size);
  if (in.fields.empty())
    return 0;
  const std::size_t chunk = (in.mode >> 1) % 16 + 1;
  if ((in.mode & 1) == 0)
    raw_event(in, chunk);
  else
    chat_event(in, chunk);
  return 0;
}
