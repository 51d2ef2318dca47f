// HTTP/2 on one connection, without the socket: libnghttp2 does the framing, HPACK, flow control
// and the stream states; this glue turns each request into the HTTP/1.1 bytes the router serves
// (checked by the same request_reader as HTTP/1.1, so every refusal is the same) and each answer
// back into HEADERS and DATA. Event streams become channels their sessions write to.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "web/http/h2_stream.hpp"
#include "web/http/request_reader.hpp"

typedef struct nghttp2_session nghttp2_session;

namespace watercooler {

// Defaults of the HTTP/2 flags.
inline constexpr uint32_t default_h2_max_streams = 100; // SETTINGS_MAX_CONCURRENT_STREAMS
inline constexpr uint32_t default_h2_max_resets = 300;  // stream resets per 10 s (CVE-2023-44487)

struct h2_limits {
  std::size_t max_header = 32 * 1024; // the request's header list; SETTINGS_MAX_HEADER_LIST_SIZE
  std::size_t max_body = 64 * 1024;
  uint32_t max_streams = default_h2_max_streams;
  uint32_t max_resets = default_h2_max_resets; // a bucket of this many, refilled in 10 s
};

class h2_session {
public:
  using clock = std::chrono::steady_clock;

  // What the session asks of its connection.
  class handler {
  public:
    virtual ~handler() = default;
    // A whole request on `stream`, as HTTP/1.1 bytes: answer it with respond().
    virtual void request(int32_t stream, std::string http1_request) = 0;
    // A request refused before routing; returns the HTTP/1.1 answer to send (it is logged).
    virtual std::string refused(int32_t stream, const request_refusal& refusal,
                                const std::string& method, const std::string& target) = 0;
  };

  h2_session(handler& owner, h2_limits limits);
  ~h2_session(); // every channel is closed: their sessions end
  h2_session(const h2_session&) = delete;
  h2_session& operator=(const h2_session&) = delete;

  // Bytes from the client; false when the connection must end (after sending what is due).
  bool receive(const char* data, std::size_t size, clock::time_point now);
  // Frames to send, up to about `max` bytes, appended to `out`.
  void send(std::string& out, std::size_t max);
  // False once neither side has anything more to say: close the connection.
  bool alive() const;

  // The answer (HTTP/1.1 bytes as httplib wrote them) to request `stream`.
  void respond(int32_t stream, const std::string& http1_response);
  // The answer's head (HTTP/1.1 bytes) to request `stream`, whose body is written to the
  // returned channel by an event stream's session; nullptr if the stream is gone. The head goes
  // out with the first bytes written (or the end). `wake` is how the channel asks for
  // resume(stream) on the connection's thread.
  std::shared_ptr<h2_channel> respond_with_channel(int32_t stream, const std::string& http1_head,
                                                   std::function<bool()> wake);
  // Bytes (or the end) were written to the channel of `stream`.
  void resume(int32_t stream);
  // The node stops: GOAWAY; the streams open now may finish.
  void go_away();

  // Requests given to the handler and not answered yet.
  std::size_t in_flight() const {
    return in_flight_;
  }
  // When the oldest request still being received began (time_point::max() if none).
  clock::time_point oldest_request() const;
  // Refuses (408) every request begun before `limit`.
  void time_out_requests(clock::time_point limit, std::size_t read_timeout_seconds);
  // Whether a client's resets ended the connection (counted once by the caller).
  bool reset_flood() const {
    return reset_flood_;
  }
  std::size_t open_streams() const {
    return streams_.size();
  }

private:
  struct stream;
  struct callbacks;

  stream* find(int32_t id);
  void finish(int32_t id, stream& s);
  void refuse(int32_t id, stream& s, const request_refusal& refusal);
  void submit(int32_t id, const std::string& http1_response, bool body_from_channel);
  bool take_reset(clock::time_point now);

  handler& handler_;
  h2_limits limits_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, stream> streams_;
  std::size_t in_flight_ = 0;
  bool failed_ = false;
  bool reset_flood_ = false;
  double reset_tokens_;
  clock::time_point reset_refill_{};
  clock::time_point now_{};
};

} // namespace watercooler
