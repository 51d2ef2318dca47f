// The trust rule for senders: this node, or a node that proved the cookie; nobody anonymous.
#include <chrono>
#include <memory>
#include <string>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "actors/trust.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

// What a sender asks the judge: a plain string, as it is no message of the protocol (whose
// atoms are all in protocol.hpp).
const std::string question = "verdict?";

// Answers every question with what the rule says of its sender, to `observer`.
caf::behavior judge(caf::event_based_actor* self, caf::actor observer,
                    std::shared_ptr<trusted_nodes> trusted) {
  return {
    [=](const std::string&) {
      self->send(observer, from_this_node(self), from_trusted_node(self, *trusted));
    },
  };
}

struct verdict {
  bool here = false;
  bool trusted = false;
};

verdict receive_verdict(caf::scoped_actor& observer) {
  verdict v;
  observer->receive(
    [&](bool here, bool trusted) {
      v = {here, trusted};
    },
    caf::after(2s) >> [] { FAIL("no verdict"); });
  return v;
}

} // namespace

TEST_CASE("the trust rule accepts a sender of this node and refuses an anonymous one") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor observer{sys};
  auto trusted = std::make_shared<trusted_nodes>();
  auto j = sys.spawn(judge, caf::actor_cast<caf::actor>(observer), trusted);
  SUBCASE("a local sender") {
    caf::scoped_actor sender{sys};
    sender->send(j, question);
    auto v = receive_verdict(observer);
    CHECK(v.here);
    CHECK(v.trusted);
  }
  SUBCASE("an anonymous sender, as a remote node's anon_send arrives") {
    caf::anon_send(j, question);
    auto v = receive_verdict(observer);
    CHECK_FALSE(v.here);
    CHECK_FALSE(v.trusted);
  }
  SUBCASE("an anonymous sender even when nodes are trusted") {
    trusted->add(sys.node());
    caf::anon_send(j, question);
    auto v = receive_verdict(observer);
    CHECK_FALSE(v.here);
    CHECK_FALSE(v.trusted);
  }
  caf::anon_send_exit(j, caf::exit_reason::user_shutdown);
}

TEST_CASE("trusted nodes are trusted only until removed") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  trusted_nodes nodes;
  CHECK_FALSE(nodes.contains(sys.node()));
  nodes.add(sys.node());
  CHECK(nodes.contains(sys.node()));
  nodes.remove(sys.node());
  CHECK_FALSE(nodes.contains(sys.node()));
}

} // namespace watercooler
