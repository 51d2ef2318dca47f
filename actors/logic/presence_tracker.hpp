// Who is here, in the whole cluster: this node's streams and people, and the sets its peers own.
// No actors: events in, changes out, time passed in as a value.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/wire/presence_roster.hpp"

namespace watercooler {

using presence_time = std::chrono::steady_clock::time_point;

struct presence_limits {
  // A person whose last stream closed stays present this long (a reload, a reconnect to another
  // node); the people of a node that said goodbye too. 0: they leave at once.
  std::chrono::milliseconds grace{5000};
  std::size_t per_address = 64; // people from one client address on this node; 0: any
  std::size_t total = 10000;    // people on this node; 0: any
};

// One person as others see them: never the client id, a tag that cannot be turned back into it.
struct present_person {
  std::string person; // 16 hex digits of SHA-256 of the client id
  std::string name;
  std::vector<std::string> nodes; // where they have streams (or are within the grace), sorted
};

inline bool operator==(const present_person& a, const present_person& b) {
  return a.person == b.person && a.name == b.name && a.nodes == b.nodes;
}

struct presence_view {
  uint64_t count = 0;                 // people present in the cluster
  uint64_t listeners = 0;             // streams without a person, in the cluster
  std::vector<present_person> people; // by name, then tag
};

// One change for the streams: a person's first stream anywhere joins, their last one leaves,
// a new name or node list updates; only the number of anonymous listeners changed otherwise.
struct presence_change {
  enum class kind : uint8_t { join = 1, leave, update, listeners };
  kind what = kind::join;
  present_person person;  // empty for `listeners`
  uint64_t count = 0;     // after the change
  uint64_t listeners = 0; // after the change
};

// The tag shown for a client id.
std::string person_tag(const std::string& client);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, present_person& x) {
  return f(caf::meta::type_name("present_person"), x.person, x.name, x.nodes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, presence_view& x) {
  return f(caf::meta::type_name("presence_view"), x.count, x.listeners, x.people);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, presence_change& x) {
  return f(caf::meta::type_name("presence_change"), x.what, x.person, x.count, x.listeners);
}

class presence_tracker {
public:
  presence_tracker(std::string node, presence_limits limits);

  // What opening a stream made of it: a person's stream, or (no client, or over a bound) an
  // anonymous listener, with the reason a person was refused.
  struct admission {
    std::string person;  // the tag; "" when not counted as a person
    std::string refused; // "address" or "total" when a client was refused; else ""
  };

  // A stream of this node opened; `client` "" is an anonymous listener. `now_us` is the wall
  // clock, for which name is the latest.
  admission open(uint64_t stream, const std::string& client, const std::string& name,
                 const std::string& address, int64_t now_us);
  // A stream of this node closed; its person stays for the grace period if it was their last.
  void close(uint64_t stream, presence_time now);
  // Ends the grace periods due by `now`.
  void tick(presence_time now);
  // When tick() has something to do next.
  std::optional<presence_time> next_wake() const;

  // A peer's whole set replaces whatever we held of it.
  void replace(const presence_roster& roster);
  // A peer's delta; false (nothing applied) if it does not follow the version we hold: ask the
  // peer for its roster.
  bool apply(const presence_delta& delta);
  // The link to `node` is down (a crash, a partition): its people go now.
  void node_lost(const std::string& node);
  // `node` said goodbye: its people go after the grace period unless it sends its set again.
  void node_stopping(const std::string& node, presence_time now);

  // Our own set, for a peer whose link came up or who asked.
  presence_roster roster() const;
  presence_view view() const;

  // What changed for the streams since the last call, in order.
  std::vector<presence_change> take_changes();
  // Our set's change since the last call, for the peers; nothing if it did not change.
  std::optional<presence_delta> take_delta();

  std::size_t local_people() const {
    return local_.size();
  }
  // What view() counts, without building it.
  uint64_t people_count() const {
    return shown_.size();
  }
  uint64_t listener_count() const {
    return shown_listeners_;
  }
  const std::string& node() const {
    return node_;
  }

private:
  struct local_person {
    std::vector<std::pair<uint64_t, std::string>> streams; // (stream, name), oldest first
    std::string name;
    int64_t named_us = 0;
    std::string address;
    std::optional<presence_time> gone_at; // no stream left since
  };
  struct remote_set {
    uint64_t version = 0;
    uint64_t listeners = 0;
    std::map<std::string, presence_entry> people; // by client
    std::optional<presence_time> expires;         // it said goodbye
  };

  void forget_local(const std::string& who);
  void erase_remote(const std::string& node);
  std::optional<present_person> merged(const std::string& client) const;
  // Compares what `clients` look like now with what the streams were last told.
  void refresh(const std::set<std::string>& clients);
  uint64_t listeners() const;
  void changed_here(const std::string& client);
  presence_change change(presence_change::kind what, present_person person) const;

  std::string node_;
  presence_limits limits_;
  std::map<std::string, local_person> local_;      // by client
  std::map<uint64_t, std::string> streams_;        // stream -> client ("" anonymous)
  std::map<std::string, std::size_t> per_address_; // people by address
  uint64_t anonymous_ = 0;                         // our streams without a person
  std::map<std::string, remote_set> remote_;       // by node
  std::map<std::string, present_person> shown_;    // by client: what the streams know
  uint64_t shown_listeners_ = 0;
  std::vector<presence_change> changes_;
  uint64_t version_ = 0;
  std::set<std::string> delta_changed_; // clients
  std::set<std::string> delta_gone_;
  bool delta_listeners_ = false;
};

} // namespace watercooler
