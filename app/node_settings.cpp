// Reads and checks a node's settings: sys.config, node name, cookie, --dist-tls files.
#include "app/node_settings.hpp"

#include <cstdlib>
#include <utility>

#include "app/certificate.hpp"
#include "app/cookie.hpp"

namespace watercooler {

outcome<node_settings> read_settings(const options& opts) {
  using result = outcome<node_settings>;
  node_settings s;
  if (!opts.config_path.empty()) {
    auto loaded = load_sys_config(opts.config_path);
    if (!loaded)
      return result::fail(loaded.error);
    s.config = *loaded;
  }
  if (!opts.name.empty()) {
    auto parsed = parse_node_name(opts.name);
    if (!parsed)
      return result::fail(parsed.error);
    s.name = *parsed;
  }
  s.node = s.name ? s.name->to_string() : std::string("nonode@nohost");
  if (s.name || !opts.cookie_file.empty()) { // a file named is checked even if unused
    auto loaded = load_cookie(opts.cookie, opts.cookie_file, std::getenv("HOME"));
    if (!loaded)
      return result::fail(loaded.error);
    s.cookie = *loaded;
  }
  if (opts.dist_tls) {
    auto loaded = load_dist_tls({opts.dist_cert, opts.dist_key, opts.dist_ca});
    if (!loaded)
      return result::fail(loaded.error);
    s.dist_tls = *loaded;
  }
  s.state_dir = opts.state_dir.empty() ? default_state_dir() : opts.state_dir;
  return result::ok(std::move(s));
}

} // namespace watercooler
