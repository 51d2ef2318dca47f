// One epoll thread that watches every plain event stream's socket and tells its session actor
// when the client went away, sent bytes, or the socket has room again after a short write.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/protocol.hpp"

namespace watercooler {

// What the poller tells a session: (readable), (writable), (closed) of actors/protocol.hpp.

// Sessions write their sockets themselves, from whichever scheduler thread runs them; the poller
// only waits. It never reads or writes a socket, so a closed and reused fd cannot be confused
// with the stream that had it: every registration has a token that is never reused.
class stream_poller {
public:
  stream_poller();
  ~stream_poller(); // stops and joins the thread
  stream_poller(const stream_poller&) = delete;
  stream_poller& operator=(const stream_poller&) = delete;

  // False (with `error`) when epoll or the wake-up eventfd cannot be created.
  bool ok(std::string& error) const;

  // Watches `fd` for `session`; 0 if the fd cannot be watched.
  uint64_t watch(int fd, caf::actor session);
  // Also wait for room to write (after a short write), or stop waiting for it.
  void want_write(uint64_t token, int fd, bool on);
  // Stops watching; call before closing the fd.
  void forget(uint64_t token, int fd);

  size_t watched() const;

private:
  void run();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::string error_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, caf::actor> sessions_;
  uint64_t next_token_ = 1;
  std::thread thread_;
};

} // namespace watercooler
