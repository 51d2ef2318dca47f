// The port mapper broker (client of an EPMD, or the EPMD itself) and blocking EPMD queries.
#include "actors/port_mapper.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <system_error>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/log.hpp"
#include "actors/protocol.hpp"

namespace watercooler {

namespace {

using retry_atom = caf::atom_constant<caf::atom("retry")>;     // (retry, uint64 attempt)
using timeout_atom = caf::atom_constant<caf::atom("timeout")>; // (timeout, uint64 attempt)
using expire_atom = caf::atom_constant<caf::atom("expire")>; // (expire, connection, uint64 serial)

using broker_ptr = caf::io::stateful_broker<port_mapper_state>*;
using names_list = std::vector<std::pair<std::string, uint16_t>>;

constexpr size_t read_chunk = 4096;
constexpr size_t max_buffer = 64 * 1024; // per connection; requests are at most 1 KiB anyway
constexpr auto max_connect_wait = std::chrono::milliseconds{1000}; // blocks the broker's thread
constexpr auto error_category = caf::atom("portmap");

using steady = std::chrono::steady_clock;

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

// A connected non-blocking TCP socket to host:port by `deadline`, or -1 and `why` not.
int connect_tcp(const std::string& host, uint16_t port, steady::time_point deadline,
                std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (auto rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    why = ::gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addrs{found, ::freeaddrinfo};
  why = "no address";
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
    return sock.release();
  }
  return -1;
}

void log_line(const std::string& text) {
  ::watercooler::log_line("port mapper: ", text);
}

std::string where(const port_mapper_config& cfg) {
  return cfg.host + ":" + std::to_string(cfg.epmd_port);
}

epmd::node_info own_node(const port_mapper_config& cfg) {
  epmd::node_info x;
  x.port = cfg.dist_port;
  x.name = cfg.alive;
  return x;
}

// Like epmd: nodes register only from this host.
bool is_local_peer(const std::string& addr, const port_mapper_config& cfg) {
  auto starts = [&](const char* prefix) { return addr.rfind(prefix, 0) == 0; };
  return starts("127.") || starts("::ffff:127.") || addr == "::1" || addr == cfg.host;
}

std::string role_text(port_mapper_role role) {
  return role == port_mapper_role::serving ? "serving" : "client";
}

// Registered (as client or serving): answer everyone who asked meanwhile.
void settle(broker_ptr self) {
  auto& st = self->state;
  st.was_registered = true;
  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  for (auto& rp : waiters)
    rp.deliver(role_text(st.role));
}

void fail(broker_ptr self, port_mapper_errc code, std::string text) {
  auto& st = self->state;
  if (st.was_registered) // nobody waits for this any more
    log_line(text);
  st.role = port_mapper_role::failed;
  st.failure_code = code;
  st.failure = std::move(text);
  auto waiters = std::move(st.waiters);
  st.waiters.clear();
  for (auto& rp : waiters)
    rp.deliver(make_error(code, st.failure));
}

void retry_later(broker_ptr self) {
  auto& st = self->state;
  st.role = port_mapper_role::connecting;
  self->delayed_send(self, st.cfg.retry_interval, retry_atom::value, st.attempt);
}

void close_upstream(broker_ptr self) {
  auto& st = self->state;
  if (st.upstream)
    self->close(*st.upstream);
  st.upstream.reset();
  st.upstream_buf.clear();
}

// Register with the EPMD that answers at host:port; else become it; else try again later.
void try_register(broker_ptr self) {
  auto& st = self->state;
  st.role = port_mapper_role::connecting;
  ++st.attempt;
  // Not add_tcp_scribe: its connect blocks without a timeout and may connect to itself.
  std::string no_connect;
  auto deadline = steady::now() + std::min(st.cfg.reply_timeout, max_connect_wait);
  if (auto fd = connect_tcp(st.cfg.host, st.cfg.epmd_port, deadline, no_connect); fd >= 0) {
    auto hdl = self->add_scribe(fd);
    st.upstream = hdl;
    st.upstream_buf.clear();
    self->configure_read(hdl, caf::io::receive_policy::at_most(read_chunk));
    auto req = epmd::encode(epmd::alive2_req{own_node(st.cfg)});
    self->write(hdl, req.size(), req.data());
    self->flush(hdl);
    self->delayed_send(self, st.cfg.reply_timeout, timeout_atom::value, st.attempt);
    return;
  }
  // Binding fails while another node (or epmd) listens there: reuse_addr only skips TIME_WAIT.
  auto acceptor = self->add_tcp_doorman(st.cfg.epmd_port, st.cfg.host.c_str(), true);
  if (acceptor) {
    st.stuck = false;
    st.registry[st.cfg.alive] = {own_node(st.cfg), st.creation++, std::nullopt};
    st.role = port_mapper_role::serving;
    settle(self);
    return;
  }
  if (!st.stuck) { // once per streak, not every retry
    st.stuck = true;
    log_line("no port mapper at " + where(st.cfg) + " (" + no_connect
             + ") and serving there failed (" + self->system().render(acceptor.error())
             + "), retrying every " + std::to_string(st.cfg.retry_interval.count()) + " ms");
  }
  retry_later(self);
}

/* ALIVE2_RESP | ALIVE2_X_RESP from the EPMD we registered with */
void on_upstream_data(broker_ptr self, const std::vector<char>& buf) {
  auto& st = self->state;
  if (st.role != port_mapper_role::connecting) { // epmd never sends more; treat as a lost EPMD
    log_line("unexpected bytes from the port mapper at " + where(st.cfg) + ", reconnecting");
    close_upstream(self);
    retry_later(self);
    return;
  }
  st.upstream_buf.append(buf.data(), buf.size());
  auto r = epmd::decode_alive2_resp(st.upstream_buf);
  if (r.status == epmd::decode_status::need_more)
    return;
  if (r.status == epmd::decode_status::malformed || r.consumed != st.upstream_buf.size()) {
    auto reason = r.status == epmd::decode_status::malformed ? r.reason : "bytes after the answer";
    log_line("malformed answer from the port mapper at " + where(st.cfg) + ": " + reason);
    close_upstream(self);
    retry_later(self);
    return;
  }
  st.upstream_buf.clear();
  if (r.value.result != 0) {
    close_upstream(self);
    fail(self, port_mapper_errc::name_in_use,
         "node name " + st.cfg.alive + " is already in use on " + st.cfg.host);
    return;
  }
  st.role = port_mapper_role::client;
  st.stuck = false;
  settle(self);
}

void drop_peer(broker_ptr self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  auto i = st.peers.find(hdl);
  if (i == st.peers.end())
    return;
  if (auto j = st.registry.find(i->second.registered);
      j != st.registry.end() && j->second.owner == hdl)
    st.registry.erase(j);
  st.peers.erase(i);
}

void reject_peer(broker_ptr self, caf::io::connection_handle hdl, const std::string& reason) {
  log_line("closing client " + self->remote_addr(hdl) + ":" + std::to_string(self->remote_port(hdl))
           + ": " + reason);
  self->close(hdl);
  drop_peer(self, hdl);
}

// Writes a response; epmd closes every connection except a successful ALIVE2 one.
void answer(broker_ptr self, caf::io::connection_handle hdl, const std::string& bytes,
            bool keep_open) {
  self->write(hdl, bytes.size(), bytes.data());
  self->flush(hdl);
  if (!keep_open) {
    self->close(hdl); // still sends what was written
    drop_peer(self, hdl);
  }
}

/* ALIVE2_REQ: the registration lives as long as this connection */
void serve(broker_ptr self, caf::io::connection_handle hdl, const epmd::alive2_req& req) {
  auto& st = self->state;
  auto extended = req.node.highest >= 6; // what OTP 23+ epmd does
  auto addr = self->remote_addr(hdl);
  if (!is_local_peer(addr, st.cfg)) {
    reject_peer(self, hdl, "ALIVE2_REQ from non-local address " + addr);
    return;
  }
  if (st.registry.count(req.node.name) > 0) {
    log_line("refused to register " + req.node.name + ": the name is in use");
    answer(self, hdl, epmd::encode(epmd::alive2_resp{1, 99, extended}), false);
    return;
  }
  auto creation = st.creation++;
  st.registry[req.node.name] = {req.node, creation, hdl};
  st.peers[hdl].registered = req.node.name;
  answer(self, hdl, epmd::encode(epmd::alive2_resp{0, creation, extended}), true);
}

/* PORT_PLEASE2_REQ: NodeName -> PORT2_RESP */
void serve(broker_ptr self, caf::io::connection_handle hdl, const epmd::port_please2_req& req) {
  auto& st = self->state;
  epmd::port2_resp resp{1, {}};
  if (auto i = st.registry.find(req.name); i != st.registry.end())
    resp = {0, i->second.node};
  answer(self, hdl, epmd::encode(resp), false);
}

/* NAMES_REQ -> EPMDPortNo, then "name <alive> at port <port>\n" lines */
void serve(broker_ptr self, caf::io::connection_handle hdl, const epmd::names_req&) {
  auto& st = self->state;
  epmd::names_resp resp{st.cfg.epmd_port, {}};
  for (const auto& [name, reg] : st.registry)
    resp.names.emplace_back(name, reg.node.port);
  answer(self, hdl, epmd::encode(resp), false);
}

void on_peer_data(broker_ptr self, caf::io::connection_handle hdl, const std::vector<char>& buf) {
  auto i = self->state.peers.find(hdl);
  if (i == self->state.peers.end())
    return; // we closed it already
  auto& p = i->second;
  if (!p.registered.empty()) {
    reject_peer(self, hdl, "unexpected bytes after ALIVE2_REQ");
    return;
  }
  if (p.buf.size() + buf.size() > max_buffer) {
    reject_peer(self, hdl, "more than 64 KiB without a complete request");
    return;
  }
  p.buf.append(buf.data(), buf.size());
  auto r = epmd::decode_request(p.buf);
  if (r.status == epmd::decode_status::need_more)
    return;
  if (r.status == epmd::decode_status::malformed) {
    reject_peer(self, hdl, r.reason);
    return;
  }
  if (r.consumed != p.buf.size()) {
    reject_peer(self, hdl, "bytes after the request");
    return;
  }
  p.buf.clear();
  std::visit([&](const auto& req) { serve(self, hdl, req); }, r.value);
}

// Serving ended (our listening socket failed): forget the table and start over.
void stop_serving(broker_ptr self) {
  auto& st = self->state;
  log_line("stopped serving on " + where(st.cfg) + ", registering again");
  for (auto& entry : st.peers)
    self->close(entry.first);
  st.peers.clear();
  st.registry.clear();
  try_register(self);
}

std::string error_text(caf::actor_system& sys, const caf::error& err,
                       std::chrono::milliseconds timeout) {
  if (err.category() == error_category && err.context().match_elements<std::string>())
    return err.context().get_as<std::string>(0);
  if (err == caf::sec::request_timeout)
    return "the port mapper did not register within " + std::to_string(timeout.count()) + " ms";
  return sys.render(err);
}

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
  std::string why;
  socket_guard sock{connect_tcp(host, port, deadline, why)};
  if (sock.get() < 0)
    return outcome<T>::fail("no port mapper at " + at + " (" + why + ")");
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
    if (answer.size() + static_cast<size_t>(n) > max_buffer)
      return malformed("longer than 64 KiB");
    answer.append(buf, static_cast<size_t>(n));
  }
}

} // namespace

caf::error make_error(port_mapper_errc code, std::string text) {
  return caf::error{static_cast<uint8_t>(code), error_category, caf::make_message(std::move(text))};
}

caf::behavior port_mapper(caf::io::stateful_broker<port_mapper_state>* self,
                          port_mapper_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.creation = std::random_device{}() | 4; // like OTP 23+: 32 bits, never 0..3
  if (auto problem = check_alive_name(st.cfg.alive); !problem.empty())
    fail(self, port_mapper_errc::invalid_name, problem);
  else
    try_register(self);
  return {
    // INSPECT: for --inspect's list of actors.
    [=](inspect_atom) {
      return std::vector<actor_report>{{"port_mapper", "broker", self->mailbox().size()}};
    },
    [=](caf::get_atom) -> caf::result<std::string> {
      auto& s = self->state;
      switch (s.role) {
        case port_mapper_role::client:
        case port_mapper_role::serving:
          return role_text(s.role);
        case port_mapper_role::failed:
          return make_error(s.failure_code, s.failure);
        case port_mapper_role::connecting:
          break;
      }
      auto rp = self->make_response_promise();
      s.waiters.push_back(rp);
      return rp;
    },
    [=](retry_atom, uint64_t attempt) {
      auto& s = self->state;
      if (attempt == s.attempt && s.role == port_mapper_role::connecting && !s.upstream)
        try_register(self);
    },
    [=](timeout_atom, uint64_t attempt) {
      auto& s = self->state;
      if (attempt != s.attempt || s.role != port_mapper_role::connecting || !s.upstream)
        return;
      log_line("no answer from the port mapper at " + where(s.cfg) + ", retrying");
      close_upstream(self);
      retry_later(self);
    },
    [=](const caf::io::new_connection_msg& msg) {
      auto& s = self->state;
      s.peers[msg.handle] = {++s.serial, {}, {}};
      self->configure_read(msg.handle, caf::io::receive_policy::at_most(read_chunk));
      self->delayed_send(self, s.cfg.reply_timeout, expire_atom::value, msg.handle, s.serial);
    },
    [=](expire_atom, caf::io::connection_handle hdl, uint64_t serial) {
      auto i = self->state.peers.find(hdl);
      if (i != self->state.peers.end() && i->second.serial == serial
          && i->second.registered.empty())
        reject_peer(self, hdl,
                    "no complete request within "
                      + std::to_string(self->state.cfg.reply_timeout.count()) + " ms");
    },
    [=](const caf::io::new_data_msg& msg) {
      if (self->state.upstream == msg.handle)
        on_upstream_data(self, msg.buf);
      else
        on_peer_data(self, msg.handle, msg.buf);
    },
    [=](const caf::io::connection_closed_msg& msg) {
      auto& s = self->state;
      if (s.upstream != msg.handle) {
        drop_peer(self, msg.handle);
        return;
      }
      s.upstream.reset();
      s.upstream_buf.clear();
      if (s.role == port_mapper_role::client)
        try_register(self); // the serving node exited: take over now
      else if (s.role == port_mapper_role::connecting)
        retry_later(self);
    },
    [=](const caf::io::acceptor_closed_msg&) { stop_serving(self); },
  };
}

caf::actor spawn_port_mapper(caf::actor_system& sys, port_mapper_config cfg) {
  return sys.middleman().spawn_broker(port_mapper, std::move(cfg));
}

outcome<std::string> wait_registered(caf::actor_system& sys, const caf::actor& mapper,
                                     std::chrono::milliseconds timeout) {
  auto out = outcome<std::string>::fail("the port mapper did not answer");
  caf::scoped_actor self{sys};
  self->request(mapper, timeout, caf::get_atom::value)
    .receive([&](const std::string& role) { out = outcome<std::string>::ok(role); },
             [&](const caf::error& err) {
               out = outcome<std::string>::fail(error_text(sys, err, timeout));
             });
  return out;
}

outcome<uint16_t> epmd_port_please(const std::string& host, uint16_t epmd_port,
                                   const std::string& alive, std::chrono::milliseconds timeout) {
  if (auto problem = check_alive_name(alive); !problem.empty())
    return outcome<uint16_t>::fail(problem);
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
