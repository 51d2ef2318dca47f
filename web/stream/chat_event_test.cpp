// The /listen event shapes: the tutorial's text, and JSON with the message's id.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "web/stream/chat_event.hpp"
#include "web/stream/sse.hpp"

namespace watercooler {

namespace {

chat_message sample(std::string text, std::string author = "alice") {
  return {"node1@127.0.0.1", 42, 7, 1'700'000'000'123'456, std::move(author), std::move(text)};
}

// The one event a browser's EventSource hands over for `frame`.
sse_message received(const std::string& frame) {
  sse_parser parser;
  auto events = parser.feed(frame);
  REQUIRE(events.size() == 1);
  return events.front();
}

} // namespace

TEST_CASE("a message's id is origin, incarnation and sequence number") {
  CHECK(message_id(sample("x")) == "node1@127.0.0.1/42/7");
}

TEST_CASE("the text format is exactly the tutorial's event") {
  CHECK(message_event(sample("hello"), stream_format::text) == "data: hello\n\n");
  CHECK(message_event(sample("a\nb"), stream_format::text) == "data: a\ndata: b\n\n");
}

TEST_CASE("a json event is one data line with the id set") {
  auto frame = message_event(sample("hello"), stream_format::json);
  CHECK(frame
        == "id: node1@127.0.0.1/42/7\n"
           "data: {\"id\":\"node1@127.0.0.1/42/7\",\"origin\":\"node1@127.0.0.1\","
           "\"author\":\"alice\",\"text\":\"hello\",\"published_ms\":1700000000123}\n\n");
  auto event = received(frame);
  CHECK(event.last_event_id == "node1@127.0.0.1/42/7");
  CHECK(event.type == "message");
}

TEST_CASE("json events escape quotes, backslashes, line breaks and control characters") {
  SUBCASE("each text comes back unchanged from the parsed event") {
    for (std::string text :
         {"say \"hi\"", "back\\slash", "two\nlines", "cr\r\nlf", "tab\there", "bell\x07",
          "<script>alert(1)</script>", "</script><img src=x onerror=alert(1)>", "trailing\n",
          "Grüße, 你好, 🙂", "\u2028 line separator"}) {
      CAPTURE(text);
      auto frame = message_event(sample(text, "Zoë \"z\"\n"), stream_format::json);
      CHECK(frame.find("\ndata:") == frame.find('\n')); // id line, then one data line
      CHECK(frame.rfind("\n\n") == frame.size() - 2);
      auto json = nlohmann::json::parse(received(frame).data);
      CHECK(json.at("text") == text);
      CHECK(json.at("author") == "Zoë \"z\"\n");
    }
  }
  SUBCASE("non-ASCII is written as UTF-8, not as escapes") {
    auto json = message_json(sample("Grüße 🙂"));
    CHECK(json.find("Grüße 🙂") != std::string::npos);
  }
  SUBCASE("control characters are escaped") {
    auto json = message_json(sample(std::string("a\x01z\nb", 5)));
    CHECK(json.find("a\\u0001z\\nb") != std::string::npos);
  }
}

TEST_CASE("a peer's text that is not valid UTF-8 is replaced rather than failing") {
  auto json = message_json(sample("bad \xC3\x28 byte"));
  auto parsed = nlohmann::json::parse(json);
  CHECK(parsed.at("text") == "bad \xEF\xBF\xBD( byte");
}

TEST_CASE("the format parameter names text or json") {
  CHECK(parse_stream_format("json") == stream_format::json);
  CHECK(parse_stream_format("text") == stream_format::text);
  CHECK_FALSE(parse_stream_format("JSON"));
  CHECK_FALSE(parse_stream_format(""));
  CHECK_FALSE(parse_stream_format("xml"));
}

TEST_CASE("a stream's events carry its position and skip what it had") {
  SUBCASE("text: the tutorial's data with the position as id") {
    stream_events events(stream_start_at(stream_format::text, std::nullopt));
    auto first = received(events.message(sample("hi")));
    CHECK(first.data == "hi");
    CHECK(first.last_event_id == "node1@127.0.0.1~42~7");
    auto other = sample("there");
    other.origin = "node2@127.0.0.1";
    other.seq = 3;
    CHECK(received(events.message(other)).last_event_id
          == "node1@127.0.0.1~42~7,node2@127.0.0.1~42~3");
  }
  SUBCASE("json keeps the message id in the data") {
    stream_events events(stream_start_at(stream_format::json, std::nullopt));
    auto event = received(events.message(sample("hi")));
    CHECK(nlohmann::json::parse(event.data).at("id") == "node1@127.0.0.1/42/7");
    CHECK(event.last_event_id == "node1@127.0.0.1~42~7");
  }
  SUBCASE("a resumed stream skips messages its position covers") {
    auto start = stream_start_at(stream_format::json, std::string("node1@127.0.0.1~42~7"));
    REQUIRE(start.resume);
    CHECK_FALSE(start.position_unknown);
    stream_events events(start);
    CHECK(events.message(sample("old")) == "");
    auto next = sample("new");
    next.seq = 8;
    CHECK(received(events.message(next)).last_event_id == "node1@127.0.0.1~42~8");
  }
  SUBCASE("an empty Last-Event-ID starts afresh; a malformed one is an unknown position") {
    CHECK_FALSE(stream_start_at(stream_format::text, std::string("")).resume);
    CHECK_FALSE(stream_start_at(stream_format::text, std::string("")).position_unknown);
    auto bad = stream_start_at(stream_format::text, std::string("garbage"));
    CHECK_FALSE(bad.resume);
    CHECK(bad.position_unknown);
  }
}

TEST_CASE("a gap event names the origin and the range that may be missing") {
  auto trimmed = received(gap_event({"node1@127.0.0.1", 42, 3, 9}));
  CHECK(trimmed.type == "gap");
  CHECK(nlohmann::json::parse(trimmed.data)
        == nlohmann::json{{"origin", "node1@127.0.0.1"},
                          {"incarnation", "42"},
                          {"from", 3},
                          {"to", 9},
                          {"reason", "trimmed"}});
  auto restarted = nlohmann::json::parse(received(gap_event({"n@h", 1, 5, 0})).data);
  CHECK(restarted.at("to").is_null());
  CHECK(restarted.at("reason") == "restarted");
  auto unknown = received(unknown_position_event());
  CHECK(unknown.type == "gap");
  CHECK(nlohmann::json::parse(unknown.data).at("reason") == "unknown position");
}

} // namespace watercooler
