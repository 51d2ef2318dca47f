// The self-signed certificate for HTTPS: made with OpenSSL on first start, kept in a state dir.
#pragma once

#include <string>

#include "actors/outcome.hpp"

namespace watercooler {

struct tls_files {
  std::string certificate_path; // <state_dir>/cert.pem
  std::string key_path;         // <state_dir>/key.pem, mode 0600
};

// Reuses cert.pem and key.pem in `state_dir` if both load, belong together and the certificate
// is valid for at least another day; otherwise writes a new EC P-256 pair for localhost,
// 127.0.0.1 and ::1. Creates `state_dir` (0700, with parents) if needed. Nodes starting at the
// same time take turns through a lock file and never see half-written files. Never throws: on
// failure the error is a message like "cannot create /x/state: Permission denied".
outcome<tls_files> ensure_self_signed_certificate(const std::string& state_dir);

// $WATERCOOLER_STATE_DIR, else $XDG_STATE_HOME/watercooler, else $HOME/.local/state/watercooler,
// else ./.watercooler. Empty variables, and a relative XDG_STATE_HOME, count as unset.
std::string default_state_dir();

} // namespace watercooler
