// Cross-node ordering: which messages of peers the room delivers when, what it asks peers for,
// and which gaps it gives up on. No actors: events in, decisions out, time passed in as a value.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/logic/stream_clock.hpp"
#include "actors/wire/chat_message.hpp"

namespace watercooler {

using ordering_time = std::chrono::steady_clock::time_point;

struct ordering_limits {
  std::size_t max_held = 1000;                     // messages held per origin behind a gap
  std::chrono::milliseconds hold_timeout{3000};    // then the gap is given up on
  int max_asks = 5;                                // a catchup is asked this often...
  std::chrono::milliseconds ask_again_after{1000}; // ...this far apart, until answered
  // A node that dialled us asks us first, once it trusts us; if it has not within this time
  // (both nodes dialled at once and each kept the other's connection), we ask it.
  std::chrono::milliseconds ask_unasked_after{2000};
};

// What the room does after an event, each part in its order.
struct ordering_decisions {
  // A message for the local sessions and the history; everything before it from its origin was
  // delivered first. A `past` one (from before this node knew its origin) goes only to the
  // sessions that asked for history.
  struct delivery {
    chat_message message;
    bool past = false;
  };
  // For the local sessions, in this order: messages and gap events (messages that will not come).
  std::vector<std::variant<delivery, stream_gap>> out;
  std::vector<std::string> ask;      // send each of these peers (catchup, node, clock()) now
  std::optional<ordering_time> wake; // call tick() then (earlier wakes still stand)
  uint64_t dropped = 0;              // duplicates, and messages of an origin that is no node name
};

// Per (origin, incarnation) the messages are delivered once and in order. One that arrives
// after a gap is held while the origin is asked for the rest, until hold_timeout; what a peer
// says it no longer has, or what did not come in time, becomes a gap event.
class ordering {
public:
  using origin_key = std::pair<std::string, uint64_t>; // (origin, incarnation)
  using seen_map = std::map<origin_key, uint64_t>;     // -> last seq delivered

  explicit ordering(ordering_limits limits = {});

  // A message published on this node: delivered at once.
  ordering_decisions publish(const chat_message& message);
  // A live message from a peer, its origin a node name.
  ordering_decisions receive(chat_message message, ordering_time now);
  // A peer's answer to our (catchup ...): what it had beyond our clock, and the ranges it no
  // longer holds. Origins this node never heard of are the cluster's past (this node is new).
  ordering_decisions backfill(const std::string& from, const std::vector<chat_message>& missed,
                              const std::vector<stream_gap>& trimmed, ordering_time now);
  // The cluster linked `peer`; `fresh`: a new connection, not one announced again. `trusted`:
  // the peer trusts us already (we dialled it, or it asked us), so we ask it now; else it asks
  // first and we ask back, or we ask after ask_unasked_after all the same.
  ordering_decisions link_up(const std::string& peer, bool fresh, bool trusted, ordering_time now);
  // A linked peer asked us (catchup ...): it trusts us, so we ask it too unless we have.
  ordering_decisions asked_by(const std::string& peer, ordering_time now);
  // The peer is gone or stopping: nothing is asked of it until it links up again.
  void link_down(const std::string& peer);
  // Time passed: gaps held too long are given up on, unanswered asks are sent again.
  ordering_decisions tick(ordering_time now);

  // What this node has: per origin, the last seq of its latest incarnation.
  stream_clock clock() const;
  const seen_map& seen() const {
    return seen_;
  }

private:
  struct held_messages {
    std::map<uint64_t, chat_message> waiting; // by seq
    ordering_time give_up_at;
    // Of an origin never heard of, while a peer's answer may still bring what came before: then
    // it starts where the answer leaves it, or where its first message is (no gap).
    bool unheard = false;
  };
  // Our catchups to a peer since it linked up. No entry: not asked yet.
  struct catchup_ask {
    int sent = 0;
    bool answered = false;
    std::optional<ordering_time> again_at;
  };

  void accept(chat_message m, bool caught_up, bool past, ordering_time now, ordering_decisions& d);
  void deliver(chat_message m, bool past, ordering_decisions& d);
  void drain(const origin_key& key, ordering_decisions& d);
  void give_up(const origin_key& key, uint64_t from, uint64_t to, ordering_decisions& d);
  void ask(const std::string& peer, ordering_time now, ordering_decisions& d);
  void ask_again(const std::string& peer, ordering_time now, ordering_decisions& d);
  // A linked peer's answer to our catchup may still come (or our first ask is still due).
  bool catching_up() const;
  // Once nothing is awaited, what waits of origins never heard of starts where it is.
  void release_unheard(ordering_decisions& d);
  void start_unheard(const origin_key& key, ordering_decisions& d);
  // Sets d.wake when a deadline comes before the wake already asked for.
  ordering_decisions& arm(ordering_decisions& d);

  ordering_limits limits_;
  seen_map seen_;
  std::map<std::string, uint64_t> incarnations_; // origin -> incarnation of its latest message
  std::map<origin_key, held_messages> held_;
  std::set<std::string> linked_;
  std::map<std::string, catchup_ask> asks_;
  std::map<std::string, ordering_time> first_ask_at_; // dialled by peers that have not asked
  std::optional<ordering_time> armed_;                // the earliest wake asked for
};

} // namespace watercooler
