// The one CAF configuration of the process, node or inspector.
#include "app/actor_system_setup.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <pthread.h>

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

void configure_actor_system(caf::actor_system_config& cfg,
                            const std::optional<dist_tls_files>& dist_tls) {
  cfg.load<caf::io::middleman>();
  if (dist_tls)
    configure_dist_tls(cfg, *dist_tls);
  // Heartbeats find a peer that hangs without closing its connection.
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  cfg.set("logger.console", caf::atom("none"));
  // An idle worker of CAF's work-stealing scheduler polls for work, at first every 50 us, which
  // takes CPU on a busy core from the threads that have work. Work queued from a thread outside
  // CAF for a sleeping worker may wait up to 2 ms; after this phase the relaxed polling sleeps
  // 10 ms, which is where an idle process is anyway.
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{std::chrono::milliseconds(2)});
  add_report_types(cfg);
}

caf::io::middleman_actor distribution_connector(caf::actor_system& system, bool dist_tls) {
  return dist_tls ? system.openssl_manager().actor_handle() : system.middleman().actor_handle();
}

} // namespace watercooler
