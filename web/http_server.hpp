// cpp-httplib's server, able to hand a routed connection's socket over to an actor.
#pragma once

#include <functional>
#include <string>

#include <httplib.h>

namespace watercooler {

// httplib serves each connection on a pool thread. A long stream must not hold one, so a
// handler may claim the socket: httplib's response is then discarded and `adopt` owns the fd.
class http_server : public httplib::Server {
public:
  // From inside a handler: true when the socket will be handed to `adopt` after the handler
  // returns; false where that is impossible (TLS), and the handler must answer itself.
  static bool hand_off(std::function<void(int fd)> adopt);

  // From inside a handler: close the connection after this response, e.g. when the rest of a
  // request body is left unread (it would otherwise be read as the next request: a 414).
  static void close_after_response();

  // Binds host:port with a deep accept queue (httplib's compiled-in backlog is 5).
  bool bind(const std::string& host, int port, std::string& error);

private:
  bool process_and_close_socket(socket_t sock) override;
};

// Binds `server` to host:port with a deep accept queue; works for httplib::SSLServer too.
bool bind_with_backlog(httplib::Server& server, const std::string& host, int port,
                       std::string& error);

} // namespace watercooler
