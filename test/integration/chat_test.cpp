// GET /listen?format=json and the name field on two real nodes: history replay, then live
// messages, each once, with author, origin and id.
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "actors/logic/stream_clock.hpp"
#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

int publish_as(uint16_t port, std::string_view name, std::string_view text) {
  auto res = http_client(port)->Post("/publish",
                                     "message=" + form_encode(text) + "&name=" + form_encode(name),
                                     "application/x-www-form-urlencoded");
  return res ? res->status : -1;
}

// The JSON messages of `stream` that are not probes, until one has text `last` (or 15 s pass).
std::vector<nlohmann::json> read_json_until(sse_stream& stream, const std::string& last,
                                            std::vector<std::string>* ids = nullptr) {
  std::vector<nlohmann::json> result;
  auto deadline = in(15s);
  while (auto event = stream.next_event(deadline)) {
    auto json = nlohmann::json::parse(event->data, nullptr, false);
    REQUIRE_MESSAGE(!json.is_discarded(), "not JSON: " << event->data);
    // The SSE id is the stream's position, which has this message as its origin's last.
    auto id = json.at("id").get<std::string>();
    auto origin = json.at("origin").get<std::string>();
    auto clock = parse_clock(event->last_event_id);
    REQUIRE_MESSAGE(clock, "not a position: " << event->last_event_id);
    REQUIRE(clock->count(origin) == 1);
    auto entry = clock->at(origin);
    REQUIRE(id
            == origin + "/" + std::to_string(entry.incarnation) + "/" + std::to_string(entry.seq));
    if (ids)
      ids->push_back(id);
    if (sse_stream::is_probe(json.at("text").get<std::string>()))
      continue;
    result.push_back(json);
    if (json.at("text") == last)
      break;
  }
  return result;
}

} // namespace

TEST_CASE("a json stream replays both nodes' recent messages, then live ones, each once") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb);
  INFO(describe({&first, &second}));
  sse_stream plain1(first.port()), plain2(second.port());
  require_flow(first, plain2, in(20s));

  // Each message is published once the one before it is on both nodes, so both histories hold
  // them in the same order.
  REQUIRE(publish_as(first.port(), "  Ann  ", "from node1") == 303);
  REQUIRE(plain2.wait_for("from node1", in(15s)));
  REQUIRE(publish_as(second.port(), "", "from node2 \"quoted\"\nsecond line") == 303);
  // The text stream is the tutorial's: text only.
  REQUIRE(plain2.wait_for("from node2 \"quoted\"\nsecond line", in(15s)));
  REQUIRE(plain1.wait_for("from node2 \"quoted\"\nsecond line", in(15s)));

  sse_stream json2(second.port(), false, 10s, "/listen?format=json");
  CHECK(json2.status() == 200);
  CHECK(json2.header("Content-Type") == "text/event-stream");
  std::vector<std::string> ids;
  auto replayed = read_json_until(json2, "from node2 \"quoted\"\nsecond line", &ids);
  REQUIRE(replayed.size() == 2);
  CHECK(replayed[0].at("text") == "from node1");
  CHECK(replayed[0].at("author") == "Ann");
  CHECK(replayed[0].at("origin") == "node1@127.0.0.1");
  CHECK(replayed[0].at("id").get<std::string>().rfind("node1@127.0.0.1/", 0) == 0);
  CHECK(replayed[1].at("author") == "");
  CHECK(replayed[1].at("origin") == "node2@127.0.0.1");
  CHECK(replayed[1].at("published_ms").get<int64_t>()
        >= replayed[0].at("published_ms").get<int64_t>() - 60'000);

  REQUIRE(publish_as(first.port(), "Zoë", "live <b>bold</b>") == 303);
  auto live = read_json_until(json2, "live <b>bold</b>", &ids);
  REQUIRE(live.size() == 1);
  CHECK(live[0].at("author") == "Zoë");
  CHECK(live[0].at("origin") == "node1@127.0.0.1");
  std::set<std::string> unique(ids.begin(), ids.end());
  CHECK(unique.size() == ids.size());

  SUBCASE("a second json stream on the other node sees the same ids") {
    sse_stream json1(first.port(), false, 10s, "/listen?format=json");
    std::vector<std::string> ids1;
    auto again = read_json_until(json1, "live <b>bold</b>", &ids1);
    REQUIRE(again.size() == 3);
    CHECK(again[0].at("id") == replayed[0].at("id"));
    CHECK(again[2].at("id") == live[0].at("id"));
  }
}

TEST_CASE("a bad name or format is refused with a reason") {
  sandbox sb;
  auto& node = sb.start(sb.config("node1@127.0.0.1"));
  node.require_ready();
  auto client = http_client(node.port());
  auto res = client->Post("/publish", "message=hi&name=" + std::string(65, 'n'),
                          "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(res->body == "name too long: at most 64 characters\n");
  res = client->Get("/listen?format=xml");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(res->body.find("unknown format") != std::string::npos);
}

TEST_CASE("--history bounds what a new json stream replays, also over TLS") {
  sandbox sb;
  auto config = sb.config("node1@127.0.0.1");
  config.extra_args = {"--history", "2"};
  auto& node = sb.start(config);
  node.require_ready();
  for (const char* text : {"m1", "m2", "m3"})
    REQUIRE(publish_as(node.port(), "", text) == 303);
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    sse_stream json(tls ? node.secure_port() : node.port(), tls, 10s, "/listen?format=json");
    REQUIRE(json.status() == 200);
    auto live = std::string("live over ") + (tls ? "https" : "http");
    REQUIRE(publish_as(node.port(), "", live) == 303);
    std::vector<std::string> texts;
    for (const auto& m : read_json_until(json, live))
      texts.push_back(m.at("text"));
    // Two kept: after the first stream's live message, the oldest kept is m3.
    auto expected = tls ? std::vector<std::string>{"m3", "live over http", live}
                        : std::vector<std::string>{"m2", "m3", live};
    CHECK(texts == expected);
  }
}

TEST_CASE("--history takes a number of messages") {
  sandbox sb;
  auto result = run_process({WATERCOOLER_BINARY, "--history", "many"},
                            {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}}, sb.dir());
  CHECK(result.exit_code == 2);
  CHECK(result.err == "watercooler: --history many is not a number of messages (0 to 1000000)\n");
}

} // namespace watercooler::integration
