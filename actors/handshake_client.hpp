// The dialling side of the cookie handshake, for links and --inspect alike: connect to a node's
// distribution port, take its gate's challenge, and prove the cookie back in the role's request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>

#include "actors/outcome.hpp"
#include "actors/wire/report.hpp"

namespace watercooler {

// Where and how to reach a node's gate.
struct gate_address {
  std::string node; // name@host of the node dialled: every proof names it
  std::string host;
  uint16_t port = 0;                       // its distribution port
  caf::io::middleman_actor connector;      // CAF's middleman or its TLS one
  bool tls = false;                        // the connector speaks TLS (for error texts)
  std::string cookie;                      // the cluster's shared secret
  std::chrono::milliseconds timeout{3000}; // for each step
};

// A link's handshake, from an event-based actor: (challenge), then (hello ...) as node `from`
// (distribution port, our gate) in the role dial, and the gate's proof back checked. Calls
// `greeted(gate, its peers)` once both sides trust each other, else `failed(why)`.
void greet_gate(caf::event_based_actor* self, const gate_address& to, const std::string& from,
                uint16_t dist_port, const caf::actor& own_gate,
                std::function<void(const caf::actor&, const std::vector<std::string>&)> greeted,
                std::function<void(const std::string&)> failed);

// --inspect's handshake, from an event-based actor: (challenge), then (inspect, proof) in the
// role inspect; the node's room answers. Calls `inspected(report)`, else `failed(why)`.
void inspect_gate(caf::event_based_actor* self, const gate_address& to,
                  std::function<void(node_report)> inspected,
                  std::function<void(const std::string&)> failed);

// inspect_gate for a thread outside the actor system; blocks up to three timeouts.
outcome<node_report> inspect_node(caf::actor_system& system, const gate_address& to);

} // namespace watercooler
