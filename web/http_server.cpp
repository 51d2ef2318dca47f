// Keep-alive loop of cpp-httplib's server, redone so a handler can take the socket with it.
#include "web/http_server.hpp"

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace watercooler {

namespace {

constexpr int accept_backlog = 4096;

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

// A plain socket as httplib::Stream; once the socket is claimed, writes go nowhere.
class socket_stream : public httplib::Stream {
public:
  socket_stream(int fd, long read_ms, long write_ms)
      : fd_(fd), read_ms_(read_ms), write_ms_(write_ms) {}

  void discard_writes() {
    discard_ = true;
  }

  bool is_readable() const override {
    return wait_for(fd_, POLLIN, read_ms_);
  }

  bool is_writable() const override {
    return discard_ || wait_for(fd_, POLLOUT, write_ms_);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (!is_readable())
      return -1;
    ssize_t n;
    do {
      n = ::recv(fd_, ptr, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (discard_)
      return static_cast<ssize_t>(size);
    if (!is_writable())
      return -1;
    ssize_t n;
    do {
      n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
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

  int fd_;
  long read_ms_;
  long write_ms_;
  bool discard_ = false;
};

struct hand_off_slot {
  socket_stream* stream = nullptr;
  std::function<void(int)> adopt;
  bool close = false;
};

thread_local hand_off_slot* current_slot = nullptr;

} // namespace

bool http_server::hand_off(std::function<void(int fd)> adopt) {
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

bool http_server::process_and_close_socket(socket_t sock) {
  socket_stream stream(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                       to_ms(write_timeout_sec_, write_timeout_usec_));
  hand_off_slot slot;
  slot.stream = &stream;
  auto left = keep_alive_max_count_;
  bool ok = false;
  while (left > 0) {
    // Wait for the next request in short steps so that stop() is not held up.
    bool readable = false;
    for (long waited = 0; waited < keep_alive_timeout_sec_ * 1000 && !readable; waited += 100) {
      if (svr_sock_ == INVALID_SOCKET)
        break;
      readable = wait_for(sock, POLLIN, 100);
    }
    if (!readable)
      break;
    bool connection_closed = false;
    current_slot = &slot;
    ok = process_request(stream, left == 1, connection_closed, nullptr);
    current_slot = nullptr;
    if (slot.adopt) {
      slot.adopt(sock); // the socket is the adopter's now
      return ok;
    }
    if (!ok || connection_closed || slot.close)
      break;
    --left;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
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
