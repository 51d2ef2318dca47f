// The one CAF configuration of the process, node or inspector.
#include "app/actor_system_setup.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <pthread.h>
#include <sched.h>

#include "actors/protocol.hpp"

namespace watercooler {

sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

std::size_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<std::size_t>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

void configure_actor_system(caf::actor_system_config& cfg,
                            const std::optional<dist_tls_files>& dist_tls) {
  cfg.load<caf::io::middleman>();
  if (dist_tls)
    configure_dist_tls(cfg, *dist_tls);
  // Heartbeats find a peer that hangs without closing its connection.
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  cfg.set("logger.console", caf::atom("none"));
  // CAF's default work-stealing workers, one per hardware thread and at least 4, poll for work
  // when idle and sleep in short naps; at a chat room's everyday load that polling took a fifth
  // of the node's CPU (BENCHMARKS.md, issue 20). Work-sharing workers wait on one queue's
  // condition variable, as an event loop waits in epoll, and there is one per CPU this process
  // may run on: more only take turns on the same cores.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", usable_cpus());
  add_report_types(cfg);
}

caf::io::middleman_actor distribution_connector(caf::actor_system& system, bool dist_tls) {
  return dist_tls ? system.openssl_manager().actor_handle() : system.middleman().actor_handle();
}

} // namespace watercooler
