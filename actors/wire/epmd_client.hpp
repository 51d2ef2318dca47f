// The client side of the Erlang Port Mapper protocol: blocking lookups for threads outside the
// actor system (the dialer, --inspect), and the connection the port mapper broker registers on.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actors/outcome.hpp"
#include "actors/wire/epmd.hpp"
#include "actors/wire/node_name.hpp"

namespace watercooler {

// Blocking EPMD queries for threads outside the actor system; `timeout` bounds connect and read.
// Errors say "... is not registered ...", "no port mapper at host:port ..." or "malformed ...".
outcome<uint16_t> epmd_port_please(const std::string& host, uint16_t epmd_port,
                                   const std::string& alive, std::chrono::milliseconds timeout);
outcome<std::vector<std::pair<std::string, uint16_t>>>
epmd_names(const std::string& host, uint16_t epmd_port, std::chrono::milliseconds timeout);

// A connected non-blocking TCP socket to the port mapper at host:port by `deadline` (the
// caller closes it), or why not. Never connected to itself: a loopback connect to a free port
// can pick that very port as its source (TCP simultaneous open), and such a socket is reset
// instead.
outcome<int> connect_epmd(const std::string& host, uint16_t port,
                          std::chrono::steady_clock::time_point deadline);

} // namespace watercooler
