// A client connection, plain TCP or TLS over it, non-blocking: the one socket layer of the HTTP
// front (which reads requests and writes responses through it) and of the event streams (which
// take it over from the front).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <sys/uio.h>

typedef struct ssl_st SSL;

namespace watercooler {

class transport {
public:
  enum class status { done, blocked, failed };

  explicit transport(int fd) : fd_(fd) {}
  virtual ~transport() = default;
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  // Takes the TLS handshake as far as the socket allows now: done, blocked (go on once the
  // socket is readable or writable) or failed. Plain connections are done at once.
  virtual status handshake() = 0;
  // Reads up to `size` bytes: the number read, 0 when nothing is there now (go on once the
  // socket is readable), -1 once the client closed the connection or it failed.
  virtual long read(char* data, std::size_t size) = 0;
  // Takes what it can of `iov` now: the number of bytes taken (0: none, go on once the socket
  // is writable), -1 when the connection failed.
  virtual long write(const iovec* iov, int count) = 0;
  long write(const char* data, std::size_t size);
  // Sends what was taken but kept back (a TLS record the socket would not take yet).
  virtual status flush() = 0;
  // Says goodbye if the protocol has a way (TLS close_notify, never waited for) and stops
  // sending; reading goes on, so a client's last bytes do not turn the close into a reset.
  virtual void finish_sending() = 0;
  // Finishes sending (unless the connection failed) and closes the socket; once only, later
  // calls do nothing. The destructor calls it.
  virtual void close() = 0;

  // The protocol TLS agreed on by ALPN ("h2", "http/1.1"); empty when none was.
  virtual std::string protocol() const {
    return {};
  }

  // A stream multiplexed on a connection (HTTP/2) has no socket of its own (fd() is -1): it calls
  // `notify` itself, from another thread, when a short write may go on (writable) or the stream
  // is gone (closed). Sockets are watched by a poller instead and ignore this.
  enum class event { writable, closed };
  virtual void on_event(std::function<void(event)> notify) {
    (void)notify;
  }

  // Reads and drops what the client sent; false once the client closed the connection or it
  // failed.
  bool discard_input();

  // The socket; -1 once closed.
  int fd() const {
    return fd_;
  }

protected:
  int fd_;
};

// A plain socket: writes are one sendmsg of every piece.
std::unique_ptr<transport> plain_transport(int fd);

// TLS over `fd` as the server; owns `ssl` (set to `fd` and to accept here). Pieces are copied
// into records of at most 16 KiB; a record the socket would not take is kept and sent first next
// time. OpenSSL's error queue is per thread and connections move between threads: every call
// starts with an empty queue and leaves one.
std::unique_ptr<transport> tls_transport(int fd, SSL* ssl);

} // namespace watercooler
