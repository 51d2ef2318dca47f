// Links are the only actors of the cluster that other nodes see: each takes (measure) and
// (actors) from this node alone (trust.hpp) and drops everything else.
#include "actors/link.hpp"

#include <caf/all.hpp>

#include "actors/protocol.hpp"

namespace watercooler {

namespace {

// Ends the link with the cluster (node shutdown) and, once linked, with the peer's gate; drops
// what it does not understand.
void watch(link_actor self, caf::actor cluster) {
  // Peers learn our address and may send anything: CAF's default handler would print it with
  // caf::to_string, which a peer's bytes can crash (see message_text.hpp).
  self->set_default_handler(caf::drop);
  self->state.cluster = std::move(cluster);
  self->monitor(self->state.cluster);
  self->set_down_handler([=](const caf::down_msg& msg) {
    if (msg.source == self->state.cluster.address())
      self->quit(caf::exit_reason::user_shutdown);
    else if (msg.source == self->state.gate.address())
      self->quit(msg.reason);
  });
}

caf::result<std::vector<actor_report>> report(link_actor self, const std::string& what) {
  if (!from_this_node(self))
    return caf::sec::unexpected_message;
  return std::vector<actor_report>{{what, "event-based", self->mailbox().size()}};
}

// Connected: watch the peer's gate, ping it when the cluster says so.
caf::behavior linked(link_actor self, std::chrono::milliseconds timeout) {
  self->monitor(self->state.gate);
  return {
    // ACTORS: for --inspect's list of actors, asked by the cluster.
    [=](actors_atom) { return report(self, "link " + self->state.peer); },
    // MEASURE: from the cluster, once per ping interval.
    [=](measure_atom) {
      auto& st = self->state;
      if (!from_this_node(self) || st.pinging)
        return;
      st.pinging = true;
      auto sent = std::chrono::steady_clock::now();
      self->request(st.gate, timeout, ping_atom::value)
        .then(
          [=](ping_atom) {
            self->state.pinging = false;
            auto rtt = std::chrono::steady_clock::now() - sent;
            self->state.metrics->peer_rtt(
              self->state.peer, std::chrono::duration_cast<std::chrono::microseconds>(rtt).count());
          },
          [=](const caf::error&) {
            self->state.pinging = false;
            self->state.metrics->peer_rtt(self->state.peer, -1);
          });
    },
  };
}

} // namespace

caf::behavior accepted_link(link_actor self, caf::actor cluster, std::string peer,
                            caf::actor peer_gate, std::shared_ptr<node_metrics> metrics,
                            std::chrono::milliseconds ping_timeout) {
  watch(self, std::move(cluster));
  self->state.peer = std::move(peer);
  self->state.gate = std::move(peer_gate);
  self->state.metrics = std::move(metrics);
  return linked(self, ping_timeout);
}

caf::behavior dialling_link(link_actor self, caf::actor cluster, gate_address to, std::string from,
                            uint16_t dist_port, caf::actor own_gate,
                            std::shared_ptr<trusted_nodes> trusted,
                            std::shared_ptr<node_metrics> metrics) {
  watch(self, cluster);
  self->state.peer = to.node;
  self->state.metrics = std::move(metrics);
  auto address = to.host + ":" + std::to_string(to.port);
  auto timeout = to.timeout;
  auto failed = [=](const std::string& why) {
    self->send(cluster, unknown_atom::value, self->state.peer, why);
    self->quit();
  };
  auto greeted = [=](const caf::actor& gate, const std::vector<std::string>& peers) {
    self->state.gate = gate;
    trusted->add(gate.node());
    self->send(cluster, up_atom::value, self->state.peer, address, gate, peers);
    self->become(linked(self, timeout));
  };
  greet_gate(self, to, from, dist_port, own_gate, greeted, failed);
  return {
    [](measure_atom) {}, // pings start once linked
    [=](actors_atom) { return report(self, "link " + self->state.peer + " (dialling)"); },
  };
}

} // namespace watercooler
