// The command line and environment of a node, parsed and checked before anything starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/logic/presence_tracker.hpp"
#include "actors/outcome.hpp"
#include "actors/room.hpp"
#include "web/http/forwarded.hpp"
#include "web/http/h2_session.hpp"
#include "web/http/limits.hpp"
#include "web/stream/stream_outbox.hpp"

namespace watercooler {

// --watch without a number: refresh every this many seconds.
inline constexpr unsigned default_watch_seconds = 2;

struct options {
  std::string name;               // --name alive@host; empty: a single node ("nonode@nohost")
  std::string config_path;        // --config FILE or --erl "-config FILE"; empty: none
  uint16_t port = 8080;           // --port, else $PORT
  uint16_t secure_port = 8443;    // --secure-port, else $SECURE_PORT
  std::string bind = "127.0.0.1"; // --bind: address the HTTP and HTTPS servers listen on
  std::string state_dir;          // --state-dir, else default_state_dir()
  uint16_t epmd_port = 4369;      // $ERL_EPMD_PORT
  std::size_t max_body = default_max_body;        // --max-body
  std::size_t max_header = default_max_header;    // --max-header: request line and headers, bytes
  std::size_t max_message = default_max_message;  // --max-message: characters of one message
  std::size_t max_streams = default_max_streams;  // --max-streams: per client address; 0: any
  unsigned publish_rate = default_publish_rate;   // --publish-rate: per second and address; 0: any
  unsigned publish_burst = default_publish_burst; // --publish-burst: at once per address
  unsigned read_timeout = default_read_timeout;   // --read-timeout: seconds for a whole request
  unsigned keep_alive_timeout = default_keep_alive_timeout; // --keep-alive-timeout: idle seconds
  std::size_t max_connections = 0; // --max-connections: HTTP(S) connections in all; 0: default
  std::size_t max_connections_per_address = default_max_connections_per_address; // 0: any
  uint32_t h2_max_streams = default_h2_max_streams; // --h2-max-streams: per HTTP/2 connection
  uint32_t h2_max_resets = default_h2_max_resets;   // --h2-max-resets: per connection and 10 s
  std::size_t history = history_limits{}.count;     // --history: messages the room keeps
  unsigned history_age = static_cast<unsigned>(history_limits{}.age.count()); // --history-age
  unsigned heartbeat_seconds = default_heartbeat_seconds; // --heartbeat: comment line; 0: none
  std::size_t stream_queue = stream_limits{}.max_events;  // --stream-queue: events a client may lag
  std::size_t stream_queue_bytes = stream_limits{}.max_bytes; // --stream-queue-bytes
  unsigned presence_grace = static_cast<unsigned>(
    std::chrono::duration_cast<std::chrono::seconds>(presence_limits{}.grace).count());
  std::size_t max_present_per_address = presence_limits{}.per_address; // 0: any
  std::size_t max_present = presence_limits{}.total;                   // 0: any
  std::string cookie;      // --cookie; else ~/.erlang.cookie (see app/cookie.hpp)
  std::string cookie_file; // --cookie-file FILE: the cookie's file instead of ~/.erlang.cookie
  std::vector<address_range> trust_proxy; // --trust-proxy, repeatable: X-Forwarded-* believed
  bool dist_tls = false;                  // --dist-tls: node-to-node connections over mutual TLS
  std::string dist_cert;                  // --dist-cert FILE: this node's certificate (PEM)
  std::string dist_key;                   // --dist-key FILE: its private key (PEM, unencrypted)
  std::string dist_ca;        // --dist-ca FILE: the CA(s) a peer's certificate must chain to
  std::string inspect;        // --inspect NODE: print what that node runs, then exit
  bool json = false;          // --json: --inspect prints JSON
  bool only = false;          // --only: --inspect skips the node's peers
  unsigned watch_seconds = 0; // --watch [SECONDS]: --inspect refreshes until Ctrl-C
  bool help = false;
  bool version = false;
  bool man = false; // --man, not in --help: the manual page, made at build time
};

// `env` looks up an environment variable (nullptr when unset); tests pass their own.
using env_lookup = const char* (*)(const char*);

// The options, or the usage error: what went wrong, for "watercooler: <text>" and exit code 2.
outcome<options> parse_options(const std::vector<std::string>& args, env_lookup env);

// `default_connections`: what --max-connections is when not given on this machine.
std::string help_text(const std::string& default_state_dir, std::size_t default_connections);

// The manual page watercooler(1) in roff (man(7) macros), from the same table as help_text().
std::string man_page(const std::string& version);

} // namespace watercooler
