// Wires a node together: settings and certificate, then room and cluster, then the HTTP and
// HTTPS front, until a stop signal.
#include "app/node.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/cluster.hpp"
#include "actors/dialer.hpp"
#include "actors/gate.hpp"
#include "actors/log.hpp"
#include "actors/port_mapper.hpp"
#include "actors/presence.hpp"
#include "actors/room.hpp"
#include "actors/wire/node_name.hpp"
#include "app/actor_system_setup.hpp"
#include "app/certificate.hpp"
#include "app/dist_tls.hpp"
#include "app/node_settings.hpp"
#include "app/node_web.hpp"

namespace watercooler {

namespace {

// The node ends before it serves: says why, and gives the exit code.
int give_up(const std::string& why, int code) {
  if (!why.empty())
    log_line(why);
  return code;
}

uint64_t new_incarnation() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd()
         ^ static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
}

// The node's long-lived actors; all of them stop when this goes out of scope.
struct node_actors {
  caf::actor room;
  caf::actor presence;
  caf::actor gate;
  caf::actor mapper;
  caf::actor cluster;
  std::unique_ptr<dialer> lookups; // a thread of its own, joined here
  uint16_t dist_port = 0;          // where the gate is published; 0: a node alone

  ~node_actors() {
    lookups.reset();
    for (const auto* a : {&cluster, &gate, &mapper, &presence, &room})
      if (*a)
        caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
  }
};

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

// How joining the cluster ended when it did not fail.
enum class joined { ready, stopped }; // stopped: a stop signal came while waiting

// A named node joins its cluster: the gate on a distribution port, registered with the port
// mapper, then the cluster and its dialer; as Erlang's kernel, it waits for the sys.config
// nodes, at most sync_nodes_timeout (a stop signal still ends the wait: the timeout may be
// infinity).
outcome<joined> start_cluster(caf::actor_system& system, const options& opts,
                              const node_settings& s, node_actors& actors,
                              std::shared_ptr<node_metrics> metrics, const sigset_t& stop_signals) {
  const auto& host = s.name->host;
  // Peers and inspectors see the gate alone; it checks the cookie before the room.
  auto trusted = std::make_shared<trusted_nodes>();
  actors.gate = system.spawn(gate, gate_config{s.node, s.cookie}, actors.room, actors.presence,
                             trusted, metrics);
  auto published = opts.dist_tls ? caf::openssl::publish(actors.gate, 0, host.c_str(), true)
                                 : system.middleman().publish(actors.gate, 0, host.c_str(), true);
  if (!published)
    return outcome<joined>::fail("cannot open a distribution port on " + host + ": "
                                 + system.render(published.error()));
  actors.dist_port = *published;
  port_mapper_config pm;
  pm.host = host;
  pm.epmd_port = opts.epmd_port;
  pm.alive = s.name->alive;
  pm.dist_port = actors.dist_port;
  actors.mapper = spawn_port_mapper(system, pm);
  auto registered = wait_registered(system, actors.mapper, std::chrono::seconds(10));
  if (!registered)
    return outcome<joined>::fail(registered.error);
  cluster_config cc;
  cc.node = s.node;
  cc.cookie = s.cookie;
  cc.dist_port = actors.dist_port;
  cc.optional = s.config.sync_nodes_optional;
  cc.mandatory = s.config.sync_nodes_mandatory;
  cc.sync_timeout = s.config.sync_nodes_timeout;
  cc.epmd_port = opts.epmd_port;
  cc.tls = opts.dist_tls;
  cc.connector = distribution_connector(system, opts.dist_tls);
  actors.cluster = system.spawn(cluster, cc, std::vector<caf::actor>{actors.room, actors.presence},
                                actors.gate, trusted, metrics);
  caf::scoped_actor {
    system
    } -> send(actors.gate, cluster_atom::value, actors.cluster);
  actors.lookups = std::make_unique<dialer>(system, actors.cluster, cc);
  std::cout << "watercooler: node " << s.node << " (distribution port " << actors.dist_port
            << (opts.dist_tls ? " with TLS" : "") << ", port mapper " << host << ":"
            << opts.epmd_port << ")" << std::endl;
  auto missing = wait_for_sync(system, actors.cluster, stop_signals);
  if (!missing)
    return outcome<joined>::ok(joined::stopped);
  if (missing->empty())
    return outcome<joined>::ok(joined::ready);
  std::string list;
  for (const auto& m : *missing)
    list += (list.empty() ? "" : ", ") + m;
  return outcome<joined>::fail("mandatory nodes did not appear within sync_nodes_timeout: " + list);
}

// Tells the room what --inspect shows of the node: its ports, version, other actors.
void describe_node(caf::actor_system& system, const options& opts, const node_actors& actors,
                   int64_t started_ms) {
  node_report facts;
  facts.version = WATERCOOLER_VERSION;
  facts.started_ms = started_ms;
  facts.http_port = opts.port;
  facts.https_port = opts.secure_port;
  facts.dist_port = actors.dist_port;
  facts.scheduler_threads = system.scheduler().num_workers();
  std::vector<caf::actor> others;
  for (const auto* a : {&actors.presence, &actors.cluster, &actors.gate, &actors.mapper})
    if (*a)
      others.push_back(*a);
  caf::anon_send(actors.room, about_atom::value, facts, others);
}

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

// Until SIGINT or SIGTERM.
void wait_for_stop(const sigset_t& stop_signals) {
  int signal = 0;
  sigwait(&stop_signals, &signal);
  std::cout << "watercooler: stopping on " << signal_name(signal) << std::endl;
}

// Stop accepting, end every stream with a reconnect hint, then close the connections (HTTP/2
// ones with GOAWAY once their streams' last bytes are out); the actors stop as `run_node`
// returns.
void stop(caf::actor_system& system, node_web& web, const caf::actor& room,
          const sigset_t& stop_signals) {
  watch_the_stop(stop_signals);
  web.front->stop_accepting();
  caf::scoped_actor self{system};
  self->request(room, std::chrono::seconds(1), stop_atom::value)
    .receive([](uint64_t) {}, [](const caf::error&) {});
  web.front->stop();
}

} // namespace

int run_node(const options& opts) {
  const auto started_ms = now_us() / 1000;
  auto settings = read_settings(opts);
  if (!settings)
    return give_up(settings.error, 2);
  auto https = ensure_self_signed_certificate(settings->state_dir);
  if (!https)
    return give_up(https.error, 1);

  // Signals are taken by sigwait; every thread started from here on inherits the mask.
  auto stop_signals = block_stop_signals();
  std::signal(SIGPIPE, SIG_IGN);
  caf::actor_system_config cfg;
  configure_actor_system(cfg, settings->dist_tls);
  if (settings->dist_tls)
    log_refused_certificates();
  caf::actor_system system{cfg};
  node_actors actors; // stopped before the actor system goes away
  auto metrics = std::make_shared<node_metrics>();
  actors.room = system.spawn(room, settings->node, new_incarnation(), metrics,
                             history_limits{opts.history, std::chrono::seconds(opts.history_age)});
  caf::anon_send(actors.room, heartbeat_atom::value, uint64_t{opts.heartbeat_seconds});
  actors.presence = system.spawn(presence, settings->node,
                                 presence_limits{std::chrono::seconds(opts.presence_grace),
                                                 opts.max_present_per_address, opts.max_present},
                                 metrics);
  if (settings->name) {
    auto cluster = start_cluster(system, opts, *settings, actors, metrics, stop_signals);
    if (!cluster)
      return give_up(cluster.error, 1);
    if (*cluster == joined::stopped)
      return 0;
  }

  node_web web; // stopped before the actors
  if (auto started =
        start_web(system, opts, *settings, *https, actors.room, actors.presence, metrics, web);
      !started)
    return give_up(started.error, 1);
  describe_node(system, opts, actors, started_ms);
  std::cout << "watercooler: " << settings->node << " on http://" << opts.bind << ":" << opts.port
            << " and https://" << opts.bind << ":" << opts.secure_port << std::endl;

  wait_for_stop(stop_signals);
  stop(system, web, actors.room, stop_signals);
  return 0;
}

} // namespace watercooler
