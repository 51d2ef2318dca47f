// The room of one node: fans messages out to local sessions, forwards local posts once to each
// peer, and carries out what its ordering decides for peers' messages.
#include "actors/room.hpp"

#include <algorithm>
#include <tuple>
#include <variant>

#include "actors/inspect_fan_in.hpp"
#include "actors/log.hpp"
#include "actors/wire/message_text.hpp"
#include "actors/wire/node_name.hpp"

namespace watercooler {

void room_state::forget_session(const caf::actor_addr& who) {
  wants_history.erase(who);
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

bool room_state::add_peer(const std::string& peer, const caf::actor& peer_gate) {
  if (peer == node || !peer_gate)
    return false;
  auto& slot = peers[peer];
  if (slot == peer_gate)
    return false;
  slot = peer_gate;
  return true;
}

void room_state::remember(chat_message message, int64_t now) {
  if (history_capacity == 0)
    return;
  if (history.size() == history_capacity)
    history.pop_front();
  history.push_back(std::move(message));
  forget_old(now);
}

void room_state::forget_old(int64_t now) {
  if (history_age.count() == 0)
    return;
  auto cutoff = now - std::chrono::duration_cast<std::chrono::microseconds>(history_age).count();
  while (!history.empty() && history.front().published_us < cutoff)
    history.pop_front();
}

std::vector<chat_message> room_state::recent(uint64_t max) const {
  auto n = static_cast<std::size_t>(std::min<uint64_t>(max, history.size()));
  return {history.end() - static_cast<std::ptrdiff_t>(n), history.end()};
}

resume_plan room_state::beyond(const stream_clock& clock) const {
  return plan_resume(history, order.seen(), clock);
}

namespace {

using room_actor = caf::stateful_actor<room_state>*;

ordering_time now() {
  return std::chrono::steady_clock::now();
}

// To a peer node's gate, relayed by ours: the peer trusts our gate and never learns of the room.
void to_peer(room_actor self, const caf::actor& peer_gate, caf::message msg) {
  self->send(self->state.gate, relay_atom::value, peer_gate, std::move(msg));
}

// Every local session and the history get `m`. A `past` message (from before this node knew its
// origin) goes only to the sessions that asked for history (JSON pages, resumed streams), not to
// plain live streams.
void deliver_here(room_actor self, const chat_message& m, bool past) {
  auto& st = self->state;
  ++st.delivered;
  // One message shared by every session: CAF copies it only if someone writes to it.
  auto msg = caf::make_message(deliver_atom::value, m);
  for (const auto& session : st.sessions)
    if (!past || st.wants_history.count(session.address()) != 0)
      self->send(session, msg);
  st.remember(m, now_us());
}

// Messages of `gap` will not come: every session gets a gap event.
void announce_gap(room_actor self, const stream_gap& gap) {
  log_line("messages ", gap.from, " to ", gap.to, " of ", gap.origin, " are lost to this node");
  auto msg = caf::make_message(history_atom::value, std::vector<chat_message>{},
                               std::vector<stream_gap>{gap});
  for (const auto& session : self->state.sessions)
    self->send(session, msg);
}

// Asks `peer` for what it has beyond our clock.
void ask(room_actor self, const std::string& peer) {
  auto& st = self->state;
  if (auto it = st.peers.find(peer); it != st.peers.end())
    to_peer(self, it->second, caf::make_message(catchup_atom::value, st.node, st.order.clock()));
}

// Carries out what the ordering decided, in its order.
void apply(room_actor self, const ordering_decisions& d) {
  self->state.metrics->dropped += d.dropped;
  for (const auto& step : d.out) {
    if (const auto* due = std::get_if<ordering_decisions::delivery>(&step))
      deliver_here(self, due->message, due->past);
    else
      announce_gap(self, std::get<stream_gap>(step));
  }
  for (const auto& peer : d.ask)
    ask(self, peer);
  if (d.wake)
    self->delayed_send(self, std::max(*d.wake - now(), ordering_time::duration::zero()),
                       release_atom::value);
}

void answer_catchup(room_actor self, const caf::actor& peer_gate, const stream_clock& have) {
  auto& st = self->state;
  st.forget_old(now_us());
  auto plan = st.beyond(have);
  to_peer(
    self, peer_gate,
    caf::make_message(backfill_atom::value, st.node, std::move(plan.replay), std::move(plan.gaps)));
}

void join(room_actor self, const caf::actor& session, bool wants_history) {
  if (wants_history)
    self->state.wants_history.insert(session.address());
  self->monitor(session);
  self->state.sessions.push_back(session);
}

// A message published here: to every peer node once, then to the local sessions.
std::tuple<uint64_t, uint64_t> publish(room_actor self, const std::string& author,
                                       const std::string& text) {
  auto& st = self->state;
  chat_message m{st.node, st.incarnation, ++st.next_seq, now_us(), author, text};
  ++st.published;
  ++st.metrics->published;
  auto msg = caf::make_message(deliver_atom::value, m);
  for (const auto& [name, peer_gate] : st.peers) {
    to_peer(self, peer_gate, msg);
    st.metrics->forwarded_to(name);
  }
  apply(self, st.order.publish(m));
  return {m.incarnation, m.seq};
}

// A peer's message: delivered once, in order per origin (the ordering decides when).
void receive(room_actor self, chat_message m) {
  auto& st = self->state;
  ++st.metrics->received;
  // The origin goes into every stream's SSE id: one that is not a node name, such as "", would
  // make those ids unreadable when browsers resume with them.
  if (!is_node_name(m.origin)) {
    ++st.metrics->dropped;
    log_line("room dropped a message from origin '", m.origin.substr(0, 80), "', not a node name");
    return;
  }
  st.metrics->received_from(m.origin);
  apply(self, st.order.receive(std::move(m), now()));
}

// A peer asks for what our history has beyond its clock.
void answer(room_actor self, const std::string& asker, const stream_clock& have) {
  auto& st = self->state;
  auto it = st.peers.find(asker);
  if (it == st.peers.end()) {
    st.unanswered[asker] = have; // its link reached us before ours reached it
    return;
  }
  answer_catchup(self, it->second, have);
  apply(self, st.order.asked_by(asker, now())); // it trusts us: it asked
}

// The cluster linked `name`. After a partition or a restart each side asks the other for what it
// missed; a node that dialled us may not trust us yet, so it asks first (the ordering decides).
void adopt(room_actor self, const std::string& name, const caf::actor& peer_gate,
           bool trusted_there) {
  auto& st = self->state;
  bool fresh = st.add_peer(name, peer_gate);
  if (st.peers.count(name) == 0)
    return; // ourselves, or no gate
  if (fresh) {
    self->monitor(peer_gate);
    log_line("connected to node ", name);
    if (auto it = st.unanswered.find(name); it != st.unanswered.end()) {
      answer_catchup(self, peer_gate, it->second);
      st.unanswered.erase(it);
      trusted_there = true; // it asked: it trusts us
    }
  }
  apply(self, st.order.link_up(name, fresh, trusted_there, now()));
}

void peer_stops(room_actor self, const std::string& name) {
  auto& st = self->state;
  auto it = st.peers.find(name);
  if (it == st.peers.end())
    return;
  self->demonitor(it->second);
  st.peers.erase(it);
  st.order.link_down(name);
  st.metrics->peer_stopped(name);
  log_line("node ", name, " is stopping");
}

// The node's facts, room, peers, and what each session and other actor says.
caf::result<node_report> report_node(room_actor self) {
  auto& st = self->state;
  node_report report = st.facts;
  report.name = st.node;
  report.now_ms = now_us() / 1000;
  report.members = st.sessions.size();
  report.published = st.published;
  report.delivered = st.delivered;
  report.received = st.metrics->received;
  report.present = st.metrics->present;
  report.present_here = st.metrics->present_here;
  report.listeners = st.metrics->listeners;
  for (const auto& entry : st.metrics->peers())
    report.peers.push_back(entry.second);
  report.actors.push_back({"room", "event-based", self->mailbox().size()});
  inspect_fan_in<node_report> fan_in{self, std::move(report)};
  for (const auto& session : st.sessions)
    fan_in.ask<session_report>(session, describe_atom::value, [](node_report& r, session_report s) {
      r.sessions.push_back(std::move(s));
    });
  for (const auto& other : st.others)
    fan_in.ask<std::vector<actor_report>>(other, actors_atom::value,
                                          [](node_report& r, std::vector<actor_report> a) {
                                            r.actors.insert(r.actors.end(), a.begin(), a.end());
                                          });
  return fan_in.answer();
}

// Peers are told we stop, and every stream ends with a reconnect hint.
uint64_t stop(room_actor self) {
  auto& st = self->state;
  for (const auto& [name, peer_gate] : st.peers)
    to_peer(self, peer_gate, caf::make_message(goodbye_atom::value, st.node));
  uint64_t ended = st.sessions.size();
  for (const auto& session : st.sessions) {
    self->demonitor(session);
    self->send(session, farewell_atom::value);
  }
  st.sessions.clear();
  return ended;
}

} // namespace

caf::behavior room(room_actor self, std::string node, uint64_t incarnation,
                   std::shared_ptr<node_metrics> metrics, history_limits limits) {
  self->state.node = std::move(node);
  self->state.incarnation = incarnation;
  self->state.metrics = std::move(metrics);
  self->state.history_capacity = limits.count;
  self->state.history_age = limits.age;
  self->set_down_handler([=](const caf::down_msg& msg) {
    self->state.forget_session(msg.source);
    auto peer = self->state.forget_peer(msg.source);
    if (peer.empty())
      return;
    self->state.order.link_down(peer);
    log_line("lost node ", peer);
  });
  // Peers are other programs: a message of the wrong shape is reported and dropped.
  self->set_default_handler([=](caf::scheduled_actor* who, caf::message_view& msg) {
    ++self->state.metrics->dropped;
    log_line(who->name(), " dropped an unexpected message ",
             message_text(who->system(), msg.copy_content_to_message()).substr(0, 200));
    return refuse_quietly(who);
  });
  self->set_error_handler([](caf::error&) {}); // e.g. a session that ended before it answered
  return {
    // JOIN <session>
    [=](join_atom, const caf::actor& session) { join(self, session, false); },
    // REWIND <session> <count>: the recent history first, then every live message.
    [=](rewind_atom, const caf::actor& session, uint64_t count) {
      self->state.forget_old(now_us());
      self->send(session, history_atom::value, self->state.recent(count),
                 std::vector<stream_gap>{});
      join(self, session, true);
    },
    // RESUME <session> <clock>: what the clock misses of the history first, then every live
    // message.
    [=](resume_atom, const caf::actor& session, const stream_clock& clock) {
      self->state.forget_old(now_us());
      auto plan = self->state.beyond(clock);
      self->send(session, history_atom::value, std::move(plan.replay), std::move(plan.gaps));
      join(self, session, true);
    },
    // HEARTBEAT <seconds>: from the app; the first starts the beats.
    [=](heartbeat_atom, uint64_t seconds) {
      bool beating = self->state.heartbeat_seconds != 0;
      self->state.heartbeat_seconds = seconds;
      if (!beating && seconds != 0)
        self->delayed_send(self, std::chrono::seconds(seconds), beat_atom::value);
    },
    // BEAT: one timer for all of the node's streams.
    [=](beat_atom) {
      auto seconds = self->state.heartbeat_seconds;
      if (seconds == 0)
        return;
      auto keepalive = caf::make_message(keepalive_atom::value);
      for (const auto& session : self->state.sessions)
        self->send(session, keepalive);
      self->delayed_send(self, std::chrono::seconds(seconds), beat_atom::value);
    },
    // RECENT <max>
    [=](recent_atom, uint64_t max) {
      self->state.forget_old(now_us());
      return self->state.recent(max);
    },
    // LEAVE <session>
    [=](leave_atom, const caf::actor& session) {
      self->demonitor(session);
      self->state.forget_session(session.address());
    },
    // PUBLISH <author> <text>: forward once to every peer node, then deliver here.
    [=](publish_atom, const std::string& author, const std::string& text) {
      return publish(self, author, text);
    },
    // DELIVER <message>: from a peer, through our gate; never re-forwarded.
    [=](deliver_atom, const chat_message& m) { receive(self, m); },
    // CATCHUP <asker> <have>: a peer asks for what our history has beyond its clock.
    [=](catchup_atom, const std::string& asker, const stream_clock& have) {
      answer(self, asker, have);
    },
    // BACKFILL <from> <missed> <trimmed>: the answer to ours; ranges the peer no longer holds are
    // given up.
    [=](backfill_atom, const std::string& from, const std::vector<chat_message>& missed,
        const std::vector<stream_gap>& trimmed) {
      apply(self, self->state.order.backfill(from, missed, trimmed, now()));
    },
    // RELEASE: to ourselves, when the ordering has a deadline.
    [=](release_atom) { apply(self, self->state.order.tick(now())); },
    // PEER <name> <gate> <via> <we_dialled>: the cluster linked this node (it passed the cookie
    // handshake); messages for it go to its gate, relayed by `via`, our gate.
    [=](peer_atom, const std::string& name, const caf::actor& peer_gate, const caf::actor& via,
        bool we_dialled) {
      self->state.gate = via;
      adopt(self, name, peer_gate, we_dialled);
    },
    // ABOUT <facts> <others>
    [=](about_atom, const node_report& facts, const std::vector<caf::actor>& others) {
      self->state.facts = facts;
      self->state.others = others;
    },
    // REPORT: the node's facts, room, peers, and what each session and other actor says.
    [=](report_atom) { return report_node(self); },
    // GOODBYE <node>: a peer stops; what we publish meanwhile it catches up on when back.
    [=](goodbye_atom, const std::string& name) { peer_stops(self, name); },
    // STOP: the node is going away; peers are told, and every stream ends with a reconnect hint.
    [=](stop_atom) { return stop(self); },
    // STATS
    [=](stats_atom) -> std::tuple<uint64_t, uint64_t, uint64_t, uint64_t> {
      const auto& st = self->state;
      return {st.sessions.size(), st.peers.size(), st.published, st.delivered};
    },
  };
}

} // namespace watercooler
