// Who is here, with real nodes: one person per browser id across nodes, join and leave once per
// person, the grace period, and the people of a node killed with -9 leaving and coming back.
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test/integration/harness.hpp"
#include "test/integration/presence_watcher.hpp"

namespace watercooler::integration {

namespace {

const std::string node1 = "node1@127.0.0.1";
const std::string node2 = "node2@127.0.0.1";
const std::string node3 = "node3@127.0.0.1";
const std::string ann = "ann-0123456789abcdef";
const std::string bob = "bob-0123456789abcdef";

// Waits until `node`'s /metrics shows `peers` connected peers.
bool linked(const node_process& node, int peers, clock::time_point deadline) {
  do {
    int connected = 0;
    for (const auto* other : {&node1, &node2, &node3})
      if (*other != node.name()
          && metric(node.port(), "watercooler_peer_up{node=\"" + *other + "\"}") == 1)
        ++connected;
    if (connected >= peers)
      return true;
    std::this_thread::sleep_for(100ms);
  } while (clock::now() < deadline);
  return false;
}

} // namespace

TEST_CASE("a browser with streams on two nodes is one person; another browser is another") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb, {"--presence-grace", "1"});
  INFO(describe({&first, &second}));
  sse_stream probe(second.port());
  require_flow(first, probe, in(30s));
  sse_stream ann_here(first.port(), false, 10s, person_path(ann, "Ann"));
  sse_stream ann_there(second.port(), false, 10s, person_path(ann, "Ann"));
  sse_stream bob_there(second.port(), false, 10s, person_path(bob, "Bob"));
  // The probe is a plain stream: an anonymous listener, as is a JSON stream without a client.
  const std::string both = "Ann [" + node1 + " " + node2 + "], Bob [" + node2 + "]";
  CHECK(wait_presence(first.port(), both, 1, in(20s)) == both + " / 1");
  CHECK(wait_presence(second.port(), both, 1, in(20s)) == both + " / 1");
  auto view = presence_of(first.port());
  CHECK(view["count"] == 2);
  CHECK(view.dump().find(ann) == std::string::npos); // ids are never shown
  CHECK(view.dump().find(bob) == std::string::npos);
  CHECK(metric(first.port(), "watercooler_presence_people") == 2);
  CHECK(metric(first.port(), "watercooler_presence_local_people") == 1);
  CHECK(metric(second.port(), "watercooler_presence_local_people") == 2);
  CHECK(metric(first.port(), "watercooler_presence_listeners") == 1);

  SUBCASE("a bad client id or name is refused with 400") {
    for (const auto& path : {std::string("/listen?format=json&client=short"),
                             std::string("/listen?format=json&client=") + std::string(65, 'a'),
                             std::string("/listen?format=json&client=abcdefghijklmnop%21"),
                             "/listen?format=json&client=" + ann + "&name=" + std::string(65, 'x'),
                             "/listen?format=json&client=" + ann + "&name=a%0Ab",
                             "/listen?client=" + ann + "&name=%FF"}) {
      auto res = http_client(first.port())->Get(path);
      REQUIRE(res);
      CHECK_MESSAGE(res->status == 400, path);
    }
    CHECK(wait_presence(first.port(), both, 1, in(5s)) == both + " / 1");
  }
}

TEST_CASE("each person joins once and leaves once, after the grace period, seen on any node") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb, {"--presence-grace", "2"});
  INFO(describe({&first, &second}));
  REQUIRE(linked(first, 1, in(30s)));
  REQUIRE(linked(second, 1, in(30s)));
  presence_watcher on1(first.port());
  presence_watcher on2(second.port());
  REQUIRE(on1.wait_people("", in(10s)));
  REQUIRE(on1.had_snapshot());
  CHECK(on1.last()["you"].is_null()); // a watcher without a client is no one

  {
    auto tab1 = std::make_unique<sse_stream>(first.port(), false, 10s, person_path(ann, "Ann"));
    auto tab2 = std::make_unique<sse_stream>(second.port(), false, 10s, person_path(ann, "Ann"));
    const std::string everywhere = "Ann [" + node1 + " " + node2 + "]";
    REQUIRE(on1.wait_people(everywhere, in(20s)));
    REQUIRE(on2.wait_people(everywhere, in(20s)));
    // A reload: the stream on node1 closes and comes back (on node2 here) within the grace
    // period: neither a leave nor a join.
    tab1.reset();
    tab1 = std::make_unique<sse_stream>(second.port(), false, 10s, person_path(ann, "Ann"));
    // A new name is an update, not a leave and a join.
    auto renamed =
      std::make_unique<sse_stream>(second.port(), false, 10s, person_path(ann, "Anna"));
    REQUIRE(on1.wait_people("Anna [" + node2 + "]", in(20s)));
    REQUIRE(on2.wait_people("Anna [" + node2 + "]", in(20s)));
    CHECK(on1.joins(ann) == 1);
    CHECK(on1.leaves(ann) == 0);
  }
  // All of Ann's streams closed: she leaves once the grace period is over, on both nodes.
  REQUIRE(on1.wait_people("", in(20s)));
  REQUIRE(on2.wait_people("", in(20s)));
  for (auto* w : {&on1, &on2}) {
    CHECK(w->joins(ann) == 1);
    CHECK(w->leaves(ann) == 1);
  }
  // Nothing more comes: no second leave, no zombie join.
  on1.drain(in(3s));
  CHECK(on1.joins(ann) == 1);
  CHECK(on1.leaves(ann) == 1);
  CHECK(on1.text().empty());
}

TEST_CASE("the people of a node killed with -9 leave everywhere and come back with it") {
  sandbox sb;
  auto config = sb.write_sys_config("sys.config", {node1, node2, node3}, 5000);
  std::vector<node_process*> nodes;
  for (const auto& name : {node1, node2, node3}) {
    auto c = sb.config(name, config);
    c.extra_args = {"--presence-grace", "1"};
    nodes.push_back(&sb.start(c));
  }
  auto& first = *nodes[0];
  auto& second = *nodes[1];
  auto& third = *nodes[2];
  INFO(describe({&first, &second, &third}));
  for (auto* n : nodes)
    n->require_ready();
  for (auto* n : nodes)
    REQUIRE(linked(*n, 2, in(30s)));
  presence_watcher on1(first.port());
  presence_watcher on2(second.port());
  auto ann_on3 = std::make_unique<sse_stream>(third.port(), false, 10s, person_path(ann, "Ann"));
  sse_stream bob_on1(first.port(), false, 10s, person_path(bob, "Bob"));
  const std::string before = "Ann [" + node3 + "], Bob [" + node1 + "]";
  REQUIRE(on1.wait_people(before, in(20s)));
  REQUIRE(on2.wait_people(before, in(20s)));

  auto killed = clock::now();
  third.kill(9);
  const std::string without = "Bob [" + node1 + "]";
  REQUIRE(on1.wait_people(without, in(20s)));
  auto seen_on1 = clock::now() - killed;
  REQUIRE(on2.wait_people(without, in(20s)));
  MESSAGE("Ann left node1's presence "
          << std::chrono::duration_cast<std::chrono::milliseconds>(seen_on1).count()
          << " ms after kill -9 of node3");
  CHECK(on1.leaves(ann) == 1);
  CHECK(on2.leaves(ann) == 1);

  // node3 restarts and Ann's browser reconnects to it: she is back on every node.
  ann_on3.reset();
  third.start();
  third.require_ready();
  ann_on3 = std::make_unique<sse_stream>(third.port(), false, 10s, person_path(ann, "Ann"));
  REQUIRE(on1.wait_people(before, in(30s)));
  REQUIRE(on2.wait_people(before, in(30s)));
  CHECK(on1.joins(ann) == 2);
  CHECK(on2.joins(ann) == 2);
  CHECK(wait_presence(third.port(), before, 2, in(20s)) == before + " / 2");
}

TEST_CASE("a node that stops keeps its people for the grace period: they may reconnect elsewhere") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb, {"--presence-grace", "3"});
  INFO(describe({&first, &second}));
  REQUIRE(linked(first, 1, in(30s)));
  presence_watcher on1(first.port());
  auto ann_on2 = std::make_unique<sse_stream>(second.port(), false, 10s, person_path(ann, "Ann"));
  REQUIRE(on1.wait_people("Ann [" + node2 + "]", in(20s)));
  CHECK(second.stop() == 0); // SIGTERM: goodbye to the peers, every stream told to come back
  ann_on2.reset();
  // The browser comes back on node1, as a proxy would send it: no leave, no second join.
  sse_stream ann_on1(first.port(), false, 10s, person_path(ann, "Ann"));
  REQUIRE(on1.wait_people("Ann [" + node1 + "]", in(20s)));
  on1.drain(in(4s)); // beyond the grace period: node2's entry ended quietly
  CHECK(on1.text() == "Ann [" + node1 + "]");
  CHECK(on1.joins(ann) == 1);
  CHECK(on1.leaves(ann) == 0);
}

TEST_CASE("people beyond --max-present-per-address are served as anonymous listeners") {
  sandbox sb;
  auto& node = sb.start_ready({"--max-present-per-address", "1"});
  sse_stream first(node.port(), false, 10s, person_path(ann, "Ann"));
  presence_watcher second(node.port(), person_path(bob, "Bob"));
  REQUIRE(second.wait_people("Ann [nonode@nohost]", in(20s)));
  CHECK(second.last()["you"].is_null());
  CHECK(second.last()["refused"] == "address");
  CHECK(wait_presence(node.port(), "Ann [nonode@nohost]", 1, in(10s)) == "Ann [nonode@nohost] / 1");
  CHECK(metric(node.port(), "watercooler_presence_refused_total{reason=\"address\"}") == 1);
}

} // namespace watercooler::integration
