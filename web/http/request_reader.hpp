// Where an HTTP/1.1 request ends in the bytes of a connection (RFC 9112 framing), and whether it
// is well-formed enough to be handed whole to httplib's parser. No sockets, no clock: the front
// feeds it what arrives and keeps the deadlines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace watercooler {

// A request refused before it was read to its end: the status and a sentence for the client.
// The connection is closed after the answer (what follows is no request).
struct request_refusal {
  int status = 0;
  std::string reason;
};

// CPPHTTPLIB_REQUEST_URI_MAX_LENGTH and CPPHTTPLIB_HEADER_MAX_LENGTH: httplib's limit per line.
inline constexpr std::size_t max_line_bytes = 8192;

class request_reader {
public:
  struct limits {
    std::size_t max_header; // request line and header lines together, CRLFs included
    std::size_t max_body;   // the body as sent (Content-Length) or decoded (chunked)
  };
  enum class state {
    idle,     // no byte of a request yet
    head,     // in the request line or the header lines
    body,     // the head is complete; the body is still coming
    complete, // a whole request: take() it
    refused,  // refusal() says why; nothing more is read
  };

  explicit request_reader(limits l) : limits_(l) {}

  // Takes bytes of the connection and returns how many it used: it stops at the end of a
  // request (the rest belongs to the next one) and once it refused one.
  std::size_t feed(std::string_view bytes);

  state current() const {
    return state_;
  }
  // Once complete: the request as httplib reads it (without an Expect: 100-continue, which the
  // front answers itself); the reader is idle again afterwards.
  std::string take();
  const request_refusal& refusal() const {
    return refusal_;
  }
  // True once per request, when its head asked for 100-continue and the body is awaited.
  bool take_continue();

  // Of the request line, once it is read (for the log of a refused request).
  const std::string& method() const {
    return method_;
  }
  const std::string& target() const {
    return target_;
  }

private:
  bool line_done(std::string_view line); // false when refused
  bool request_line(std::string_view line);
  bool header_line(std::string_view line);
  bool head_done();
  bool chunk_line(std::string_view line);
  bool refuse(int status, std::string reason);
  void keep(std::string_view bytes); // into request_, unless it is a dropped header line

  limits limits_;
  state state_ = state::idle;
  request_refusal refusal_;
  std::string request_; // what httplib gets
  std::string line_;    // the line being read, without its CRLF yet
  std::size_t head_bytes_ = 0;
  bool in_request_line_ = true;
  std::string method_, target_;
  bool http10_ = false;
  int content_lengths_ = 0;
  uint64_t content_length_ = 0;
  int transfer_encodings_ = 0;
  bool chunked_ = false;
  bool expect_continue_ = false;
  bool continue_due_ = false;
  // The body: by length, or by chunks (size line, data, CRLF after the data, trailer lines).
  enum class chunk_part { size, data, data_end, trailer } part_ = chunk_part::size;
  uint64_t left_ = 0;         // bytes of the body (by length) or of the chunk still to come
  uint64_t decoded_ = 0;      // body bytes so far, chunks decoded
  std::size_t head_size_ = 0; // of request_
};

} // namespace watercooler
