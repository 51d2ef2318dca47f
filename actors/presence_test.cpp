// The presence actor with scoped actors for its sessions, its gate and a peer's gate: what it
// tells streams, what it sends peers and when, and what a lost peer takes away.
#include <chrono>
#include <memory>
#include <string>

#include <doctest/doctest.h>

#include "actors/presence.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

const std::string here = "node1@127.0.0.1";
const std::string there = "node2@127.0.0.1";
const std::string ann = "ann-0123456789abcdef";
const std::string bob = "bob-0123456789abcdef";

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  caf::actor presence_actor =
    sys.spawn(presence, here, presence_limits{0ms, 0, 0}, metrics); // no grace: leaves at once
  caf::scoped_actor gate{sys}; // ours: sees what the presence relays to peers

  ~fixture() {
    caf::anon_send_exit(presence_actor, caf::exit_reason::user_shutdown);
  }

  void arrive(caf::scoped_actor& session, const std::string& client, const std::string& name) {
    session->send(presence_actor, arrive_atom::value, caf::actor_cast<caf::actor>(session), client,
                  name, std::string("127.0.0.1"), true);
  }

  // The snapshot a watching session gets first.
  presence_view snapshot(caf::scoped_actor& session, std::string* you = nullptr) {
    presence_view view;
    bool got = false;
    session->receive(
      [&](presence_atom, const presence_view& v, const std::string& tag, const std::string&) {
        view = v;
        got = true;
        if (you)
          *you = tag;
      },
      caf::after(2s) >> [] {});
    REQUIRE(got);
    return view;
  }

  // The next change a watching session gets: "join Bob", "leave Bob", "listeners 2".
  std::string change(caf::scoped_actor& session) {
    std::string text = "none";
    session->receive(
      [&](presence_atom, const presence_change& c) {
        static const char* kinds[] = {"", "join", "leave", "update", "listeners"};
        text = kinds[static_cast<int>(c.what)];
        text += " "
                + (c.what == presence_change::kind::listeners ? std::to_string(c.listeners)
                                                              : c.person.name);
      },
      caf::after(2s) >> [] {});
    return text;
  }

  // The verb of the next message relayed to `peer_gate`, or "none".
  std::string relayed(const caf::actor& peer_gate, caf::message* out = nullptr) {
    std::string verb = "none";
    gate->receive(
      [&](relay_atom, const caf::actor& to, const caf::message& msg) {
        if (to == peer_gate && msg.size() > 0 && msg.match_element<caf::atom_value>(0)) {
          verb = caf::to_string(msg.get_as<caf::atom_value>(0));
          if (out)
            *out = msg;
        }
      },
      caf::after(2s) >> [] {});
    return verb;
  }
};

// A peer's gate that can be killed: its down is the link going down. (It takes an argument: CAF
// 0.17 binds a function actor spawned without any to a null tuple, which UBSan reports.)
caf::behavior silent_gate(int) {
  return {[](ping_atom) {}};
}

} // namespace

TEST_CASE("the presence tells a watching stream who is here, then each change") {
  fixture f;
  caf::scoped_actor watcher{f.sys};
  f.arrive(watcher, "", "");
  CHECK(f.snapshot(watcher).listeners == 1);
  {
    caf::scoped_actor tab{f.sys};
    f.arrive(tab, ann, "Ann");
    std::string you;
    auto view = f.snapshot(tab, &you);
    CHECK(you == person_tag(ann));
    CHECK(view.count == 1);
    CHECK(f.change(watcher) == "join Ann");
  } // the tab's session ends
  CHECK(f.change(watcher) == "leave Ann");
  CHECK(f.metrics->present == 0);
  CHECK(f.metrics->listeners == 1);
}

TEST_CASE("the presence trades sets with a peer it dialled and drops the peer's when it is lost") {
  fixture f;
  caf::scoped_actor watcher{f.sys};
  f.arrive(watcher, "", "");
  f.snapshot(watcher);
  auto peer_gate = f.sys.spawn(silent_gate, 0);
  f.gate->send(f.presence_actor, peer_atom::value, there, peer_gate,
               caf::actor_cast<caf::actor>(f.gate), true);
  caf::message roster;
  REQUIRE(f.relayed(peer_gate, &roster) == "roster");
  CHECK(roster.get_as<presence_roster>(1).node == here);
  CHECK(roster.get_as<presence_roster>(1).listeners == 1);
  CHECK(f.relayed(peer_gate) == "rollcall");

  f.gate->send(f.presence_actor, roster_atom::value,
               presence_roster{there, 7, 0, {{bob, "Bob", 1}}});
  CHECK(f.change(watcher) == "join Bob");
  SUBCASE("a delta out of step asks for the roster again") {
    f.gate->send(f.presence_actor, changes_atom::value, presence_delta{there, 9, 0, {}, {bob}});
    CHECK(f.relayed(peer_gate) == "rollcall");
    f.gate->send(f.presence_actor, changes_atom::value, presence_delta{there, 8, 0, {}, {bob}});
    CHECK(f.change(watcher) == "leave Bob");
  }
  SUBCASE("the peer's gate goes down with its link: its people leave") {
    caf::anon_send_exit(peer_gate, caf::exit_reason::kill);
    CHECK(f.change(watcher) == "leave Bob");
  }
  SUBCASE("another node's roster, not linked, is not taken") {
    f.gate->send(f.presence_actor, roster_atom::value,
                 presence_roster{"node3@127.0.0.1", 1, 0, {{ann, "Ann", 1}}});
    f.gate->send(f.presence_actor, changes_atom::value, presence_delta{there, 8, 0, {}, {bob}});
    CHECK(f.change(watcher) == "leave Bob"); // the next change is this one, not Ann's join
  }
}

TEST_CASE("a peer that dialled us gets our set when it asks for it, not before") {
  fixture f;
  auto peer_gate = f.sys.spawn(silent_gate, 0);
  f.gate->send(f.presence_actor, peer_atom::value, there, peer_gate,
               caf::actor_cast<caf::actor>(f.gate), false);
  std::string early = "none";
  f.gate->receive([&](relay_atom, const caf::actor&, const caf::message&) { early = "relayed"; },
                  caf::after(300ms) >> [] {});
  CHECK(early == "none");
  f.gate->send(f.presence_actor, rollcall_atom::value, there);
  CHECK(f.relayed(peer_gate) == "roster");
  CHECK(f.relayed(peer_gate) == "rollcall"); // and ours is asked for in turn
  caf::anon_send_exit(peer_gate, caf::exit_reason::kill);
}

} // namespace watercooler
