// Keep-alive loop of cpp-httplib's servers, redone so a handler can take the connection (plain
// or TLS) with it and every request is held to the head and time limits.
#include "web/http_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web/actions.hpp"
#include "web/http/request_log.hpp"

namespace watercooler {

namespace {

using steady = std::chrono::steady_clock;

constexpr int accept_backlog = 4096;
// A connection that has sent nothing for this long gives its thread up to one that waits.
constexpr long silent_ms = 1000;
// CPPHTTPLIB_REQUEST_URI_MAX_LENGTH and CPPHTTPLIB_HEADER_MAX_LENGTH, compiled into the .so.
constexpr std::size_t line_max = 8192;

// Waits up to `ms` for `events` on `fd`; false on timeout, error or hang-up without data.
bool wait_for(int fd, short events, long ms) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(ms));
  } while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & events) != 0;
}

long to_ms(time_t sec, time_t usec) {
  return static_cast<long>(sec) * 1000 + static_cast<long>(usec) / 1000;
}

// A socket, plain or TLS (`ssl`), as httplib::Stream; once the socket is claimed, writes go
// nowhere. It measures each request's head as httplib reads it (a byte at a time) and ends
// reads at the request's deadline: httplib itself bounds neither the number of header lines
// nor a trickle's time. Reads go through a buffer, so that httplib's byte-at-a-time reading of
// the head costs a system call per segment, not two per byte.
class socket_stream : public httplib::Stream {
public:
  socket_stream(int fd, long write_ms, std::size_t max_header, SSL* ssl = nullptr)
      : fd_(fd), write_ms_(write_ms), max_header_(max_header), ssl_(ssl) {}

  // A request begins: its head is measured afresh, and it must have arrived by `deadline`.
  void begin_request(steady::time_point deadline) {
    deadline_ = deadline;
    in_head_ = true;
    first_line_ = true;
    head_bytes_ = line_bytes_ = 0;
    last_ = 0;
    refused_ = http_server::refusal::none;
    wrote_ = false;
  }

  http_server::refusal refused() const {
    return refused_;
  }
  bool in_request_line() const {
    return in_head_ && first_line_;
  }
  bool wrote() const {
    return wrote_;
  }

  void discard_writes() {
    discard_ = true;
  }

  // Bytes already read or decrypted and waiting, which poll() cannot see. When a handler takes
  // the socket, these are left behind: only bytes a client sent after its request.
  bool has_buffered() const {
    return in_pos_ < in_len_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0);
  }

  bool is_readable() const override {
    return refused_ == http_server::refusal::none
           && (has_buffered() || wait_for(fd_, POLLIN, ms_left()));
  }

  // As httplib's own streams: a client that has gone is not writable (how a TLS event stream
  // finds out that its client left).
  bool is_writable() const override {
    return discard_ || (wait_for(fd_, POLLOUT, write_ms_) && peer_alive());
  }

  ssize_t read(char* ptr, size_t size) override {
    if (refused_ != http_server::refusal::none)
      return -1;
    auto n = buffered_read(ptr, size);
    if (n < 0 && steady::now() >= deadline_)
      refused_ = http_server::refusal::too_slow;
    if (n > 0 && in_head_ && !measure(ptr, static_cast<size_t>(n))) {
      refused_ = http_server::refusal::head_too_large;
      return -1;
    }
    return n;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (discard_)
      return static_cast<ssize_t>(size);
    auto n = ssl_ != nullptr ? send_tls(ptr, size) : send_plain(ptr, size);
    wrote_ = wrote_ || n > 0;
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(&::getpeername, ip, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(&::getsockname, ip, port);
  }

  socket_t socket() const override {
    return fd_;
  }

private:
  void address_of(int (*query)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (query(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    char buf[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
      port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
      port = ntohs(in6->sin6_port);
    }
    ip = buf;
  }

  // Up to `size` bytes: from the buffer, else read into it (large reads go straight to `ptr`).
  ssize_t buffered_read(char* ptr, size_t size) {
    if (in_pos_ == in_len_ && size < in_.size()) {
      auto n = receive(in_.data(), in_.size());
      if (n <= 0)
        return n;
      in_pos_ = 0;
      in_len_ = static_cast<size_t>(n);
    }
    if (in_pos_ == in_len_)
      return receive(ptr, size);
    auto n = std::min(size, in_len_ - in_pos_);
    std::memcpy(ptr, in_.data() + in_pos_, n);
    in_pos_ += n;
    return static_cast<ssize_t>(n);
  }

  // What there is to read, waiting for it until the deadline; 0 at the end, -1 on error.
  ssize_t receive(char* ptr, size_t size) {
    for (;;) {
      if (ssl_ == nullptr) {
        ssize_t n;
        do {
          n = ::recv(fd_, ptr, size, MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_for(fd_, POLLIN, ms_left()))
          continue;
        return n;
      }
      int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, INT_MAX)));
      if (n > 0)
        return n;
      switch (SSL_get_error(ssl_, n)) {
        case SSL_ERROR_WANT_READ: // part of a record: wait for the rest
          if (wait_for(fd_, POLLIN, ms_left()))
            continue;
          return -1;
        case SSL_ERROR_WANT_WRITE:
          if (wait_for(fd_, POLLOUT, ms_left()))
            continue;
          return -1;
        case SSL_ERROR_ZERO_RETURN:
          return 0;
        default:
          ERR_clear_error();
          return -1;
      }
    }
  }

  ssize_t send_plain(const char* ptr, size_t size) {
    if (!wait_for(fd_, POLLOUT, write_ms_))
      return -1;
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  // The socket is non-blocking: a write that must wait is retried with the same bytes.
  ssize_t send_tls(const char* ptr, size_t size) {
    for (;;) {
      int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, INT_MAX)));
      if (n > 0)
        return n;
      auto error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_WANT_WRITE && wait_for(fd_, POLLOUT, write_ms_))
        continue;
      if (error == SSL_ERROR_WANT_READ && wait_for(fd_, POLLIN, write_ms_))
        continue;
      ERR_clear_error();
      return -1;
    }
  }

  // False once the client has closed or reset the connection; bytes it sent are not taken.
  bool peer_alive() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0)
      return true;
    if ((p.revents & (POLLERR | POLLHUP)) != 0)
      return false;
    char byte;
    auto n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
  }

  long ms_left() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - steady::now());
    return std::max(0L, static_cast<long>(left.count()) + 1);
  }

  // False once the head or one of its lines is too large. The head ends with an empty line; as
  // for httplib, a line must end in CRLF to count as one.
  bool measure(const char* data, size_t size) {
    for (size_t i = 0; i < size && in_head_; ++i) {
      ++head_bytes_;
      ++line_bytes_;
      if (head_bytes_ > max_header_ || line_bytes_ > line_max)
        return false;
      if (data[i] == '\n') {
        if (!first_line_ && line_bytes_ == 2 && last_ == '\r')
          in_head_ = false;
        first_line_ = false;
        line_bytes_ = 0;
      }
      last_ = data[i];
    }
    return true;
  }

  int fd_;
  long write_ms_;
  std::size_t max_header_;
  SSL* ssl_;
  std::array<char, 4096> in_{};
  std::size_t in_pos_ = 0, in_len_ = 0;
  bool discard_ = false;
  steady::time_point deadline_ = steady::time_point::max();
  bool in_head_ = true;
  bool first_line_ = true;
  std::size_t head_bytes_ = 0;
  std::size_t line_bytes_ = 0;
  char last_ = 0;
  http_server::refusal refused_ = http_server::refusal::none;
  bool wrote_ = false;
};

// The answer to a request cut short in its request line: httplib gives up there without one.
void refuse_request_line(socket_stream& stream, http_server::refusal why, long timeout_s,
                         const httplib::Logger& logger) {
  httplib::Response res;
  res.headers = security_headers();
  if (why == http_server::refusal::too_slow)
    plain_error(res, 408,
                "request timeout: a request must arrive within " + std::to_string(timeout_s)
                  + " s");
  else
    plain_error(res, 414, "request line too long: at most " + std::to_string(line_max) + " bytes");
  std::string out = "HTTP/1.1 " + std::to_string(res.status) + " "
                    + (res.status == 408 ? "Request Timeout" : "URI Too Long") + "\r\n";
  res.set_header("Content-Length", std::to_string(res.body.size()));
  res.set_header("Connection", "close");
  for (const auto& [name, value] : res.headers)
    out += name + ": " + value + "\r\n";
  out += "\r\n" + res.body;
  stream.write(out.data(), out.size());
  httplib::Request req; // for the log line: the request's method and path are unknown
  stream.get_remote_ip_and_port(req.remote_addr, req.remote_port);
  req.method = "-";
  req.path = "-";
  if (logger)
    logger(req, res);
  else
    log_request(req, res);
}

struct hand_off_slot {
  socket_stream* stream = nullptr;
  std::string client_ip;
  SSL* ssl = nullptr; // a TLS connection's, handed over with the socket
  std::function<void(int, SSL*)> adopt;
  bool close = false;
};

thread_local hand_off_slot* current_slot = nullptr;

// What the keep-alive loop needs to know of its server.
struct loop_settings {
  std::size_t keep_alive_max;
  time_t keep_alive_sec;
  const std::atomic<socket_t>* listening;  // INVALID_SOCKET once the server stops
  const std::atomic<std::size_t>* waiting; // connections waiting for a pool thread
  long read_timeout_ms;
  SSL* ssl; // the connection's, or nullptr on plain HTTP
  const httplib::Logger* refusal_logger;
};

// httplib's Server::process_request on one stream; `last` asks it to close after answering.
using process_fn = std::function<bool(httplib::Stream&, bool last, bool& connection_closed)>;

struct loop_end {
  bool ok = false;      // the last request went well
  bool adopted = false; // a handler took the connection: it is neither used nor closed any more
  bool unread = false;  // a request was refused before it was read to its end
};

// Serves the requests of one connection until it ends, a request is refused or the socket is
// handed off.
loop_end serve_requests(socket_stream& stream, const loop_settings& settings,
                        const process_fn& process) {
  int sock = stream.socket();
  hand_off_slot slot;
  slot.stream = &stream;
  slot.ssl = settings.ssl;
  int client_port = 0;
  stream.get_remote_ip_and_port(slot.client_ip, client_port);
  auto left = settings.keep_alive_max;
  loop_end end;
  while (left > 0) {
    // Wait for the next request in short steps so that stop() is not held up, nor a connection
    // that waits for this thread while this one is idle after a request, or has been silent for
    // a second since it was accepted (a browser's unused preconnection, or a client that never
    // asks).
    bool readable = stream.has_buffered();
    bool after_request = left < settings.keep_alive_max;
    for (long waited = 0; waited < settings.keep_alive_sec * 1000 && !readable; waited += 100) {
      if (*settings.listening == INVALID_SOCKET)
        break;
      if ((after_request || waited >= silent_ms) && *settings.waiting > 0)
        break;
      readable = wait_for(sock, POLLIN, 100);
    }
    if (!readable)
      break;
    bool connection_closed = false;
    stream.begin_request(steady::now() + std::chrono::milliseconds(settings.read_timeout_ms));
    request_started(); // for a refusal's log line; routed requests restart the clock
    current_slot = &slot;
    end.ok = process(stream, left == 1, connection_closed);
    current_slot = nullptr;
    if (slot.adopt) {
      slot.adopt(sock, slot.ssl); // the connection is the adopter's now
      end.adopted = true;
      return end;
    }
    if (stream.refused() != http_server::refusal::none) {
      // In the headers or body httplib answered (see the error handler); not in the request line.
      if (stream.in_request_line() && !stream.wrote())
        refuse_request_line(stream, stream.refused(), settings.read_timeout_ms / 1000,
                            *settings.refusal_logger);
      end.unread = true;
      break;
    }
    if (!end.ok || connection_closed || slot.close) {
      end.unread = slot.close;
      break;
    }
    --left;
  }
  return end;
}

void close_connection(int sock, bool unread) {
  if (unread) {
    // Closing with unread input sends a reset, which may destroy the answer before the client
    // reads it: say we are done, then read what still comes for a moment.
    ::shutdown(sock, SHUT_WR);
    char sink[4096];
    auto until = steady::now() + std::chrono::seconds(2);
    while (steady::now() < until && wait_for(sock, POLLIN, 100))
      if (::recv(sock, sink, sizeof(sink), 0) <= 0)
        break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

// The TLS handshake on a non-blocking socket, within `ms`.
bool accept_tls(SSL* ssl, int sock, long ms) {
  auto until = steady::now() + std::chrono::milliseconds(ms);
  for (;;) {
    int rc = SSL_accept(ssl);
    if (rc == 1)
      return true;
    auto error = SSL_get_error(ssl, rc);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
    if (left.count() <= 0)
      return false;
    if (error == SSL_ERROR_WANT_READ && wait_for(sock, POLLIN, left.count()))
      continue;
    if (error == SSL_ERROR_WANT_WRITE && wait_for(sock, POLLOUT, left.count()))
      continue;
    return false;
  }
}

} // namespace

std::function<httplib::TaskQueue*()> request_limits::counted_pool(std::size_t threads) {
  // httplib::ThreadPool, with each queued connection counted until a thread takes it.
  class pool final : public httplib::TaskQueue {
  public:
    pool(std::size_t threads, std::shared_ptr<std::atomic<std::size_t>> waiting)
        : waiting_(std::move(waiting)), threads_(threads) {}
    void enqueue(std::function<void()> fn) override {
      ++*waiting_;
      threads_.enqueue([fn = std::move(fn), waiting = waiting_] {
        --*waiting;
        fn();
      });
    }
    void shutdown() override {
      threads_.shutdown();
    }

  private:
    std::shared_ptr<std::atomic<std::size_t>> waiting_;
    httplib::ThreadPool threads_;
  };
  return [threads, waiting = waiting_] { return new pool(threads, waiting); };
}

bool http_server::hand_off(std::function<void(int fd, SSL* ssl)> adopt) {
  if (current_slot == nullptr || current_slot->stream == nullptr)
    return false;
  current_slot->adopt = std::move(adopt);
  current_slot->stream->discard_writes();
  return true;
}

void http_server::close_after_response() {
  if (current_slot != nullptr)
    current_slot->close = true;
}

http_server::refusal http_server::refused() {
  if (current_slot == nullptr || current_slot->stream == nullptr)
    return refusal::none;
  return current_slot->stream->refused();
}

std::string http_server::client_ip() {
  return current_slot != nullptr ? current_slot->client_ip : std::string();
}

bool http_server::process_and_close_socket(socket_t sock) {
  socket_stream stream(sock, to_ms(write_timeout_sec_, write_timeout_usec_), max_header_);
  loop_settings settings{keep_alive_max_count_,
                         keep_alive_timeout_sec_,
                         &svr_sock_,
                         waiting_.get(),
                         to_ms(read_timeout_sec_, read_timeout_usec_),
                         nullptr,
                         &refusal_logger_};
  auto end = serve_requests(stream, settings, [this](httplib::Stream& s, bool last, bool& closed) {
    return process_request(s, last, closed, nullptr);
  });
  if (!end.adopted)
    close_connection(sock, end.unread);
  return end.ok;
}

bool https_server::process_and_close_socket(socket_t sock) {
  auto read_ms = to_ms(read_timeout_sec_, read_timeout_usec_);
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL, 0) | O_NONBLOCK);
  loop_end end;
  SSL* ssl = SSL_new(ssl_context());
  if (ssl != nullptr) // buffers only while a record is in flight: streams idle most of the time
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
  if (ssl != nullptr && SSL_set_fd(ssl, sock) == 1 && accept_tls(ssl, sock, read_ms)) {
    socket_stream stream(sock, to_ms(write_timeout_sec_, write_timeout_usec_), max_header_, ssl);
    loop_settings settings{
      keep_alive_max_count_, keep_alive_timeout_sec_, &svr_sock_, waiting_.get(), read_ms, ssl,
      &refusal_logger_};
    end = serve_requests(stream, settings, [this](httplib::Stream& s, bool last, bool& closed) {
      return process_request(s, last, closed, nullptr);
    });
    if (end.adopted) {
      ERR_clear_error();
      return end.ok; // the adopter owns the socket and `ssl`
    }
    if (end.ok && !end.unread)
      SSL_shutdown(ssl); // close_notify, once: the socket is non-blocking
  }
  if (ssl != nullptr)
    SSL_free(ssl);
  ERR_clear_error();
  close_connection(sock, end.unread);
  return end.ok;
}

bool http_server::bind(const std::string& host, int port, std::string& error) {
  return bind_with_backlog(*this, host, port, error);
}

bool bind_with_backlog(httplib::Server& server, const std::string& host, int port,
                       std::string& error) {
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = fd;
  });
  errno = 0;
  if (!server.bind_to_port(host, port)) {
    auto reason = errno != 0 ? std::string(std::strerror(errno)) : "cannot bind";
    error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + reason;
    return false;
  }
  ::listen(listen_fd, accept_backlog); // Linux lets a second listen() deepen the queue
  return true;
}

} // namespace watercooler
