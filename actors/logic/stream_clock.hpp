// A stream's position: per origin, the incarnation and last sequence number it has delivered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/wire/chat_message.hpp"

namespace watercooler {

struct clock_entry {
  uint64_t incarnation = 0;
  uint64_t seq = 0;
};

inline bool operator==(const clock_entry& a, const clock_entry& b) {
  return a.incarnation == b.incarnation && a.seq == b.seq;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, clock_entry& x) {
  return f(caf::meta::type_name("clock_entry"), x.incarnation, x.seq);
}

// origin -> the incarnation and seq of the last message of that origin on the stream. One entry
// per origin: a restarted origin's new incarnation replaces the old one.
using stream_clock = std::map<std::string, clock_entry>;

constexpr std::size_t max_clock_text = 4096; // a longer Last-Event-ID is not ours
constexpr std::size_t max_clock_origins = 64;

// "<origin>~<incarnation>~<seq>" per origin, joined by ",", origins sorted. In origins, '%', '~',
// ',' and bytes outside '!'..'~' are written as %XX, so the text is a valid SSE id.
std::string encode_clock(const stream_clock& clock);

// The clock of `text`; nullopt if it is malformed, longer than max_clock_text or names more than
// max_clock_origins origins (or one twice). "" is the empty clock.
std::optional<stream_clock> parse_clock(std::string_view text);

// True if a stream at `clock` has delivered message `seq` of `origin`'s `incarnation` already.
bool clock_covers(const stream_clock& clock, const std::string& origin, uint64_t incarnation,
                  uint64_t seq);
inline bool clock_covers(const stream_clock& clock, const chat_message& message) {
  return clock_covers(clock, message.origin, message.incarnation, message.seq);
}

// Messages of `origin`'s `incarnation` from `from` to `to` (0: unknown) that a resumed stream may
// have missed, because they fell out of the history or their origin restarted.
struct stream_gap {
  std::string origin;
  uint64_t incarnation = 0;
  uint64_t from = 0;
  uint64_t to = 0;
};

inline bool operator==(const stream_gap& a, const stream_gap& b) {
  return a.origin == b.origin && a.incarnation == b.incarnation && a.from == b.from && a.to == b.to;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_gap& x) {
  return f(caf::meta::type_name("stream_gap"), x.origin, x.incarnation, x.from, x.to);
}

// What a stream resuming at a clock gets: the history messages it has not seen, in history
// order, and the ranges it may have missed.
struct resume_plan {
  std::vector<chat_message> replay;
  std::vector<stream_gap> gaps;
};

// `history` is oldest first; `last_seen` is the last seq this node delivered per (origin,
// incarnation). Unknown origins are entirely new.
resume_plan plan_resume(const std::deque<chat_message>& history,
                        const std::map<std::pair<std::string, uint64_t>, uint64_t>& last_seen,
                        const stream_clock& clock);

} // namespace watercooler
