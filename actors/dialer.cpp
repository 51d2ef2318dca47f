// One round a retry_interval: tick the cluster, ask it whom to dial, look each node up.
#include "actors/dialer.hpp"

#include <caf/all.hpp>

#include "actors/protocol.hpp"
#include "actors/wire/epmd_client.hpp"
#include "actors/wire/node_name.hpp"

namespace watercooler {

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
