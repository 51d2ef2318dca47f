// One HTTP/2 connection on the front's loop (TLS with ALPN h2): its h2_session's frames to and
// from the transport, its requests to the workers, its event streams to their sessions.
#pragma once

#include <string>

#include "web/http/front_loop.hpp"
#include "web/http/h2_session.hpp"

namespace watercooler {

class h2_connection final : public connection, private h2_session::handler {
public:
  h2_connection(front_loop& loop, connection_parts parts);

  void advance() override;
  steady::time_point deadline() const override;
  void time_out(steady::time_point now) override;
  void answered(int32_t stream, router::answer answer) override;
  void resume(int32_t stream) override;
  void stop_announced() override;
  bool drain() override;

private:
  void request(int32_t stream, std::string http1_request) override;
  std::string refused(int32_t stream, const request_refusal& refusal, const std::string& method,
                      const std::string& target) override;
  bool write_out();
  bool busy() const;

  h2_session session_;
  std::string out_; // frames not yet taken by the transport
  steady::time_point idle_since_, last_progress_;
  bool draining_ = false;
  bool flood_counted_ = false;
};

} // namespace watercooler
