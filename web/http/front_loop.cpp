// The front's event loop: accepting, readiness, deadlines and the workers; each connection's
// protocol is its own class.
#include "web/http/front_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/log.hpp"
#include "web/http/http1_connection.hpp"
#include "web/http/request_log.hpp"
#include "web/http/workers.hpp"

namespace watercooler {

namespace {

// After accept() fails for want of file descriptors, accepting pauses this long.
constexpr auto accept_pause = std::chrono::milliseconds(100);
constexpr auto refusal_log_interval = std::chrono::seconds(10);
// How long the connections have to end politely when the node stops.
constexpr auto drain_time = std::chrono::milliseconds(1000);

constexpr uint64_t wake_id = 0;
constexpr uint64_t first_listener_id = 1;
constexpr uint64_t first_connection_id = 1000;

} // namespace

connection::connection(front_loop& loop, connection_parts parts)
    : id(parts.id), io(std::move(parts.io)), client(std::move(parts.client)),
      local(std::move(parts.local)), slot(std::move(parts.slot)), loop_(loop) {}

front_loop::front_loop(router& routes, const front_settings& settings,
                       std::shared_ptr<node_metrics> metrics, httplib::Logger refusal_logger)
    : routes_(routes), settings_(settings), metrics_(std::move(metrics)),
      refusal_logger_(std::move(refusal_logger)), next_id_(first_connection_id),
      per_address_(settings.max_per_address) {}

front_loop::~front_loop() {
  for (auto& l : listeners_)
    if (l.fd >= 0)
      ::close(l.fd);
  if (wake_fd_ >= 0)
    ::close(wake_fd_);
  if (epoll_fd_ >= 0)
    ::close(epoll_fd_);
}

void front_loop::add_listener(int fd, std::shared_ptr<SSL_CTX> tls) {
  listeners_.push_back({fd, std::move(tls)});
}

bool front_loop::start(std::string& error) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    error = std::string("cannot start the HTTP front: ") + std::strerror(errno);
    return false;
  }
  mailbox_ = std::make_shared<loop_mailbox>(wake_fd_);
  watch(wake_fd_, wake_id, EPOLLIN);
  for (std::size_t i = 0; i < listeners_.size(); ++i)
    watch(listeners_[i].fd, first_listener_id + i, EPOLLIN);
  pool_ = std::make_unique<workers>(settings_.threads);
  thread_ = std::thread([this] { run(); });
  return true;
}

void front_loop::stop_accepting() {
  if (thread_.joinable())
    mailbox_->post([this] {
      close_listeners();
      std::vector<uint64_t> ids;
      for (auto& [id, c] : connections_)
        ids.push_back(id);
      for (auto id : ids) // a connection may close itself meanwhile
        if (auto it = connections_.find(id); it != connections_.end())
          it->second->stop_announced();
    });
}

void front_loop::close_listeners() {
  for (auto& l : listeners_) {
    if (l.fd < 0)
      continue;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
    ::close(l.fd);
    l.fd = -1;
  }
}

void front_loop::stop() {
  if (!thread_.joinable())
    return;
  mailbox_->post([this] { stopping_ = true; });
  thread_.join();
  mailbox_->close();
  pool_.reset(); // waits for requests in progress; their answers go nowhere
  run_posted();
}

void front_loop::watch(int fd, uint64_t id, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void front_loop::run() {
  std::vector<epoll_event> events(512);
  steady::time_point drain_until{};
  for (;;) {
    if (stopping_ && drain_until == steady::time_point{}) {
      close_listeners();
      drain_until = steady::now() + drain_time;
    }
    if (stopping_) {
      std::vector<connection*> done;
      for (auto& [id, c] : connections_)
        if (c->drain())
          done.push_back(c.get());
      for (auto* c : done)
        close(*c);
      if (connections_.empty() || steady::now() >= drain_until)
        break;
    }
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                         stopping_ ? 10 : wait_ms());
    if (n < 0 && errno != EINTR)
      break;
    for (int i = 0; i < n; ++i) {
      auto id = events[i].data.u64;
      if (id == wake_id) {
        uint64_t count;
        [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof(count));
      } else if (id < first_connection_id) {
        if (listeners_[id - first_listener_id].fd >= 0)
          accept_all(id - first_listener_id);
      } else if (auto it = connections_.find(id); it != connections_.end()) {
        it->second->advance();
      }
    }
    run_posted();
    expire();
    resume_accepting();
  }
  while (!connections_.empty())
    close(*connections_.begin()->second);
}

int front_loop::wait_ms() const {
  auto next = deadlines_.empty() ? steady::time_point::max() : deadlines_.begin()->first;
  if (accept_paused_until_ != steady::time_point{})
    next = std::min(next, accept_paused_until_);
  if (next == steady::time_point::max())
    return -1;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - steady::now()).count();
  return static_cast<int>(std::clamp<long long>(ms + 1, 0, 60000));
}

void front_loop::run_posted() {
  for (auto& fn : mailbox_->take())
    fn();
  // Each connection whose streams the jobs resumed advances once, after all of them: the DATA
  // frames of many streams then share TLS records and writes.
  std::sort(resumed_.begin(), resumed_.end());
  resumed_.erase(std::unique(resumed_.begin(), resumed_.end()), resumed_.end());
  for (auto id : std::exchange(resumed_, {}))
    if (auto it = connections_.find(id); it != connections_.end())
      it->second->advance();
}

// ---- accepting

void front_loop::accept_all(std::size_t index) {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int fd = ::accept4(listeners_[index].fd, reinterpret_cast<sockaddr*>(&addr), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        pause_accepting(); // the queue keeps them until files are free again
      return;
    }
    accept_one(index, fd, endpoint_of(addr));
  }
}

void front_loop::pause_accepting() {
  accept_paused_until_ = steady::now() + accept_pause;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (listeners_[i].fd < 0)
      continue;
    epoll_event ev{};
    ev.data.u64 = first_listener_id + i;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listeners_[i].fd, &ev);
  }
}

void front_loop::resume_accepting() {
  if (accept_paused_until_ == steady::time_point{} || steady::now() < accept_paused_until_)
    return;
  accept_paused_until_ = {};
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (listeners_[i].fd < 0)
      continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = first_listener_id + i;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listeners_[i].fd, &ev);
  }
}

void front_loop::accept_one(std::size_t index, int fd, endpoint client) {
  const auto& l = listeners_[index];
  if (connections_.size() >= settings_.max_connections) {
    ++metrics_->refused_in_all;
    return refuse_connection(fd, l.tls != nullptr, 503,
                             "too many connections to this node; try again soon",
                             "--max-connections");
  }
  auto slot = per_address_.acquire(client.ip);
  if (!slot) {
    ++metrics_->refused_per_address;
    return refuse_connection(fd, l.tls != nullptr, 429,
                             "too many connections from your address: at most "
                               + std::to_string(settings_.max_per_address),
                             "--max-connections-per-address");
  }
  int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  endpoint local_end;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
    local_end = endpoint_of(local);
  std::unique_ptr<transport> io;
  if (l.tls) {
    SSL* ssl = SSL_new(l.tls.get());
    if (ssl == nullptr) {
      ERR_clear_error();
      ::close(fd);
      return;
    }
    io = tls_transport(fd, ssl);
  } else {
    io = plain_transport(fd);
  }
  auto id = next_id_++;
  watch(fd, id, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
  ++metrics_->connections;
  auto c = std::make_unique<http1_connection>(
    *this, connection_parts{id, std::move(io), std::move(client), local_end, std::move(*slot)});
  auto& added = *connections_.emplace(id, std::move(c)).first->second;
  added.advance();
}

// Over a limit: a plain client is told so (its request is not read), a TLS one is closed.
void front_loop::refuse_connection(int fd, bool tls, int status, const std::string& reason,
                                   const char* flag) {
  if (!tls) {
    auto res = routes_.refusal(status, reason);
    if (status == 429 || status == 503)
      res.set_header("Retry-After", "10");
    auto bytes = closing_response(res);
    [[maybe_unused]] auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_WR);
  }
  ::close(fd);
  log_refused_connection(flag);
}

void front_loop::log_refused_connection(const char* flag) {
  ++unlogged_refusals_;
  auto now = steady::now();
  if (now >= next_refusal_log_) {
    log_line("refused ", unlogged_refusals_, " connection(s): over ", flag);
    unlogged_refusals_ = 0;
    next_refusal_log_ = now + refusal_log_interval;
  }
}

void front_loop::log_refusal(const std::string& method, const std::string& target,
                             const endpoint& client, const httplib::Response& res,
                             const char* protocol) {
  httplib::Request req;
  req.method = method.empty() ? "-" : method;
  req.path = target.empty() ? "-" : target.substr(0, target.find('?'));
  req.remote_addr = client.ip;
  req.remote_port = client.port;
  request_started(); // for the log line's duration
  router::log_as(protocol, [&] {
    if (refusal_logger_)
      refusal_logger_(req, res);
    else
      log_request(req, res);
  });
}

// ---- connections

void front_loop::dispatch(uint64_t id, int32_t stream, std::string request, const endpoint& client,
                          const endpoint& local, const char* protocol) {
  pool_->add([this, id, stream, request = std::move(request), client, local, protocol] {
    auto answer = routes_.serve(request, client, local, protocol);
    mailbox_->post([this, id, stream, answer = std::move(answer)]() mutable {
      if (auto it = connections_.find(id); it != connections_.end())
        it->second->answered(stream, std::move(answer));
      // else gone meanwhile (the node stops); an adopter never gets it
    });
  });
}

void front_loop::resume(uint64_t id, int32_t stream) {
  if (auto it = connections_.find(id); it != connections_.end()) {
    it->second->resume(stream);
    resumed_.push_back(id);
  }
}

void front_loop::hand_over(connection& c, adopt_fn adopt) {
  auto io = std::move(c.io);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, io->fd(), nullptr);
  forget(c);
  adopt(std::move(io));
}

void front_loop::replace(connection& c, std::unique_ptr<connection> next) {
  if (c.armed != steady::time_point::max())
    deadlines_.erase({c.armed, c.id});
  auto& now = connections_[c.id];
  now = std::move(next); // `c` is gone
  now->advance();
}

void front_loop::close(connection& c) {
  if (c.io)
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.io->fd(), nullptr);
  forget(c); // the transport closes with it
}

void front_loop::forget(connection& c) {
  if (c.armed != steady::time_point::max())
    deadlines_.erase({c.armed, c.id});
  --metrics_->connections;
  connections_.erase(c.id);
}

// ---- deadlines

void front_loop::arm(connection& c) {
  auto at = c.deadline();
  if (at == c.armed)
    return;
  if (c.armed != steady::time_point::max())
    deadlines_.erase({c.armed, c.id});
  c.armed = at;
  if (at != steady::time_point::max())
    deadlines_.emplace(at, c.id);
}

void front_loop::expire() {
  auto now = steady::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto it = connections_.find(id);
    if (it == connections_.end())
      continue;
    auto& c = *it->second;
    c.armed = steady::time_point::max();
    c.time_out(now);
  }
}

} // namespace watercooler
