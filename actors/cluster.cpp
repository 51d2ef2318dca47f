// Finds peers through the port mapper, greets their rooms, and redials whatever drops.
#include "actors/cluster.hpp"

#include <iostream>

#include <caf/io/all.hpp>

#include "actors/node_name.hpp"
#include "actors/port_mapper.hpp"

namespace watercooler {

std::vector<std::string> cluster_state::missing_mandatory() const {
  std::vector<std::string> missing;
  for (const auto& node : config.mandatory)
    if (node != config.node && connected.count(node) == 0)
      missing.push_back(node);
  return missing;
}

bool cluster_state::synced() const {
  for (const auto* list : {&config.optional, &config.mandatory})
    for (const auto& node : *list)
      if (node != config.node && connected.count(node) == 0)
        return false;
  return true;
}

namespace {

using cluster_actor = caf::stateful_actor<cluster_state>*;

void report(cluster_actor self, const std::string& name, const std::string& error) {
  auto& last = self->state.last_error[name];
  if (last == error)
    return;
  last = error;
  if (!error.empty())
    std::cerr << "watercooler: waiting for node " << name << ": " << error << '\n';
}

void greet(cluster_actor self, const std::string& name, const caf::actor& peer_room) {
  auto& st = self->state;
  self->request(peer_room, st.config.handshake_timeout, hello_atom::value, st.config.node, st.room)
    .then(
      [=](const std::string& answered, const std::vector<std::string>& peers) {
        auto& s = self->state;
        s.dialing.erase(name);
        if (answered != name) {
          report(self, name, "the node there calls itself " + answered);
          return;
        }
        report(self, name, "");
        s.connected[name] = peer_room;
        self->monitor(peer_room);
        self->send(s.room, peer_atom::value, name, peer_room);
        for (const auto& peer : peers) // mesh: meet the peers of our peers
          if (peer != s.config.node && s.wanted.insert(peer).second)
            s.learned.insert(peer);
      },
      [=](const caf::error& err) {
        self->state.dialing.erase(name);
        report(self, name, "no handshake: " + self->system().render(err));
      });
}

void dial(cluster_actor self, const std::string& name, uint16_t port) {
  auto& st = self->state;
  auto parsed = parse_node_name(name);
  if (!parsed || st.connected.count(name) > 0 || !st.dialing.insert(name).second)
    return;
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, st.config.handshake_timeout, caf::connect_atom::value, parsed->host, port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto peer_room = caf::actor_cast<caf::actor>(std::move(ptr));
        if (!peer_room) {
          self->state.dialing.erase(name);
          report(self, name, "the node publishes no room");
          return;
        }
        greet(self, name, peer_room);
      },
      [=](const caf::error& err) {
        self->state.dialing.erase(name);
        report(self, name, "cannot connect: " + self->system().render(err));
      });
}

} // namespace

caf::behavior cluster(caf::stateful_actor<cluster_state>* self, cluster_config config,
                      caf::actor room) {
  auto& st = self->state;
  st.config = std::move(config);
  st.room = std::move(room);
  st.sync_deadline = std::chrono::steady_clock::now() + st.config.sync_timeout;
  if (st.config.sync_timeout == std::chrono::milliseconds::max())
    st.sync_deadline = std::chrono::steady_clock::time_point::max();
  for (const auto* list : {&st.config.optional, &st.config.mandatory})
    for (const auto& name : *list)
      if (name != st.config.node)
        st.wanted.insert(name);
  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& s = self->state;
    for (auto it = s.connected.begin(); it != s.connected.end(); ++it) {
      if (it->second.address() != msg.source)
        continue;
      auto name = it->first;
      s.connected.erase(it);
      if (s.learned.erase(name) > 0)
        s.wanted.erase(name); // it knows our name and will dial us when it is back
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
        if (s.connected.count(name) == 0 && s.dialing.count(name) == 0)
          names.push_back(name);
      return names;
    },
    // FOUND <name> <port>: the port mapper knows where the node listens.
    [=](found_atom, const std::string& name, uint16_t port) { dial(self, name, port); },
    // UNKNOWN <name> <why>
    [=](unknown_atom, const std::string& name, const std::string& why) { report(self, name, why); },
    // INSPECT: for --inspect's list of actors.
    [=](inspect_atom) {
      return actor_report{"cluster", "event-based", self->mailbox().size()};
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
