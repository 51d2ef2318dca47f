// The connection under an event stream once its session owns it: a plain socket, or TLS over
// one; both non-blocking, so a session never waits for its client.
#pragma once

#include <memory>

#include <sys/uio.h>

typedef struct ssl_st SSL;

namespace watercooler {

class stream_transport {
public:
  enum class status { done, blocked, failed };

  explicit stream_transport(int fd) : fd_(fd) {}
  virtual ~stream_transport() = default;
  stream_transport(const stream_transport&) = delete;
  stream_transport& operator=(const stream_transport&) = delete;

  // Takes what it can of `iov` now: the number of bytes taken (0: none, go on once the socket
  // is writable), -1 when the connection failed.
  virtual long write(const iovec* iov, int count) = 0;
  // Sends what was taken but kept back (a TLS record the socket would not take yet).
  virtual status flush() = 0;
  // Reads and drops what the client sent (an event stream expects nothing); false once the
  // client closed the connection or it failed.
  virtual bool discard_input() = 0;
  // Says goodbye if the protocol has a way (TLS close_notify, never waited for) and closes the
  // socket; once only, later calls do nothing. The destructor calls it.
  virtual void close() = 0;

  // The socket; -1 once closed.
  int fd() const {
    return fd_;
  }

protected:
  int fd_;
};

// A plain socket: writes are one sendmsg of every piece.
std::unique_ptr<stream_transport> plain_transport(int fd);

// TLS over `fd`, after the handshake; owns `ssl`. Pieces are copied into records of at most
// 16 KiB; a record the socket would not take is kept and sent first next time.
std::unique_ptr<stream_transport> tls_transport(int fd, SSL* ssl);

} // namespace watercooler
