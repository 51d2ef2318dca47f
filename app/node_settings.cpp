// Reads and checks a node's settings: sys.config, node name, cookie, --dist-tls files, certificate.
#include "app/node_settings.hpp"

#include <cstdlib>

#include "actors/log.hpp"
#include "app/cookie.hpp"

namespace watercooler {

int fail(const early_exit& exit) {
  if (!exit.why.empty())
    log_line(exit.why);
  return exit.code;
}

std::variant<node_settings, early_exit> read_settings(const options& opts) {
  node_settings s;
  if (!opts.config_path.empty()) {
    auto loaded = load_sys_config(opts.config_path);
    if (!loaded)
      return early_exit{*loaded.error, 2};
    s.config = loaded.config;
  }
  if (!opts.name.empty()) {
    auto parsed = parse_node_name(opts.name);
    if (!parsed)
      return early_exit{parsed.error, 2};
    s.name = *parsed;
  }
  s.node = s.name ? s.name->to_string() : std::string("nonode@nohost");
  if (s.name) {
    auto loaded = load_cookie(opts.cookie, std::getenv("HOME"));
    if (!loaded)
      return early_exit{loaded.error, 2};
    s.cookie = *loaded;
  }
  if (opts.dist_tls) {
    auto loaded = load_dist_tls({opts.dist_cert, opts.dist_key, opts.dist_ca});
    if (auto* error = std::get_if<std::string>(&loaded))
      return early_exit{*error, 2};
    s.dist_tls = std::get<dist_tls_files>(loaded);
  }
  s.state_dir = opts.state_dir.empty() ? default_state_dir() : opts.state_dir;
  auto tls = ensure_self_signed_certificate(s.state_dir);
  if (auto* error = std::get_if<std::string>(&tls))
    return early_exit{*error, 1};
  s.https = std::get<tls_files>(tls);
  return s;
}

} // namespace watercooler
