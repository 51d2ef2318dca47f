// One link actor per peer node: it dials and greets the node (or adopts one that greeted us),
// watches its gate and measures round trips. It ends when the connection does.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/handshake_client.hpp"
#include "actors/metrics.hpp"
#include "actors/trust.hpp"

namespace watercooler {

struct link_state {
  static inline const char* name = "link";

  caf::actor cluster; // the link ends with it
  std::string peer;
  caf::actor gate; // the peer's
  std::shared_ptr<node_metrics> metrics;
  bool pinging = false;
};

using link_actor = caf::stateful_actor<link_state>*;

// Dials the node at `to` as node `from` (distribution port, gate): the handshake, then the
// cluster hears (up, name, address, gate, its peers) or (unknown, name, why) and the link ends.
caf::behavior dialling_link(link_actor self, caf::actor cluster, gate_address to, std::string from,
                            uint16_t dist_port, caf::actor own_gate,
                            std::shared_ptr<trusted_nodes> trusted,
                            std::shared_ptr<node_metrics> metrics);

// A node that greeted our gate and passed its handshake; `ping_timeout` bounds each ping.
caf::behavior accepted_link(link_actor self, caf::actor cluster, std::string peer,
                            caf::actor peer_gate, std::shared_ptr<node_metrics> metrics,
                            std::chrono::milliseconds ping_timeout);

} // namespace watercooler
