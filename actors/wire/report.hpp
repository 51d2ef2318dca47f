// What `--inspect` learns of a node: plain structs, serialisable between nodes by CAF.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace watercooler {

// One SSE stream of the node.
struct session_report {
  std::string id;             // the session actor's id
  std::string client;         // client address, ip:port
  int64_t since_ms = 0;       // connected at, ms since the Unix epoch
  uint64_t events = 0;        // events written
  uint64_t bytes = 0;         // bytes written
  uint64_t queued = 0;        // mailbox depth now
  int64_t last_active_ms = 0; // last event written (or connect), ms since the Unix epoch
};

// One peer node as this node sees it.
struct peer_report {
  std::string name;
  std::string address;    // host:port of its distribution port; "" until known
  std::string state;      // "connected", "reconnecting" (lost, being redialled) or "down"
  int64_t since_ms = 0;   // in that state since, ms since the Unix epoch
  int64_t rtt_us = -1;    // last round trip to it, microseconds; -1: none (yet)
  uint64_t forwarded = 0; // messages published here and sent to it
  uint64_t received = 0;  // messages received from it
  std::string error;      // while not connected: why the last attempt failed
};

// Any other actor of the node.
struct actor_report {
  std::string name; // e.g. "room", "cluster", "port_mapper"
  std::string kind; // "event-based", "broker", ...
  uint64_t queued = 0;
};

struct node_report {
  std::string name;
  std::string version;
  int64_t started_ms = 0; // ms since the Unix epoch
  int64_t now_ms = 0;     // the node's clock when it answered
  uint16_t http_port = 0;
  uint16_t https_port = 0;
  uint16_t dist_port = 0;
  uint64_t scheduler_threads = 0;
  uint64_t members = 0;      // sessions in the room
  uint64_t published = 0;    // messages published here
  uint64_t delivered = 0;    // messages delivered here (once per message)
  uint64_t received = 0;     // messages received from peers
  uint64_t present = 0;      // people present in the cluster, as the node sees it
  uint64_t present_here = 0; // of them with a stream on the node (or within the grace)
  uint64_t listeners = 0;    // streams in the cluster that count no person
  std::vector<peer_report> peers;
  std::vector<session_report> sessions;
  std::vector<actor_report> actors;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_report& x) {
  return f(caf::meta::type_name("session_report"), x.id, x.client, x.since_ms, x.events, x.bytes,
           x.queued, x.last_active_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_report& x) {
  return f(caf::meta::type_name("peer_report"), x.name, x.address, x.state, x.since_ms, x.rtt_us,
           x.forwarded, x.received, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, actor_report& x) {
  return f(caf::meta::type_name("actor_report"), x.name, x.kind, x.queued);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_report& x) {
  return f(caf::meta::type_name("node_report"), x.name, x.version, x.started_ms, x.now_ms,
           x.http_port, x.https_port, x.dist_port, x.scheduler_threads, x.members, x.published,
           x.delivered, x.received, x.present, x.present_here, x.listeners, x.peers, x.sessions,
           x.actors);
}

} // namespace watercooler
