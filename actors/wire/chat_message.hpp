// One chat message as the room keeps it in its history: identity, time, author and text.
#pragma once

#include <cstdint>
#include <string>

#include <caf/all.hpp>

namespace watercooler {

// A message is identified by (origin, incarnation, seq) across the whole cluster.
struct chat_message {
  std::string origin;       // node it was published on
  uint64_t incarnation = 0; // that node's run
  uint64_t seq = 0;         // per origin and incarnation, from 1
  int64_t published_us = 0; // origin's clock, µs since the Unix epoch
  std::string author;       // display name; "" is anonymous
  std::string text;
};

inline bool operator==(const chat_message& a, const chat_message& b) {
  return a.origin == b.origin && a.incarnation == b.incarnation && a.seq == b.seq
         && a.published_us == b.published_us && a.author == b.author && a.text == b.text;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_message& x) {
  return f(caf::meta::type_name("chat_message"), x.origin, x.incarnation, x.seq, x.published_us,
           x.author, x.text);
}

} // namespace watercooler
