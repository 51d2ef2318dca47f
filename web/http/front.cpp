// The HTTP front's public face: listening sockets, then the loop (front_loop.cpp) runs them.
#include "web/http/front.hpp"

#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web/http/front_loop.hpp"

namespace watercooler {

namespace {

constexpr int accept_backlog = 4096;

} // namespace

std::size_t default_max_connections() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY)
    return 1024;
  return std::max<std::size_t>(64, static_cast<std::size_t>(files.rlim_cur) / 2);
}

http_front::http_front(router& routes, front_settings settings,
                       std::shared_ptr<node_metrics> metrics)
    : routes_(routes), settings_(settings), metrics_(std::move(metrics)) {
  if (!metrics_)
    metrics_ = std::make_shared<node_metrics>();
  routes_.set_keep_alive_timeout(settings_.keep_alive_timeout.count());
  // httplib announces it in Keep-Alive; the front closes a connection only when it is idle.
  routes_.set_keep_alive_max_count(1000000);
}

http_front::~http_front() {
  stop();
  for (auto& l : listeners_)
    ::close(l.first);
}

int http_front::listen(const std::string& host, int port, std::shared_ptr<SSL_CTX> tls,
                       std::string& error) {
  auto fail = [&](const std::string& why) {
    error = "cannot listen on " + host + ":" + std::to_string(port) + ": " + why;
    return 0;
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return fail(::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fail(std::strerror(errno));
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, accept_backlog) != 0) {
    auto why = std::string(std::strerror(errno));
    ::close(fd);
    return fail(why);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  listeners_.push_back({fd, std::move(tls)});
  return endpoint_of(bound).port;
}

bool http_front::start(std::string& error) {
  loop_ = std::make_unique<front_loop>(routes_, settings_, metrics_, refusal_logger_);
  for (auto& l : listeners_)
    loop_->add_listener(l.first, std::move(l.second));
  listeners_.clear();
  return loop_->start(error);
}

void http_front::stop_accepting() {
  if (loop_)
    loop_->stop_accepting();
}

void http_front::stop() {
  if (loop_)
    loop_->stop();
}

} // namespace watercooler
