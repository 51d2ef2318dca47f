// Spawns a link for each wanted node the dialer found and for each node that greeted our gate,
// and redials whatever drops. Only links talk to other nodes; the cluster is never seen outside.
#include "actors/cluster.hpp"

#include <algorithm>

#include <caf/io/all.hpp>

#include "actors/inspect_fan_in.hpp"
#include "actors/link.hpp"
#include "actors/log.hpp"
#include "actors/wire/node_name.hpp"

namespace watercooler {

bool cluster_state::connected(const std::string& node) const {
  auto it = links.find(node);
  return it != links.end() && it->second.up;
}

std::vector<std::string> cluster_state::connected_names() const {
  std::vector<std::string> names;
  for (const auto& [node, link] : links)
    if (link.up)
      names.push_back(node);
  return names;
}

std::vector<std::string> cluster_state::missing_mandatory() const {
  std::vector<std::string> missing;
  for (const auto& node : config.mandatory)
    if (node != config.node && !connected(node))
      missing.push_back(node);
  return missing;
}

bool cluster_state::synced() const {
  for (const auto* list : {&config.optional, &config.mandatory})
    for (const auto& node : *list)
      if (node != config.node && !connected(node))
        return false;
  return true;
}

namespace {

using cluster_actor = caf::stateful_actor<cluster_state>*;

void report(cluster_actor self, const std::string& name, const std::string& error) {
  if (!error.empty())
    self->state.metrics->peer_failed(name, error);
  auto& last = self->state.last_error[name];
  if (last == error)
    return;
  last = error;
  if (!error.empty())
    log_line("waiting for node ", name, ": ", error);
}

// The link for `name` is up: tell the room and the presence, and meet the node's peers.
// `we_dialled`: our link's hello was accepted, so the node trusts us already (when it dialled
// us, it does once its own link has checked our answer).
void adopt(cluster_actor self, const std::string& name, const std::string& address,
           const caf::actor& peer_gate, const std::vector<std::string>& peers, bool we_dialled) {
  auto& s = self->state;
  auto& entry = s.links[name];
  entry.up = true;
  entry.gate = peer_gate;
  entry.address = address;
  report(self, name, "");
  s.metrics->peer_connected(name, address);
  auto up = caf::make_message(peer_atom::value, name, peer_gate, s.gate, we_dialled);
  for (const auto& actor : s.told)
    self->send(actor, up);
  for (const auto& peer : peers) // mesh: meet the peers of our peers
    if (peer != s.config.node && s.wanted.insert(peer).second)
      s.learned.insert(peer);
}

} // namespace

caf::behavior cluster(cluster_actor self, cluster_config config, std::vector<caf::actor> told,
                      caf::actor gate, std::shared_ptr<trusted_nodes> trusted,
                      std::shared_ptr<node_metrics> metrics) {
  auto& st = self->state;
  st.config = std::move(config);
  st.told = std::move(told);
  st.gate = std::move(gate);
  st.trusted = std::move(trusted);
  st.metrics = std::move(metrics);
  st.sync_deadline = std::chrono::steady_clock::now() + st.config.sync_timeout;
  if (st.config.sync_timeout == std::chrono::milliseconds::max())
    st.sync_deadline = std::chrono::steady_clock::time_point::max();
  for (const auto* list : {&st.config.optional, &st.config.mandatory})
    for (const auto& name : *list)
      if (name != st.config.node) {
        st.wanted.insert(name);
        st.metrics->peer_failed(name, "not reached yet");
      }
  // A link ended: its handshake failed, or its connection was lost.
  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& s = self->state;
    for (auto it = s.links.begin(); it != s.links.end(); ++it) {
      if (it->second.link.address() != msg.source)
        continue;
      auto name = it->first;
      bool was_up = it->second.up;
      if (was_up)
        s.trusted->remove(it->second.gate.node());
      s.links.erase(it);
      if (!was_up)
        return;
      if (s.learned.erase(name) > 0)
        s.wanted.erase(name); // it knows our name and will dial us when it is back
      s.metrics->peer_lost(name, s.wanted.count(name) > 0);
      report(self, name, "connection lost");
      return;
    }
  });
  return {
    // DIAL: the wanted nodes that are neither connected nor being dialled.
    [=](dial_atom) {
      auto& s = self->state;
      std::vector<std::string> names;
      for (const auto& name : s.wanted)
        if (s.links.count(name) == 0)
          names.push_back(name);
      return names;
    },
    // FOUND <name> <port>: the port mapper knows where the node listens; a link dials it.
    [=](found_atom, const std::string& name, uint16_t port) {
      auto& s = self->state;
      auto parsed = parse_node_name(name);
      if (!parsed || s.links.count(name) > 0 || s.wanted.count(name) == 0)
        return;
      gate_address to{name,
                      parsed->host,
                      port,
                      s.config.connector,
                      s.config.tls,
                      s.config.cookie,
                      s.config.handshake_timeout};
      if (!to.connector)
        to.connector = self->system().middleman().actor_handle();
      auto link = self->spawn<caf::monitored>(dialling_link, caf::actor_cast<caf::actor>(self), to,
                                              s.config.node, s.config.dist_port, s.gate, s.trusted,
                                              s.metrics);
      s.links[name].link = link;
    },
    // UNKNOWN <name> <why>: from the dialer thread or a link whose handshake failed.
    [=](unknown_atom, const std::string& name, const std::string& why) { report(self, name, why); },
    // UP <name> <address> <gate> <peers>: a link's handshake succeeded.
    [=](up_atom, const std::string& name, const std::string& address, const caf::actor& peer_gate,
        const std::vector<std::string>& peers) {
      auto& s = self->state;
      auto it = s.links.find(name);
      if (it == s.links.end() || it->second.link.address() != self->current_sender())
        return; // a link replaced meanwhile
      adopt(self, name, address, peer_gate, peers, true);
    },
    // GREETED <name> <address> <gate>: a node dialled our gate and passed the handshake.
    // Answers with our other peers.
    [=](greeted_atom, const std::string& name, const std::string& address,
        const caf::actor& peer_gate) -> std::vector<std::string> {
      auto& s = self->state;
      auto others = s.connected_names();
      others.erase(std::remove(others.begin(), others.end(), name), others.end());
      auto it = s.links.find(name);
      if (it != s.links.end() && it->second.up && it->second.gate == peer_gate)
        return others;           // we dialled it ourselves: one connection, already linked
      if (it != s.links.end()) { // a dial under way, or a connection about to drop: replace it
        self->demonitor(it->second.link);
        if (it->second.up)
          s.trusted->remove(it->second.gate.node());
        self->send_exit(it->second.link, caf::exit_reason::user_shutdown);
      }
      auto link =
        self->spawn<caf::monitored>(accepted_link, caf::actor_cast<caf::actor>(self), name,
                                    peer_gate, s.metrics, s.config.handshake_timeout);
      s.links[name].link = link;
      s.trusted->add(peer_gate.node()); // the gate trusted it; the link keeps it so
      adopt(self, name, address, peer_gate, {}, false);
      return others;
    },
    // TICK: from the dialer thread every round; pings each peer once per ping_interval.
    [=](tick_atom) {
      auto& s = self->state;
      if (!from_this_node(self))
        return;
      auto now = std::chrono::steady_clock::now();
      if (now - s.last_ping < s.config.ping_interval)
        return;
      s.last_ping = now;
      for (const auto& [name, link] : s.links)
        if (link.up)
          self->send(link.link, measure_atom::value);
    },
    // ACTORS: for --inspect's list of actors: the cluster and each link.
    [=](actors_atom) -> caf::result<std::vector<actor_report>> {
      using reports = std::vector<actor_report>;
      if (!from_this_node(self))
        return caf::sec::unexpected_message;
      inspect_fan_in<reports> fan_in{self, {{"cluster", "event-based", self->mailbox().size()}}};
      for (const auto& [node, link] : self->state.links)
        fan_in.ask<reports>(link.link, actors_atom::value, [](reports& all, reports more) {
          all.insert(all.end(), more.begin(), more.end());
        });
      return fan_in.answer();
    },
    // SYNC: done once the sys.config nodes are connected or sync_nodes_timeout passed; then
    // the mandatory nodes still missing.
    [=](sync_atom) -> std::tuple<bool, std::vector<std::string>> {
      auto& s = self->state;
      if (!s.synced() && std::chrono::steady_clock::now() < s.sync_deadline)
        return {false, {}};
      return {true, s.missing_mandatory()};
    },
  };
}

} // namespace watercooler
