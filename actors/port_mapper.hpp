// Names nodes the Erlang way: registers `alive -> distribution port` with the EPMD of this host,
// serving EPMD in-process when none answers and taking over when the serving node exits.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/io/broker.hpp>
#include <caf/response_promise.hpp>

#include "actors/outcome.hpp"
#include "actors/protocol.hpp"
#include "actors/wire/epmd.hpp"

namespace watercooler {

struct port_mapper_config {
  std::string host = "127.0.0.1";          // where the EPMD is: connect there, or bind to serve
  uint16_t epmd_port = epmd::default_port; // or the caller's ERL_EPMD_PORT
  std::string alive;                       // this node's name, e.g. "node1"
  uint16_t dist_port = 0;                  // where this node's gate is published
  std::chrono::milliseconds retry_interval{200};
  std::chrono::milliseconds reply_timeout{5000}; // for a request or an answer to arrive whole
};

enum class port_mapper_role { connecting, client, serving, failed };

struct port_mapper_state {
  static inline const char* name = "port_mapper";

  // A node registered with us while we serve; `owner` is its ALIVE2 connection (none: us).
  struct registration {
    epmd::node_info node;
    uint32_t creation = 0;
    std::optional<caf::io::connection_handle> owner;
  };

  // A client connection while we serve.
  struct peer {
    uint64_t serial = 0; // tells its expiry timer apart from a later connection on the same fd
    std::string buf;
    std::string registered; // name this connection holds, if any
  };

  port_mapper_config cfg;
  port_mapper_role role = port_mapper_role::connecting;
  refusal failure_code = refusal::name_in_use; // if failed
  std::string failure;                         // if failed
  uint64_t attempt = 0;        // tags retry and reply timers, so stale ones are ignored
  uint64_t serial = 0;         // last peer serial
  bool was_registered = false; // failures before that are the owner's to report
  bool stuck = false;          // neither connecting nor serving worked; logged once
  uint32_t creation = 0;       // next creation number we hand out while serving
  std::optional<caf::io::connection_handle> upstream; // our ALIVE2 connection as a client
  std::string upstream_buf;
  std::map<caf::io::connection_handle, peer> peers;
  std::map<std::string, registration> registry;
  std::vector<caf::response_promise> waiters; // (registered) asked before registration
};

// (registered) -> std::string "serving" or "client", once registered; the refusal
// (name_in_use, invalid_name) if registration failed, e.g. "node name node1 is already in use
// on 127.0.0.1". A request made while (re-)registering waits for the outcome.
caf::behavior port_mapper(caf::io::stateful_broker<port_mapper_state>* self,
                          port_mapper_config cfg);

// Registers `cfg.alive` with `cfg.dist_port` for the actor's lifetime. Stop it with an exit
// message (the actor system waits for it on shutdown).
caf::actor spawn_port_mapper(caf::actor_system& sys, port_mapper_config cfg);

// Blocks until `mapper` registered: "serving" or "client", else the error text.
outcome<std::string> wait_registered(caf::actor_system& sys, const caf::actor& mapper,
                                     std::chrono::milliseconds timeout);

} // namespace watercooler
