// cpp-httplib as the router of the front: its parser, routes, Request and Response serve one
// request that is whole in memory and write the answer to memory. It never opens a socket.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <httplib.h>
#include <sys/socket.h>

#include "web/http/transport.hpp"

namespace watercooler {

// Takes a connection from the front, with nothing left to write on it, after the response to the
// request that asked for it (whose bytes are discarded).
using adopt_fn = std::function<void(std::unique_ptr<transport> connection)>;

// A client or local address.
struct endpoint {
  std::string ip;
  int port = 0;
};

// The endpoint of a socket address (IPv4 or IPv6).
endpoint endpoint_of(const sockaddr_storage& addr);

class router : public httplib::Server {
public:
  struct answer {
    std::string bytes;  // the response as httplib wrote it; when adopted, its head
    bool close = false; // close the connection once it is written
    adopt_fn adopt;     // set when a handler took the connection
  };

  // Headers of every answer, also of those the front gives without routing (httplib keeps its
  // own copy out of reach).
  router& set_default_headers(httplib::Headers headers) {
    headers_ = headers;
    httplib::Server::set_default_headers(std::move(headers));
    return *this;
  }
  const httplib::Headers& default_headers() const {
    return headers_;
  }

  // The answer to a request refused before routing (or a connection refused): `status`, the
  // default headers and `reason` as the text.
  httplib::Response refusal(int status, const std::string& reason) const;

  // Parses and routes `request` (complete: head and body, HTTP/1.1 bytes) from `client` to
  // `local`, which came over `protocol` ("HTTP/1.1", "HTTP/2").
  answer serve(const std::string& request, const endpoint& client, const endpoint& local,
               const char* protocol = "HTTP/1.1");

  // From inside a handler or the request log: the protocol the request came over.
  static const char* protocol();
  // Runs `fn` with protocol() saying `protocol` (for answers given without routing).
  static void log_as(const char* protocol, const std::function<void()>& fn);

  // From inside a handler: the connection goes to `adopt` after this request; false outside the
  // front (a handler of another server, or a test calling it directly).
  static bool hand_off(adopt_fn adopt);
  // From inside a handler: close the connection after this response.
  static void close_after_response();

private:
  httplib::Headers headers_;
};

} // namespace watercooler
