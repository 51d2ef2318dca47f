// Erlang-style node names, `alive@host`: how nodes name themselves and each other.
#pragma once

#include <string>
#include <string_view>

#include "actors/outcome.hpp"

namespace watercooler {

struct node_name {
  std::string alive; // registered with the port mapper, e.g. "node1"
  std::string host;  // where that port mapper runs, e.g. "127.0.0.1"

  std::string to_string() const; // "node1@127.0.0.1"
};

bool operator==(const node_name& x, const node_name& y);
bool operator!=(const node_name& x, const node_name& y);

inline constexpr size_t max_alive_length = 255; // epmd's MAXSYMLEN
inline constexpr size_t max_host_length = 255;

// Whether `alive` may be registered: 1..255 characters of [A-Za-z0-9_-]; else what is wrong.
outcome<void> check_alive_name(std::string_view alive);

// "node1@127.0.0.1" -> {"node1", "127.0.0.1"}; the host may be IPv4, IPv6 or a host name.
outcome<node_name> parse_node_name(std::string_view text);

// True if parse_node_name accepts `text`, e.g. for the origin of a peer's message.
bool is_node_name(std::string_view text);

} // namespace watercooler
