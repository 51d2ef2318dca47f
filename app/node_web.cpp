// Starts a node's front: the context the routes share, the limits, and the two listeners.
#include "app/node_web.hpp"

#include "web/actions.hpp"
#include "web/http/tls_context.hpp"
#include "web/routes.hpp"

namespace watercooler {

namespace {

// Threads for requests that are whole in memory; a publish waits for the room on one.
constexpr size_t request_threads = 8;

} // namespace

outcome<void> start_web(caf::actor_system& system, const options& opts, const node_settings& s,
                        const tls_files& https_files, const caf::actor& room,
                        const caf::actor& presence, std::shared_ptr<node_metrics> metrics,
                        node_web& web) {
  auto context = std::make_shared<web_context>();
  context->system = &system;
  context->room = room;
  context->presence = presence;
  context->node = s.node;
  context->max_body = opts.max_body;
  context->max_message = opts.max_message;
  context->streams = std::make_shared<address_slots>(opts.max_streams);
  context->publish_rate = std::make_shared<rate_limiter>(opts.publish_rate, opts.publish_burst);
  context->proxies = trusted_proxies(opts.trust_proxy);
  context->metrics = metrics;
  context->poller = std::make_shared<stream_poller>();
  context->limits = {opts.stream_queue, opts.stream_queue_bytes};
  // web/'s poller and front say why not in a string argument; here that becomes the outcome.
  if (std::string why; !context->poller->ok(why))
    return outcome<void>::fail(why);
  context->home_page_html = render_page("home_page.html", s.node);
  context->not_found_html = render_page("not_found_page.html", s.node);

  auto logger = install_routes(web.routes, context);
  front_settings settings;
  settings.max_header = opts.max_header;
  settings.max_body = opts.max_body;
  settings.read_timeout = std::chrono::seconds(opts.read_timeout);
  settings.keep_alive_timeout = std::chrono::seconds(opts.keep_alive_timeout);
  settings.h2_max_streams = opts.h2_max_streams;
  settings.h2_max_resets = opts.h2_max_resets;
  settings.max_connections =
    opts.max_connections != 0 ? opts.max_connections : default_max_connections();
  settings.max_per_address = opts.max_connections_per_address;
  settings.threads = request_threads;
  web.front = std::make_unique<http_front>(web.routes, settings, metrics);
  web.front->set_refusal_logger(logger);
  std::string error;
  auto https = server_tls(https_files.certificate_path, https_files.key_path, error);
  if (!https)
    return outcome<void>::fail(error + " (in " + s.state_dir + ")");
  if (web.front->listen(opts.bind, opts.port, nullptr, error) == 0
      || web.front->listen(opts.bind, opts.secure_port, https, error) == 0
      || !web.front->start(error))
    return outcome<void>::fail(error);
  return outcome<void>::ok();
}

} // namespace watercooler
