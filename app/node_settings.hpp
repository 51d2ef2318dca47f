// A node's settings: what argv, sys.config and the files they name say, checked before anything
// starts.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "actors/wire/node_name.hpp"
#include "app/certificate.hpp"
#include "app/dist_tls.hpp"
#include "app/options.hpp"
#include "app/sys_config.hpp"

namespace watercooler {

// Why the node ends before it serves: the line for stderr (none after a stop signal) and the
// exit code.
struct early_exit {
  std::string why;
  int code = 1;
};

// Logs `exit.why` (if any) and returns its code.
int fail(const early_exit& exit);

struct node_settings {
  sys_config config;
  std::optional<node_name> name; // none: a node alone, nonode@nohost
  std::string node;
  std::string cookie; // a node alone needs none, as in Erlang
  std::optional<dist_tls_files> dist_tls;
  std::string state_dir;
  tls_files https;
};

// The settings, or why not: mistakes in the configuration are usage errors (2); a certificate
// that cannot be made is not (1).
std::variant<node_settings, early_exit> read_settings(const options& opts);

} // namespace watercooler
