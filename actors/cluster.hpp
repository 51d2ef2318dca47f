// The cluster of one node: wants the nodes of sys.config (and their peers), keeps a link to each.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/io/middleman_actor.hpp>

#include "actors/metrics.hpp"
#include "actors/protocol.hpp"
#include "actors/trust.hpp"

namespace watercooler {

struct cluster_config {
  std::string node;                   // this node, name@host
  std::string cookie;                 // proves to peers that we belong
  uint16_t dist_port = 0;             // where our gate is published, told to peers
  std::vector<std::string> optional;  // sync_nodes_optional
  std::vector<std::string> mandatory; // sync_nodes_mandatory
  std::chrono::milliseconds sync_timeout{0};
  uint16_t epmd_port = 4369;
  caf::io::middleman_actor connector; // links connect through it: CAF's middleman or its TLS one
  bool tls = false;                   // --dist-tls: the connector speaks TLS (for error texts)
  std::chrono::milliseconds retry_interval{250};
  std::chrono::milliseconds lookup_timeout{1000};
  std::chrono::milliseconds handshake_timeout{3000};
  std::chrono::milliseconds ping_interval{1000};
};

// The cluster's view of one peer node and its link actor (link.hpp).
struct peer_link {
  caf::actor link;
  caf::actor gate;     // the peer's gate, once up
  std::string address; // host:port of its distribution port
  bool up = false;
};

struct cluster_state {
  static inline const char* name = "cluster";

  cluster_config config;
  std::vector<caf::actor> told; // of each peer that is up: the room and the presence
  caf::actor gate;              // ours, given to peers so they can reach us
  std::shared_ptr<trusted_nodes> trusted;
  std::shared_ptr<node_metrics> metrics;
  std::set<std::string> wanted;                  // sys.config's nodes and nodes learned from peers
  std::set<std::string> learned;                 // wanted only while they are up
  std::map<std::string, peer_link> links;        // being dialled or connected
  std::map<std::string, std::string> last_error; // logged once per change
  std::chrono::steady_clock::time_point sync_deadline;
  std::chrono::steady_clock::time_point last_ping;

  bool connected(const std::string& node) const;
  std::vector<std::string> connected_names() const;
  // The mandatory nodes not connected yet.
  std::vector<std::string> missing_mandatory() const;
  bool synced() const;
};

// Keeps a link to every node it wants: the dialer (dialer.hpp) tells it where they are, the gate
// which nodes greeted us; the room and the presence (`told`) hear of each peer that is up.
caf::behavior cluster(caf::stateful_actor<cluster_state>* self, cluster_config config,
                      std::vector<caf::actor> told, caf::actor gate,
                      std::shared_ptr<trusted_nodes> trusted,
                      std::shared_ptr<node_metrics> metrics);

} // namespace watercooler
