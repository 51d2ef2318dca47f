// The presence of one node: carries out its tracker, streams' changes out, its own set to peers.
#include "actors/presence.hpp"

#include <chrono>
#include <utility>

#include "actors/log.hpp"
#include "actors/wire/message_text.hpp"

namespace watercooler {

namespace {

using presence_actor = caf::stateful_actor<presence_state>*;

presence_time now() {
  return std::chrono::steady_clock::now();
}

// How long a peer that dialled us has to ask for our roster before we send it anyway.
constexpr std::chrono::seconds ask_unasked_after{2};

// To a peer node's presence, through its gate, relayed by ours: peers never learn of us.
void to_peer(presence_actor self, const caf::actor& peer_gate, caf::message msg) {
  if (self->state.gate)
    self->send(self->state.gate, relay_atom::value, peer_gate, std::move(msg));
}

void send_roster(presence_actor self, const caf::actor& peer_gate) {
  to_peer(self, peer_gate, caf::make_message(roster_atom::value, self->state.tracker.roster()));
}

// After every event: the counters are set, the streams hear what changed, the peers how our set
// changed, and the next grace period to end is waited for.
void tell(presence_actor self) {
  auto& st = self->state;
  // First: whoever hears of a change and then reads the counters finds them up to date.
  st.metrics->present = st.tracker.people_count();
  st.metrics->present_here = st.tracker.local_people();
  st.metrics->listeners = st.tracker.listener_count();
  for (auto& change : st.tracker.take_changes()) {
    auto msg = caf::make_message(presence_atom::value, std::move(change));
    for (const auto& entry : st.watch)
      self->send(entry.second, msg);
  }
  if (auto delta = st.tracker.take_delta()) {
    auto msg = caf::make_message(changes_atom::value, std::move(*delta));
    for (const auto& entry : st.peers)
      to_peer(self, entry.second, msg);
  }
  auto wake = st.tracker.next_wake();
  for (const auto& entry : st.unasked)
    if (!wake || entry.second < *wake)
      wake = entry.second;
  if (wake && (!st.wake || *wake < *st.wake)) {
    st.wake = wake;
    self->delayed_send(self, std::max(*wake - now(), presence_time::duration::zero()),
                       lapse_atom::value);
  }
}

// A stream opened: counted, and a watching one first gets who is here, then the changes.
void arrive(presence_actor self, const caf::actor& session, const std::string& client,
            const std::string& name, const std::string& address, bool watches) {
  auto& st = self->state;
  self->monitor(session);
  auto admitted = st.tracker.open(session.id(), client, name, address, now_us());
  if (admitted.refused == "address")
    ++st.metrics->presence_refused_per_address;
  else if (admitted.refused == "total")
    ++st.metrics->presence_refused_in_all;
  tell(self); // before it watches: its snapshot has the change already
  if (!watches)
    return;
  st.watch[session.id()] = session;
  self->send(session, presence_atom::value, st.tracker.view(), admitted.person, admitted.refused);
}

// Our set to a peer, and a request for its own (it may have sent it before we knew of the link,
// and that was dropped).
void exchange(presence_actor self, const caf::actor& peer_gate) {
  send_roster(self, peer_gate);
  to_peer(self, peer_gate, caf::make_message(rollcall_atom::value, self->state.tracker.node()));
}

// The cluster linked `name`. A node we dialled trusts us: the sets are exchanged now. One that
// dialled us trusts us once its own link checked our answer, and then asks (rollcall).
void adopt(presence_actor self, const std::string& name, const caf::actor& peer_gate,
           bool we_dialled) {
  auto& st = self->state;
  if (name == st.tracker.node() || !peer_gate)
    return;
  auto& slot = st.peers[name];
  if (slot == peer_gate)
    return;
  if (slot)
    self->demonitor(slot);
  slot = peer_gate;
  self->monitor(peer_gate);
  if (we_dialled) {
    st.unasked.erase(name);
    exchange(self, peer_gate);
  } else {
    st.unasked[name] = now() + ask_unasked_after;
    tell(self); // waits for the deadline
  }
}

// A session ended, or a peer's gate is gone with its link (a crash, a partition).
void down(presence_actor self, const caf::down_msg& msg) {
  auto& st = self->state;
  for (auto it = st.peers.begin(); it != st.peers.end(); ++it) {
    if (it->second.address() == msg.source) {
      auto name = it->first;
      st.peers.erase(it);
      st.unasked.erase(name);
      st.tracker.node_lost(name);
      return tell(self);
    }
  }
  st.watch.erase(msg.source.id());
  st.tracker.close(msg.source.id(), now());
  tell(self);
}

} // namespace

caf::behavior presence(presence_actor self, std::string node, presence_limits limits,
                       std::shared_ptr<node_metrics> metrics) {
  self->state.tracker = presence_tracker{std::move(node), limits};
  self->state.metrics = std::move(metrics);
  self->set_down_handler([=](const caf::down_msg& msg) { down(self, msg); });
  // Peers are other programs: a message of the wrong shape is reported and dropped.
  self->set_default_handler([=](caf::scheduled_actor* who, caf::message_view& msg) {
    ++self->state.metrics->dropped;
    log_line(who->name(), " dropped an unexpected message ",
             message_text(who->system(), msg.copy_content_to_message()).substr(0, 200));
    return refuse_quietly(who);
  });
  self->set_error_handler([](caf::error&) {});
  return {
    // ARRIVE <session> <client> <name> <address> <watches>: from a stream as it opens.
    [=](arrive_atom, const caf::actor& session, const std::string& client, const std::string& name,
        const std::string& address,
        bool watches) { arrive(self, session, client, name, address, watches); },
    // PEOPLE: who is here, for GET /presence.
    [=](people_atom) { return self->state.tracker.view(); },
    // PEER <name> <gate> <via> <we_dialled>: from the cluster, a node is linked.
    [=](peer_atom, const std::string& name, const caf::actor& peer_gate, const caf::actor& via,
        bool we_dialled) {
      self->state.gate = via;
      adopt(self, name, peer_gate, we_dialled);
    },
    // ROSTER <roster>: a linked peer's whole set replaces what we held of it.
    [=](roster_atom, const presence_roster& roster) {
      if (self->state.peers.count(roster.node) == 0)
        return; // not linked (yet): we ask for it when it is
      self->state.tracker.replace(roster);
      tell(self);
    },
    // CHANGES <delta>: a linked peer's set changed; out of step, we ask for the whole.
    [=](changes_atom, const presence_delta& delta) {
      auto& st = self->state;
      auto peer = st.peers.find(delta.node);
      if (peer == st.peers.end())
        return;
      if (!st.tracker.apply(delta))
        to_peer(self, peer->second, caf::make_message(rollcall_atom::value, st.tracker.node()));
      tell(self);
    },
    // ROLLCALL <asker>: a linked peer asks for our whole set; one that dialled us asks for it
    // once it trusts us, and gets its own asked for.
    [=](rollcall_atom, const std::string& asker) {
      auto& st = self->state;
      auto peer = st.peers.find(asker);
      if (peer == st.peers.end())
        return;
      if (st.unasked.erase(asker) != 0)
        exchange(self, peer->second);
      else
        send_roster(self, peer->second);
    },
    // GOODBYE <node>: a peer stops; its people may reconnect elsewhere within the grace period.
    [=](goodbye_atom, const std::string& name) {
      self->state.tracker.node_stopping(name, now());
      tell(self);
    },
    // LAPSE: a grace period ended, or a peer that dialled us did not ask in time.
    [=](lapse_atom) {
      auto& st = self->state;
      st.wake.reset();
      auto t = now();
      for (auto it = st.unasked.begin(); it != st.unasked.end();) {
        auto next = std::next(it);
        if (it->second <= t) {
          if (auto peer = st.peers.find(it->first); peer != st.peers.end())
            exchange(self, peer->second);
          st.unasked.erase(it);
        }
        it = next;
      }
      st.tracker.tick(t);
      tell(self);
    },
    // ACTORS: for --inspect's list of actors.
    [=](actors_atom) {
      return std::vector<actor_report>{{"presence", "event-based", self->mailbox().size()}};
    },
  };
}

} // namespace watercooler
