// The dialer thread: looks the cluster's missing nodes up through their port mappers.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/cluster.hpp"

namespace watercooler {

// Asks the cluster (dial) for the nodes it misses every retry_interval and answers (found ...)
// or (unknown ...) for each. Port mapper queries block (up to lookup_timeout), so they run on
// this thread of its own rather than on an actor: CAF 0.17 can hang at shutdown on a detached
// actor with pending timers. Each round also ticks the cluster, which paces its pings by that.
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
