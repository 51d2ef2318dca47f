// An HTTP/2 stream taken over by an event stream's session: the session writes to it as to a
// socket (a transport), its HTTP/2 connection on the front's loop sends what was written as DATA
// frames as far as the client's flow-control window allows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "web/http/transport.hpp"

namespace watercooler {

// The bytes between a session (any thread) and the connection (the loop thread).
class h2_channel {
public:
  // `wake` asks the connection's loop to send what is there (it may outlive the connection).
  explicit h2_channel(std::function<bool()> wake) : wake_(std::move(wake)) {}

  // ---- the session's side
  // Takes what fits below the high-water mark: the count taken (0: go on at `writable`), -1 once
  // the stream is gone.
  long write(const iovec* iov, int count);
  // No more bytes: the stream ends once what was written is sent.
  void end();
  bool gone() const;
  // `notify` is called (from the loop thread) with writable once a full channel has room again,
  // and with closed once the stream is gone; at once if it is gone already.
  void on_event(std::function<void(transport::event)> notify);

  // ---- the connection's side
  // Copies up to `size` bytes out: the count; `eof` once everything was taken after end().
  std::size_t read(uint8_t* data, std::size_t size, bool& eof);
  // The client reset the stream or the connection ended.
  void close();
  bool ended() const;
  std::size_t pending() const;

  // What one stream may hold unsent before its session is told to wait.
  static constexpr std::size_t high_water = 64 * 1024;

private:
  mutable std::mutex mutex_;
  std::string bytes_; // written, not yet sent
  bool ended_ = false;
  bool gone_ = false;
  bool full_ = false;        // a write was refused for want of room
  bool wake_posted_ = false; // the connection will look at us soon
  std::function<void(transport::event)> notify_;
  std::function<bool()> wake_;
};

// The transport a session gets for its HTTP/2 stream; no socket of its own (fd() is -1).
std::unique_ptr<transport> h2_stream_transport(std::shared_ptr<h2_channel> channel);

} // namespace watercooler
