// A link takes (measure) and (actors) from its own node only (trust.hpp): an anonymous sender,
// which is how CAF delivers a remote node's anon_send, is refused like a remote one.
#include <chrono>
#include <memory>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "actors/link.hpp"
#include "actors/protocol.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  caf::scoped_actor cluster{sys};   // the link's cluster, on this node
  caf::scoped_actor peer_gate{sys}; // stands in for the peer's gate
  caf::actor link =
    sys.spawn(accepted_link, caf::actor_cast<caf::actor>(cluster), std::string("node2@127.0.0.1"),
              caf::actor_cast<caf::actor>(peer_gate), metrics, 2000ms);

  // Sends `msg` to the link without a sender; whatever the link answers goes to `to`.
  void send_anonymously(const caf::message& msg, caf::scoped_actor& to) {
    caf::mailbox_element::forwarding_stack answer_to{caf::actor_cast<caf::strong_actor_ptr>(to)};
    caf::actor_cast<caf::abstract_actor*>(link)->enqueue(
      caf::make_mailbox_element(nullptr, caf::make_message_id(), std::move(answer_to), msg),
      nullptr);
  }

  // True once the link answered its cluster's (actors): it handled all that came before.
  bool settled() {
    bool answered = false;
    cluster->request(link, 2s, actors_atom::value)
      .receive([&](const std::vector<actor_report>&) { answered = true; },
               [](const caf::error&) {});
    return answered;
  }

  // A (ping) the link sent the peer's gate, if one is waiting now.
  bool pinged() {
    bool ping = false;
    peer_gate->receive([&](ping_atom) { ping = true; }, caf::after(0s) >> [] {});
    return ping;
  }
};

} // namespace

TEST_CASE("a link pings the peer's gate when its own cluster says so, not when anyone else does") {
  fixture f;
  SUBCASE("an anonymous (measure) is refused") {
    caf::anon_send(f.link, measure_atom::value);
    REQUIRE(f.settled());
    CHECK_FALSE(f.pinged());
  }
  SUBCASE("a (measure) from this node pings") {
    f.cluster->send(f.link, measure_atom::value);
    REQUIRE(f.settled());
    CHECK(f.pinged());
  }
}

TEST_CASE("a link answers (actors) from its own node and refuses an anonymous one") {
  fixture f;
  caf::scoped_actor observer{f.sys};
  f.send_anonymously(caf::make_message(actors_atom::value), observer);
  bool reported = false;
  bool refused = false;
  observer->receive([&](const std::vector<actor_report>&) { reported = true; },
                    [&](const caf::error&) { refused = true; }, caf::after(2s) >> [] {});
  CHECK_FALSE(reported);
  CHECK(refused);
  CHECK(f.settled()); // and its own cluster still gets an answer
}

} // namespace watercooler
