// The room of one node: fans text out to local sessions, forwards local posts once to each peer.
#include "actors/room.hpp"

#include <algorithm>
#include <iostream>
#include <set>

#include "actors/log.hpp"
#include "actors/message_text.hpp"
#include "actors/node_name.hpp"

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

void room_state::remember(chat_message message) {
  if (history_capacity == 0)
    return;
  if (history.size() == history_capacity)
    history.pop_front();
  history.push_back(std::move(message));
  forget_old(now_us());
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

resume_plan room_state::resume(const stream_clock& clock) const {
  return plan_resume(history, seen, clock);
}

stream_clock room_state::clock() const {
  stream_clock out;
  for (const auto& [origin, latest] : incarnations) {
    auto it = seen.find({origin, latest});
    out[origin] = {latest, it == seen.end() ? 0 : it->second};
  }
  return out;
}

resume_plan room_state::catchup(const stream_clock& have) const {
  return plan_resume(history, seen, have); // origins the asker never heard of: all we have
}

namespace {

// Peers may hold back at most this many messages per origin behind a gap.
constexpr std::size_t max_held = 1000;
// A catchup is asked this many times, a second apart, before the peer is given up on.
constexpr int max_catchup_asks = 5;
// A node that dialled us asks us first, once it trusts us; if it has not within this time (both
// nodes dialled at once and each kept the other's connection), we ask it.
constexpr std::chrono::seconds ask_unasked_after{2};

} // namespace

caf::behavior room(caf::stateful_actor<room_state>* self, std::string node, uint64_t incarnation,
                   std::shared_ptr<node_metrics> metrics, history_limits limits) {
  self->state.node = std::move(node);
  self->state.incarnation = incarnation;
  self->state.metrics = std::move(metrics);
  self->state.history_capacity = limits.count;
  self->state.history_age = limits.age;
  self->set_down_handler([=](const caf::down_msg& msg) {
    self->state.forget_session(msg.source);
    auto peer = self->state.forget_peer(msg.source);
    if (!peer.empty())
      log_line("lost node ", peer);
  });
  // Peers are other programs: a message of the wrong shape is reported and dropped.
  self->set_default_handler([=](caf::scheduled_actor* who, caf::message_view& msg) {
    ++self->state.metrics->dropped;
    log_line(who->name(), " dropped an unexpected message ",
             message_text(who->system(), msg.copy_content_to_message()).substr(0, 200));
    return refuse_quietly(who);
  });
  self->set_error_handler([](caf::error&) {}); // e.g. a peer's gate refusing what we sent
  using origin_key = std::pair<std::string, uint64_t>;
  // Every local session and the history get `m`; everything before it from its origin is here.
  // A `past` message (from before this node knew its origin) goes only to the sessions that
  // asked for history (JSON pages, resumed streams), not to plain live streams.
  auto deliver_now = [=](const chat_message& m, bool past = false) {
    auto& st = self->state;
    st.seen[{m.origin, m.incarnation}] = m.seq;
    st.incarnations[m.origin] = m.incarnation;
    ++st.delivered;
    // One message shared by every session: CAF copies it only if someone writes to it.
    auto msg = caf::make_message(deliver_atom::value, m.origin, m.incarnation, m.seq,
                                 m.published_us, m.author, m.text);
    for (const auto& session : st.sessions)
      if (!past || st.wants_history.count(session.address()) != 0)
        self->send(session, msg);
    st.remember(m);
  };
  // Delivers what was held back behind a gap that is now closed.
  auto drain = [=](const origin_key& key) {
    auto& st = self->state;
    auto it = st.held.find(key);
    if (it == st.held.end())
      return;
    auto& waiting = it->second;
    while (!waiting.empty()) {
      auto first = waiting.begin();
      auto last = st.seen[key];
      if (first->first > last + 1)
        break;
      auto m = std::move(first->second);
      waiting.erase(first);
      if (m.seq == last + 1)
        deliver_now(m);
    }
    if (waiting.empty())
      st.held.erase(it);
  };
  // Messages [from, to] of `key` will not come: sessions get a gap event, and what waited after
  // them goes out.
  auto give_up = [=](const origin_key& key, uint64_t from, uint64_t to) {
    auto& st = self->state;
    auto& last = st.seen[key];
    from = std::max(from, last + 1);
    if (to >= from) {
      log_line("messages ", from, " to ", to, " of ", key.first, " are lost to this node");
      auto gap = std::vector<stream_gap>{{key.first, key.second, from, to}};
      for (const auto& session : st.sessions)
        self->send(session, history_atom::value, std::vector<chat_message>{}, gap);
      last = to;
      st.incarnations[key.first] = key.second;
    }
    drain(key);
  };
  // Asks `peer` for what it has beyond our clock, and again every second until it answers (the
  // peer's gate drops what comes before it trusts us, and its link may come up after ours).
  // `again`: a reminder of the question already asked, sent only while it is unanswered.
  auto ask_for_what_we_miss = [=](const std::string& peer, bool again = false) {
    auto& st = self->state;
    auto it = st.peers.find(peer);
    if (it == st.peers.end())
      return;
    auto& ask = st.asks[peer];
    if (!again)
      ask = {};
    else if (ask.answered || ask.sent >= max_catchup_asks)
      return;
    ++ask.sent;
    caf::send_as(st.gate, it->second, catchup_atom::value, st.node, st.clock());
    self->delayed_send(self, std::chrono::seconds(1), catchup_atom::value, peer);
  };
  auto answer_catchup = [=](const caf::actor& peer_gate, const stream_clock& have) {
    auto& st = self->state;
    st.forget_old(now_us());
    auto plan = st.catchup(have);
    caf::send_as(st.gate, peer_gate, backfill_atom::value, st.node, std::move(plan.replay),
                 std::move(plan.gaps));
  };
  // A message from a peer, live or caught up: delivered once, in order per origin. After a gap
  // it waits until the gap is filled or hold_timeout passes; a first message from an origin
  // never heard of starts it where it is (a new node does not replay the cluster's past).
  auto accept = [=](chat_message m, bool caught_up, bool past = false) {
    auto& st = self->state;
    origin_key key{m.origin, m.incarnation};
    auto seen = st.seen.find(key);
    if (seen != st.seen.end() && m.seq <= seen->second) {
      ++st.metrics->dropped; // a duplicate: each session sees each message once
      return;
    }
    auto last = seen == st.seen.end() ? 0 : seen->second;
    bool known_origin = st.incarnations.count(m.origin) != 0;
    if (m.seq == last + 1 || (seen == st.seen.end() && (!known_origin || caught_up))) {
      deliver_now(m, past);
      drain(key);
      return;
    }
    auto& waiting = st.held[key];
    bool first_held = waiting.empty();
    waiting.emplace(m.seq, std::move(m));
    if (waiting.size() > max_held)
      return give_up(key, last + 1, waiting.begin()->first - 1);
    if (first_held) {
      ask_for_what_we_miss(key.first);
      self->delayed_send(self, st.hold_timeout, release_atom::value, key.first, key.second);
    }
  };
  auto adopt = [=](const std::string& name, const caf::actor& peer_gate, bool trusted_there) {
    auto& st = self->state;
    if (st.add_peer(name, peer_gate)) {
      self->monitor(peer_gate);
      log_line("connected to node ", name);
      st.asks.erase(name);
      if (auto it = st.unanswered.find(name); it != st.unanswered.end()) {
        answer_catchup(peer_gate, it->second);
        st.unanswered.erase(it);
        trusted_there = true; // it asked: it trusts us
      }
    }
    // After a partition or a restart each side asks the other for what it missed. A node that
    // dialled us may not trust us yet: it asks first, and we ask back then; if it does not
    // (both dialled at once, and each kept the other's connection), we ask all the same.
    if (st.asks.count(name) != 0)
      return;
    if (trusted_there)
      ask_for_what_we_miss(name);
    else
      self->delayed_send(self, ask_unasked_after, catchup_atom::value, name);
  };
  return {
    // JOIN <session>
    [=](join_atom, const caf::actor& session) {
      self->monitor(session);
      self->state.sessions.push_back(session);
    },
    // JOIN <session> <replay>: the recent history first, then every live message.
    [=](join_atom, const caf::actor& session, uint64_t replay) {
      self->state.forget_old(now_us());
      self->send(session, history_atom::value, self->state.recent(replay));
      self->state.wants_history.insert(session.address());
      self->monitor(session);
      self->state.sessions.push_back(session);
    },
    // RESUME <session> <clock>: what the clock misses of the history first, then every live
    // message.
    [=](resume_atom, const caf::actor& session, const stream_clock& clock) {
      self->state.forget_old(now_us());
      auto plan = self->state.resume(clock);
      self->send(session, history_atom::value, std::move(plan.replay), std::move(plan.gaps));
      self->state.wants_history.insert(session.address());
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
    [=](history_atom, uint64_t max) {
      self->state.forget_old(now_us());
      return self->state.recent(max);
    },
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
      deliver_now({st.node, st.incarnation, seq, published_us, author, text});
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
        log_line("room dropped a message from origin '", origin.substr(0, 80),
                 "', not a node name");
        return;
      }
      self->state.metrics->received_from(origin);
      accept({origin, inc, seq, published_us, author, text}, false);
    },
    // CATCHUP <asker> <have>: a peer asks for what our history has beyond its clock.
    [=](catchup_atom, const std::string& asker, const stream_clock& have) {
      auto& st = self->state;
      auto it = st.peers.find(asker);
      if (it == st.peers.end()) {
        st.unanswered[asker] = have; // its link reached us before ours reached it
        return;
      }
      answer_catchup(it->second, have);
      if (st.asks.count(asker) == 0) // it trusts us: it asked
        ask_for_what_we_miss(asker);
    },
    // CATCHUP <peer>: to ourselves; ask if we have not, again if it has not answered.
    [=](catchup_atom, const std::string& peer) { ask_for_what_we_miss(peer, true); },
    // BACKFILL <from> <missed> <trimmed>: the answer; ranges the peer no longer holds are given
    // up.
    [=](backfill_atom, const std::string& from, const std::vector<chat_message>& missed,
        const std::vector<stream_gap>& trimmed) {
      if (auto ask = self->state.asks.find(from); ask != self->state.asks.end())
        ask->second.answered = true;
      for (const auto& gap : trimmed)
        if (gap.to != 0 && is_node_name(gap.origin))
          give_up({gap.origin, gap.incarnation}, gap.from, gap.to);
      // Origins this node never heard of are the cluster's past (this node is new): history
      // for those who asked for it. The rest filled gaps of streams that were open meanwhile.
      std::set<std::string> past;
      for (const auto& m : missed)
        if (self->state.incarnations.count(m.origin) == 0)
          past.insert(m.origin);
      for (const auto& m : missed) {
        if (is_node_name(m.origin)) // as for (deliver ...)
          accept(m, true, past.count(m.origin) != 0);
        else
          ++self->state.metrics->dropped;
      }
    },
    // RELEASE <origin> <incarnation>: the messages held back behind a gap wait no longer.
    [=](release_atom, const std::string& origin, uint64_t inc) {
      auto& st = self->state;
      auto it = st.held.find({origin, inc});
      if (it == st.held.end() || it->second.empty())
        return;
      give_up({origin, inc}, 1, it->second.begin()->first - 1);
    },
    // PEER <name> <gate> <via> <we_dialled>: the cluster linked this node (it passed the cookie
    // handshake); messages for it go to its gate, sent as our gate `via`.
    [=](peer_atom, const std::string& name, const caf::actor& peer_gate, const caf::actor& via,
        bool we_dialled) {
      self->state.gate = via;
      adopt(name, peer_gate, we_dialled);
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
    // GOODBYE <node>: a peer stops; what we publish meanwhile it catches up on when back.
    [=](goodbye_atom, const std::string& name) {
      auto& st = self->state;
      auto it = st.peers.find(name);
      if (it == st.peers.end())
        return;
      self->demonitor(it->second);
      st.peers.erase(it);
      st.metrics->peer_stopped(name);
      log_line("node ", name, " is stopping");
    },
    // STOP: the node is going away; peers are told, and every stream ends with a reconnect hint.
    [=](stop_atom) -> uint64_t {
      auto& st = self->state;
      for (const auto& [name, peer_gate] : st.peers)
        caf::send_as(st.gate, peer_gate, goodbye_atom::value, st.node);
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
