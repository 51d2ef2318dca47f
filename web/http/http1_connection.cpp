// HTTP/1.1 on the front: a connection from its handshake to its close or hand-over.
#include "web/http/http1_connection.hpp"

#include "web/http/h2_connection.hpp"

namespace watercooler {

namespace {

constexpr std::size_t read_chunk = 16 * 1024;
// A client that does not read its responses gets no more of its pipelined requests answered
// until it has taken all but this much.
constexpr std::size_t out_high_water = 64 * 1024;
// After the last response of a connection closed by the node: how long what the client still
// sends is read and dropped, so that closing with unread input does not reset the connection
// before the client has read the response.
constexpr auto linger_time = std::chrono::seconds(2);

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

} // namespace

std::string closing_response(httplib::Response& res) {
  res.set_header("Content-Length", std::to_string(res.body.size()));
  res.set_header("Connection", "close");
  std::string out =
    "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) + "\r\n";
  for (const auto& [name, value] : res.headers)
    out += name + ": " + value + "\r\n";
  return out + "\r\n" + res.body;
}

http1_connection::http1_connection(front_loop& loop, connection_parts parts)
    : connection(loop, std::move(parts)),
      reader_({loop.settings().max_header, loop.settings().max_body}) {
  accepted_ = idle_since_ = steady::now();
}

// Everything the connection can do now: handshake, write, hand over or close, read and parse.
void http1_connection::advance() {
  for (;;) {
    if (lingering_)
      return linger();
    if (!handshaken_) {
      auto status = io->handshake();
      if (status == transport::status::failed)
        return loop_.close(*this);
      if (status == transport::status::blocked)
        return loop_.arm(*this);
      handshaken_ = true;
      idle_since_ = steady::now();
      if (io->protocol() == "h2") // ALPN: the connection goes on as HTTP/2
        return loop_.replace(*this, std::make_unique<h2_connection>(loop_, take_parts()));
    }
    if (!write_out())
      return loop_.close(*this);
    if (!out_.empty()
        && (out_.size() > out_high_water || handling_ || adopt_ || close_after_write_))
      return loop_.arm(*this);
    if (out_.empty() && adopt_)
      return loop_.hand_over(*this, std::move(adopt_));
    if (out_.empty() && close_after_write_) {
      io->finish_sending();
      lingering_ = true;
      linger_since_ = steady::now();
      continue;
    }
    if (handling_)
      return loop_.arm(*this);
    if (!read_request())
      return loop_.close(*this);
    if (handling_ || close_after_write_)
      continue;                        // dispatched, or refused: write what is due
    if (!out_.empty() && !write_out()) // a 100 Continue
      return loop_.close(*this);
    return loop_.arm(*this);
  }
}

// Response bytes, written after those before them; a response's deadline counts from its start.
void http1_connection::queue(const std::string& bytes) {
  if (out_.empty())
    last_progress_ = steady::now();
  out_ += bytes;
}

// Hands the transport what it takes of `out_`; false when the connection failed.
bool http1_connection::write_out() {
  if (io->flush() == transport::status::failed)
    return false;
  while (!out_.empty()) {
    auto n = io->write(out_.data(), out_.size());
    if (n < 0)
      return false;
    if (n == 0)
      return true;
    out_.erase(0, static_cast<std::size_t>(n));
    last_progress_ = steady::now();
    if (out_.empty())
      idle_since_ = last_progress_;
  }
  return io->flush() != transport::status::failed;
}

// Feeds the reader what was read; a complete request goes to a worker, a refused one gets its
// answer. False when the client went away.
bool http1_connection::read_request() {
  char buf[read_chunk];
  for (;;) {
    if (!in_.empty()) {
      bool was_idle = reader_.current() == request_reader::state::idle;
      auto used = reader_.feed(in_);
      in_.erase(0, used);
      if (was_idle && reader_.current() != request_reader::state::idle)
        request_started_ = steady::now();
    }
    switch (reader_.current()) {
      case request_reader::state::complete:
        handling_ = true;
        loop_.dispatch(id, 0, reader_.take(), client, local, "HTTP/1.1");
        return true;
      case request_reader::state::refused:
        refuse_request(reader_.refusal());
        return true;
      default:
        break;
    }
    if (reader_.take_continue())
      queue("HTTP/1.1 100 Continue\r\n\r\n");
    if (!in_.empty())
      continue;
    auto n = io->read(buf, sizeof(buf));
    if (n < 0)
      return false;
    if (n == 0)
      return true;
    in_.append(buf, static_cast<std::size_t>(n));
  }
}

void http1_connection::answered(int32_t, router::answer answer) {
  handling_ = false;
  if (!answer.adopt)
    queue(answer.bytes);
  close_after_write_ = close_after_write_ || answer.close;
  adopt_ = std::move(answer.adopt);
  advance();
}

// Answers a request the reader refused, and closes the connection after it.
void http1_connection::refuse_request(const request_refusal& refusal) {
  auto res = loop_.routes().refusal(refusal.status, refusal.reason);
  queue(closing_response(res));
  close_after_write_ = true;
  in_.clear();
  loop_.log_refusal(reader_.method(), reader_.target(), client, res, "HTTP/1.1");
}

void http1_connection::linger() {
  char sink[read_chunk];
  long n;
  while ((n = io->read(sink, sizeof(sink))) > 0) {
  }
  if (n < 0)
    return loop_.close(*this);
  loop_.arm(*this);
}

// When the connection's present wait ends: the handshake and each request must arrive within
// the read timeout, an idle connection waits for the keep-alive timeout, a response must make
// progress within the read timeout; a request with a worker has no deadline here.
steady::time_point http1_connection::deadline() const {
  const auto& s = loop_.settings();
  if (lingering_)
    return linger_since_ + linger_time;
  if (!handshaken_)
    return accepted_ + s.read_timeout;
  if (!out_.empty())
    return last_progress_ + s.read_timeout;
  if (handling_)
    return steady::time_point::max();
  if (reader_.current() != request_reader::state::idle)
    return request_started_ + s.read_timeout;
  return idle_since_ + s.keep_alive_timeout;
}

void http1_connection::time_out(steady::time_point now) {
  // Bytes that came with the deadline count: a request that began is answered.
  auto& loop = loop_;
  auto self = id;
  advance();
  if (!loop.alive(self) || deadline() > now)
    return;
  bool in_request = handshaken_ && out_.empty() && !handling_ && !lingering_
                    && reader_.current() != request_reader::state::idle;
  if (!in_request)
    return loop_.close(*this); // idle, a handshake or a response that did not move, a linger done
  refuse_request({408, "request timeout: a request must arrive within "
                         + std::to_string(loop_.settings().read_timeout.count()) + " s"});
  advance();
}

} // namespace watercooler
