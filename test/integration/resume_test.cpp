// Stream positions on real nodes: resume on any node with Last-Event-ID, gaps, retry, heartbeats.
#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

std::string resume_path(const std::string& format, const std::string& last_event_id) {
  std::string path = "/listen?last_event_id=" + form_encode(last_event_id);
  return format.empty() ? path : path + "&format=" + format;
}

// The text of a JSON or text event.
std::string text_of(const sse_message& event, bool json) {
  return json ? nlohmann::json::parse(event.data).at("text").get<std::string>() : event.data;
}

// Events until one has text `last` (included), probes left out; their texts, gaps as "gap".
std::vector<std::string> read_until(sse_stream& stream, bool json, const std::string& last,
                                    std::string* last_id = nullptr) {
  std::vector<std::string> texts;
  auto deadline = in(20s);
  while (auto event = stream.next_event(deadline)) {
    if (event->type == "gap") {
      texts.push_back("gap");
      continue;
    }
    auto text = text_of(*event, json);
    if (sse_stream::is_probe(text))
      continue;
    texts.push_back(text);
    if (text == last) {
      if (last_id)
        *last_id = event->last_event_id;
      break;
    }
  }
  return texts;
}

// Reads raw bytes of a stream until they contain `wanted`; false at the deadline.
bool raw_stream_shows(uint16_t port, const std::string& wanted, clock::time_point deadline) {
  auto conn = connection::open(port, false, deadline);
  REQUIRE(conn);
  REQUIRE(conn->write_all("GET /listen HTTP/1.1\r\nHost: x\r\n\r\n", deadline));
  std::string bytes;
  while (bytes.find(wanted) == std::string::npos) {
    if (conn->read_some(bytes, deadline) != connection::read_status::data)
      return false;
  }
  return true;
}

} // namespace

TEST_CASE("a stream resumed on the other node gets exactly what it missed, then live ones") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb);
  INFO(describe({&first, &second}));
  sse_stream watch1(first.port());
  sse_stream watch2(second.port());
  require_flow(second, watch1, in(30s));
  require_flow(first, watch2, in(30s));

  for (bool json : {true, false}) {
    CAPTURE(json);
    std::string format = json ? "json" : "";
    std::string tag = json ? "j" : "t";
    std::string last_id;
    {
      sse_stream stream(first.port(), false, 10s, json ? "/listen?format=json" : "/listen");
      REQUIRE(publish(first.port(), tag + "a1") == 303);
      REQUIRE(watch2.wait_for(tag + "a1", in(15s)));
      REQUIRE(publish(second.port(), tag + "b1") == 303);
      auto seen = read_until(stream, json, tag + "b1", &last_id);
      REQUIRE(!seen.empty());
      CHECK(seen.back() == tag + "b1");
    } // the browser loses its connection to node1
    REQUIRE(!last_id.empty());
    for (const auto& [port, text] : std::vector<std::pair<uint16_t, std::string>>{
           {first.port(), tag + "a2"}, {second.port(), tag + "b2"}, {first.port(), tag + "a3"}})
      REQUIRE(publish(port, text) == 303);
    // node2 has all three (in whichever order) before the browser comes back to it.
    std::vector<std::string> on2;
    auto deadline = in(20s);
    while (on2.size() < 3) {
      auto event = watch2.next_event(deadline);
      REQUIRE(event);
      if (event->data == tag + "a2" || event->data == tag + "a3" || event->data == tag + "b2")
        on2.push_back(event->data);
    }

    sse_stream resumed(second.port(), false, 10s, resume_path(format, last_id));
    CHECK(resumed.status() == 200);
    REQUIRE(publish(first.port(), tag + "live") == 303);
    auto missed = read_until(resumed, json, tag + "live");
    REQUIRE(!missed.empty());
    CHECK(missed.back() == tag + "live");
    missed.pop_back();
    std::sort(missed.begin(), missed.end());
    CHECK(missed == std::vector<std::string>{tag + "a2", tag + "a3", tag + "b2"});
  }
}

TEST_CASE("a position older than the history gets a gap event, then what is kept") {
  sandbox sb;
  auto config = sb.config("node1@127.0.0.1");
  config.extra_args = {"--history", "3"};
  auto& node = sb.start(config);
  node.require_ready();
  std::string last_id;
  {
    sse_stream stream(node.port(), false, 10s, "/listen?format=json");
    REQUIRE(publish(node.port(), "m1") == 303);
    read_until(stream, true, "m1", &last_id);
  }
  REQUIRE(!last_id.empty());
  for (const char* text : {"m2", "m3", "m4", "m5", "m6"})
    REQUIRE(publish(node.port(), text) == 303);
  sse_stream resumed(node.port(), false, 10s, resume_path("json", last_id));
  auto gap = resumed.next_event(15s);
  REQUIRE(gap);
  CHECK(gap->type == "gap");
  auto data = nlohmann::json::parse(gap->data);
  CHECK(data.at("origin") == "node1@127.0.0.1");
  CHECK(data.at("from") == 2);
  CHECK(data.at("to") == 3);
  CHECK(read_until(resumed, true, "m6") == std::vector<std::string>{"m4", "m5", "m6"});
}

TEST_CASE("a malformed Last-Event-ID gets a gap event and a working stream") {
  sandbox sb;
  auto& node = sb.start(sb.config("node1@127.0.0.1"));
  node.require_ready();
  REQUIRE(publish(node.port(), "before") == 303);
  for (const char* format : {"json", ""}) {
    CAPTURE(format);
    bool json = *format != '\0';
    sse_stream stream(node.port(), false, 10s, resume_path(format, "not/a~position"));
    REQUIRE(stream.status() == 200);
    auto gap = stream.next_event(15s);
    REQUIRE(gap);
    CHECK(gap->type == "gap");
    CHECK(nlohmann::json::parse(gap->data).at("reason") == "unknown position");
    std::string live = std::string("live ") + format;
    REQUIRE(publish(node.port(), live) == 303);
    // JSON streams start with the usual replay; the text stream with live messages only.
    auto expected =
      json ? std::vector<std::string>{"before", live} : std::vector<std::string>{live};
    CHECK(read_until(stream, json, live) == expected);
  }
  SUBCASE("an oversized one too, sent as the header browsers use") {
    auto conn = connection::open(node.port(), false, in(10s));
    REQUIRE(conn);
    std::string request = "GET /listen HTTP/1.1\r\nHost: x\r\nLast-Event-ID: "
                          + std::string(5000, 'n') + "~1~1\r\n\r\n";
    REQUIRE(conn->write_all(request, in(10s)));
    std::string bytes;
    while (bytes.find("unknown position") == std::string::npos)
      REQUIRE(conn->read_some(bytes, in(15s)) == connection::read_status::data);
    CHECK(bytes.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  }
}

TEST_CASE("every stream starts with retry and idle streams get heartbeats") {
  sandbox sb;
  auto config = sb.config("node1@127.0.0.1");
  config.extra_args = {"--heartbeat", "1"};
  auto& node = sb.start(config);
  node.require_ready();
  sse_stream stream(node.port());
  CHECK(raw_stream_shows(node.port(), "retry: 1000\n", in(15s)));
  CHECK(raw_stream_shows(node.port(), ": heartbeat\n", in(20s)));
  REQUIRE(publish(node.port(), "still works") == 303);
  CHECK(stream.wait_for("still works", in(15s)));
}

TEST_CASE("--heartbeat takes a number of seconds") {
  sandbox sb;
  auto result = run_process({WATERCOOLER_BINARY, "--heartbeat", "often"},
                            {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}}, sb.dir());
  CHECK(result.exit_code == 2);
  CHECK(result.err == "watercooler: --heartbeat often is not a number of seconds (0 to 3600)\n");
}

} // namespace watercooler::integration

namespace watercooler::integration {

TEST_CASE("a stream resumed on a restarted node gets what it missed while the node was down") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb);
  INFO(describe({&first, &second}));
  std::string last_id;
  {
    sse_stream watch2(second.port());
    require_flow(first, watch2, in(30s));
    sse_stream stream(second.port(), false, 10s, "/listen?format=json");
    REQUIRE(publish(first.port(), "before") == 303);
    auto seen = read_until(stream, true, "before", &last_id);
    REQUIRE(!seen.empty());
  } // the browser's node dies
  REQUIRE(!last_id.empty());
  second.kill(9);
  sse_stream watch1(first.port());
  for (auto text : {"while down 1", "while down 2"})
    REQUIRE(publish(first.port(), text) == 303);
  REQUIRE(watch1.wait_for("while down 2", in(15s)));
  second.start(); // new incarnation, empty history: it catches up from node1 when they link
  second.require_ready();
  sse_stream watch2(second.port());
  require_flow(first, watch2, in(30s));

  sse_stream resumed(second.port(), false, 10s, resume_path("json", last_id));
  REQUIRE(publish(first.port(), "live") == 303);
  auto missed = read_until(resumed, true, "live");
  missed.erase(std::remove(missed.begin(), missed.end(), "gap"), missed.end());
  CHECK(missed == std::vector<std::string>{"while down 1", "while down 2", "live"});
}

} // namespace watercooler::integration
