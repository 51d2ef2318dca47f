// Finds peers through the port mapper, proves the cookie to their gates, and redials whatever
// drops. Only link actors talk to other nodes; the cluster itself is never seen from outside.
#include "actors/cluster.hpp"

#include <algorithm>
#include <iostream>

#include <caf/io/all.hpp>

#include "actors/epmd_client.hpp"
#include "actors/handshake.hpp"
#include "actors/log.hpp"
#include "actors/message_text.hpp"
#include "actors/node_name.hpp"

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

std::string connect_failure(caf::actor_system& system, const caf::error& err, bool tls) {
  auto text = "cannot connect: " + error_text(system, err);
  // A TLS handshake that fails, or TLS meeting plain BASP, ends the connection before CAF's own
  // handshake: CAF cannot tell which it was.
  // Which of the two CAF reports depends on when the other side hangs up (both were seen).
  constexpr const char* tls_hint =
    "TLS handshake failed: a certificate was refused, or the node does not use --dist-tls)";
  if (err == caf::sec::disconnect_during_handshake)
    text += tls ? std::string(" (") + tls_hint : " (the node may use --dist-tls)";
  else if (tls && err == caf::sec::cannot_connect_to_node)
    text += std::string(" (the node is down, or the ") + tls_hint;
  return text;
}

namespace {

struct link_state {
  static inline const char* name = "link";

  caf::actor cluster; // the link ends with it
  std::string peer;
  caf::actor gate; // the peer's
  std::shared_ptr<node_metrics> metrics;
  bool pinging = false;
};

using link_actor = caf::stateful_actor<link_state>*;

bool from_here(caf::local_actor* self) {
  const auto& sender = self->current_sender();
  return !sender || sender->node() == self->node();
}

// Ends the link with the cluster (node shutdown) and, once linked, with the peer's gate; drops
// what it does not understand.
void watch(link_actor self, caf::actor cluster) {
  // Peers learn our address and may send anything: CAF's default handler would print it with
  // caf::to_string, which a peer's bytes can crash (see message_text.hpp).
  self->set_default_handler(caf::drop);
  self->state.cluster = std::move(cluster);
  self->monitor(self->state.cluster);
  self->set_down_handler([=](const caf::down_msg& msg) {
    if (msg.source == self->state.cluster.address())
      self->quit(caf::exit_reason::user_shutdown);
    else if (msg.source == self->state.gate.address())
      self->quit(msg.reason);
  });
}

// Connected: watch the peer's gate, ping it when the cluster ticks.
caf::behavior linked(link_actor self, std::chrono::milliseconds timeout) {
  self->monitor(self->state.gate);
  return {
    [=](inspect_atom) -> caf::result<actor_report> {
      if (!from_here(self))
        return caf::sec::unexpected_message;
      return actor_report{"link " + self->state.peer, "event-based", self->mailbox().size()};
    },
    [=](tick_atom) {
      auto& st = self->state;
      if (!from_here(self) || st.pinging)
        return;
      st.pinging = true;
      auto sent = std::chrono::steady_clock::now();
      self->request(st.gate, timeout, ping_atom::value)
        .then(
          [=](ping_atom) {
            self->state.pinging = false;
            auto rtt = std::chrono::steady_clock::now() - sent;
            self->state.metrics->peer_rtt(
              self->state.peer, std::chrono::duration_cast<std::chrono::microseconds>(rtt).count());
          },
          [=](const caf::error&) {
            self->state.pinging = false;
            self->state.metrics->peer_rtt(self->state.peer, -1);
          });
    },
  };
}

// A node that greeted our gate and passed its handshake.
caf::behavior accepted_link(link_actor self, caf::actor cluster, std::string peer,
                            caf::actor peer_gate, std::shared_ptr<node_metrics> metrics,
                            std::chrono::milliseconds timeout) {
  watch(self, std::move(cluster));
  self->state.peer = std::move(peer);
  self->state.gate = std::move(peer_gate);
  self->state.metrics = std::move(metrics);
  return linked(self, timeout);
}

// Dials a node: connect, take its challenge, prove the cookie, check its proof back.
caf::behavior dialling_link(link_actor self, cluster_config config, caf::actor cluster,
                            caf::actor own_gate, std::shared_ptr<trusted_nodes> trusted,
                            std::shared_ptr<node_metrics> metrics, std::string peer,
                            std::string host, uint16_t port) {
  watch(self, cluster);
  auto& st = self->state;
  st.peer = peer;
  st.metrics = std::move(metrics);
  auto address = host + ":" + std::to_string(port);
  auto timeout = config.handshake_timeout;
  auto fail = [=](const std::string& why) {
    self->send(cluster, unknown_atom::value, self->state.peer, why);
    self->quit();
  };
  auto greet = [=](const std::string& challenge) {
    auto& s = self->state;
    auto ours = new_challenge();
    auto proof = prove(config.cookie, proof_role::dial, challenge, config.node, s.peer);
    self
      ->request(s.gate, timeout, hello_atom::value, config.node, config.dist_port, proof, ours,
                own_gate)
      .then(
        [=](bool accepted, const std::string& who, const std::string& back,
            const std::vector<std::string>& peers) {
          auto& s2 = self->state;
          if (!accepted)
            return fail("refused by " + s2.peer + ": " + who);
          if (who != s2.peer)
            return fail("the node there calls itself " + who);
          if (!same_proof(prove(config.cookie, proof_role::answer, ours, s2.peer, config.node),
                          back))
            return fail("the node there does not know our cookie");
          trusted->add(s2.gate.node());
          self->send(cluster, up_atom::value, s2.peer, address, s2.gate, peers);
          self->become(linked(self, timeout));
        },
        [=](const caf::error& err) { fail("no handshake: " + error_text(self->system(), err)); });
  };
  auto mm = config.connector ? config.connector : self->system().middleman().actor_handle();
  self->request(mm, timeout, caf::connect_atom::value, host, port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        self->state.gate = caf::actor_cast<caf::actor>(std::move(ptr));
        if (!self->state.gate)
          return fail("the node publishes no gate");
        self->request(self->state.gate, timeout, challenge_atom::value)
          .then([=](const std::string& challenge) { greet(challenge); },
                [=](const caf::error& err) {
                  fail("no challenge: " + error_text(self->system(), err));
                });
      },
      [=](const caf::error& err) { fail(connect_failure(self->system(), err, config.tls)); });
  return {
    [](tick_atom) {}, // pings start once linked
    [=](inspect_atom) -> caf::result<actor_report> {
      if (!from_here(self))
        return caf::sec::unexpected_message;
      return actor_report{"link " + self->state.peer + " (dialling)", "event-based",
                          self->mailbox().size()};
    },
  };
}

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

// The link for `name` is up: tell the room and meet the node's peers.
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
  self->send(s.room, peer_atom::value, name, peer_gate, s.gate, we_dialled);
  for (const auto& peer : peers) // mesh: meet the peers of our peers
    if (peer != s.config.node && s.wanted.insert(peer).second)
      s.learned.insert(peer);
}

} // namespace

caf::behavior cluster(cluster_actor self, cluster_config config, caf::actor room, caf::actor gate,
                      std::shared_ptr<trusted_nodes> trusted,
                      std::shared_ptr<node_metrics> metrics) {
  auto& st = self->state;
  st.config = std::move(config);
  st.room = std::move(room);
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
      auto link =
        self->spawn<caf::monitored>(dialling_link, s.config, caf::actor_cast<caf::actor>(self),
                                    s.gate, s.trusted, s.metrics, name, parsed->host, port);
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
    // PEER <name> <address> <gate>: a node dialled our gate and passed the handshake. Answers
    // with our other peers.
    [=](peer_atom, const std::string& name, const std::string& address,
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
      auto now = std::chrono::steady_clock::now();
      if (now - s.last_ping < s.config.ping_interval)
        return;
      s.last_ping = now;
      for (const auto& [name, link] : s.links)
        if (link.up)
          self->send(link.link, tick_atom::value);
    },
    // INSPECT: for --inspect's list of actors: the cluster and each link.
    [=](inspect_atom) -> caf::result<std::vector<actor_report>> {
      auto& s = self->state;
      auto reports = std::make_shared<std::vector<actor_report>>();
      reports->push_back({"cluster", "event-based", self->mailbox().size()});
      if (s.links.empty())
        return *reports;
      auto promise = self->make_response_promise<std::vector<actor_report>>();
      auto pending = std::make_shared<size_t>(s.links.size());
      auto done = [=]() mutable {
        if (--*pending == 0)
          promise.deliver(*reports);
      };
      for (const auto& [node, link] : s.links)
        self->request(link.link, std::chrono::seconds(1), inspect_atom::value)
          .then([=](const actor_report& r) mutable { reports->push_back(r), done(); },
                [=](const caf::error&) mutable { done(); });
      return promise;
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

dialer::dialer(caf::actor_system& system, caf::actor cluster_actor, cluster_config config) {
  thread_ =
    std::thread([this, &system, cluster_actor, config] { run(system, cluster_actor, config); });
}

dialer::~dialer() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void dialer::run(caf::actor_system& system, caf::actor cluster_actor, cluster_config config) {
  caf::scoped_actor self{system};
  for (;;) {
    self->send(cluster_actor, tick_atom::value);
    std::vector<std::string> names;
    self->request(cluster_actor, config.handshake_timeout, dial_atom::value)
      .receive([&](std::vector<std::string>& xs) { names = std::move(xs); },
               [&](const caf::error&) {});
    for (const auto& name : names) {
      auto parsed = parse_node_name(name);
      if (!parsed) {
        self->send(cluster_actor, unknown_atom::value, name, parsed.error);
        continue;
      }
      auto port =
        epmd_port_please(parsed->host, config.epmd_port, parsed->alive, config.lookup_timeout);
      if (port)
        self->send(cluster_actor, found_atom::value, name, *port);
      else
        self->send(cluster_actor, unknown_atom::value, name, port.error);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (wake_.wait_for(lock, config.retry_interval, [this] { return stopping_; }))
      return;
  }
}

} // namespace watercooler
