// The port mapper broker: registers with the EPMD of this host, or serves as it.
#include "actors/port_mapper.hpp"

#include <algorithm>
#include <random>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/log.hpp"
#include "actors/protocol.hpp"
#include "actors/wire/epmd_client.hpp"
#include "actors/wire/node_name.hpp"

namespace watercooler {

namespace {

using broker_ptr = caf::io::stateful_broker<port_mapper_state>*;

constexpr size_t read_chunk = 4096;
constexpr size_t max_buffer = 64 * 1024; // per client; requests are at most 1 KiB anyway
constexpr auto max_connect_wait = std::chrono::milliseconds{1000}; // blocks the broker's thread

using steady = std::chrono::steady_clock;

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

void fail(broker_ptr self, refusal code, std::string text) {
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
  auto deadline = steady::now() + std::min(st.cfg.reply_timeout, max_connect_wait);
  auto connected = connect_epmd(st.cfg.host, st.cfg.epmd_port, deadline);
  if (connected) {
    auto hdl = self->add_scribe(*connected);
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
    log_line("no port mapper at " + where(st.cfg) + " (" + connected.error
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
    fail(self, refusal::name_in_use,
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
  if (auto words = refusal_text(err))
    return *words;
  if (err == caf::sec::request_timeout)
    return "the port mapper did not register within " + std::to_string(timeout.count()) + " ms";
  return sys.render(err);
}

} // namespace

caf::behavior port_mapper(caf::io::stateful_broker<port_mapper_state>* self,
                          port_mapper_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.creation = std::random_device{}() | 4; // like OTP 23+: 32 bits, never 0..3
  if (auto checked = check_alive_name(st.cfg.alive); !checked)
    fail(self, refusal::invalid_name, checked.error);
  else
    try_register(self);
  return {
    // ACTORS: for --inspect's list of actors.
    [=](actors_atom) {
      return std::vector<actor_report>{{"port_mapper", "broker", self->mailbox().size()}};
    },
    // REGISTERED: once registered (or failed), as what.
    [=](registered_atom) -> caf::result<std::string> {
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
  self->request(mapper, timeout, registered_atom::value)
    .receive([&](const std::string& role) { out = outcome<std::string>::ok(role); },
             [&](const caf::error& err) {
               out = outcome<std::string>::fail(error_text(sys, err, timeout));
             });
  return out;
}

} // namespace watercooler
