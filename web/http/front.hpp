// The HTTP front of a node: one event loop (epoll) accepts plain and TLS connections, does the
// TLS handshakes, reads each request whole into memory, keeps idle keep-alive connections and
// writes the responses, all without blocking; a request takes one of a few worker threads only
// once it is complete, for httplib's parser, the routes and our handlers.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>

#include "actors/metrics.hpp"
#include "web/http/h2_session.hpp"
#include "web/http/limits.hpp"
#include "web/http/router.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace watercooler {

struct front_settings {
  std::size_t max_header = default_max_header; // request line and headers; more gets 431
  std::size_t max_body = default_max_body;     // more gets 413
  std::chrono::seconds read_timeout{default_read_timeout};             // a whole request; else 408
  std::chrono::seconds keep_alive_timeout{default_keep_alive_timeout}; // idle between requests
  std::size_t max_connections = 1024; // open connections in all; more are refused (503)
  std::size_t max_per_address = default_max_connections_per_address; // 0: any; more get 429
  std::size_t threads = 8;                          // workers for complete requests
  uint32_t h2_max_streams = default_h2_max_streams; // concurrent streams per HTTP/2 connection
  uint32_t h2_max_resets = default_h2_max_resets;   // stream resets per 10 s; more gets GOAWAY
};

// Half the open-files limit (the other half is for streams, peers and files), at least 64.
std::size_t default_max_connections();

class front_loop;

class http_front {
public:
  // `routes` answers the complete requests; `metrics` counts connections and refusals.
  http_front(router& routes, front_settings settings, std::shared_ptr<node_metrics> metrics);
  ~http_front(); // stop()
  http_front(const http_front&) = delete;
  http_front& operator=(const http_front&) = delete;

  // Before start(): listens on host:port (0: a free port), over TLS when `tls` is set. The port,
  // or 0 with `error`.
  int listen(const std::string& host, int port, std::shared_ptr<SSL_CTX> tls, std::string& error);

  // Requests refused in their framing (400, 408, 413, 414, 431) are answered by the front; they
  // go to `logger` with the method and path as far as they were read ("-" before), as routed
  // requests go to httplib's logger.
  void set_refusal_logger(httplib::Logger logger) {
    refusal_logger_ = std::move(logger);
  }

  // Starts the event loop and the workers; false (and `error`) if epoll cannot be set up.
  bool start(std::string& error);
  // Closes the listening sockets; the connections go on (their streams' sessions write a
  // farewell).
  void stop_accepting();
  // Closes the listening sockets, then the connections: HTTP/2 ones get GOAWAY and a moment to
  // send what their streams wrote last. Then waits for the workers' requests in progress.
  void stop();

private:
  router& routes_;
  front_settings settings_;
  std::shared_ptr<node_metrics> metrics_;
  httplib::Logger refusal_logger_;
  std::vector<std::pair<int, std::shared_ptr<SSL_CTX>>> listeners_; // until start()
  std::unique_ptr<front_loop> loop_;
};

} // namespace watercooler
