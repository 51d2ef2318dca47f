// Wires a node together: room, port mapper, cluster, then the HTTP and HTTPS front.
#include "app/node.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <variant>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <pthread.h>

#include "actors/cluster.hpp"
#include "actors/dialer.hpp"
#include "actors/gate.hpp"
#include "actors/log.hpp"
#include "actors/node_name.hpp"
#include "actors/port_mapper.hpp"
#include "actors/room.hpp"
#include "app/certificate.hpp"
#include "app/cookie.hpp"
#include "app/dist_tls.hpp"
#include "app/sys_config.hpp"
#include "web/actions.hpp"
#include "web/http/front.hpp"
#include "web/routes.hpp"

namespace watercooler {

namespace {

// Threads for requests that are whole in memory; a publish waits for the room on one.
constexpr size_t request_threads = 8;

int fail(const std::string& text, int code) {
  log_line(text);
  return code;
}

uint64_t new_incarnation() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd()
         ^ static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
}

void configure(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  // Heartbeats find a peer that hangs without closing its connection.
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  cfg.set("logger.console", caf::atom("none"));
  // An idle worker of CAF's work-stealing scheduler polls for work, at first every 50 us. On a
  // busy core those wake-ups take CPU from the threads that have work: opening 10,000 streams
  // took 1.42 s of node CPU and 0.95 s, with 2 ms 1.19 s and 0.82 s (medians of 4). Work a
  // thread outside CAF queues for a sleeping worker may wait up to 2 ms; after this phase the
  // relaxed polling sleeps 10 ms, which is where an idle node is anyway (idle CPU unchanged).
  cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{std::chrono::milliseconds(2)});
  add_report_types(cfg);
}

// The node's long-lived actors; all of them stop when this goes out of scope.
struct node_actors {
  caf::actor room;
  caf::actor gate;
  caf::actor mapper;
  caf::actor cluster;
  std::unique_ptr<dialer> lookups; // a thread of its own, joined here

  ~node_actors() {
    lookups.reset();
    for (const auto* a : {&cluster, &gate, &mapper, &room})
      if (*a)
        caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
  }
};

const char* signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : "SIGTERM";
}

// How long a stop may take: streams end at once, but a request still being read (a client that
// sends a byte now and then) would hold the servers' threads as long as it likes.
constexpr std::chrono::milliseconds stop_grace{1500};

// From the first stop signal on: a second one exits at once (128 + signal, as a shell reports
// it); a stop that is not done after stop_grace exits 0 without waiting for stragglers.
void watch_the_stop(const sigset_t& stop_signals) {
  std::thread([stop_signals] {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(stop_grace);
    timespec grace{static_cast<time_t>(seconds.count()),
                   static_cast<long>((stop_grace - seconds).count() * 1000000)};
    int signal;
    do {
      signal = sigtimedwait(&stop_signals, nullptr, &grace);
    } while (signal < 0 && errno == EINTR);
    if (signal > 0) {
      std::fprintf(stderr, "watercooler: %s again: exiting at once\n", signal_name(signal));
      std::_Exit(128 + signal);
    }
    std::fprintf(stderr, "watercooler: stop took over %lld ms: exiting without open requests\n",
                 static_cast<long long>(stop_grace.count()));
    std::_Exit(0);
  }).detach();
}

// The mandatory nodes missing once the cluster is done waiting; nothing if a signal came first.
std::optional<std::vector<std::string>> wait_for_sync(caf::actor_system& system,
                                                      const caf::actor& the_cluster,
                                                      const sigset_t& stop_signals) {
  caf::scoped_actor self{system};
  const timespec no_wait{0, 0};
  for (;;) {
    std::optional<std::vector<std::string>> missing;
    self->request(the_cluster, std::chrono::seconds(5), sync_atom::value)
      .receive(
        [&](bool done, std::vector<std::string>& names) {
          if (done)
            missing = std::move(names);
        },
        [&](const caf::error&) {});
    if (missing)
      return missing;
    if (sigtimedwait(&stop_signals, nullptr, &no_wait) > 0)
      return std::nullopt;
    self->receive(caf::after(std::chrono::milliseconds(100)) >> [] {});
  }
}

} // namespace

int run_node(const options& opts) {
  const auto started_ms = now_us() / 1000;
  // Configuration first: mistakes in it are usage errors, reported before anything starts.
  sys_config config;
  if (!opts.config_path.empty()) {
    auto loaded = load_sys_config(opts.config_path);
    if (!loaded)
      return fail(*loaded.error, 2);
    config = loaded.config;
  }
  std::optional<node_name> name;
  if (!opts.name.empty()) {
    auto parsed = parse_node_name(opts.name);
    if (!parsed)
      return fail(parsed.error, 2);
    name = *parsed;
  }
  auto node = name ? name->to_string() : std::string("nonode@nohost");
  std::string cookie; // a node alone needs none, as in Erlang
  if (name) {
    auto loaded = load_cookie(opts.cookie, std::getenv("HOME"));
    if (!loaded)
      return fail(loaded.error, 2);
    cookie = *loaded;
  }
  dist_tls_files dist_files;
  if (opts.dist_tls) {
    auto loaded = load_dist_tls({opts.dist_cert, opts.dist_key, opts.dist_ca});
    if (auto* error = std::get_if<std::string>(&loaded))
      return fail(*error, 2);
    dist_files = std::get<dist_tls_files>(loaded);
  }
  auto state_dir = opts.state_dir.empty() ? default_state_dir() : opts.state_dir;
  auto tls = ensure_self_signed_certificate(state_dir);
  if (auto* error = std::get_if<std::string>(&tls))
    return fail(*error, 1);
  const auto& files = std::get<tls_files>(tls);

  // Signals are taken by sigwait below; every thread started from here on inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config cfg;
  configure(cfg);
  if (opts.dist_tls) {
    configure_dist_tls(cfg, dist_files);
    log_refused_certificates();
  }
  caf::actor_system system{cfg};
  node_actors actors; // stopped before the actor system goes away
  auto metrics = std::make_shared<node_metrics>();
  actors.room = system.spawn(room, node, new_incarnation(), metrics,
                             history_limits{opts.history, std::chrono::seconds(opts.history_age)});
  caf::anon_send(actors.room, heartbeat_atom::value, uint64_t{opts.heartbeat_seconds});
  uint16_t dist = 0;
  if (name) {
    // Peers and inspectors see the gate alone; it checks the cookie before the room.
    auto trusted = std::make_shared<trusted_nodes>();
    actors.gate = system.spawn(gate, gate_config{node, cookie}, actors.room, trusted, metrics);
    auto dist_port = opts.dist_tls
                       ? caf::openssl::publish(actors.gate, 0, name->host.c_str(), true)
                       : system.middleman().publish(actors.gate, 0, name->host.c_str(), true);
    if (!dist_port)
      return fail("cannot open a distribution port on " + name->host + ": "
                    + system.render(dist_port.error()),
                  1);
    port_mapper_config pm;
    pm.host = name->host;
    pm.epmd_port = opts.epmd_port;
    pm.alive = name->alive;
    pm.dist_port = *dist_port;
    dist = *dist_port;
    actors.mapper = spawn_port_mapper(system, pm);
    auto registered = wait_registered(system, actors.mapper, std::chrono::seconds(10));
    if (!registered)
      return fail(registered.error, 1);
    cluster_config cc;
    cc.node = node;
    cc.cookie = cookie;
    cc.dist_port = *dist_port;
    cc.optional = config.sync_nodes_optional;
    cc.mandatory = config.sync_nodes_mandatory;
    cc.sync_timeout = config.sync_nodes_timeout;
    cc.epmd_port = opts.epmd_port;
    cc.tls = opts.dist_tls;
    cc.connector =
      opts.dist_tls ? system.openssl_manager().actor_handle() : system.middleman().actor_handle();
    actors.cluster = system.spawn(cluster, cc, actors.room, actors.gate, trusted, metrics);
    caf::scoped_actor {
      system
      } -> send(actors.gate, cluster_atom::value, actors.cluster);
    actors.lookups = std::make_unique<dialer>(system, actors.cluster, cc);
    std::cout << "watercooler: node " << node << " (distribution port " << *dist_port
              << (opts.dist_tls ? " with TLS" : "") << ", port mapper " << name->host << ":"
              << opts.epmd_port << ")" << std::endl;
    // As Erlang's kernel: wait for the sys.config nodes, at most sync_nodes_timeout; a stop
    // signal still ends the wait (the timeout may be infinity).
    auto missing = wait_for_sync(system, actors.cluster, stop_signals);
    if (!missing)
      return 0;
    if (!missing->empty()) {
      std::string list;
      for (const auto& m : *missing)
        list += (list.empty() ? "" : ", ") + m;
      return fail("mandatory nodes did not appear within sync_nodes_timeout: " + list, 1);
    }
  }

  auto context = std::make_shared<web_context>();
  context->system = &system;
  context->room = actors.room;
  context->node = node;
  context->max_body = opts.max_body;
  context->max_message = opts.max_message;
  context->streams = std::make_shared<address_slots>(opts.max_streams);
  context->publish_rate = std::make_shared<rate_limiter>(opts.publish_rate, opts.publish_burst);
  context->metrics = metrics;
  context->poller = std::make_shared<stream_poller>();
  context->limits = {opts.stream_queue, opts.stream_queue_bytes};
  if (std::string why; !context->poller->ok(why))
    return fail(why, 1);
  context->home_page_html = render_page("home_page.html", node);
  context->not_found_html = render_page("not_found_page.html", node);

  router routes;
  auto logger = install_routes(routes, context);
  front_settings web;
  web.max_header = opts.max_header;
  web.max_body = opts.max_body;
  web.read_timeout = std::chrono::seconds(opts.read_timeout);
  web.keep_alive_timeout = std::chrono::seconds(opts.keep_alive_timeout);
  web.max_connections =
    opts.max_connections != 0 ? opts.max_connections : default_max_connections();
  web.max_per_address = opts.max_connections_per_address;
  web.threads = request_threads;
  http_front front(routes, web, metrics);
  front.set_refusal_logger(logger);
  std::string error;
  auto https = server_tls(files.certificate_path, files.key_path, error);
  if (!https)
    return fail(error + " (in " + state_dir + ")", 1);
  if (front.listen(opts.bind, opts.port, nullptr, error) == 0
      || front.listen(opts.bind, opts.secure_port, https, error) == 0 || !front.start(error))
    return fail(error, 1);
  node_report facts;
  facts.version = WATERCOOLER_VERSION;
  facts.started_ms = started_ms;
  facts.http_port = opts.port;
  facts.https_port = opts.secure_port;
  facts.dist_port = dist;
  facts.scheduler_threads = system.scheduler().num_workers();
  std::vector<caf::actor> others;
  for (const auto* a : {&actors.cluster, &actors.gate, &actors.mapper})
    if (*a)
      others.push_back(*a);
  caf::anon_send(actors.room, about_atom::value, facts, others);
  std::cout << "watercooler: " << node << " on http://" << opts.bind << ":" << opts.port
            << " and https://" << opts.bind << ":" << opts.secure_port << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cout << "watercooler: stopping on " << signal_name(signal) << std::endl;
  watch_the_stop(stop_signals);
  // Stop accepting and close the connections that are no stream, then end every stream with a
  // reconnect hint.
  front.stop();
  caf::scoped_actor self{system};
  self->request(actors.room, std::chrono::seconds(1), stop_atom::value)
    .receive([](uint64_t) {}, [](const caf::error&) {});
  return 0;
}

} // namespace watercooler
