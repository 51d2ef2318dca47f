// A node's settings: what argv, sys.config and the files they name say, checked before anything
// starts.
#pragma once

#include <optional>
#include <string>

#include "actors/outcome.hpp"
#include "actors/wire/node_name.hpp"
#include "app/dist_tls.hpp"
#include "app/options.hpp"
#include "app/sys_config.hpp"

namespace watercooler {

struct node_settings {
  sys_config config;
  std::optional<node_name> name; // none: a node alone, nonode@nohost
  std::string node;
  std::string cookie; // a node alone needs none, as in Erlang
  std::optional<dist_tls_files> dist_tls;
  std::string state_dir; // where the HTTPS certificate is kept
};

// The settings, or the mistake in them (a usage error: exit code 2). The certificate in
// `state_dir` is made by the caller: failing that is no usage error.
outcome<node_settings> read_settings(const options& opts);

} // namespace watercooler
