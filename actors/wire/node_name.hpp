// Erlang-style node names, `alive@host`: how nodes name themselves and each other.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace watercooler {

// A value, or the text that says why there is none (for start-up code that prints and exits).
template <class T>
struct outcome {
  std::optional<T> value;
  std::string error;

  static outcome ok(T x) {
    return outcome{std::move(x), {}};
  }
  static outcome fail(std::string text) {
    return outcome{std::nullopt, std::move(text)};
  }
  explicit operator bool() const {
    return value.has_value();
  }
  const T& operator*() const {
    return *value;
  }
  const T* operator->() const {
    return &*value;
  }
};

struct node_name {
  std::string alive; // registered with the port mapper, e.g. "node1"
  std::string host;  // where that port mapper runs, e.g. "127.0.0.1"

  std::string to_string() const; // "node1@127.0.0.1"
};

bool operator==(const node_name& x, const node_name& y);
bool operator!=(const node_name& x, const node_name& y);

inline constexpr size_t max_alive_length = 255; // epmd's MAXSYMLEN
inline constexpr size_t max_host_length = 255;

// Empty if `alive` may be registered: 1..255 characters of [A-Za-z0-9_-]; else what is wrong.
std::string check_alive_name(std::string_view alive);

// "node1@127.0.0.1" -> {"node1", "127.0.0.1"}; the host may be IPv4, IPv6 or a host name.
outcome<node_name> parse_node_name(std::string_view text);

// True if parse_node_name accepts `text`, e.g. for the origin of a peer's message.
bool is_node_name(std::string_view text);

} // namespace watercooler
