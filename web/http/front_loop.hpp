// Inside the HTTP front: the event loop and what a connection on it may ask of it. A connection
// speaks one protocol (http1_connection, h2_connection); the loop owns the sockets' readiness,
// the deadlines, the workers and the node's connection counts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <httplib.h>

#include "actors/metrics.hpp"
#include "web/http/front.hpp"
#include "web/http/limits.hpp"
#include "web/http/loop_mailbox.hpp"
#include "web/http/router.hpp"
#include "web/http/transport.hpp"

namespace watercooler {

using steady = std::chrono::steady_clock;

class front_loop;
class workers;

// What a connection is, whichever protocol it speaks.
struct connection_parts {
  uint64_t id = 0;
  std::unique_ptr<transport> io;
  endpoint client, local;
  address_slot slot; // its place in its address's --max-connections-per-address
};

// A client connection on the loop. Called from the loop thread only; a connection that ends asks
// the loop to close it and touches nothing of itself after that.
class connection {
public:
  connection(front_loop& loop, connection_parts parts);
  virtual ~connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Everything the connection can do now: after its socket became ready, its deadline passed,
  // or an answer came.
  virtual void advance() = 0;
  // When its present wait ends; time_point::max() for none.
  virtual steady::time_point deadline() const = 0;
  // Its deadline passed.
  virtual void time_out(steady::time_point now) = 0;
  // The answer to request `stream` (0 on HTTP/1.1), from a worker.
  virtual void answered(int32_t stream, router::answer answer) = 0;
  // An event stream of the connection has bytes to send, or has ended (HTTP/2); the loop
  // advances the connection once its posted work is done.
  virtual void resume(int32_t stream) {
    (void)stream;
  }
  // The node stops: no new requests, please (HTTP/2: GOAWAY); those open go on.
  virtual void stop_announced() {}
  // The node stops: end what can be ended politely. True once the connection may be closed.
  virtual bool drain() {
    return true;
  }

  // Its parts, for the connection that goes on in its place.
  connection_parts take_parts() {
    return {id, std::move(io), client, local, std::move(slot)};
  }

  const uint64_t id;
  std::unique_ptr<transport> io;
  const endpoint client, local;
  address_slot slot;
  steady::time_point armed = steady::time_point::max(); // its entry in the loop's deadlines

protected:
  front_loop& loop_;
};

class front_loop {
public:
  front_loop(router& routes, const front_settings& settings, std::shared_ptr<node_metrics> metrics,
             httplib::Logger refusal_logger);
  ~front_loop(); // the thread has been stopped
  front_loop(const front_loop&) = delete;
  front_loop& operator=(const front_loop&) = delete;

  // Before start(): a listening socket, over TLS when `tls` is set.
  void add_listener(int fd, std::shared_ptr<SSL_CTX> tls);
  bool start(std::string& error);
  // Closes the listening sockets and tells the connections (stop_announced); they go on.
  void stop_accepting();
  // Closes the listening sockets, gives each connection a short time to end politely, closes the
  // rest and waits for the workers.
  void stop();

  // ---- for connections (on the loop thread unless said otherwise)
  const front_settings& settings() const {
    return settings_;
  }
  router& routes() {
    return routes_;
  }
  node_metrics& metrics() {
    return *metrics_;
  }
  // Where other threads post work for the loop.
  const std::shared_ptr<loop_mailbox>& mailbox() const {
    return mailbox_;
  }
  // Runs `request` on a worker; its answer goes to answered(stream, ...) of connection `id` on
  // the loop thread, unless the connection is gone by then.
  void dispatch(uint64_t id, int32_t stream, std::string request, const endpoint& client,
                const endpoint& local, const char* protocol);
  // Calls resume(stream) of connection `id`, if it is still open, and advances it after the
  // posted work (a job of the mailbox calls this).
  void resume(uint64_t id, int32_t stream);
  // Takes the connection's new deadline.
  void arm(connection& c);
  // Closes and forgets the connection (the transport closes with it).
  void close(connection& c);
  // Gives the transport to `adopt` and forgets the connection.
  void hand_over(connection& c, adopt_fn adopt);
  // The connection goes on as `next` (same id, transport and slot), e.g. once TLS chose HTTP/2.
  void replace(connection& c, std::unique_ptr<connection> next);
  // A request refused before routing (its method and target as far as they were read), with
  // its answer.
  void log_refusal(const std::string& method, const std::string& target, const endpoint& client,
                   const httplib::Response& res, const char* protocol);
  // Whether connection `id` is still open.
  bool alive(uint64_t id) const {
    return connections_.count(id) != 0;
  }
  // A connection refused by a limit of the front.
  void log_refused_connection(const char* flag);

private:
  void run();
  int wait_ms() const;
  void run_posted();
  void accept_all(std::size_t index);
  void accept_one(std::size_t index, int fd, endpoint client);
  void refuse_connection(int fd, bool tls, int status, const std::string& reason, const char* flag);
  void close_listeners();
  void pause_accepting();
  void resume_accepting();
  void expire();
  void watch(int fd, uint64_t id, uint32_t events);
  void forget(connection& c);

  struct listener {
    int fd = -1;
    std::shared_ptr<SSL_CTX> tls;
  };

  router& routes_;
  front_settings settings_;
  std::shared_ptr<node_metrics> metrics_;
  httplib::Logger refusal_logger_;
  std::vector<listener> listeners_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::shared_ptr<loop_mailbox> mailbox_;
  std::unique_ptr<workers> pool_;
  std::thread thread_;
  bool stopping_ = false; // set on the loop thread, from a posted job

  // Touched by the loop thread only.
  std::unordered_map<uint64_t, std::unique_ptr<connection>> connections_;
  std::set<std::pair<steady::time_point, uint64_t>> deadlines_;
  std::vector<uint64_t> resumed_; // connections to advance after the posted work
  uint64_t next_id_;
  address_slots per_address_;
  steady::time_point accept_paused_until_{};
  steady::time_point next_refusal_log_{};
  uint64_t unlogged_refusals_ = 0;
};

} // namespace watercooler
