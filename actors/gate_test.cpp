// The gate's handshake, with local actors standing in for the other node. (Refusing untrusted
// remote senders needs a second process: test/integration/inspect_test.cpp does that.)
#include <chrono>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/gate.hpp"
#include "actors/wire/handshake.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

const std::string here = "node1@127.0.0.1";
const std::string there = "node2@127.0.0.1";

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  std::shared_ptr<trusted_nodes> trusted = std::make_shared<trusted_nodes>();
  caf::scoped_actor room{sys};     // sees what the gate lets through to the room
  caf::scoped_actor presence{sys}; // and to the presence
  caf::actor gate_actor =
    sys.spawn(gate, gate_config{here, "secret"}, caf::actor_cast<caf::actor>(room),
              caf::actor_cast<caf::actor>(presence), trusted, metrics);

  std::string challenge(caf::scoped_actor& self) {
    std::string result;
    self->request(gate_actor, 2s, challenge_atom::value)
      .receive([&](const std::string& c) { result = c; },
               [&](const caf::error&) { FAIL("no challenge"); });
    return result;
  }

  struct answer {
    bool accepted = false;
    std::string who;
    std::string proof;
  };
  answer hello(caf::scoped_actor& self, const std::string& from, const std::string& proof,
               const std::string& ours) {
    answer result;
    self
      ->request(gate_actor, 2s, hello_atom::value, from, uint16_t{4000}, proof, ours,
                caf::actor_cast<caf::actor>(self))
      .receive(
        [&](bool accepted, const std::string& who, const std::string& back,
            const std::vector<std::string>&) {
          result = {accepted, who, back};
        },
        [&](const caf::error&) { FAIL("no answer to hello"); });
    return result;
  }
};

} // namespace

TEST_CASE("the gate lets a node in that proves the cookie, and proves it back") {
  fixture f;
  caf::scoped_actor peer{f.sys};
  auto c = f.challenge(peer);
  CHECK(c.size() == 64);
  auto got = f.hello(peer, there, prove("secret", proof_role::dial, c, there, here), "mine");
  CHECK(got.accepted);
  CHECK(got.who == here);
  CHECK(got.proof == prove("secret", proof_role::answer, "mine", here, there));
}

TEST_CASE("the gate refuses a wrong cookie, a replayed challenge and a forged name") {
  fixture f;
  caf::scoped_actor peer{f.sys};
  SUBCASE("wrong cookie") {
    auto c = f.challenge(peer);
    auto got = f.hello(peer, there, prove("guess", proof_role::dial, c, there, here), "mine");
    CHECK_FALSE(got.accepted);
    CHECK(got.who == "wrong cookie");
    CHECK(got.proof.empty());
  }
  SUBCASE("a challenge answers once") {
    auto c = f.challenge(peer);
    auto proof = prove("secret", proof_role::dial, c, there, here);
    CHECK(f.hello(peer, there, proof, "mine").accepted);
    auto again = f.hello(peer, there, proof, "mine");
    CHECK_FALSE(again.accepted);
    CHECK(again.who == "no challenge was asked for");
  }
  SUBCASE("a proof made for another node or role") {
    auto c = f.challenge(peer);
    auto got =
      f.hello(peer, there, prove("secret", proof_role::dial, c, there, "node3@127.0.0.1"), "m");
    CHECK_FALSE(got.accepted);
    c = f.challenge(peer);
    got = f.hello(peer, there, prove("secret", proof_role::answer, c, there, here), "m");
    CHECK_FALSE(got.accepted);
  }
  SUBCASE("a malformed or our own name") {
    auto c = f.challenge(peer);
    CHECK_FALSE(f.hello(peer, "no name", prove("secret", proof_role::dial, c, "no name", here), "m")
                  .accepted);
    c = f.challenge(peer);
    CHECK_FALSE(
      f.hello(peer, here, prove("secret", proof_role::dial, c, here, here), "m").accepted);
  }
}

TEST_CASE("the gate answers an inspection only with proof of the cookie") {
  fixture f;
  caf::scoped_actor inspector{f.sys};
  auto ask = [&](const std::string& proof) {
    std::string error;
    bool delegated = false;
    inspector->request(f.gate_actor, 2s, inspect_atom::value, proof)
      .receive([&](const node_report&) { delegated = true; },
               [&](const caf::error& err) {
                 error = err.context().match_elements<std::string>()
                           ? err.context().get_as<std::string>(0)
                           : f.sys.render(err);
               });
    return error;
  };
  SUBCASE("without a challenge") {
    CHECK(ask("anything") == "no challenge was asked for");
  }
  SUBCASE("with a wrong proof") {
    auto c = f.challenge(inspector);
    CHECK(ask(prove("guess", proof_role::inspect, c, "inspect", here)) == "wrong cookie");
  }
  SUBCASE("with the right proof the room is asked") {
    auto c = f.challenge(inspector);
    // The stand-in room answers the delegated request with a report of its own.
    std::thread room_thread([&] {
      f.room->receive([&](report_atom) { return node_report{}; }, caf::after(5s) >> [] {});
    });
    CHECK(ask(prove("secret", proof_role::inspect, c, "inspect", here)).empty());
    room_thread.join();
  }
}

TEST_CASE("the gate forwards a trusted node's deliveries to the room and nothing else") {
  fixture f;
  caf::scoped_actor peer{f.sys}; // local, hence trusted
  peer->send(f.gate_actor, deliver_atom::value, chat_message{there, 1, 1, 0, "alice", "hi"});
  peer->send(f.gate_actor, publish_atom::value, std::string("not through the gate"));
  std::string delivered;
  f.room->receive([&](deliver_atom, const chat_message& m) { delivered = m.text; },
                  caf::after(2s) >> [] {});
  CHECK(delivered == "hi");
  // Answered after the publish before it: by then that was dropped.
  peer->request(f.gate_actor, 2s, actors_atom::value)
    .receive([](const std::vector<actor_report>&) {}, [](const caf::error&) { FAIL("no report"); });
  CHECK(f.metrics->dropped == 1);
}

TEST_CASE("the gate forwards a trusted node's presence to the presence, and goodbye to both") {
  fixture f;
  caf::scoped_actor peer{f.sys}; // local, hence trusted
  peer->send(f.gate_actor, roster_atom::value, presence_roster{there, 1, 0, {}});
  peer->send(f.gate_actor, rollcall_atom::value, there);
  peer->send(f.gate_actor, goodbye_atom::value, there);
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i)
    f.presence->receive([&](roster_atom, const presence_roster& r) { seen.push_back(r.node); },
                        [&](rollcall_atom, const std::string& who) { seen.push_back(who); },
                        [&](goodbye_atom, const std::string& who) { seen.push_back("bye " + who); },
                        caf::after(2s) >> [] {});
  CHECK(seen == std::vector<std::string>{there, there, "bye " + there});
  bool room_told = false;
  f.room->receive([&](goodbye_atom, const std::string& who) { room_told = who == there; },
                  caf::after(2s) >> [] {});
  CHECK(room_told);
}

TEST_CASE("the gate relays its room's messages to a peer's gate, and no one else's") {
  fixture f;
  caf::scoped_actor peer_gate{f.sys};
  auto to_peer = caf::make_message(goodbye_atom::value, here);
  SUBCASE("from the room, as from the gate") {
    f.room->send(f.gate_actor, relay_atom::value, caf::actor_cast<caf::actor>(peer_gate), to_peer);
    bool relayed = false;
    peer_gate->receive(
      [&](goodbye_atom, const std::string& who) {
        relayed = who == here && peer_gate->current_sender() == f.gate_actor;
      },
      caf::after(2s) >> [] {});
    CHECK(relayed);
  }
  SUBCASE("from the presence, as from the gate") {
    f.presence->send(f.gate_actor, relay_atom::value, caf::actor_cast<caf::actor>(peer_gate),
                     caf::make_message(rollcall_atom::value, here));
    bool relayed = false;
    peer_gate->receive(
      [&](rollcall_atom, const std::string&) {
        relayed = peer_gate->current_sender() == f.gate_actor;
      },
      caf::after(2s) >> [] {});
    CHECK(relayed);
  }
  SUBCASE("from anyone else: refused") {
    caf::scoped_actor other{f.sys};
    other->send(f.gate_actor, relay_atom::value, caf::actor_cast<caf::actor>(peer_gate), to_peer);
    bool relayed = false;
    peer_gate->receive([&](goodbye_atom, const std::string&) { relayed = true; },
                       caf::after(200ms) >> [] {});
    CHECK_FALSE(relayed);
    // Answered after the relay before it: by then that was refused.
    other->request(f.gate_actor, 2s, actors_atom::value)
      .receive([](const std::vector<actor_report>&) {},
               [](const caf::error&) { FAIL("no report"); });
    CHECK(f.metrics->dropped == 1);
  }
}

TEST_CASE("the gate refuses a message it cannot print with CAF and keeps working") {
  // Found by fuzz/peer_message_fuzz: logging this refusal with caf::to_string crashed the node.
  fixture f;
  caf::scoped_actor peer{f.sys};
  caf::duration bad{caf::time_unit::seconds, 5};
  bad.unit = static_cast<caf::time_unit>(0xdeadbeef);
  peer->send(f.gate_actor, publish_atom::value, bad);
  CHECK(!f.challenge(peer).empty());
  CHECK(f.metrics->dropped == 1);
}

} // namespace watercooler
