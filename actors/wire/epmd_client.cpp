// Blocking EPMD queries (PORT_PLEASE2, NAMES), one short connection each, on raw sockets.
#include "actors/wire/epmd_client.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace watercooler {

namespace {

using steady = std::chrono::steady_clock;
using names_list = std::vector<std::pair<std::string, uint16_t>>;

constexpr size_t max_answer = 64 * 1024; // a NAMES answer of many nodes is still far less

class socket_guard {
public:
  explicit socket_guard(int fd = -1) : fd_(fd) {}
  socket_guard(const socket_guard&) = delete;
  socket_guard& operator=(const socket_guard&) = delete;
  ~socket_guard() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  int get() const {
    return fd_;
  }
  int release() {
    auto fd = fd_;
    fd_ = -1;
    return fd;
  }

private:
  int fd_;
};

std::string errno_text(int code) {
  return std::generic_category().message(code);
}

// Waits for `events` on `fd` until `deadline`; false on timeout.
bool wait_until(int fd, short events, steady::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, events, 0};
    auto rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0)
      return true;
    if (rc < 0 && errno != EINTR)
      return true; // let the following syscall report the error
  }
}

// A loopback connect to a free port in the ephemeral range can pick that very port as its source
// and connect to itself (TCP simultaneous open). Its normal close would then leave a TIME_WAIT
// that blocks serving the port for a minute, so such a socket is reset instead.
bool connected_to_itself(int fd) {
  sockaddr_storage local{};
  sockaddr_storage peer{};
  socklen_t local_len = sizeof(local);
  socklen_t peer_len = sizeof(peer);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0
      || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0)
    return false;
  return local_len == peer_len && std::memcmp(&local, &peer, local_len) == 0;
}

void reset_and_close(int fd) {
  linger abort_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
  ::close(fd);
}

} // namespace

outcome<int> connect_epmd(const std::string& host, uint16_t port, steady::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (auto rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return outcome<int>::fail(::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addrs{found, ::freeaddrinfo};
  std::string why = "no address"; // of the last address tried
  for (auto* ai = addrs.get(); ai != nullptr; ai = ai->ai_next) {
    socket_guard sock{
      ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol)};
    if (sock.get() < 0) {
      why = errno_text(errno);
      continue;
    }
    if (::connect(sock.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        why = errno_text(errno);
        continue;
      }
      if (!wait_until(sock.get(), POLLOUT, deadline)) {
        why = "timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      if (::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        why = errno_text(err != 0 ? err : errno);
        continue;
      }
    }
    if (connected_to_itself(sock.get())) {
      reset_and_close(sock.release());
      why = errno_text(ECONNREFUSED);
      continue;
    }
    return outcome<int>::ok(sock.release());
  }
  return outcome<int>::fail(why);
}

namespace {

// One request, one answer, then the port mapper closes; `decode` decides when the answer is done.
template <class T, class Decode>
outcome<T> exchange(const std::string& host, uint16_t port, const std::string& request,
                    std::chrono::milliseconds timeout, bool until_close, Decode decode) {
  auto at = host + ":" + std::to_string(port);
  auto deadline = steady::now() + timeout;
  auto no_answer = [&] {
    return outcome<T>::fail("no answer from the port mapper at " + at + " within "
                            + std::to_string(timeout.count()) + " ms");
  };
  auto connected = connect_epmd(host, port, deadline);
  if (!connected)
    return outcome<T>::fail("no port mapper at " + at + " (" + connected.error + ")");
  socket_guard sock{*connected};
  for (size_t sent = 0; sent < request.size();) {
    auto n = ::send(sock.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_until(sock.get(), POLLOUT, deadline))
        return no_answer();
      continue;
    }
    if (n < 0)
      return outcome<T>::fail("port mapper at " + at + " failed: " + errno_text(errno));
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  auto malformed = [&](const std::string& reason) {
    return outcome<T>::fail("malformed answer from the port mapper at " + at + ": " + reason);
  };
  for (;;) {
    if (!until_close) {
      auto r = decode(answer);
      if (r.status == epmd::decode_status::complete)
        return outcome<T>::ok(std::move(r.value));
      if (r.status == epmd::decode_status::malformed)
        return malformed(r.reason);
    }
    if (!wait_until(sock.get(), POLLIN, deadline))
      return no_answer();
    char buf[4096];
    auto n = ::recv(sock.get(), buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n < 0)
      return outcome<T>::fail("port mapper at " + at + " failed: " + errno_text(errno));
    if (n == 0) {
      auto r = decode(answer);
      if (r.status == epmd::decode_status::complete)
        return outcome<T>::ok(std::move(r.value));
      if (r.status == epmd::decode_status::malformed)
        return malformed(r.reason);
      return answer.empty()
               ? outcome<T>::fail("the port mapper at " + at
                                  + " closed the connection without an answer")
               : malformed("truncated after " + std::to_string(answer.size()) + " bytes");
    }
    if (answer.size() + static_cast<size_t>(n) > max_answer)
      return malformed("longer than 64 KiB");
    answer.append(buf, static_cast<size_t>(n));
  }
}

} // namespace

outcome<uint16_t> epmd_port_please(const std::string& host, uint16_t epmd_port,
                                   const std::string& alive, std::chrono::milliseconds timeout) {
  if (auto checked = check_alive_name(alive); !checked)
    return outcome<uint16_t>::fail(checked.error);
  auto at = host + ":" + std::to_string(epmd_port);
  auto r = exchange<epmd::port2_resp>(host, epmd_port, epmd::encode(epmd::port_please2_req{alive}),
                                      timeout, false, epmd::decode_port2_resp);
  if (!r)
    return outcome<uint16_t>::fail(r.error);
  if (r->result != 0)
    return outcome<uint16_t>::fail("node name " + alive + " is not registered with the port "
                                   + "mapper at " + at);
  return outcome<uint16_t>::ok(r->node.port);
}

outcome<names_list> epmd_names(const std::string& host, uint16_t epmd_port,
                               std::chrono::milliseconds timeout) {
  auto r = exchange<epmd::names_resp>(host, epmd_port, epmd::encode(epmd::names_req{}), timeout,
                                      true, epmd::decode_names_resp);
  if (!r)
    return outcome<names_list>::fail(r.error);
  return outcome<names_list>::ok(r->names);
}

} // namespace watercooler
