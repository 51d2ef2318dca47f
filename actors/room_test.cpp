// The room: local fan-out, forwarding to peers once, duplicates, and forgetting sessions.
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "actors/room.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

struct delivery {
  std::string origin;
  uint64_t seq = 0;
  std::string text;
};

// The next DELIVER that `self` receives, or nothing within two seconds.
std::optional<delivery> next_delivery(caf::scoped_actor& self) {
  std::optional<delivery> got;
  self->receive(
    [&](deliver_atom, const std::string& origin, uint64_t, uint64_t seq, int64_t,
        const std::string& text) {
      got = delivery{origin, seq, text};
    },
    caf::after(2s) >> [] {});
  return got;
}

bool nothing_more(caf::scoped_actor& self) {
  bool quiet = true;
  self->receive([&](caf::message&) { quiet = false; }, caf::after(200ms) >> [] {});
  return quiet;
}

std::tuple<uint64_t, uint64_t, uint64_t, uint64_t> stats(caf::scoped_actor& self,
                                                         const caf::actor& room_actor) {
  std::tuple<uint64_t, uint64_t, uint64_t, uint64_t> result;
  self->request(room_actor, 2s, stats_atom::value)
    .receive(
      [&](uint64_t sessions, uint64_t peers, uint64_t published, uint64_t delivered) {
        result = {sessions, peers, published, delivered};
      },
      [&](const caf::error&) { FAIL("the room did not answer stats"); });
  return result;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  caf::actor room_actor = sys.spawn(room, "node1@127.0.0.1", 7, metrics);

  ~fixture() {
    caf::anon_send_exit(room_actor, caf::exit_reason::user_shutdown);
  }

  uint64_t publish(caf::scoped_actor& self, const std::string& text) {
    uint64_t seq = 0;
    self->request(room_actor, 2s, publish_atom::value, text)
      .receive([&](uint64_t s) { seq = s; }, [&](const caf::error&) { FAIL("no answer"); });
    return seq;
  }
};

} // namespace

TEST_CASE("room delivers a published message to every local session") {
  fixture f;
  caf::scoped_actor alice{f.sys};
  caf::scoped_actor bob{f.sys};
  caf::scoped_actor poster{f.sys};
  for (auto* who : {&alice, &bob})
    (*who)->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(*who));
  CHECK(f.publish(poster, "hello") == 1);
  CHECK(f.publish(poster, "again") == 2);
  for (auto* who : {&alice, &bob}) {
    auto first = next_delivery(*who);
    REQUIRE(first);
    CHECK(first->origin == "node1@127.0.0.1");
    CHECK(first->seq == 1);
    CHECK(first->text == "hello");
    auto second = next_delivery(*who);
    REQUIRE(second);
    CHECK(second->text == "again");
  }
}

TEST_CASE("room forwards a local post once to each peer and never re-forwards a peer's") {
  fixture f;
  caf::scoped_actor peer{f.sys};
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  peer->send(f.room_actor, peer_atom::value, std::string("node2@127.0.0.1"),
             caf::actor_cast<caf::actor>(peer));

  SUBCASE("a local post reaches the peer once") {
    f.publish(session, "local");
    CHECK(f.metrics->published == 1);
    CHECK(f.metrics->peers().at("node2@127.0.0.1").forwarded == 1);
    CHECK(f.metrics->peers().at("node2@127.0.0.1").state == "connected");
    auto forwarded = next_delivery(peer);
    REQUIRE(forwarded);
    CHECK(forwarded->origin == "node1@127.0.0.1");
    CHECK(forwarded->text == "local");
    CHECK(nothing_more(peer));
  }
  SUBCASE("a peer's message goes to local sessions only") {
    peer->send(f.room_actor, deliver_atom::value, std::string("node2@127.0.0.1"), uint64_t{3},
               uint64_t{1}, now_us(), std::string("remote"));
    auto got = next_delivery(session);
    REQUIRE(got);
    CHECK(got->origin == "node2@127.0.0.1");
    CHECK(got->text == "remote");
    CHECK(nothing_more(peer));
  }
}

TEST_CASE("room delivers each message once, in order per origin") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  auto from_peer = [&](uint64_t incarnation, uint64_t seq, const std::string& text) {
    caf::anon_send(f.room_actor, deliver_atom::value, std::string("node2@127.0.0.1"), incarnation,
                   seq, now_us(), text);
  };
  from_peer(1, 1, "one");
  from_peer(1, 1, "one again");
  from_peer(1, 2, "two");
  from_peer(2, 1, "after a restart"); // a new incarnation starts counting anew
  std::vector<std::string> texts;
  while (auto got = next_delivery(session)) {
    texts.push_back(got->text);
    if (texts.size() == 3)
      break;
  }
  CHECK(texts == std::vector<std::string>{"one", "two", "after a restart"});
  CHECK(nothing_more(session));
  CHECK(f.metrics->received == 4);
  CHECK(f.metrics->dropped == 1);
}

TEST_CASE("room forgets sessions that leave or die") {
  fixture f;
  caf::scoped_actor self{f.sys};
  std::vector<caf::actor> sessions;
  for (int i = 0; i < 100; ++i) {
    // An argument of its own: CAF 0.17 binds a null reference for an empty argument tuple (UBSan).
    auto s = f.sys.spawn([](int) -> caf::behavior { return {[](int) {}}; }, i);
    self->send(f.room_actor, join_atom::value, s);
    sessions.push_back(s);
  }
  CHECK(std::get<0>(stats(self, f.room_actor)) == 100);
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (i % 2 == 0)
      self->send(f.room_actor, leave_atom::value, sessions[i]);
    else
      caf::anon_send_exit(sessions[i], caf::exit_reason::user_shutdown);
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  uint64_t left = 100;
  while (left > 0 && std::chrono::steady_clock::now() < deadline)
    left = std::get<0>(stats(self, f.room_actor));
  CHECK(left == 0);
}

TEST_CASE("room answers a peer's hello with its name and its other peers") {
  fixture f;
  caf::scoped_actor node2{f.sys};
  caf::scoped_actor node3{f.sys};
  node2->send(f.room_actor, peer_atom::value, std::string("node2@127.0.0.1"),
              caf::actor_cast<caf::actor>(node2));
  node3
    ->request(f.room_actor, 2s, hello_atom::value, std::string("node3@127.0.0.1"),
              caf::actor_cast<caf::actor>(node3))
    .receive(
      [&](const std::string& name, const std::vector<std::string>& peers) {
        CHECK(name == "node1@127.0.0.1");
        CHECK(peers == std::vector<std::string>{"node2@127.0.0.1"});
      },
      [&](const caf::error&) { FAIL("no answer to hello"); });
  CHECK(std::get<1>(stats(node2, f.room_actor)) == 2);
}

TEST_CASE("room drops a peer message of the wrong shape and keeps working") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  caf::anon_send(f.room_actor, deliver_atom::value, 42, std::string("not a message"));
  f.publish(session, "still here");
  auto got = next_delivery(session);
  REQUIRE(got);
  CHECK(got->text == "still here");
}

} // namespace watercooler
