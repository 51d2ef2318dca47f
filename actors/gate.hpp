// The one actor a node publishes on its distribution port. Peers and inspectors must prove they
// know the cluster cookie before it lets anything through to the room.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "actors/metrics.hpp"
#include "actors/protocol.hpp"
#include "actors/trust.hpp"

namespace watercooler {

struct gate_config {
  std::string node;   // this node, name@host
  std::string cookie; // the cluster's shared secret
};

struct gate_state {
  static inline const char* name = "gate";
  static constexpr size_t max_challenges = 256; // open handshakes; the oldest is forgotten

  gate_config config;
  caf::actor room;
  caf::actor presence;
  caf::actor cluster; // told of every node that greets us
  std::shared_ptr<trusted_nodes> trusted;
  std::shared_ptr<node_metrics> metrics;
  std::map<caf::node_id, std::string> challenges; // one open challenge per asking node
  std::deque<caf::node_id> challenge_order;
  uint64_t refused = 0; // messages dropped at the gate, logged sparingly

  // The challenge handed to `node`, forgotten as it is taken: each one answers once.
  std::string take_challenge(const caf::node_id& node);
  void give_challenge(const caf::node_id& node, const std::string& challenge);
};

// `cluster` arrives later in (cluster, actor): the cluster needs the gate to greet peers.
caf::behavior gate(caf::stateful_actor<gate_state>* self, gate_config config, caf::actor room,
                   caf::actor presence, std::shared_ptr<trusted_nodes> trusted,
                   std::shared_ptr<node_metrics> metrics);

} // namespace watercooler
