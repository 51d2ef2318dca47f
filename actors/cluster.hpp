// The cluster of one node: dials the nodes of sys.config by name and keeps them connected.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "actors/protocol.hpp"

namespace watercooler {

struct cluster_config {
  std::string node;                   // this node, name@host
  std::vector<std::string> optional;  // sync_nodes_optional
  std::vector<std::string> mandatory; // sync_nodes_mandatory
  std::chrono::milliseconds sync_timeout{0};
  uint16_t epmd_port = 4369;
  std::chrono::milliseconds retry_interval{250};
  std::chrono::milliseconds lookup_timeout{1000};
  std::chrono::milliseconds handshake_timeout{3000};
};

struct cluster_state {
  static inline const char* name = "cluster";

  cluster_config config;
  caf::actor room;
  std::set<std::string> wanted;  // sys.config's nodes and nodes learned from peers
  std::set<std::string> learned; // wanted only while they are up
  std::map<std::string, caf::actor> connected;
  std::set<std::string> dialing;                 // handshakes under way
  std::map<std::string, std::string> last_error; // logged once per change
  std::chrono::steady_clock::time_point sync_deadline;

  // The mandatory nodes not connected yet.
  std::vector<std::string> missing_mandatory() const;
  bool synced() const;
};

// Greets and watches peers; the dialer tells it where they are.
caf::behavior cluster(caf::stateful_actor<cluster_state>* self, cluster_config config,
                      caf::actor room);

// Looks the cluster's missing nodes up through their port mappers, every retry_interval. Port
// mapper queries block (up to lookup_timeout), so they run on this thread of its own rather
// than on an actor: CAF 0.17 can hang at shutdown on a detached actor with pending timers.
class dialer {
public:
  dialer(caf::actor_system& system, caf::actor cluster_actor, cluster_config config);
  ~dialer(); // stops and joins the thread; before the actor system goes away
  dialer(const dialer&) = delete;
  dialer& operator=(const dialer&) = delete;

private:
  void run(caf::actor_system& system, caf::actor cluster_actor, cluster_config config);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace watercooler
