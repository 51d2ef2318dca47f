// Unit tests of Server-Sent Events framing and parsing.
#include <doctest/doctest.h>

#include "test/event_source.hpp"
#include "web/stream/sse.hpp"

namespace watercooler {

namespace {

std::vector<sse_message> parse(std::string_view stream) {
  sse_parser parser;
  return parser.feed(stream);
}

// Feeds one byte at a time, to catch state lost between chunks.
std::vector<sse_message> parse_bytewise(std::string_view stream) {
  sse_parser parser;
  std::vector<sse_message> events;
  for (char c : stream)
    for (auto& event : parser.feed(std::string_view(&c, 1)))
      events.push_back(std::move(event));
  return events;
}

sse_message message(std::string data, std::string type = "message", std::string id = "") {
  return sse_message{std::move(type), std::move(data), std::move(id)};
}

} // namespace

TEST_CASE("an sse event frames each line of the text as a data line") {
  SUBCASE("one line, as the original") {
    CHECK(sse_event("hello") == "data: hello\n\n");
  }
  SUBCASE("LF separated lines, as the original") {
    CHECK(sse_event("line1\nline2") == "data: line1\ndata: line2\n\n");
  }
  SUBCASE("CRLF separated lines") {
    CHECK(sse_event("line1\r\nline2") == "data: line1\ndata: line2\n\n");
  }
  SUBCASE("CR separated lines") {
    CHECK(sse_event("line1\rline2") == "data: line1\ndata: line2\n\n");
  }
  SUBCASE("LF then CR is two line breaks") {
    CHECK(sse_event("a\n\rb") == "data: a\ndata:\ndata: b\n\n");
  }
  SUBCASE("an empty text is one empty data line") {
    CHECK(sse_event("") == "data:\n\n");
  }
  SUBCASE("a trailing line break gives a trailing empty data line") {
    CHECK(sse_event("a\n") == "data: a\ndata:\n\n");
    CHECK(sse_event("a\r\n") == "data: a\ndata:\n\n");
  }
  SUBCASE("a lone line break is two empty data lines") {
    CHECK(sse_event("\n") == "data:\ndata:\n\n");
  }
  SUBCASE("a leading space is kept behind the separating space") {
    CHECK(sse_event(" indented") == "data:  indented\n\n");
  }
  SUBCASE("a line starting with a colon is data, not a comment") {
    CHECK(sse_event(":not a comment") == "data: :not a comment\n\n");
  }
  SUBCASE("text that looks like a field stays data") {
    CHECK(sse_event("event: x\n\nid: 1") == "data: event: x\ndata:\ndata: id: 1\n\n");
  }
}

TEST_CASE("an sse event writes the optional id and event type before the data") {
  SUBCASE("an id") {
    CHECK(sse_event("hi", {"", "42"}) == "id: 42\ndata: hi\n\n");
  }
  SUBCASE("an event type") {
    CHECK(sse_event("hi", {"joined", std::nullopt}) == "event: joined\ndata: hi\n\n");
  }
  SUBCASE("both") {
    CHECK(sse_event("hi", {"joined", "7"}) == "id: 7\nevent: joined\ndata: hi\n\n");
  }
  SUBCASE("an empty id is written, since it resets the last event id") {
    CHECK(sse_event("hi", {"", ""}) == "id:\ndata: hi\n\n");
  }
  SUBCASE("line breaks in the id and type are dropped") {
    CHECK(sse_event("hi", {"a\r\nb", "1\n2\r"}) == "id: 12\nevent: ab\ndata: hi\n\n");
  }
}

TEST_CASE("sse events round-trip through the parser to the original text") {
  const char* texts[] = {
    "hello",
    "",
    " ",
    "  two leading spaces",
    "trailing space ",
    "line1\nline2",
    "line1\r\nline2",
    "line1\rline2",
    "mixed\r\nline\rbreaks\nhere",
    "\r\n\r\n",
    "\n\r",
    "\r\r\n\n",
    "trailing\n",
    "trailing\r",
    "trailing\r\n",
    "\nleading",
    "a\n\nb",
    ":colon first",
    "a\n:comment-like second line",
    "data: nested",
    "id: 5\nevent: x\nretry: 10",
    "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87",
    "\xEF\xBB\xBF"
    "BOM first",
    "<script>alert(1)</script>",
    "tab\tand\x01"
    "control",
  };
  for (const char* text : texts) {
    CAPTURE(text);
    auto expected = std::vector<sse_message>{message(as_browser_data(text))};
    CHECK(parse(sse_event(text)) == expected);
    CHECK(parse_bytewise(sse_event(text)) == expected);
  }
  SUBCASE("with an id and event type") {
    CHECK(parse(sse_event("a\r\nb", {"joined", "9"}))
          == std::vector<sse_message>{message("a\nb", "joined", "9")});
  }
  SUBCASE("embedded NUL bytes") {
    std::string text("a\0b", 3);
    CHECK(parse(sse_event(text)) == std::vector<sse_message>{message(text)});
  }
  SUBCASE("many events in one stream") {
    std::string stream;
    std::vector<sse_message> expected;
    for (const char* text : texts) {
      stream += sse_event(text);
      expected.push_back(message(as_browser_data(text)));
    }
    CHECK(parse(stream) == expected);
    CHECK(parse_bytewise(stream) == expected);
  }
}

TEST_CASE("the sse parser follows the WHATWG event stream interpretation") {
  SUBCASE("data lines are joined with LF") {
    CHECK(parse("data: a\ndata: b\n\n") == std::vector<sse_message>{message("a\nb")});
  }
  SUBCASE("only one leading space is stripped") {
    CHECK(parse("data:  a\n\n") == std::vector<sse_message>{message(" a")});
  }
  SUBCASE("no space after the colon") {
    CHECK(parse("data:a\n\n") == std::vector<sse_message>{message("a")});
  }
  SUBCASE("the value is split at the first colon only") {
    CHECK(parse("data: a: b\n\n") == std::vector<sse_message>{message("a: b")});
  }
  SUBCASE("a field name alone has an empty value") {
    CHECK(parse("data\ndata\n\n") == std::vector<sse_message>{message("\n")});
  }
  SUBCASE("empty data dispatches an event with empty data") {
    CHECK(parse("data:\n\n") == std::vector<sse_message>{message("")});
    CHECK(parse("data: \n\n") == std::vector<sse_message>{message("")});
  }
  SUBCASE("an event without data lines is not dispatched") {
    CHECK(parse("event: x\n\n").empty());
    CHECK(parse("\n\n\n").empty());
  }
  SUBCASE("an event type does not leak into an event without data") {
    CHECK(parse("event: x\n\ndata: a\n\n") == std::vector<sse_message>{message("a")});
  }
  SUBCASE("comments are ignored") {
    CHECK(parse(": keep-alive\n\n:\ndata: a\n: in between\ndata: b\n\n")
          == std::vector<sse_message>{message("a\nb")});
  }
  SUBCASE("unknown fields are ignored") {
    CHECK(parse("foo: bar\ndata: a\nDATA: b\n\n") == std::vector<sse_message>{message("a")});
  }
  SUBCASE("CRLF, CR and LF all end lines") {
    CHECK(parse("data: a\r\ndata: b\rdata: c\n\r\n")
          == std::vector<sse_message>{message("a\nb\nc")});
    CHECK(parse("data: a\r\r") == std::vector<sse_message>{message("a")});
  }
  SUBCASE("a CR at the end of one chunk and LF at the start of the next are one line break") {
    sse_parser parser;
    CHECK(parser.feed("data: a\r").empty());
    CHECK(parser.feed("\ndata: b\r").empty());
    CHECK(parser.feed("\n\r") == std::vector<sse_message>{message("a\nb")});
  }
  SUBCASE("the event type is reset after each event") {
    CHECK(parse("event: joined\ndata: a\n\ndata: b\n\n")
          == std::vector<sse_message>{message("a", "joined"), message("b")});
  }
  SUBCASE("the last event id sticks until changed") {
    CHECK(parse("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
          == std::vector<sse_message>{message("a", "message", "1"), message("b", "message", "1"),
                                      message("c")});
  }
  SUBCASE("an id containing NUL is ignored") {
    CHECK(parse(std::string_view("id: 1\n\nid: 2\0\ndata: a\n\n", 23))
          == std::vector<sse_message>{message("a", "message", "1")});
  }
  SUBCASE("an incomplete event is not dispatched") {
    CHECK(parse("data: a\n").empty());
    CHECK(parse("data: a").empty());
  }
  SUBCASE("a BOM at the start of the stream is ignored, even split over chunks") {
    CHECK(parse("\xEF\xBB\xBF"
                "data: a\n\n")
          == std::vector<sse_message>{message("a")});
    CHECK(parse_bytewise("\xEF\xBB\xBF"
                         "data: a\n\n")
          == std::vector<sse_message>{message("a")});
  }
  SUBCASE("only the first BOM is ignored") {
    CHECK(parse("\xEF\xBB\xBF\xEF\xBB\xBF"
                "data: a\n\ndata: b\n\n")
          == std::vector<sse_message>{message("b")});
  }
  SUBCASE("a stream shorter than a BOM waits for more bytes") {
    sse_parser parser;
    CHECK(parser.feed("\xEF").empty());
    CHECK(parser.feed("data: a\n\n").empty()); // "\xEF" "data" is an unknown field
    CHECK(parser.feed("data: b\n\n") == std::vector<sse_message>{message("b")});
  }
}

TEST_CASE("the sse parser records the retry time") {
  SUBCASE("digits set it") {
    sse_parser parser;
    CHECK(parser.retry_ms() == std::nullopt);
    parser.feed("retry: 1500\n\n");
    CHECK(parser.retry_ms() == std::optional<std::uint64_t>(1500));
  }
  SUBCASE("anything but digits is ignored") {
    sse_parser parser;
    parser.feed("retry: 10\nretry: 1.5\nretry: -1\nretry:\nretry: 2 \n\n");
    CHECK(parser.retry_ms() == std::optional<std::uint64_t>(10));
  }
  SUBCASE("a huge value saturates") {
    sse_parser parser;
    parser.feed("retry: 99999999999999999999999\n");
    CHECK(parser.retry_ms() == std::optional<std::uint64_t>(UINT64_MAX));
  }
}

} // namespace watercooler
