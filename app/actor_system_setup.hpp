// What a node and an inspector set up alike before they talk to other nodes: the stop signals,
// the CAF configuration and the actor that dials distribution ports.
#pragma once

#include <csignal>
#include <cstddef>
#include <optional>

#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>

#include "app/dist_tls.hpp"

namespace watercooler {

// Blocks SIGINT and SIGTERM in this thread, and so in every thread started from it (the actor
// system's included): they wait for sigwait/sigtimedwait on the set returned.
sigset_t block_stop_signals();

// The CPUs the calling thread may run on (its affinity mask, as `taskset` or systemd's
// CPUAffinity= set it): how many scheduler workers the actor system gets.
std::size_t usable_cpus();

// CAF's work-sharing scheduler with a worker per usable CPU; its middleman, over TLS with
// `dist_tls` (its OpenSSL module, peers verified both ways), BASP heartbeats that find a peer hung
// without closing, no console log, and the message types that cross the network.
void configure_actor_system(caf::actor_system_config& cfg,
                            const std::optional<dist_tls_files>& dist_tls);

// What links and inspectors connect through: CAF's middleman, or its TLS one with --dist-tls.
caf::io::middleman_actor distribution_connector(caf::actor_system& system, bool dist_tls);

} // namespace watercooler
