// --dist-tls: node-to-node connections over CAF's OpenSSL module, with mutual authentication.
#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "actors/outcome.hpp"

namespace watercooler {

struct dist_tls_files {
  std::string certificate; // this node's certificate (PEM), chain up to the CA allowed
  std::string key;         // its private key (PEM, unencrypted)
  std::string ca;          // the CA certificate(s) a peer's certificate must chain to
};

// The files checked and held open for the life of the process, as /proc/self/fd paths to give
// CAF; or why they cannot serve, as a usage error: unreadable, not PEM, a key that is not the
// certificate's, or a certificate the CA file does not vouch for. CAF reads the files again for
// every connection and dies (an exception on its network thread) if that fails, so they are
// checked before anything starts, and a file removed or replaced later changes nothing.
outcome<dist_tls_files> load_dist_tls(const dist_tls_files& files);

// Loads CAF's OpenSSL module with the files. With a certificate configured, CAF requires and
// verifies a peer certificate on both ends of every connection it makes or accepts.
void configure_dist_tls(caf::actor_system_config& cfg, const dist_tls_files& files);

// From now on, every peer certificate a handshake refuses is logged on stderr.
void log_refused_certificates();

} // namespace watercooler
