// cpp-httplib's servers, with request limits, the plain one able to hand a routed connection's
// socket over to an actor.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "web/http/limits.hpp"

namespace watercooler {

// The limit both servers put on a request's head (httplib's own is per line only).
class request_limits {
public:
  virtual ~request_limits() = default;

  // The request line and headers together may hold at most `bytes` (httplib's compiled-in
  // limit is per line only: 8192 bytes; it holds too). More gets 431 (414 in the request line).
  void set_max_header(std::size_t bytes) {
    max_header_ = bytes;
  }
  // A whole request, head and body, must arrive within set_read_timeout() of its first byte
  // (httplib applies the timeout to each read only, so a trickle never ends); else 408.

  // Requests cut short in their request line (408, 414) are answered before httplib sees them,
  // so its logger does not; they go to `logger`, with "-" as method and path. Unset: only the
  // request log has them.
  void set_refusal_logger(httplib::Logger logger) {
    refusal_logger_ = std::move(logger);
  }

protected:
  // A pool of `threads` for httplib's new_task_queue that counts the connections waiting for
  // one: while any does, a keep-alive connection that sits idle after a request, or one silent
  // for a second since it was accepted, closes and gives its thread up (an HTTP client
  // reconnects; httplib alone would hold the thread for the whole keep-alive timeout, and a few
  // browsers' idle connections would stall everyone else).
  std::function<httplib::TaskQueue*()> counted_pool(std::size_t threads);

  std::size_t max_header_ = default_max_header;
  httplib::Logger refusal_logger_;
  std::shared_ptr<std::atomic<std::size_t>> waiting_ =
    std::make_shared<std::atomic<std::size_t>>(0);
};

// httplib serves each connection on a pool thread. A long stream must not hold one, so a
// handler may claim the connection: httplib's response is then discarded and `adopt` owns the
// (non-blocking) socket, and on TLS the `SSL` over it.
class http_server : public httplib::Server, public request_limits {
public:
  // From inside a handler (of this class or https_server): true when the connection will be
  // handed to `adopt` after the handler returns (`ssl` nullptr on plain HTTP); false on servers
  // of other classes, where the handler must answer itself.
  static bool hand_off(std::function<void(int fd, SSL* ssl)> adopt);

  // From inside a handler: close the connection after this response, e.g. when the rest of a
  // request body is left unread (it would otherwise be read as the next request: a 414).
  static void close_after_response();

  // Why the current connection's request was cut short, for the error handler's answer.
  enum class refusal {
    none,
    head_too_large, // request line and headers over max_header, or a line over 8192 bytes
    too_slow,       // the request did not arrive within the read timeout
  };
  // From inside a handler or the error handler (of this class or https_server); always none on
  // servers of other classes.
  static refusal refused();
  // From inside a handler, the error handler or the logger (of this class or https_server): the
  // client's address; empty on servers of other classes.
  static std::string client_ip();

  // Binds host:port with a deep accept queue (httplib's compiled-in backlog is 5).
  bool bind(const std::string& host, int port, std::string& error);

  // Serves connections on `threads` pool threads; see counted_pool().
  void set_threads(std::size_t threads) {
    new_task_queue = counted_pool(threads);
  }

private:
  bool process_and_close_socket(socket_t sock) override;
};

// httplib's TLS server, its connections served by http_server's loop on a TLS stream, so the
// same request limits hold and a handler may take the connection in the same way.
class https_server : public httplib::SSLServer, public request_limits {
public:
  using httplib::SSLServer::SSLServer;

  // Serves connections on `threads` pool threads; see counted_pool().
  void set_threads(std::size_t threads) {
    new_task_queue = counted_pool(threads);
  }

private:
  bool process_and_close_socket(socket_t sock) override;
};

// Binds `server` to host:port with a deep accept queue; works for httplib::SSLServer too.
bool bind_with_backlog(httplib::Server& server, const std::string& host, int port,
                       std::string& error);

} // namespace watercooler
