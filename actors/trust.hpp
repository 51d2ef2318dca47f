// Who may tell an actor what: the one trust rule for senders, used by the gate and the links.
#pragma once

#include <mutex>
#include <set>

#include <caf/local_actor.hpp>
#include <caf/node_id.hpp>

namespace watercooler {

// Nodes (CAF node ids) that passed the cookie handshake while their connection lasts. Written
// by the gate and the cluster, read by the gate for every message.
class trusted_nodes {
public:
  void add(const caf::node_id& node);
  void remove(const caf::node_id& node);
  bool contains(const caf::node_id& node) const;

private:
  mutable std::mutex mutex_;
  std::set<caf::node_id> nodes_;
};

// The node of the message `self` handles now; none (an invalid id) for an anonymous sender.
caf::node_id sender_node(caf::local_actor* self);

// The message `self` handles now comes from an actor of this node. An anonymous sender does
// not: CAF delivers a remote node's anonymous message without saying where it came from.
bool from_this_node(caf::local_actor* self);

// From this node, or from a node that passed the handshake (anonymous senders never are).
bool from_trusted_node(caf::local_actor* self, const trusted_nodes& trusted);

} // namespace watercooler
