// Presence as JSON: GET /presence's body and the presence events of JSON streams.
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "web/stream/presence_event.hpp"
#include "web/stream/sse.hpp"

namespace watercooler {

namespace {

const presence_view two{2,
                        1,
                        {{"aaaa000011112222", "Ann", {"node1@127.0.0.1", "node2@127.0.0.1"}},
                         {"bbbb000011112222", "", {"node2@127.0.0.1"}}}};

// The one event of `text`, parsed.
sse_message parse_one(const std::string& text) {
  sse_parser parser;
  auto events = parser.feed(text);
  REQUIRE(events.size() == 1);
  return events.front();
}

} // namespace

TEST_CASE("GET /presence shows the count, the listeners and each person's name and nodes") {
  auto j = nlohmann::json::parse(presence_json(two));
  CHECK(j["count"] == 2);
  CHECK(j["listeners"] == 1);
  REQUIRE(j["people"].size() == 2);
  CHECK(j["people"][0]
        == nlohmann::json{{"person", "aaaa000011112222"},
                          {"name", "Ann"},
                          {"nodes", {"node1@127.0.0.1", "node2@127.0.0.1"}}});
  CHECK(j["people"][1]["name"] == "");
  CHECK(nlohmann::json::parse(presence_json({}))
        == nlohmann::json{{"count", 0}, {"listeners", 0}, {"people", nlohmann::json::array()}});
}

TEST_CASE("a JSON stream's presence events carry no id, so resuming is not disturbed") {
  SUBCASE("the snapshot names the stream's own person, or why it is not counted") {
    auto event = parse_one(presence_snapshot_event(two, "aaaa000011112222", ""));
    CHECK(event.type == "presence");
    CHECK(event.last_event_id.empty());
    auto j = nlohmann::json::parse(event.data);
    CHECK(j["type"] == "snapshot");
    CHECK(j["count"] == 2);
    CHECK(j["people"].size() == 2);
    CHECK(j["you"] == "aaaa000011112222");
    CHECK(j["refused"].is_null());
    auto refused =
      nlohmann::json::parse(parse_one(presence_snapshot_event(two, "", "address")).data);
    CHECK(refused["you"].is_null());
    CHECK(refused["refused"] == "address");
  }
  SUBCASE("a join, leave or update names the person; a listeners change only counts") {
    presence_change join{presence_change::kind::join, two.people[0], 2, 1};
    auto j = nlohmann::json::parse(parse_one(presence_change_event(join)).data);
    CHECK(j
          == nlohmann::json{{"type", "join"},
                            {"person", "aaaa000011112222"},
                            {"name", "Ann"},
                            {"nodes", {"node1@127.0.0.1", "node2@127.0.0.1"}},
                            {"count", 2},
                            {"listeners", 1}});
    presence_change leave{presence_change::kind::leave, {"aaaa000011112222", "Ann", {}}, 1, 1};
    CHECK(nlohmann::json::parse(parse_one(presence_change_event(leave)).data)["type"] == "leave");
    presence_change listeners{presence_change::kind::listeners, {}, 1, 5};
    CHECK(nlohmann::json::parse(parse_one(presence_change_event(listeners)).data)
          == nlohmann::json{{"type", "listeners"}, {"count", 1}, {"listeners", 5}});
  }
  SUBCASE("a name that is not UTF-8 is written with U+FFFD, not refused") {
    presence_change bad{presence_change::kind::update, {"aaaa000011112222", "\xff", {}}, 1, 0};
    auto j = nlohmann::json::parse(parse_one(presence_change_event(bad)).data);
    CHECK(j["name"] == "\xef\xbf\xbd");
  }
}

} // namespace watercooler
