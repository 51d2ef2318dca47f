// One HTTP/1.1 connection on the front's loop, plain or TLS: the TLS handshake, requests read
// whole and answered in order (pipelined ones too), keep-alive, and the hand-over of a stream.
// Once TLS has chosen HTTP/2 by ALPN, the connection goes on as an h2_connection.
#pragma once

#include <string>

#include "web/http/front_loop.hpp"
#include "web/http/request_reader.hpp"

namespace watercooler {

// The bytes of `res` as an HTTP/1.1 response that closes the connection.
std::string closing_response(httplib::Response& res);

class http1_connection final : public connection {
public:
  http1_connection(front_loop& loop, connection_parts parts);

  void advance() override;
  steady::time_point deadline() const override;
  void time_out(steady::time_point now) override;
  void answered(int32_t stream, router::answer answer) override;

private:
  void queue(const std::string& bytes);
  bool write_out();
  bool read_request();
  void refuse_request(const request_refusal& refusal);
  void linger();

  bool handshaken_ = false;
  request_reader reader_;
  std::string in_;        // read, not yet taken by the reader (the start of a pipelined request)
  std::string out_;       // response bytes not yet taken by the transport
  bool handling_ = false; // a worker has the request
  bool close_after_write_ = false;
  bool lingering_ = false;
  adopt_fn adopt_;
  steady::time_point accepted_, idle_since_, request_started_, last_progress_, linger_since_;
};

} // namespace watercooler
