// Plain and TLS transports of the event streams that sessions write themselves.
#include "web/stream/stream_transport.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace watercooler {

namespace {

class plain final : public stream_transport {
public:
  explicit plain(int fd) : stream_transport(fd) {}
  ~plain() override {
    close();
  }

  long write(const iovec* iov, int count) override {
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = static_cast<std::size_t>(count);
    for (;;) {
      auto n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0)
        return static_cast<long>(n);
      if (errno == EINTR)
        continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
  }

  status flush() override {
    return status::done; // the kernel keeps what sendmsg took
  }

  bool discard_input() override {
    char buf[4096];
    for (;;) {
      auto n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0)
        continue;
      if (n < 0 && errno == EINTR)
        continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }

  void close() override {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
};

// OpenSSL's error queue is per thread and sessions move between scheduler threads: each call
// starts with an empty queue and leaves one, so no other connection reads our errors as its own.
class tls final : public stream_transport {
public:
  static constexpr std::size_t record_bytes = 16384;

  tls(int fd, SSL* ssl) : stream_transport(fd), ssl_(ssl) {
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                         | SSL_MODE_RELEASE_BUFFERS);
  }
  ~tls() override {
    close();
  }

  long write(const iovec* iov, int count) override {
    auto before = flush();
    if (before != status::done)
      return before == status::failed ? -1 : 0;
    for (int i = 0; i < count && out_.size() < record_bytes; ++i) {
      auto take = std::min(iov[i].iov_len, record_bytes - out_.size());
      out_.append(static_cast<const char*>(iov[i].iov_base), take);
    }
    auto taken = static_cast<long>(out_.size());
    return flush() == status::failed ? -1 : taken;
  }

  status flush() override {
    while (sent_ < out_.size()) {
      ERR_clear_error();
      auto left = std::min<std::size_t>(out_.size() - sent_, INT_MAX);
      int n = SSL_write(ssl_, out_.data() + sent_, static_cast<int>(left));
      if (n > 0) {
        sent_ += static_cast<std::size_t>(n);
        continue;
      }
      auto error = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ)
        return status::blocked; // the same bytes go first next time, as OpenSSL requires
      broken_ = true;
      return status::failed;
    }
    out_.clear();
    sent_ = 0;
    return status::done;
  }

  bool discard_input() override {
    char buf[4096];
    for (;;) {
      ERR_clear_error();
      int n = SSL_read(ssl_, buf, sizeof(buf));
      if (n > 0)
        continue;
      auto error = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
        return true;
      if (error != SSL_ERROR_ZERO_RETURN)
        broken_ = true; // no close_notify back on a broken connection
      return false;
    }
  }

  void close() override {
    if (ssl_ == nullptr)
      return;
    ERR_clear_error();
    if (!broken_)
      SSL_shutdown(ssl_); // close_notify, once: the socket is non-blocking
    SSL_free(ssl_);
    ERR_clear_error();
    ssl_ = nullptr;
    ::close(fd_);
    fd_ = -1;
  }

private:
  SSL* ssl_;
  std::string out_;      // one record's bytes, taken from the pieces
  std::size_t sent_ = 0; // of out_
  bool broken_ = false;  // a write or read failed: no close_notify
};

} // namespace

std::unique_ptr<stream_transport> plain_transport(int fd) {
  return std::make_unique<plain>(fd);
}

std::unique_ptr<stream_transport> tls_transport(int fd, SSL* ssl) {
  return std::make_unique<tls>(fd, ssl);
}

} // namespace watercooler
