// The room of one node: fans text out to local sessions, forwards local posts once to each peer.
#include "actors/room.hpp"

#include <algorithm>
#include <iostream>

#include "actors/message_text.hpp"
#include "actors/node_name.hpp"

namespace watercooler {

void room_state::forget_session(const caf::actor_addr& who) {
  auto it = std::find_if(sessions.begin(), sessions.end(),
                         [&](const caf::actor& s) { return s.address() == who; });
  if (it == sessions.end())
    return;
  std::swap(*it, sessions.back()); // order of sessions does not matter
  sessions.pop_back();
}

std::string room_state::forget_peer(const caf::actor_addr& who) {
  for (auto it = peers.begin(); it != peers.end(); ++it) {
    if (it->second.address() == who) {
      auto peer = it->first;
      peers.erase(it);
      return peer;
    }
  }
  return {};
}

bool room_state::add_peer(const std::string& peer, const caf::actor& peer_room) {
  if (peer == node || !peer_room)
    return false;
  auto& slot = peers[peer];
  if (slot == peer_room)
    return false;
  slot = peer_room;
  return true;
}

void room_state::remember(chat_message message) {
  if (history_capacity == 0)
    return;
  if (history.size() == history_capacity)
    history.pop_front();
  history.push_back(std::move(message));
}

std::vector<chat_message> room_state::recent(uint64_t max) const {
  auto n = static_cast<std::size_t>(std::min<uint64_t>(max, history.size()));
  return {history.end() - static_cast<std::ptrdiff_t>(n), history.end()};
}

resume_plan room_state::resume(const stream_clock& clock) const {
  return plan_resume(history, seen, clock);
}

caf::behavior room(caf::stateful_actor<room_state>* self, std::string node, uint64_t incarnation,
                   std::shared_ptr<node_metrics> metrics, std::size_t history_capacity) {
  self->state.node = std::move(node);
  self->state.incarnation = incarnation;
  self->state.metrics = std::move(metrics);
  self->state.history_capacity = history_capacity;
  self->set_down_handler([=](const caf::down_msg& msg) {
    self->state.forget_session(msg.source);
    auto peer = self->state.forget_peer(msg.source);
    if (!peer.empty())
      std::cerr << "watercooler: lost node " << peer << '\n';
  });
  // Peers are other programs: a message of the wrong shape is reported and dropped.
  self->set_default_handler([=](caf::scheduled_actor* who, caf::message_view& msg) {
    ++self->state.metrics->dropped;
    std::cerr << "watercooler: " << who->name() << " dropped an unexpected message "
              << message_text(who->system(), msg.copy_content_to_message()).substr(0, 200) << '\n';
    return caf::result<caf::message>{caf::sec::unexpected_message};
  });
  auto adopt = [=](const std::string& name, const caf::actor& peer_gate) {
    if (self->state.add_peer(name, peer_gate)) {
      self->monitor(peer_gate);
      std::cerr << "watercooler: connected to node " << name << '\n';
    }
  };
  auto deliver_locally = [=](const std::string& origin, uint64_t inc, uint64_t seq,
                             int64_t published_us, const std::string& author,
                             const std::string& text) {
    auto& last = self->state.seen[{origin, inc}];
    if (seq <= last) {
      ++self->state.metrics->dropped; // a duplicate: each session sees each message once
      return;
    }
    last = seq;
    ++self->state.delivered;
    // One message shared by every session: CAF copies it only if someone writes to it.
    auto msg = caf::make_message(deliver_atom::value, origin, inc, seq, published_us, author, text);
    for (const auto& session : self->state.sessions)
      self->send(session, msg);
    self->state.remember({origin, inc, seq, published_us, author, text});
  };
  return {
    // JOIN <session>
    [=](join_atom, const caf::actor& session) {
      self->monitor(session);
      self->state.sessions.push_back(session);
    },
    // JOIN <session> <replay>: the recent history first, then every live message.
    [=](join_atom, const caf::actor& session, uint64_t replay) {
      self->send(session, history_atom::value, self->state.recent(replay));
      self->monitor(session);
      self->state.sessions.push_back(session);
    },
    // RESUME <session> <clock>: what the clock misses of the history first, then every live
    // message.
    [=](resume_atom, const caf::actor& session, const stream_clock& clock) {
      auto plan = self->state.resume(clock);
      self->send(session, history_atom::value, std::move(plan.replay), std::move(plan.gaps));
      self->monitor(session);
      self->state.sessions.push_back(session);
    },
    // HEARTBEAT <seconds>: from the app; the first starts the ticks.
    [=](heartbeat_atom, uint64_t seconds) {
      bool ticking = self->state.heartbeat_seconds != 0;
      self->state.heartbeat_seconds = seconds;
      if (!ticking && seconds != 0)
        self->delayed_send(self, std::chrono::seconds(seconds), tick_atom::value);
    },
    // TICK: one timer for all of the node's streams.
    [=](tick_atom) {
      auto seconds = self->state.heartbeat_seconds;
      if (seconds == 0)
        return;
      auto beat = caf::make_message(heartbeat_atom::value);
      for (const auto& session : self->state.sessions)
        self->send(session, beat);
      self->delayed_send(self, std::chrono::seconds(seconds), tick_atom::value);
    },
    // HISTORY <max>
    [=](history_atom, uint64_t max) { return self->state.recent(max); },
    // LEAVE <session>
    [=](leave_atom, const caf::actor& session) {
      self->demonitor(session);
      self->state.forget_session(session.address());
    },
    // PUBLISH <author> <text>: forward once to every peer node, then deliver here.
    [=](publish_atom, const std::string& author,
        const std::string& text) -> std::tuple<uint64_t, uint64_t> {
      auto& st = self->state;
      auto seq = ++st.next_seq;
      auto published_us = now_us();
      ++st.published;
      ++st.metrics->published;
      // As our gate: peers trust it, and never learn of the room.
      for (const auto& [name, peer_gate] : st.peers) {
        caf::send_as(st.gate, peer_gate, deliver_atom::value, st.node, st.incarnation, seq,
                     published_us, author, text);
        st.metrics->forwarded_to(name);
      }
      deliver_locally(st.node, st.incarnation, seq, published_us, author, text);
      return {st.incarnation, seq};
    },
    // DELIVER <origin> <incarnation> <seq> <published_us> <author> <text>: from a peer, through our
    // gate; never re-forwarded.
    [=](deliver_atom, const std::string& origin, uint64_t inc, uint64_t seq, int64_t published_us,
        const std::string& author, const std::string& text) {
      ++self->state.metrics->received;
      // The origin goes into every stream's SSE id: one that is not a node name, such as "",
      // would make those ids unreadable when browsers resume with them.
      if (!is_node_name(origin)) {
        ++self->state.metrics->dropped;
        std::cerr << "watercooler: room dropped a message from origin '" << origin.substr(0, 80)
                  << "', not a node name\n";
        return;
      }
      self->state.metrics->received_from(origin);
      deliver_locally(origin, inc, seq, published_us, author, text);
    },
    // PEER <name> <gate> <via>: the cluster linked this node (it passed the cookie handshake);
    // messages for it go to its gate, sent as our gate `via`.
    [=](peer_atom, const std::string& name, const caf::actor& peer_gate, const caf::actor& via) {
      self->state.gate = via;
      adopt(name, peer_gate);
    },
    // ABOUT <facts> <others>
    [=](about_atom, const node_report& facts, const std::vector<caf::actor>& others) {
      self->state.facts = facts;
      self->state.others = others;
    },
    // INSPECT: the node's facts, room, peers, and what each session and other actor says.
    [=](inspect_atom) -> caf::result<node_report> {
      auto& st = self->state;
      auto report = std::make_shared<node_report>(st.facts);
      report->name = st.node;
      report->now_ms = now_us() / 1000;
      report->members = st.sessions.size();
      report->published = st.published;
      report->delivered = st.delivered;
      report->received = st.metrics->received;
      for (const auto& entry : st.metrics->peers())
        report->peers.push_back(entry.second);
      report->actors.push_back({"room", "event-based", self->mailbox().size()});
      auto promise = std::make_shared<caf::typed_response_promise<node_report>>(
        self->make_response_promise<node_report>());
      auto asked = st.sessions.size() + st.others.size();
      auto pending = std::make_shared<size_t>(asked);
      auto done = [=] {
        if (--*pending == 0)
          promise->deliver(std::move(*report));
      };
      if (asked == 0) {
        promise->deliver(std::move(*report));
        return *promise;
      }
      // An actor that does not answer within a second is left out rather than holding the rest.
      for (const auto& session : st.sessions)
        self->request(session, std::chrono::seconds(1), inspect_atom::value)
          .then([=](const session_report& s) { report->sessions.push_back(s), done(); },
                [=](const caf::error&) { done(); });
      for (const auto& other : st.others)
        self->request(other, std::chrono::seconds(1), inspect_atom::value)
          .then(
            [=](const std::vector<actor_report>& a) {
              report->actors.insert(report->actors.end(), a.begin(), a.end());
              done();
            },
            [=](const caf::error&) { done(); });
      return *promise;
    },
    // STOP: the node is going away; every stream ends with a reconnect hint.
    [=](stop_atom) -> uint64_t {
      auto& st = self->state;
      uint64_t ended = st.sessions.size();
      for (const auto& session : st.sessions) {
        self->demonitor(session);
        self->send(session, stop_atom::value);
      }
      st.sessions.clear();
      return ended;
    },
    // STATS
    [=](stats_atom) -> std::tuple<uint64_t, uint64_t, uint64_t, uint64_t> {
      const auto& st = self->state;
      return {st.sessions.size(), st.peers.size(), st.published, st.delivered};
    },
  };
}

} // namespace watercooler
