// HTTP/2 on the front: an h2_session between a transport and the workers.
#include "web/http/h2_connection.hpp"

#include "actors/log.hpp"
#include "web/http/http1_connection.hpp"

namespace watercooler {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
// Frames waiting for a client that does not read; reading its requests pauses above this.
constexpr std::size_t out_high_water = 64 * 1024;

h2_limits limits_of(const front_settings& s) {
  return {s.max_header, s.max_body, s.h2_max_streams, s.h2_max_resets};
}

} // namespace

h2_connection::h2_connection(front_loop& loop, connection_parts parts)
    : connection(loop, std::move(parts)), session_(*this, limits_of(loop.settings())) {
  idle_since_ = last_progress_ = steady::now();
}

bool h2_connection::busy() const {
  return session_.open_streams() > 0 || session_.in_flight() > 0;
}

// Writes what the session has to send, reads what the client sent, as far as both go now.
void h2_connection::advance() {
  char buf[read_chunk];
  for (;;) {
    if (!write_out())
      return loop_.close(*this);
    if (session_.reset_flood() && !flood_counted_) {
      flood_counted_ = true;
      ++loop_.metrics().reset_floods;
      loop_.log_refused_connection("--h2-max-resets");
    }
    if (!session_.alive() && out_.empty())
      return loop_.close(*this);
    if (busy())
      idle_since_ = steady::now();
    // A client that does not read, or has as many requests with the workers as it may have
    // streams, is not read from until that changes.
    if (out_.size() >= out_high_water || session_.in_flight() >= loop_.settings().h2_max_streams)
      break;
    auto n = io->read(buf, sizeof(buf));
    if (n < 0)
      return loop_.close(*this);
    if (n == 0)
      break;
    if (!session_.receive(buf, static_cast<std::size_t>(n), steady::now())) {
      write_out(); // a GOAWAY, if nghttp2 could say one
      return loop_.close(*this);
    }
  }
  loop_.arm(*this);
}

bool h2_connection::write_out() {
  if (io->flush() == transport::status::failed)
    return false;
  for (;;) {
    session_.send(out_, out_high_water);
    if (out_.empty())
      return true;
    auto n = io->write(out_.data(), out_.size());
    if (n < 0)
      return false;
    if (n == 0)
      return io->flush() != transport::status::failed;
    out_.erase(0, static_cast<std::size_t>(n));
    last_progress_ = steady::now();
  }
}

void h2_connection::request(int32_t stream, std::string http1_request) {
  loop_.dispatch(id, stream, std::move(http1_request), client, local, "HTTP/2");
}

std::string h2_connection::refused(int32_t, const request_refusal& refusal,
                                   const std::string& method, const std::string& target) {
  auto res = loop_.routes().refusal(refusal.status, refusal.reason);
  loop_.log_refusal(method, target, client, res, "HTTP/2");
  return closing_response(res); // the session drops the connection's own fields
}

void h2_connection::answered(int32_t stream, router::answer answer) {
  if (answer.adopt) {
    auto wake = [mailbox = loop_.mailbox(), loop = &loop_, id = id, stream] {
      return mailbox->post([loop, id, stream] { loop->resume(id, stream); });
    };
    if (auto channel = session_.respond_with_channel(stream, answer.bytes, wake))
      answer.adopt(h2_stream_transport(std::move(channel)));
  } else {
    session_.respond(stream, answer.bytes);
  }
  advance();
}

void h2_connection::resume(int32_t stream) {
  session_.resume(stream); // sent when the loop advances us, with the other streams resumed
}

void h2_connection::stop_announced() {
  if (draining_)
    return;
  draining_ = true;
  session_.go_away();
  advance();
}

bool h2_connection::drain() {
  if (!draining_) {
    draining_ = true;
    session_.go_away();
  }
  if (!write_out())
    return true;
  return !session_.alive() || (!busy() && out_.empty());
}

// Frames that do not move, a request that does not come whole, or an idle connection.
steady::time_point h2_connection::deadline() const {
  const auto& s = loop_.settings();
  auto at = steady::time_point::max();
  if (!out_.empty())
    at = last_progress_ + s.read_timeout;
  if (auto oldest = session_.oldest_request(); oldest != steady::time_point::max())
    at = std::min(at, oldest + s.read_timeout);
  if (!busy())
    at = std::min(at, idle_since_ + s.keep_alive_timeout);
  return at;
}

void h2_connection::time_out(steady::time_point now) {
  const auto& s = loop_.settings();
  if (!out_.empty() && last_progress_ + s.read_timeout <= now)
    return loop_.close(*this);
  if (!busy() && idle_since_ + s.keep_alive_timeout <= now) {
    session_.go_away();
    write_out();
    return loop_.close(*this);
  }
  session_.time_out_requests(now - s.read_timeout,
                             static_cast<std::size_t>(s.read_timeout.count()));
  advance();
}

} // namespace watercooler
