// The front's event loop: connections from accept to close, or until a stream takes one.
#include "web/http/front.hpp"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/log.hpp"
#include "web/http/request_log.hpp"
#include "web/http/request_reader.hpp"

namespace watercooler {

namespace {

using steady = std::chrono::steady_clock;

constexpr int accept_backlog = 4096;
constexpr std::size_t read_chunk = 16 * 1024;
// A client that does not read its responses gets no more of its pipelined requests answered
// until it has taken all but this much.
constexpr std::size_t out_high_water = 64 * 1024;
// After the last response of a connection closed by the node: how long what the client still
// sends is read and dropped, so that closing with unread input does not reset the connection
// before the client has read the response.
constexpr auto linger_time = std::chrono::seconds(2);
// After accept() fails for want of file descriptors, accepting pauses this long.
constexpr auto accept_pause = std::chrono::milliseconds(100);
constexpr auto refusal_log_interval = std::chrono::seconds(10);

constexpr uint64_t wake_id = 0;
constexpr uint64_t first_listener_id = 1;
constexpr uint64_t first_connection_id = 1000;

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

// The bytes of `res` as an HTTP/1.1 response that closes the connection.
std::string closing_response(httplib::Response& res) {
  res.set_header("Content-Length", std::to_string(res.body.size()));
  res.set_header("Connection", "close");
  std::string out =
    "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) + "\r\n";
  for (const auto& [name, value] : res.headers)
    out += name + ": " + value + "\r\n";
  return out + "\r\n" + res.body;
}

endpoint endpoint_of(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  endpoint e;
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    e.port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    e.port = ntohs(in6->sin6_port);
  }
  e.ip = text;
  return e;
}

// Requests complete in memory, answered on a few threads.
class workers {
public:
  explicit workers(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] { run(); });
  }
  ~workers() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_)
      t.join();
  }
  void add(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty())
          return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace

std::size_t default_max_connections() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY)
    return 1024;
  return std::max<std::size_t>(64, static_cast<std::size_t>(files.rlim_cur) / 2);
}

std::shared_ptr<SSL_CTX> server_tls(const std::string& certificate_chain,
                                    const std::string& private_key, std::string& error) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) {
    error = "cannot create a TLS context";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate_chain.c_str()) != 1
      || SSL_CTX_use_PrivateKey_file(ctx.get(), private_key.c_str(), SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    error = "cannot use the certificate " + certificate_chain + " with the key " + private_key;
    return nullptr;
  }
  return ctx;
}

struct http_front::loop {
  struct listener {
    int fd = -1;
    std::shared_ptr<SSL_CTX> tls;
  };

  struct connection {
    uint64_t id = 0;
    std::unique_ptr<transport> io;
    endpoint client, local;
    address_slot slot;
    bool handshaken = false;
    request_reader reader;
    std::string in;        // read, not yet taken by the reader (the start of a pipelined request)
    std::string out;       // response bytes not yet taken by the transport
    bool handling = false; // a worker has the request
    bool close_after_write = false;
    bool lingering = false;
    adopt_fn adopt;
    steady::time_point accepted, idle_since, request_started, last_progress, linger_since;
    steady::time_point armed = steady::time_point::max(); // its entry in `deadlines`

    explicit connection(request_reader::limits l) : reader(l) {}
  };

  http_front& front;
  std::vector<listener> listeners;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::unique_ptr<workers> pool;

  // Touched by the loop thread only.
  std::unordered_map<uint64_t, std::unique_ptr<connection>> connections;
  std::set<std::pair<steady::time_point, uint64_t>> deadlines;
  uint64_t next_id = first_connection_id;
  address_slots per_address;
  steady::time_point accept_paused_until{};
  steady::time_point next_refusal_log{};
  uint64_t unlogged_refusals = 0;

  // Posted by the workers, run by the loop thread.
  std::mutex posted_mutex;
  std::vector<std::function<void()>> posted;

  explicit loop(http_front& f) : front(f), per_address(f.settings_.max_per_address) {}

  ~loop() {
    for (auto& l : listeners)
      if (l.fd >= 0)
        ::close(l.fd);
    if (wake_fd >= 0)
      ::close(wake_fd);
    if (epoll_fd >= 0)
      ::close(epoll_fd);
  }

  const front_settings& settings() const {
    return front.settings_;
  }

  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof(one));
  }

  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> guard(posted_mutex);
      posted.push_back(std::move(fn));
    }
    wake();
  }

  void run() {
    std::vector<epoll_event> events(512);
    while (!stopping) {
      int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), wait_ms());
      if (n < 0 && errno != EINTR)
        break;
      for (int i = 0; i < n; ++i) {
        auto id = events[i].data.u64;
        if (id == wake_id) {
          uint64_t count;
          [[maybe_unused]] auto r = ::read(wake_fd, &count, sizeof(count));
        } else if (id < first_connection_id) {
          accept_all(listeners[id - first_listener_id]);
        } else if (auto it = connections.find(id); it != connections.end()) {
          advance(*it->second);
        }
      }
      run_posted();
      expire();
      resume_accepting();
    }
    for (auto& [id, c] : connections)
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->io->fd(), nullptr);
    while (!connections.empty())
      destroy(*connections.begin()->second);
  }

  int wait_ms() const {
    auto next = deadlines.empty() ? steady::time_point::max() : deadlines.begin()->first;
    if (accept_paused_until != steady::time_point{})
      next = std::min(next, accept_paused_until);
    if (next == steady::time_point::max())
      return -1;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - steady::now()).count();
    return static_cast<int>(std::clamp<long long>(ms + 1, 0, 60000));
  }

  void run_posted() {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard<std::mutex> guard(posted_mutex);
      batch.swap(posted);
    }
    for (auto& fn : batch)
      fn();
  }

  // ---- accepting

  void accept_all(listener& l) {
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      int fd =
        ::accept4(l.fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED)
          continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
          pause_accepting(); // the queue keeps them until files are free again
        return;
      }
      accept_one(l, fd, endpoint_of(addr));
    }
  }

  void pause_accepting() {
    accept_paused_until = steady::now() + accept_pause;
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      epoll_event ev{};
      ev.data.u64 = first_listener_id + i;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listeners[i].fd, &ev);
    }
  }

  void resume_accepting() {
    if (accept_paused_until == steady::time_point{} || steady::now() < accept_paused_until)
      return;
    accept_paused_until = {};
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = first_listener_id + i;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listeners[i].fd, &ev);
    }
  }

  void accept_one(listener& l, int fd, endpoint client) {
    auto& metrics = *front.metrics_;
    if (connections.size() >= settings().max_connections) {
      ++metrics.refused_in_all;
      return refuse_connection(fd, l, 503, "too many connections to this node; try again soon",
                               "--max-connections");
    }
    auto slot = per_address.acquire(client.ip);
    if (!slot) {
      ++metrics.refused_per_address;
      return refuse_connection(fd, l, 429,
                               "too many connections from your address: at most "
                                 + std::to_string(settings().max_per_address),
                               "--max-connections-per-address");
    }
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    auto c = std::make_unique<connection>(
      request_reader::limits{settings().max_header, settings().max_body});
    c->id = next_id++;
    c->client = std::move(client);
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
      c->local = endpoint_of(local);
    c->slot = std::move(*slot);
    if (l.tls) {
      SSL* ssl = SSL_new(l.tls.get());
      if (ssl == nullptr) {
        ERR_clear_error();
        ::close(fd);
        return;
      }
      c->io = tls_transport(fd, ssl);
    } else {
      c->io = plain_transport(fd);
    }
    c->accepted = c->idle_since = steady::now();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = c->id;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
      return; // closed with `c`
    ++metrics.connections;
    auto& added = *connections.emplace(c->id, std::move(c)).first->second;
    advance(added);
  }

  // Over a limit: a plain client is told so (its request is not read), a TLS one is closed.
  void refuse_connection(int fd, const listener& l, int status, const std::string& reason,
                         const char* flag) {
    if (!l.tls) {
      httplib::Response res;
      res.status = status;
      res.headers = front.routes_.default_headers();
      res.set_content(reason + "\n", "text/plain; charset=utf-8");
      if (status == 429 || status == 503)
        res.set_header("Retry-After", "10");
      auto bytes = closing_response(res);
      [[maybe_unused]] auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(fd, SHUT_WR);
    }
    ::close(fd);
    ++unlogged_refusals;
    auto now = steady::now();
    if (now >= next_refusal_log) {
      log_line("refused ", unlogged_refusals, " connection(s): over ", flag);
      unlogged_refusals = 0;
      next_refusal_log = now + refusal_log_interval;
    }
  }

  // ---- one connection

  // Everything the connection can do now: handshake, write, hand over or close, read and parse.
  void advance(connection& c) {
    for (;;) {
      if (c.lingering)
        return linger(c);
      if (!c.handshaken) {
        auto status = c.io->handshake();
        if (status == transport::status::failed)
          return destroy(c);
        if (status == transport::status::blocked)
          return arm(c);
        c.handshaken = true;
        c.idle_since = steady::now();
      }
      if (!write_out(c))
        return destroy(c);
      if (!c.out.empty()
          && (c.out.size() > out_high_water || c.handling || c.adopt || c.close_after_write))
        return arm(c);
      if (c.out.empty() && c.adopt)
        return hand_over(c);
      if (c.out.empty() && c.close_after_write) {
        c.io->finish_sending();
        c.lingering = true;
        c.linger_since = steady::now();
        continue;
      }
      if (c.handling)
        return arm(c);
      if (!read_request(c))
        return destroy(c);
      if (c.handling || c.close_after_write)
        continue;                          // dispatched, or refused: write what is due
      if (!c.out.empty() && !write_out(c)) // a 100 Continue
        return destroy(c);
      return arm(c);
    }
  }

  // Response bytes, written after those before them; a response's deadline counts from its start.
  void queue(connection& c, const std::string& bytes) {
    if (c.out.empty())
      c.last_progress = steady::now();
    c.out += bytes;
  }

  // Hands the transport what it takes of `out`; false when the connection failed.
  bool write_out(connection& c) {
    if (c.io->flush() == transport::status::failed)
      return false;
    while (!c.out.empty()) {
      auto n = c.io->write(c.out.data(), c.out.size());
      if (n < 0)
        return false;
      if (n == 0)
        return true;
      c.out.erase(0, static_cast<std::size_t>(n));
      c.last_progress = steady::now();
      if (c.out.empty())
        c.idle_since = c.last_progress;
    }
    return c.io->flush() != transport::status::failed;
  }

  // Feeds the reader what was read; a complete request goes to a worker, a refused one gets its
  // answer. False when the client went away.
  bool read_request(connection& c) {
    char buf[read_chunk];
    for (;;) {
      if (!c.in.empty()) {
        bool was_idle = c.reader.current() == request_reader::state::idle;
        auto used = c.reader.feed(c.in);
        c.in.erase(0, used);
        if (was_idle && c.reader.current() != request_reader::state::idle)
          c.request_started = steady::now();
      }
      switch (c.reader.current()) {
        case request_reader::state::complete:
          dispatch(c);
          return true;
        case request_reader::state::refused:
          refuse_request(c, c.reader.refusal());
          return true;
        default:
          break;
      }
      if (c.reader.take_continue())
        queue(c, "HTTP/1.1 100 Continue\r\n\r\n");
      if (!c.in.empty())
        continue;
      auto n = c.io->read(buf, sizeof(buf));
      if (n < 0)
        return false;
      if (n == 0)
        return true;
      c.in.append(buf, static_cast<std::size_t>(n));
    }
  }

  void dispatch(connection& c) {
    c.handling = true;
    auto request = c.reader.take();
    auto id = c.id;
    pool->add([this, id, request = std::move(request), client = c.client, local = c.local] {
      auto answer = front.routes_.serve(request, client, local);
      post([this, id, answer = std::move(answer)]() mutable { answered(id, std::move(answer)); });
    });
  }

  void answered(uint64_t id, router::answer answer) {
    auto it = connections.find(id);
    if (it == connections.end())
      return; // gone meanwhile (the node stops); an adopter never gets it
    auto& c = *it->second;
    c.handling = false;
    queue(c, answer.bytes);
    c.close_after_write = c.close_after_write || answer.close;
    c.adopt = std::move(answer.adopt);
    advance(c);
  }

  // Answers a request the reader refused, and closes the connection after it.
  void refuse_request(connection& c, const request_refusal& refusal) {
    httplib::Request req;
    req.method = c.reader.method().empty() ? "-" : c.reader.method();
    req.path =
      c.reader.target().empty() ? "-" : c.reader.target().substr(0, c.reader.target().find('?'));
    req.remote_addr = c.client.ip;
    req.remote_port = c.client.port;
    httplib::Response res;
    res.status = refusal.status;
    res.headers = front.routes_.default_headers();
    res.set_content(refusal.reason + "\n", "text/plain; charset=utf-8");
    queue(c, closing_response(res));
    c.close_after_write = true;
    c.in.clear();
    request_started(); // for the log line's duration
    if (front.refusal_logger_)
      front.refusal_logger_(req, res);
    else
      log_request(req, res);
  }

  void linger(connection& c) {
    char sink[read_chunk];
    long n;
    while ((n = c.io->read(sink, sizeof(sink))) > 0) {
    }
    if (n < 0)
      return destroy(c);
    arm(c);
  }

  void hand_over(connection& c) {
    auto adopt = std::move(c.adopt);
    auto io = std::move(c.io);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, io->fd(), nullptr);
    forget(c);
    adopt(std::move(io));
  }

  void destroy(connection& c) {
    if (c.io)
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.io->fd(), nullptr);
    forget(c); // the transport closes with it
  }

  void forget(connection& c) {
    if (c.armed != steady::time_point::max())
      deadlines.erase({c.armed, c.id});
    --front.metrics_->connections;
    connections.erase(c.id);
  }

  // ---- deadlines

  // When the connection's present wait ends: the handshake and each request must arrive within
  // the read timeout, an idle connection waits for the keep-alive timeout, a response must make
  // progress within the read timeout; a request with a worker has no deadline here.
  steady::time_point deadline_of(const connection& c) const {
    const auto& s = settings();
    if (c.lingering)
      return c.linger_since + linger_time;
    if (!c.handshaken)
      return c.accepted + s.read_timeout;
    if (!c.out.empty())
      return c.last_progress + s.read_timeout;
    if (c.handling)
      return steady::time_point::max();
    if (c.reader.current() != request_reader::state::idle)
      return c.request_started + s.read_timeout;
    return c.idle_since + s.keep_alive_timeout;
  }

  void arm(connection& c) {
    auto at = deadline_of(c);
    if (at == c.armed)
      return;
    if (c.armed != steady::time_point::max())
      deadlines.erase({c.armed, c.id});
    c.armed = at;
    if (at != steady::time_point::max())
      deadlines.emplace(at, c.id);
  }

  void expire() {
    auto now = steady::now();
    while (!deadlines.empty() && deadlines.begin()->first <= now) {
      auto id = deadlines.begin()->second;
      deadlines.erase(deadlines.begin());
      auto it = connections.find(id);
      if (it == connections.end())
        continue;
      auto& c = *it->second;
      c.armed = steady::time_point::max();
      time_out(c, now);
    }
  }

  void time_out(connection& c, steady::time_point now) {
    // Bytes that came with the deadline count: a request that began is answered.
    auto id = c.id;
    advance(c);
    if (connections.count(id) == 0 || deadline_of(c) > now)
      return;
    bool in_request = c.handshaken && c.out.empty() && !c.handling && !c.lingering
                      && c.reader.current() != request_reader::state::idle;
    if (!in_request)
      return destroy(c); // idle, a handshake or a response that did not move, a linger done
    refuse_request(c, {408, "request timeout: a request must arrive within "
                              + std::to_string(settings().read_timeout.count()) + " s"});
    advance(c);
  }
};

http_front::http_front(router& routes, front_settings settings,
                       std::shared_ptr<node_metrics> metrics)
    : routes_(routes), settings_(settings), metrics_(std::move(metrics)),
      loop_(std::make_unique<loop>(*this)) {
  if (!metrics_)
    metrics_ = std::make_shared<node_metrics>();
  routes_.set_keep_alive_timeout(settings_.keep_alive_timeout.count());
  // httplib announces it in Keep-Alive; the front closes a connection only when it is idle.
  routes_.set_keep_alive_max_count(1000000);
}

http_front::~http_front() {
  stop();
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
  loop_->listeners.push_back({fd, std::move(tls)});
  return endpoint_of(bound).port;
}

bool http_front::start(std::string& error) {
  auto& l = *loop_;
  l.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  l.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (l.epoll_fd < 0 || l.wake_fd < 0) {
    error = std::string("cannot start the HTTP front: ") + std::strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_id;
  ::epoll_ctl(l.epoll_fd, EPOLL_CTL_ADD, l.wake_fd, &ev);
  for (std::size_t i = 0; i < l.listeners.size(); ++i) {
    ev.data.u64 = first_listener_id + i;
    ::epoll_ctl(l.epoll_fd, EPOLL_CTL_ADD, l.listeners[i].fd, &ev);
  }
  l.pool = std::make_unique<workers>(settings_.threads);
  l.thread = std::thread([&l] { l.run(); });
  return true;
}

void http_front::stop() {
  auto& l = *loop_;
  if (!l.thread.joinable())
    return;
  l.stopping = true;
  l.wake();
  l.thread.join();
  l.pool.reset(); // waits for requests in progress; their answers go nowhere
  l.run_posted();
}

} // namespace watercooler
