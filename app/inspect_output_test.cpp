// Unit tests of the --inspect table and JSON renderings.
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "app/inspect_output.hpp"

namespace watercooler {

namespace {

constexpr int64_t t0 = 1'700'000'000'000;

// A node with two peers, two sessions and three actors, answering 3m 12s after it started.
node_report busy_node() {
  node_report n;
  n.name = "node1@127.0.0.1";
  n.version = "0.1.0";
  n.started_ms = t0;
  n.now_ms = t0 + 192'000;
  n.http_port = 8081;
  n.https_port = 8441;
  n.dist_port = 41233;
  n.scheduler_threads = 4;
  n.members = 3;
  n.published = 12;
  n.delivered = 20;
  n.received = 8;
  n.present = 5;
  n.present_here = 2;
  n.listeners = 1;
  n.peers = {
    {"node2@127.0.0.1", "127.0.0.1:41234", "connected", n.now_ms - 190'000, 420, 12, 8, ""},
    {"node3@10.0.0.7", "10.0.0.7:40001", "reconnecting", n.now_ms - 3'723'000, -1, 1500, 0,
     "refused by node3@10.0.0.7: wrong cookie"}};
  n.sessions = {{"41", "127.0.0.1:51234", n.now_ms - 121'000, 20, 1152, 0, n.now_ms - 4'000},
                {"7", "[::1]:40000", n.now_ms - 2'100, 1234, 5, 3, 0}};
  n.actors = {
    {"room", "event-based", 0}, {"cluster", "event-based", 2}, {"port_mapper", "broker", 0}};
  return n;
}

// A node whose clock is far from ours, with nothing going on.
node_report idle_node() {
  node_report n;
  n.name = "node2@127.0.0.1";
  n.version = "0.1.0";
  n.started_ms = 1'000;
  n.now_ms = 5'000;
  n.http_port = 8082;
  n.dist_port = 41234;
  n.scheduler_threads = 2;
  n.members = 1;
  return n;
}

// Every key path in a document, arrays written as "[]": "nodes[].peers[].name".
void collect_paths(const nlohmann::json& j, const std::string& prefix, std::set<std::string>& out) {
  if (j.is_object())
    for (const auto& [key, value] : j.items()) {
      auto path = prefix.empty() ? key : prefix + "." + key;
      out.insert(path);
      collect_paths(value, path, out);
    }
  else if (j.is_array())
    for (const auto& element : j)
      collect_paths(element, prefix + "[]", out);
}

// The first-column paths of the schema table.
std::set<std::string> documented_paths() {
  std::set<std::string> out;
  std::string text = inspect_json_schema_markdown;
  for (size_t at = text.find("\n| `"); at != std::string::npos; at = text.find("\n| `", at + 1)) {
    auto start = at + 4;
    out.insert(text.substr(start, text.find('`', start) - start));
  }
  return out;
}

} // namespace

TEST_CASE("format_bytes uses binary units with one decimal") {
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1024) == "1.0 KiB");
  CHECK(format_bytes(1152) == "1.1 KiB");
  CHECK(format_bytes(1024 * 1024 - 1) == "1023.9 KiB");
  CHECK(format_bytes(1024 * 1024 * 3 / 2) == "1.5 MiB");
  CHECK(format_bytes(5ull << 30) == "5.0 GiB");
  CHECK(format_bytes(UINT64_MAX) == "15.9 EiB");
}

TEST_CASE("format_duration_ms shows the two largest units") {
  CHECK(format_duration_ms(0) == "0s");
  CHECK(format_duration_ms(999) == "0s");
  CHECK(format_duration_ms(59'000) == "59s");
  CHECK(format_duration_ms(60'000) == "1m 0s");
  CHECK(format_duration_ms(192'000) == "3m 12s");
  CHECK(format_duration_ms((3'600 + 2 * 60 + 5) * 1000) == "1h 2m");
  CHECK(format_duration_ms(((3 * 24 + 4) * 3'600 + 59) * 1000LL) == "3d 4h");
  CHECK(format_duration_ms(-5'000) == "0s");
}

TEST_CASE("the inspect table aligns every node's peers, sessions and actors") {
  std::string expected =
    R"(node1@127.0.0.1  watercooler 0.1.0  up 3m 12s  http 8081  https 8441  dist 41233  scheduler threads 4
room: 3 members, 12 published here, 20 delivered here, 8 received from peers
presence: 5 people in the cluster, 2 here, 1 listener without a name in the cluster

peers
  NAME             ADDRESS          STATE         SINCE           RTT  FORWARDED  RECEIVED  LAST ERROR
  node2@127.0.0.1  127.0.0.1:41234  connected     3m 10s ago  0.42 ms         12         8
  node3@10.0.0.7   10.0.0.7:40001   reconnecting  1h 2m ago         -       1500         0  refused by node3@10.0.0.7: wrong cookie

sessions
  ID  CLIENT           CONNECTED  EVENTS    BYTES  QUEUED  LAST ACTIVE
  41  127.0.0.1:51234  2m 1s ago      20  1.1 KiB       0  4.0s ago
  7   [::1]:40000      2.1s ago     1234      5 B       3  -

actors
  NAME         KIND         QUEUED
  room         event-based       0
  cluster      event-based       2
  port_mapper  broker            0

node2@127.0.0.1  watercooler 0.1.0  up 4s  http 8082  https off  dist 41234  scheduler threads 2
room: 1 member, 0 published here, 0 delivered here, 0 received from peers
presence: 0 people in the cluster, 0 here, 0 listeners without a name in the cluster

peers
  (none)

sessions
  (none)

actors
  (none)
)";
  CHECK(render_inspect_table({busy_node(), idle_node()}) == expected);
}

TEST_CASE("the inspect table measures ages against the node's clock, not ours") {
  auto n = idle_node(); // now_ms is 5s after the epoch
  n.peers = {{"node9@host", "", "down", 2'500, -1, 0, 0, ""}};
  CHECK(render_inspect_table({n}).find("node9@host  -        down   2.5s ago")
        != std::string::npos);
}

TEST_CASE("the inspect output saturates ages and uptime from a peer's absurd clocks") {
  // Found by fuzz/peer_message_fuzz: now_ms - started_ms overflowed int64_t.
  auto n = idle_node();
  n.started_ms = std::numeric_limits<int64_t>::min();
  n.now_ms = std::numeric_limits<int64_t>::max();
  n.peers = {{"node9@host", "", "down", std::numeric_limits<int64_t>::min(), -1, 0, 0, ""}};
  auto table = render_inspect_table({n});
  CHECK(table.find("  up 106751991167d 7h  ") != std::string::npos);
  CHECK(table.find("down   106751991167d 7h ago") != std::string::npos);
  CHECK(nlohmann::json::parse(render_inspect_json({n}))["nodes"][0]["uptime_ms"]
        == std::numeric_limits<int64_t>::max());
}

TEST_CASE("the inspect table keeps a peer's control characters off the terminal") {
  auto n = idle_node();
  n.name = "evil\x1b[2Jnode";
  auto table = render_inspect_table({n});
  CHECK(table.find('\x1b') == std::string::npos);
  CHECK(table.rfind("evil?[2Jnode  ", 0) == 0);
}

TEST_CASE("the inspect table of no nodes is empty") {
  CHECK(render_inspect_table({}) == "");
}

TEST_CASE("the inspect JSON carries every field under its struct name") {
  auto text = render_inspect_json({busy_node(), idle_node()});
  REQUIRE(text.back() == '\n');
  CHECK(text.rfind("{\n  \"schema\": \"watercooler.inspect/1\",\n  \"nodes\": [\n", 0) == 0);
  auto doc = nlohmann::json::parse(text);
  CHECK(doc["schema"] == "watercooler.inspect/1");
  REQUIRE(doc["nodes"].size() == 2);

  SUBCASE("node") {
    const auto& n = doc["nodes"][0];
    CHECK(n["name"] == "node1@127.0.0.1");
    CHECK(n["version"] == "0.1.0");
    CHECK(n["started_ms"] == t0);
    CHECK(n["now_ms"] == t0 + 192'000);
    CHECK(n["uptime_ms"] == 192'000);
    CHECK(n["http_port"] == 8081);
    CHECK(n["https_port"] == 8441);
    CHECK(n["dist_port"] == 41233);
    CHECK(n["scheduler_threads"] == 4);
    CHECK(n["room"]
          == nlohmann::json{{"members", 3}, {"published", 12}, {"delivered", 20}, {"received", 8}});
    CHECK(n["presence"] == nlohmann::json{{"people", 5}, {"here", 2}, {"listeners", 1}});
  }
  SUBCASE("peers") {
    const auto& p = doc["nodes"][0]["peers"];
    REQUIRE(p.size() == 2);
    CHECK(p[0]
          == nlohmann::json{{"name", "node2@127.0.0.1"},
                            {"address", "127.0.0.1:41234"},
                            {"state", "connected"},
                            {"since_ms", t0 + 2'000},
                            {"rtt_us", 420},
                            {"forwarded", 12},
                            {"received", 8},
                            {"error", ""}});
    CHECK(p[1]["state"] == "reconnecting");
    CHECK(p[1]["rtt_us"] == -1);
    CHECK(p[1]["error"] == "refused by node3@10.0.0.7: wrong cookie");
  }
  SUBCASE("sessions") {
    const auto& s = doc["nodes"][0]["sessions"];
    REQUIRE(s.size() == 2);
    CHECK(s[0]
          == nlohmann::json{{"id", "41"},
                            {"client", "127.0.0.1:51234"},
                            {"since_ms", t0 + 71'000},
                            {"events", 20},
                            {"bytes", 1152},
                            {"queued", 0},
                            {"last_active_ms", t0 + 188'000}});
    CHECK(s[1]["last_active_ms"] == 0);
  }
  SUBCASE("actors") {
    const auto& a = doc["nodes"][0]["actors"];
    REQUIRE(a.size() == 3);
    CHECK(a[2] == nlohmann::json{{"name", "port_mapper"}, {"kind", "broker"}, {"queued", 0}});
  }
  SUBCASE("empty lists are empty arrays") {
    const auto& n = doc["nodes"][1];
    CHECK(n["peers"] == nlohmann::json::array());
    CHECK(n["sessions"] == nlohmann::json::array());
    CHECK(n["actors"] == nlohmann::json::array());
    CHECK(n["uptime_ms"] == 4'000);
  }
}

TEST_CASE("the inspect JSON of no nodes has an empty nodes array") {
  CHECK(render_inspect_json({})
        == "{\n  \"schema\": \"watercooler.inspect/1\",\n  \"nodes\": []\n}\n");
}

TEST_CASE("the inspect JSON replaces invalid UTF-8 instead of throwing") {
  auto n = idle_node();
  n.name = "bad\xff";
  std::string text;
  CHECK_NOTHROW(text = render_inspect_json({n}));
  CHECK(nlohmann::json::parse(text)["nodes"][0]["name"] == "bad\xef\xbf\xbd");
}

TEST_CASE("the inspect JSON schema documents exactly the fields emitted") {
  std::set<std::string> emitted;
  collect_paths(nlohmann::json::parse(render_inspect_json({busy_node()})), "", emitted);
  CHECK(documented_paths() == emitted);
}

} // namespace watercooler
