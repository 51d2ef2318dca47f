// The channel between an event stream's session and its HTTP/2 connection.
#include "web/http/h2_stream.hpp"

#include <algorithm>
#include <cstring>

namespace watercooler {

long h2_channel::write(const iovec* iov, int count) {
  bool wake = false;
  long taken = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (gone_ || ended_)
      return -1;
    for (int i = 0; i < count && bytes_.size() < high_water; ++i) {
      auto n = std::min(iov[i].iov_len, high_water - bytes_.size());
      bytes_.append(static_cast<const char*>(iov[i].iov_base), n);
      taken += static_cast<long>(n);
    }
    full_ = bytes_.size() >= high_water;
    wake = taken > 0 && !wake_posted_;
    wake_posted_ = wake_posted_ || wake;
  }
  if (wake && !wake_())
    return -1; // the front has stopped
  return taken;
}

void h2_channel::end() {
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (ended_)
      return;
    ended_ = true;
    wake = !gone_ && !wake_posted_;
    wake_posted_ = wake_posted_ || wake;
  }
  if (wake)
    wake_();
}

bool h2_channel::gone() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return gone_;
}

bool h2_channel::ended() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return ended_;
}

std::size_t h2_channel::pending() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return bytes_.size();
}

void h2_channel::on_event(std::function<void(transport::event)> notify) {
  bool closed;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    notify_ = notify;
    closed = gone_;
  }
  if (closed)
    notify(transport::event::closed);
}

std::size_t h2_channel::read(uint8_t* data, std::size_t size, bool& eof) {
  std::function<void(transport::event)> notify;
  std::size_t n;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    wake_posted_ = false;
    n = std::min(size, bytes_.size());
    std::memcpy(data, bytes_.data(), n);
    bytes_.erase(0, n);
    eof = ended_ && bytes_.empty();
    if (full_ && bytes_.size() < high_water / 2) {
      full_ = false;
      notify = notify_;
    }
  }
  if (notify)
    notify(transport::event::writable);
  return n;
}

void h2_channel::close() {
  std::function<void(transport::event)> notify;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (gone_)
      return;
    gone_ = true;
    bytes_.clear();
    notify = notify_;
  }
  if (notify)
    notify(transport::event::closed);
}

namespace {

class stream_transport final : public transport {
public:
  explicit stream_transport(std::shared_ptr<h2_channel> channel)
      : transport(-1), channel_(std::move(channel)) {}
  ~stream_transport() override {
    close();
  }

  status handshake() override {
    return status::done;
  }
  long read(char*, std::size_t) override {
    return channel_->gone() ? -1 : 0; // the request's body was the connection's to read
  }
  long write(const iovec* iov, int count) override {
    return channel_->write(iov, count);
  }
  status flush() override {
    return channel_->gone() ? status::failed : status::done;
  }
  void finish_sending() override {
    channel_->end();
  }
  void close() override {
    channel_->end();
  }
  std::string protocol() const override {
    return "h2";
  }
  void on_event(std::function<void(event)> notify) override {
    channel_->on_event(std::move(notify));
  }

private:
  std::shared_ptr<h2_channel> channel_;
};

} // namespace

std::unique_ptr<transport> h2_stream_transport(std::shared_ptr<h2_channel> channel) {
  return std::make_unique<stream_transport>(std::move(channel));
}

} // namespace watercooler
