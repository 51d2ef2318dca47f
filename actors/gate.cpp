// Challenge/response at the door; afterwards only a trusted node's room messages pass, in and out.
#include "actors/gate.hpp"

#include <iostream>

#include "actors/log.hpp"
#include "actors/wire/handshake.hpp"
#include "actors/wire/message_text.hpp"
#include "actors/wire/node_name.hpp"

namespace watercooler {

std::string gate_state::take_challenge(const caf::node_id& node) {
  auto it = challenges.find(node);
  if (it == challenges.end())
    return {};
  auto challenge = std::move(it->second);
  challenges.erase(it);
  return challenge;
}

void gate_state::give_challenge(const caf::node_id& node, const std::string& challenge) {
  if (challenges.count(node) == 0) {
    challenge_order.push_back(node);
    while (challenge_order.size() > max_challenges) {
      challenges.erase(challenge_order.front());
      challenge_order.pop_front();
    }
  }
  challenges[node] = challenge;
}

namespace {

using gate_actor = caf::stateful_actor<gate_state>*;

// Logs the first few refusals and then every 1000th: a flood must not flood the log too.
void refuse(gate_actor self, const std::string& what) {
  auto n = ++self->state.refused;
  ++self->state.metrics->dropped;
  if (n <= 10 || n % 1000 == 0)
    log_line("gate refused ", what, " from ", caf::to_string(sender_node(self)), " (", n,
             " refused so far)");
}

using hello_answer = caf::result<bool, std::string, std::string, std::vector<std::string>>;

} // namespace

caf::behavior gate(gate_actor self, gate_config config, caf::actor room, caf::actor presence,
                   std::shared_ptr<trusted_nodes> trusted_set,
                   std::shared_ptr<node_metrics> metrics) {
  auto& st = self->state;
  st.config = std::move(config);
  st.room = std::move(room);
  st.presence = std::move(presence);
  st.trusted = std::move(trusted_set);
  st.metrics = std::move(metrics);
  // Anything else: a trusted peer's (deliver ...), (catchup ...), (backfill ...) go to the room,
  // (roster ...), (changes ...), (rollcall ...) to the presence, (goodbye ...) to both; the rest
  // is dropped.
  self->set_default_handler([=](caf::scheduled_actor*, caf::message_view& view) {
    auto msg = view.move_content_to_message();
    auto verb = msg.size() != 0 && msg.match_element<caf::atom_value>(0)
                  ? msg.get_as<caf::atom_value>(0)
                  : caf::atom("");
    bool for_room = verb == deliver_atom::value || verb == catchup_atom::value
                    || verb == backfill_atom::value || verb == goodbye_atom::value;
    bool for_presence = verb == roster_atom::value || verb == changes_atom::value
                        || verb == rollcall_atom::value || verb == goodbye_atom::value;
    if ((for_room || for_presence) && from_trusted_node(self, *self->state.trusted)) {
      if (for_presence && self->state.presence)
        self->send(self->state.presence, msg);
      if (for_room)
        self->send(self->state.room, std::move(msg));
      return caf::result<caf::message>{caf::message{}};
    }
    refuse(self, message_text(self->system(), msg).substr(0, 120));
    return refuse_quietly(self);
  });
  // An error sent to us (a peer refusing what we relayed) is no reason to stop.
  self->set_error_handler([](caf::error&) {});
  return {
    // CHALLENGE: the first step of a handshake or an inspection.
    [=](challenge_atom) {
      auto challenge = new_challenge();
      self->state.give_challenge(sender_node(self), challenge);
      return challenge;
    },
    // HELLO <from> <dist port> <proof> <challenge> <gate>: a node that dials us proves the
    // cookie; we prove it back, trust its node id and introduce it to the cluster.
    [=](hello_atom, const std::string& from, uint16_t dist_port, const std::string& proof,
        const std::string& their_challenge, const caf::actor& their_gate)
      -> caf::result<bool, std::string, std::string, std::vector<std::string>> {
      auto& s = self->state;
      auto node = sender_node(self);
      auto challenge = s.take_challenge(node);
      auto name = parse_node_name(from);
      std::string why;
      if (challenge.empty())
        why = "no challenge was asked for";
      else if (!name || name->to_string() != from || from == s.config.node)
        why = "bad node name " + from.substr(0, 80);
      else if (!same_proof(prove(s.config.cookie, proof_role::dial, challenge, from, s.config.node),
                           proof))
        why = "wrong cookie";
      else if (!their_gate || their_gate.node() != node)
        why = "the gate is not on the greeting node";
      if (!why.empty()) {
        log_line("refused node ", from.substr(0, 80), ": ", why);
        return hello_answer(false, why, std::string(), std::vector<std::string>());
      }
      s.trusted->add(node);
      auto answer =
        prove(s.config.cookie, proof_role::answer, their_challenge, s.config.node, from);
      if (!s.cluster)
        return hello_answer(true, s.config.node, answer, std::vector<std::string>());
      // The cluster adopts the node and names its other peers, so the newcomer meets them too.
      auto promise =
        self->make_response_promise<bool, std::string, std::string, std::vector<std::string>>();
      auto address = name->host + ":" + std::to_string(dist_port);
      self
        ->request(s.cluster, std::chrono::seconds(5), greeted_atom::value, from, address,
                  their_gate)
        .then(
          [=](const std::vector<std::string>& peers) mutable {
            promise.deliver(true, self->state.config.node, answer, peers);
          },
          [=](const caf::error&) mutable {
            promise.deliver(true, self->state.config.node, answer, std::vector<std::string>());
          });
      return promise;
    },
    // INSPECT <proof>: --inspect proved the cookie; the room answers it directly.
    [=](inspect_atom, const std::string& proof) -> caf::result<caf::message> {
      auto& s = self->state;
      auto challenge = s.take_challenge(sender_node(self));
      if (challenge.empty())
        return make_error(refusal::not_trusted, "no challenge was asked for");
      if (!same_proof(
            prove(s.config.cookie, proof_role::inspect, challenge, "inspect", s.config.node),
            proof)) {
        log_line("refused an inspection from ", caf::to_string(sender_node(self)),
                 ": wrong cookie");
        return make_error(refusal::not_trusted, "wrong cookie");
      }
      return self->delegate(s.room, report_atom::value);
    },
    // RELAY <peer gate> <message>: our room's and presence's traffic to a peer, sent as from us;
    // from them alone, so the peer sees the gate it trusts and never learns of them.
    [=](relay_atom, const caf::actor& peer_gate, caf::message& msg) {
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (!sender || (sender != self->state.room && sender != self->state.presence))
        return refuse(self, "relay");
      self->send(peer_gate, std::move(msg));
    },
    // PING: a trusted peer measures the round trip.
    [=](ping_atom) -> caf::result<ping_atom> {
      if (!from_trusted_node(self, *self->state.trusted)) {
        refuse(self, "ping");
        return make_error(refusal::not_trusted, "not trusted");
      }
      return ping_atom::value;
    },
    // CLUSTER <actor>: from the app, once.
    [=](cluster_atom, const caf::actor& cluster) {
      if (from_this_node(self))
        self->state.cluster = cluster;
    },
    // ACTORS: for --inspect's list of actors.
    [=](actors_atom) -> caf::result<std::vector<actor_report>> {
      if (!from_this_node(self))
        return make_error(refusal::not_trusted, "inspect needs a proof");
      return std::vector<actor_report>{{"gate", "event-based", self->mailbox().size()}};
    },
  };
}

} // namespace watercooler
