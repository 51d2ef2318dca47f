// Plain and TLS transports of the HTTP front and the event streams.
#include "web/http/transport.hpp"

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

class plain final : public transport {
public:
  explicit plain(int fd) : transport(fd) {}
  ~plain() override {
    close();
  }

  status handshake() override {
    return status::done;
  }

  long read(char* data, std::size_t size) override {
    for (;;) {
      auto n = ::recv(fd_, data, size, MSG_DONTWAIT);
      if (n > 0)
        return static_cast<long>(n);
      if (n < 0 && errno == EINTR)
        continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
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

  void finish_sending() override {
    if (fd_ >= 0)
      ::shutdown(fd_, SHUT_WR);
  }

  void close() override {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
};

class tls final : public transport {
public:
  static constexpr std::size_t record_bytes = 16384;

  tls(int fd, SSL* ssl) : transport(fd), ssl_(ssl) {
    SSL_set_fd(ssl_, fd);
    SSL_set_accept_state(ssl_);
    // Buffers only while a record is in flight: connections are idle most of the time.
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                         | SSL_MODE_RELEASE_BUFFERS);
  }
  ~tls() override {
    close();
  }

  status handshake() override {
    if (SSL_is_init_finished(ssl_))
      return status::done;
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl_);
    auto error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
    ERR_clear_error();
    if (rc == 1)
      return status::done;
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
      return status::blocked;
    broken_ = true; // no close_notify for a client that never finished its handshake
    return status::failed;
  }

  long read(char* data, std::size_t size) override {
    ERR_clear_error();
    int n = SSL_read(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
    auto error = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, n);
    ERR_clear_error();
    if (n > 0)
      return n;
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
      return 0;
    if (error != SSL_ERROR_ZERO_RETURN)
      broken_ = true; // no close_notify back on a broken connection
    return -1;
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

  std::string protocol() const override {
    const unsigned char* name = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_, &name, &length);
    return std::string(reinterpret_cast<const char*>(name), length);
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

  void finish_sending() override {
    if (ssl_ == nullptr || said_goodbye_)
      return;
    said_goodbye_ = true;
    ERR_clear_error();
    if (!broken_ && SSL_is_init_finished(ssl_))
      SSL_shutdown(ssl_); // close_notify, once: the socket is non-blocking
    ERR_clear_error();
    ::shutdown(fd_, SHUT_WR);
  }

  void close() override {
    if (ssl_ == nullptr)
      return;
    finish_sending();
    SSL_free(ssl_);
    ssl_ = nullptr;
    ::close(fd_);
    fd_ = -1;
  }

private:
  SSL* ssl_;
  std::string out_;      // one record's bytes, taken from the pieces
  std::size_t sent_ = 0; // of out_
  bool broken_ = false;  // a write or read failed: no close_notify
  bool said_goodbye_ = false;
};

} // namespace

long transport::write(const char* data, std::size_t size) {
  iovec piece{const_cast<char*>(data), size};
  return write(&piece, 1);
}

bool transport::discard_input() {
  char buf[4096];
  long n;
  while ((n = read(buf, sizeof(buf))) > 0) {
  }
  return n == 0;
}

std::unique_ptr<transport> plain_transport(int fd) {
  return std::make_unique<plain>(fd);
}

std::unique_ptr<transport> tls_transport(int fd, SSL* ssl) {
  return std::make_unique<tls>(fd, ssl);
}

} // namespace watercooler
