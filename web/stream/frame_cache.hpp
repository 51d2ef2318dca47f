// The framed bytes of a live message, made once per node for all the streams that write the same
// bytes, and shared by their outboxes: one formatting and one copy per message, not per stream.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "actors/logic/stream_clock.hpp"
#include "actors/wire/chat_message.hpp"
#include "web/stream/chat_event.hpp"

namespace watercooler {

class frame_cache {
public:
  using frame = std::shared_ptr<const std::string>;

  // How the streams that share a frame write it: the same bytes for the same key.
  struct shape {
    stream_format format = stream_format::text;
    bool chunked = false;
  };

  // The frame of `m` for a stream of `how` whose position, after `m`, is `clock` (its SSE id):
  // the one another stream made, or `make()`'s. Streams at another position get their own.
  template <class Make>
  frame get(const chat_message& m, shape how, const stream_clock& clock, Make&& make) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& e : entries_)
      if (e.bytes && e.seq == m.seq && e.incarnation == m.incarnation && e.how.format == how.format
          && e.how.chunked == how.chunked && e.origin == m.origin && e.clock == clock)
        return e.bytes;
    auto& e = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    e = {m.origin, m.incarnation, m.seq,
         how,      clock,         std::make_shared<const std::string>(std::forward<Make>(make)())};
    return e.bytes;
  }

private:
  struct entry {
    std::string origin;
    uint64_t incarnation = 0;
    uint64_t seq = 0;
    shape how;
    stream_clock clock;
    frame bytes;
  };
  // The latest frames: a message's streams ask within one fan-out, in any interleaving of the
  // scheduler's threads and of the shapes and positions among them.
  std::mutex mutex_;
  std::array<entry, 16> entries_;
  std::size_t next_ = 0;
};

} // namespace watercooler
