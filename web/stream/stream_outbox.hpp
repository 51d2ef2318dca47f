// The bytes an event stream has not written yet: bounded, written with one system call for as
// many pieces as are waiting (one TLS record on TLS), and never blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "web/http/transport.hpp"

namespace watercooler {

// How often a stream gets a comment line (--heartbeat), so proxies keep it and a dead client is
// found.
inline constexpr unsigned default_heartbeat_seconds = 15;

// How far a stream may fall behind before it is ended (the client resumes with Last-Event-ID).
struct stream_limits {
  std::size_t max_events = 1000;       // --stream-queue
  std::size_t max_bytes = 1024 * 1024; // --stream-queue-bytes
};

// Whether the stream holds more than `limits` allow: `events` waiting, or `bytes` of them.
inline bool over_limits(const stream_limits& limits, std::size_t events, std::size_t bytes) {
  return events > limits.max_events || bytes > limits.max_bytes;
}

class stream_outbox {
public:
  // One write of the stream, already framed: `events` messages (0 for heartbeats and heads), the
  // newest published at `published_us` on its origin (0: replayed or not a message). Its bytes
  // are its own, or a frame that other streams' outboxes share.
  class piece {
  public:
    piece(std::string bytes, uint32_t count = 0, int64_t newest_us = 0)
        : events(count), published_us(newest_us), owned_(std::move(bytes)) {}
    piece(std::shared_ptr<const std::string> shared, uint32_t count = 0, int64_t newest_us = 0)
        : events(count), published_us(newest_us), shared_(std::move(shared)) {}

    std::string_view bytes() const {
      return shared_ ? std::string_view(*shared_) : std::string_view(owned_);
    }

    uint32_t events = 0;
    int64_t published_us = 0;

  private:
    std::string owned_;
    std::shared_ptr<const std::string> shared_;
  };

  enum class result { done, blocked, failed };

  stream_outbox() = default;
  // Writes to `transport` (which a session and its clean-up share).
  explicit stream_outbox(std::shared_ptr<transport> transport) : transport_(std::move(transport)) {}
  // Writes to the plain socket `fd`, and closes it when destroyed.
  explicit stream_outbox(int fd) : transport_(plain_transport(fd)) {}

  void push(piece p);
  // Writes what the connection takes now; `written` is called for each piece completely taken.
  result flush(const std::function<void(const piece&)>& written);
  // Drops every piece not started; a piece partly written stays, so the framing stays whole.
  void drop_unsent();

  std::size_t events() const {
    return events_;
  }
  std::size_t bytes() const {
    return bytes_;
  }
  bool empty() const {
    return pieces_.empty();
  }

private:
  std::shared_ptr<transport> transport_;
  std::deque<piece> pieces_;
  std::size_t offset_ = 0; // into the front piece
  std::size_t events_ = 0;
  std::size_t bytes_ = 0; // not yet written
};

} // namespace watercooler
