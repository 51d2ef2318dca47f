// Who is here: one actor per node keeps its presence_tracker, tells the node's JSON streams what
// changes, and exchanges the node's own set with its peers.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "actors/logic/presence_tracker.hpp"
#include "actors/metrics.hpp"
#include "actors/protocol.hpp"

namespace watercooler {

struct presence_state {
  static inline const char* name = "presence";

  presence_tracker tracker{"", {}};
  caf::actor gate;                           // ours: it relays to peers' gates
  std::map<std::string, caf::actor> peers;   // node name -> its gate
  std::map<caf::actor_id, caf::actor> watch; // the JSON streams told of changes
  std::shared_ptr<node_metrics> metrics;
  std::optional<presence_time> wake; // a (lapse) is due then
  // Peers that dialled us and may not trust us yet: they ask for our roster once they do; if
  // they have not by then (both dialled at once), we send it unasked.
  std::map<std::string, presence_time> unasked;
};

caf::behavior presence(caf::stateful_actor<presence_state>* self, std::string node,
                       presence_limits limits, std::shared_ptr<node_metrics> metrics);

} // namespace watercooler
