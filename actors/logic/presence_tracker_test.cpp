// Presence across nodes, driven by events with time as a value: no actors, no timers, no sleeps.
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/logic/presence_tracker.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

const std::string node1 = "node1@127.0.0.1";
const std::string node2 = "node2@127.0.0.1";
const std::string node3 = "node3@127.0.0.1";
const std::string ann = "ann-browser-0000000001";
const std::string bob = "bob-browser-0000000002";
const presence_time t0{std::chrono::hours(1)};

// "join Ann [node1 node2] 2/0": kind, name, nodes, then count/listeners after the change.
std::vector<std::string> told(presence_tracker& p) {
  std::vector<std::string> out;
  for (const auto& c : p.take_changes()) {
    static const char* kinds[] = {"", "join", "leave", "update", "listeners"};
    std::string line = kinds[static_cast<int>(c.what)];
    if (c.what != presence_change::kind::listeners) {
      line += " " + (c.person.name.empty() ? std::string("-") : c.person.name) + " [";
      for (std::size_t i = 0; i < c.person.nodes.size(); ++i)
        line += (i == 0 ? "" : " ") + c.person.nodes[i];
      line += "]";
    }
    out.push_back(line + " " + std::to_string(c.count) + "/" + std::to_string(c.listeners));
  }
  return out;
}

using lines = std::vector<std::string>;

presence_roster roster_of(const std::string& node, uint64_t version,
                          std::vector<presence_entry> people, uint64_t listeners = 0) {
  return {node, version, listeners, std::move(people)};
}

} // namespace

TEST_CASE("a client id is 16 to 64 characters of letters, digits, _ and -") {
  CHECK(is_client_id("abcdefghijklmnop"));
  CHECK(is_client_id(std::string(64, 'Z')));
  CHECK(is_client_id("0123456789_-ABCdef"));
  CHECK_FALSE(is_client_id("abcdefghijklmno"));
  CHECK_FALSE(is_client_id(std::string(65, 'a')));
  CHECK_FALSE(is_client_id("abcdefghijklmnop!"));
  CHECK_FALSE(is_client_id("abcdefgh ijklmnop"));
  CHECK_FALSE(is_client_id(""));
}

TEST_CASE("a person's tag is fixed, differs between clients and does not show the id") {
  CHECK(person_tag(ann) == person_tag(ann));
  CHECK(person_tag(ann) != person_tag(bob));
  CHECK(person_tag(ann).size() == 16);
  CHECK(person_tag(ann).find("ann") == std::string::npos);
}

TEST_CASE("presence counts a person once however many streams they open") {
  presence_tracker p{node1, {}};
  auto first = p.open(1, ann, "Ann", "127.0.0.1", 100);
  CHECK(first.person == person_tag(ann));
  CHECK(first.refused.empty());
  CHECK(told(p) == lines{"join Ann [node1@127.0.0.1] 1/0"});
  p.open(2, ann, "Ann", "127.0.0.1", 101);
  CHECK(told(p).empty());
  p.close(1, t0);
  CHECK(told(p).empty());
  CHECK(p.view().count == 1);

  SUBCASE("the last stream closing leaves after the grace period, not before") {
    p.close(2, t0 + 1s);
    CHECK(told(p).empty());
    REQUIRE(p.next_wake());
    CHECK(*p.next_wake() == t0 + 6s);
    p.tick(t0 + 5999ms);
    CHECK(told(p).empty());
    p.tick(t0 + 6s);
    CHECK(told(p) == lines{"leave Ann [] 0/0"});
    CHECK(p.view().count == 0);
    CHECK_FALSE(p.next_wake());
  }
  SUBCASE("reopening within the grace period is neither a leave nor a join") {
    p.close(2, t0 + 1s);
    p.open(3, ann, "Ann", "127.0.0.1", 102);
    p.tick(t0 + 10s);
    CHECK(told(p).empty());
    CHECK(p.view().count == 1);
  }
}

TEST_CASE("presence without a grace period leaves at once") {
  presence_tracker p{node1, {0ms, 0, 0}};
  p.open(1, ann, "", "127.0.0.1", 100);
  p.close(1, t0);
  CHECK(told(p) == lines{"join - [node1@127.0.0.1] 1/0", "leave - [] 0/0"});
}

TEST_CASE("streams without a client are anonymous listeners") {
  presence_tracker p{node1, {}};
  auto admitted = p.open(1, "", "", "127.0.0.1", 100);
  CHECK(admitted.person.empty());
  CHECK(admitted.refused.empty());
  CHECK(told(p) == lines{"listeners 0/1"});
  p.open(2, ann, "Ann", "127.0.0.1", 100);
  CHECK(told(p) == lines{"join Ann [node1@127.0.0.1] 1/1"});
  p.close(1, t0);
  CHECK(told(p) == lines{"listeners 1/0"});
  CHECK(p.roster().listeners == 0);
}

TEST_CASE("a name change is an update, and the latest name wins across nodes") {
  presence_tracker p{node1, {}};
  p.open(1, ann, "Ann", "127.0.0.1", 100);
  told(p);
  p.open(2, ann, "Annie", "127.0.0.1", 200);
  CHECK(told(p) == lines{"update Annie [node1@127.0.0.1] 1/0"});
  p.close(2, t0);
  CHECK(told(p) == lines{"update Ann [node1@127.0.0.1] 1/0"});

  p.replace(roster_of(node2, 1, {{ann, "Anna", 50}})); // named before ours: ours stays
  CHECK(told(p) == lines{"update Ann [node1@127.0.0.1 node2@127.0.0.1] 1/0"});
  p.replace(roster_of(node2, 2, {{ann, "Anna", 500}}));
  CHECK(told(p) == lines{"update Anna [node1@127.0.0.1 node2@127.0.0.1] 1/0"});
}

TEST_CASE("two streams of one client on two nodes count once") {
  presence_tracker p{node1, {}};
  p.open(1, ann, "Ann", "127.0.0.1", 100);
  p.replace(roster_of(node2, 1, {{ann, "Ann", 100}, {bob, "Bob", 100}}, 3));
  CHECK(told(p)
        == lines{"join Ann [node1@127.0.0.1] 1/0",
                 "update Ann [node1@127.0.0.1 node2@127.0.0.1] 1/3",
                 "join Bob [node2@127.0.0.1] 2/3"});
  auto v = p.view();
  CHECK(v.count == 2);
  CHECK(v.listeners == 3);
  REQUIRE(v.people.size() == 2);
  CHECK(v.people[0].name == "Ann");
  CHECK(v.people[0].nodes == std::vector<std::string>{node1, node2});
  CHECK(v.people[1].name == "Bob");
  CHECK(v.people[1].person == person_tag(bob));
}

TEST_CASE("a node's roster replaces its whole set, and the same roster again changes nothing") {
  presence_tracker p{node1, {}};
  auto r = roster_of(node2, 4, {{ann, "Ann", 1}, {bob, "Bob", 1}});
  p.replace(r);
  CHECK(told(p).size() == 2);
  p.replace(r);
  CHECK(told(p).empty());
  p.replace(roster_of(node2, 9, {{bob, "Bob", 1}}));
  CHECK(told(p) == lines{"leave Ann [] 1/0"});
  SUBCASE("our own name and bad entries are not taken from a peer") {
    p.replace(roster_of(node1, 1, {{ann, "Ann", 1}}));
    p.replace(roster_of(node3, 1, {{"short", "X", 1}, {ann, std::string(300, 'x'), 1}}));
    CHECK(told(p).empty());
    CHECK(p.view().count == 1);
  }
}

TEST_CASE("a peer's deltas apply in order; one out of step asks for the roster") {
  presence_tracker p{node1, {}};
  p.replace(roster_of(node2, 4, {{ann, "Ann", 1}}));
  told(p);
  CHECK(p.apply({node2, 5, 2, {{bob, "Bob", 2}}, {}}));
  CHECK(told(p) == lines{"join Bob [node2@127.0.0.1] 2/2"});
  CHECK(p.apply({node2, 6, 2, {}, {ann}}));
  CHECK(told(p) == lines{"leave Ann [] 1/2"});
  CHECK_FALSE(p.apply({node2, 8, 2, {}, {bob}}));             // 7 was lost
  CHECK_FALSE(p.apply({node3, 1, 0, {{ann, "Ann", 1}}, {}})); // no roster of node3 yet
  CHECK(told(p).empty());
  CHECK(p.view().count == 1);
}

TEST_CASE("our deltas carry each change once, and the roster all of it") {
  presence_tracker p{node1, {}};
  CHECK_FALSE(p.take_delta());
  p.open(1, ann, "Ann", "127.0.0.1", 100);
  p.open(2, "", "", "127.0.0.1", 100);
  auto d = p.take_delta();
  REQUIRE(d);
  CHECK(d->node == node1);
  CHECK(d->version == 1);
  CHECK(d->listeners == 1);
  CHECK(d->changed == std::vector<presence_entry>{{ann, "Ann", 100}});
  CHECK(d->gone.empty());
  CHECK_FALSE(p.take_delta());
  p.close(1, t0);
  CHECK_FALSE(p.take_delta()); // within the grace period Ann is still here
  p.tick(t0 + 5s);
  d = p.take_delta();
  REQUIRE(d);
  CHECK(d->version == 2);
  CHECK(d->gone == std::vector<std::string>{ann});
  auto r = p.roster();
  CHECK(r.version == 2);
  CHECK(r.people.empty());
  CHECK(r.listeners == 1);

  SUBCASE("a peer holding our roster follows our deltas to the same set") {
    presence_tracker peer{node2, {}};
    peer.replace(r);
    p.open(3, bob, "Bob", "127.0.0.1", 300);
    REQUIRE(peer.apply(*p.take_delta()));
    CHECK(peer.view().people == p.view().people);
  }
}

TEST_CASE("a lost node's people leave at once; when it returns its roster brings them back") {
  presence_tracker p{node1, {}};
  p.open(1, ann, "Ann", "127.0.0.1", 100);
  p.replace(roster_of(node2, 1, {{ann, "Ann", 100}, {bob, "Bob", 100}}, 1));
  told(p);
  p.node_lost(node2);
  CHECK(told(p) == lines{"update Ann [node1@127.0.0.1] 2/0", "leave Bob [] 1/0"});
  p.node_lost(node2); // twice is once
  CHECK(told(p).empty());
  p.replace(roster_of(node2, 1, {{bob, "Bob", 100}}));
  CHECK(told(p) == lines{"join Bob [node2@127.0.0.1] 2/0"});
}

TEST_CASE("a node that said goodbye keeps its people for the grace period") {
  presence_tracker p{node1, {}};
  p.replace(roster_of(node2, 1, {{bob, "Bob", 100}}));
  told(p);
  p.node_stopping(node2, t0);
  p.node_lost(node2);
  CHECK(told(p).empty());
  SUBCASE("they reconnect here within it: no leave") {
    p.open(1, bob, "Bob", "127.0.0.1", 200);
    p.tick(t0 + 5s);
    CHECK(told(p)
          == lines{"update Bob [node1@127.0.0.1 node2@127.0.0.1] 1/0",
                   "update Bob [node1@127.0.0.1] 1/0"});
  }
  SUBCASE("they do not: they leave when it ends") {
    p.tick(t0 + 4s);
    CHECK(told(p).empty());
    p.tick(t0 + 5s);
    CHECK(told(p) == lines{"leave Bob [] 0/0"});
  }
  SUBCASE("the node comes back within it: its roster holds again") {
    p.replace(roster_of(node2, 1, {{bob, "Bob", 100}}));
    p.tick(t0 + 10s);
    CHECK(told(p).empty());
    CHECK(p.view().count == 1);
  }
}

TEST_CASE("presence bounds people per address and in all; the rest are anonymous listeners") {
  presence_tracker p{node1, {5s, 2, 3}};
  CHECK(p.open(1, "client-aaaaaaaaaaaa", "", "10.0.0.1", 1).refused.empty());
  CHECK(p.open(2, "client-bbbbbbbbbbbb", "", "10.0.0.1", 1).refused.empty());
  auto third = p.open(3, "client-cccccccccccc", "", "10.0.0.1", 1);
  CHECK(third.refused == "address");
  CHECK(third.person.empty());
  CHECK(p.open(4, "client-aaaaaaaaaaaa", "", "10.0.0.1", 1).refused.empty()); // same person
  CHECK(p.open(5, "client-dddddddddddd", "", "10.0.0.2", 1).refused.empty());
  CHECK(p.open(6, "client-eeeeeeeeeeee", "", "10.0.0.3", 1).refused == "total");
  CHECK(p.view().count == 3);
  CHECK(p.view().listeners == 2);
  SUBCASE("a person who left gives their place back") {
    p.close(2, t0);
    p.tick(t0 + 5s);
    CHECK(p.open(7, "client-ffffffffffff", "", "10.0.0.1", 1).refused.empty());
  }
}

} // namespace watercooler
