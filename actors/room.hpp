// The chat room of one node: local sessions, peer nodes' rooms, and delivery between them.
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

#include "actors/metrics.hpp"
#include "actors/protocol.hpp"

namespace watercooler {

struct room_state {
  static inline const char* name = "room";

  std::string node;         // this node's name, the origin of messages published here
  uint64_t incarnation = 0; // tells this run's sequence numbers from an earlier run's
  uint64_t next_seq = 0;
  std::vector<caf::actor> sessions;
  std::set<caf::actor_addr> wants_history; // sessions that joined with a replay or a resume
  std::map<std::string, caf::actor> peers; // node name -> its gate
  caf::actor gate;                         // ours: what we send to peers is sent as from it
  std::map<std::pair<std::string, uint64_t>, uint64_t> seen; // (origin, incarnation) -> last seq
  std::map<std::string, uint64_t> incarnations; // origin -> incarnation of its latest message
  // Messages from peers that came after a gap, by (origin, incarnation) and seq, until the gap
  // is filled (catchup) or given up on (release).
  std::map<std::pair<std::string, uint64_t>, std::map<uint64_t, chat_message>> held;
  std::map<std::string, stream_clock> unanswered; // catchups from peers not linked yet
  // Our catchups to each peer since it linked up: how often this question was sent, and
  // whether the peer answered it. No entry: not asked yet.
  struct catchup_ask {
    int sent = 0;
    bool answered = false;
  };
  std::map<std::string, catchup_ask> asks;
  std::chrono::milliseconds hold_timeout{3000};
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
  void remember(chat_message message);
  // Drops messages published longer than history_age before `now_us` from the history's front.
  void forget_old(int64_t now_us);
  // The last `max` messages of the history, oldest first.
  std::vector<chat_message> recent(uint64_t max) const;
  // What a stream resuming at `clock` gets: the history it has not seen, and its gaps.
  resume_plan resume(const stream_clock& clock) const;
  // What this node has: per origin, the last seq of its latest incarnation.
  stream_clock clock() const;
  // The answer to a peer's (catchup ...): what our history has beyond `have` (all of an origin
  // it does not name).
  resume_plan catchup(const stream_clock& have) const;
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
