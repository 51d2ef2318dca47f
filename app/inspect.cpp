// The inspector: finds nodes through their port mapper like any peer, proves the cookie to
// their gates and asks their rooms.
#include "app/inspect.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

#include <caf/all.hpp>

#include "actors/handshake_client.hpp"
#include "actors/log.hpp"
#include "actors/wire/epmd_client.hpp"
#include "actors/wire/node_name.hpp"
#include "app/actor_system_setup.hpp"
#include "app/cookie.hpp"
#include "app/inspect_output.hpp"

namespace watercooler {

namespace {

constexpr auto lookup_timeout = std::chrono::seconds(2);
constexpr auto answer_timeout = std::chrono::seconds(4);

// One node's report, or why there is none: look it up like any peer, then the cookie handshake
// in the role inspect (handshake_client.hpp), and the node's room answers.
outcome<node_report> fetch(caf::actor_system& system, const options& opts,
                           const std::string& cookie, const std::string& node) {
  auto name = parse_node_name(node);
  if (!name)
    return outcome<node_report>::fail(name.error);
  auto port = epmd_port_please(name->host, opts.epmd_port, name->alive, lookup_timeout);
  if (!port)
    return outcome<node_report>::fail(port.error);
  return inspect_node(system,
                      {node, name->host, *port, distribution_connector(system, opts.dist_tls),
                       opts.dist_tls, cookie, answer_timeout});
}

// The node and, unless --only, every node it is connected to.
outcome<std::vector<node_report>> fetch_all(caf::actor_system& system, const options& opts,
                                            const std::string& cookie) {
  auto first = fetch(system, opts, cookie, opts.inspect);
  if (!first)
    return outcome<std::vector<node_report>>::fail("cannot inspect " + opts.inspect + ": "
                                                   + first.error);
  std::vector<node_report> reports{*first};
  if (!opts.only)
    for (const auto& peer : first->peers) {
      if (peer.state != "connected")
        continue;
      auto other = fetch(system, opts, cookie, peer.name);
      if (other)
        reports.push_back(*other);
      else
        log_line("cannot inspect peer ", peer.name, ": ", other.error);
    }
  return outcome<std::vector<node_report>>::ok(std::move(reports));
}

// Events per second since the previous look, per node and per session.
std::string rates(const std::vector<node_report>& now, const std::vector<node_report>& before) {
  std::map<std::string, const node_report*> old;
  for (const auto& r : before)
    old[r.name] = &r;
  std::string out = "rates\n";
  char line[256];
  for (const auto& r : now) {
    auto it = old.find(r.name);
    if (it == old.end() || r.now_ms <= it->second->now_ms)
      continue;
    double seconds = static_cast<double>(r.now_ms - it->second->now_ms) / 1000.0;
    std::snprintf(line, sizeof(line), "  %s: %.1f messages/s delivered, %.1f published\n",
                  r.name.c_str(),
                  static_cast<double>(r.delivered - it->second->delivered) / seconds,
                  static_cast<double>(r.published - it->second->published) / seconds);
    out += line;
    std::map<std::string, uint64_t> events;
    for (const auto& s : it->second->sessions)
      events[s.id] = s.events;
    for (const auto& s : r.sessions) {
      auto prev = events.find(s.id);
      if (prev == events.end())
        continue;
      std::snprintf(line, sizeof(line), "    session %s (%s): %.1f events/s\n", s.id.c_str(),
                    s.client.c_str(), static_cast<double>(s.events - prev->second) / seconds);
      out += line;
    }
  }
  return out;
}

} // namespace

int run_inspect(const options& opts) {
  if (auto name = parse_node_name(opts.inspect); !name) {
    log_line("--inspect: ", name.error);
    return 2;
  }
  auto cookie = load_cookie(opts.cookie, opts.cookie_file, std::getenv("HOME"));
  if (!cookie) {
    log_line(cookie.error);
    return 2;
  }
  std::optional<dist_tls_files> dist_files;
  if (opts.dist_tls) {
    auto loaded = load_dist_tls({opts.dist_cert, opts.dist_key, opts.dist_ca});
    if (!loaded) {
      log_line(loaded.error);
      return 2;
    }
    dist_files = *loaded;
  }
  // --watch runs until Ctrl-C (or SIGTERM), taken by sigtimedwait below in every thread's stead.
  std::optional<sigset_t> stop_signals;
  if (opts.watch_seconds != 0)
    stop_signals = block_stop_signals();
  caf::actor_system_config cfg;
  configure_actor_system(cfg, dist_files);
  caf::actor_system system{cfg};
  if (!stop_signals) {
    auto reports = fetch_all(system, opts, *cookie);
    if (!reports) {
      log_line(reports.error);
      return 1;
    }
    std::cout << (opts.json ? render_inspect_json(*reports) : render_inspect_table(*reports));
    return 0;
  }
  // Like top: a node that goes away is shown as an error.
  std::vector<node_report> previous;
  for (;;) {
    auto reports = fetch_all(system, opts, *cookie);
    std::cout << "\033[H\033[2J"; // home and clear: plain ANSI, no curses
    if (reports) {
      std::cout << render_inspect_table(*reports);
      if (!previous.empty())
        std::cout << '\n' << rates(*reports, previous);
      previous = *reports;
    } else {
      std::cout << "watercooler: " << reports.error << '\n';
    }
    std::cout << std::flush;
    timespec wait{static_cast<time_t>(opts.watch_seconds), 0};
    if (sigtimedwait(&*stop_signals, nullptr, &wait) > 0)
      return 0;
  }
}

} // namespace watercooler
