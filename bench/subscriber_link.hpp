// The load generator's subscriber connections: plain HTTP/1.1, HTTP/1.1 over TLS, or HTTP/2 over
// TLS carrying many event streams. Each reads what arrived and reports it per subscriber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <netinet/in.h>

typedef struct ssl_ctx_st SSL_CTX;

namespace bench {

enum class wire { http1, http1_tls, h2 };

// What a link reports, per subscriber (the load generator's index).
class link_events {
public:
  virtual ~link_events() = default;
  virtual void subscribed(int sub) = 0; // its 200 answer's head came
  virtual void body(int sub, const char* data, std::size_t size) = 0;
  virtual void ended(int sub) = 0; // refused, ended or failed; may be said more than once
};

// One connection, for subscribers [first, first + count); the socket is closed with it.
class subscriber_link {
public:
  subscriber_link(const subscriber_link&) = delete;
  subscriber_link& operator=(const subscriber_link&) = delete;
  virtual ~subscriber_link();
  // Reads and writes what the socket allows now; false once the connection is over (every
  // subscriber of it was told ended).
  virtual bool pump(link_events& events) = 0;

protected:
  subscriber_link(int fd, int first, int count) : fd_(fd), first_(first), count_(count) {}
  int fd_, first_, count_;
};

// A client context for TLS links: ALPN offers only h2 (wire::h2) or only http/1.1, and the node's
// self-signed certificate is not checked; nullptr for wire::http1 or on failure.
SSL_CTX* client_context(wire w);

// Connects subscribers [first, first + count) (count is 1 but for h2) to GET `path` at `addr`
// and watches the socket on `ep` with `tag` as its data; nullptr after saying why on stderr.
std::unique_ptr<subscriber_link> open_link(wire w, SSL_CTX* tls, int ep, uint32_t tag,
                                           const sockaddr_in& addr, const std::string& path,
                                           int first, int count);

} // namespace bench
