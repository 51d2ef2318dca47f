// The chat room of one node: local sessions, peer nodes' gates, and delivery between them.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/logic/ordering.hpp"
#include "actors/metrics.hpp"
#include "actors/protocol.hpp"

namespace watercooler {

struct room_state {
  static inline const char* name = "room";

  std::string node;         // this node's name, the origin of messages published here
  uint64_t incarnation = 0; // tells this run's sequence numbers from an earlier run's
  uint64_t next_seq = 0;
  std::vector<caf::actor> sessions;
  std::set<caf::actor_addr> wants_history; // sessions that joined with a rewind or a resume
  std::map<std::string, caf::actor> peers; // node name -> its gate
  caf::actor gate; // ours, the way out: it relays to peers' gates, so they never see the room
  ordering order;  // which peer messages go out when, what peers are asked for
  std::map<std::string, stream_clock> unanswered; // catchups from peers not linked yet
  uint64_t published = 0;
  uint64_t delivered = 0; // messages delivered to local sessions, counted once per message
  std::deque<chat_message> history; // the latest delivered messages of every origin, oldest first
  std::size_t history_capacity = 0;
  std::chrono::seconds history_age{0}; // older messages leave the history; 0: no age limit
  std::shared_ptr<node_metrics> metrics;
  uint64_t heartbeat_seconds = 0; // 0: no heartbeats
  node_report facts;              // from (about): ports, version, start time
  std::vector<caf::actor> others; // the node's other actors, for --inspect

  void forget_session(const caf::actor_addr& who);
  // Returns the name of the peer whose gate `who` was, or "" when it was none.
  std::string forget_peer(const caf::actor_addr& who);
  // Messages for `peer` go to `peer_gate` from now on; false if nothing changed.
  bool add_peer(const std::string& peer, const caf::actor& peer_gate);
  // Keeps `message` in the history, dropping the oldest beyond the capacity or age.
  void remember(chat_message message, int64_t now_us);
  // Drops messages published longer than history_age before `now_us` from the history's front.
  void forget_old(int64_t now_us);
  // The last `max` messages of the history, oldest first.
  std::vector<chat_message> recent(uint64_t max) const;
  // What our history has beyond `clock` (all of an origin it does not name), and its gaps: for a
  // stream resuming at `clock`, or a peer's (catchup ...).
  resume_plan beyond(const stream_clock& clock) const;
};

constexpr std::size_t default_history = 1000;

// How much the room remembers: at most `count` messages, none older than `age` (0: any age).
struct history_limits {
  std::size_t count = default_history;
  std::chrono::seconds age{600};
};

caf::behavior room(caf::stateful_actor<room_state>* self, std::string node, uint64_t incarnation,
                   std::shared_ptr<node_metrics> metrics, history_limits limits);

} // namespace watercooler
