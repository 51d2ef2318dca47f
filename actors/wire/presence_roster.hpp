// Who is present on a node, as nodes tell each other: each node owns its own people.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace watercooler {

// One person (a browser) with at least one stream open on the node that owns the entry, or one
// that closed within the grace period.
struct presence_entry {
  std::string client;   // the browser's own id; crosses between nodes only, never shown
  std::string name;     // display name; "" is anonymous
  int64_t named_us = 0; // when that name was given, µs since the Unix epoch: the latest wins
};

// A node's whole set: sent when a link comes up and when a peer asks, and replacing whatever the
// peer held of the node.
struct presence_roster {
  std::string node;
  uint64_t version = 0;   // of the set; each delta makes the next
  uint64_t listeners = 0; // streams without a person: anonymous listeners
  std::vector<presence_entry> people;
};

// What changed on a node since `version - 1`; a peer that holds another version asks for the
// roster instead.
struct presence_delta {
  std::string node;
  uint64_t version = 0;
  uint64_t listeners = 0;
  std::vector<presence_entry> changed; // arrived, or renamed
  std::vector<std::string> gone;       // clients no longer present there
};

inline bool operator==(const presence_entry& a, const presence_entry& b) {
  return a.client == b.client && a.name == b.name && a.named_us == b.named_us;
}

// A browser's id: 16 to 64 characters of [A-Za-z0-9_-].
bool is_client_id(std::string_view text);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, presence_entry& x) {
  return f(caf::meta::type_name("presence_entry"), x.client, x.name, x.named_us);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, presence_roster& x) {
  return f(caf::meta::type_name("presence_roster"), x.node, x.version, x.listeners, x.people);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, presence_delta& x) {
  return f(caf::meta::type_name("presence_delta"), x.node, x.version, x.listeners, x.changed,
           x.gone);
}

} // namespace watercooler
