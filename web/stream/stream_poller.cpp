// The stream poller: epoll in edge-triggered mode, one registration per stream socket.
#include "web/stream/stream_poller.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace watercooler {

namespace {

constexpr uint32_t read_events = EPOLLIN | EPOLLRDHUP | EPOLLET;
constexpr uint64_t wake_token = 0;

} // namespace

stream_poller::stream_poller() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    error_ = std::string("cannot create the stream poller: ") + std::strerror(errno);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_token;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    error_ = std::string("cannot create the stream poller: ") + std::strerror(errno);
    return;
  }
  thread_ = std::thread([this] { run(); });
}

stream_poller::~stream_poller() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable())
    thread_.join();
  if (wake_fd_ >= 0)
    ::close(wake_fd_);
  if (epoll_fd_ >= 0)
    ::close(epoll_fd_);
}

bool stream_poller::ok(std::string& error) const {
  error = error_;
  return error_.empty();
}

uint64_t stream_poller::watch(int fd, caf::actor session) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto token = next_token_++;
  epoll_event ev{};
  ev.events = read_events;
  ev.data.u64 = token;
  if (!error_.empty() || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    return 0;
  sessions_.emplace(token, std::move(session));
  return token;
}

void stream_poller::want_write(uint64_t token, int fd, bool on) {
  epoll_event ev{};
  ev.events = on ? read_events | EPOLLOUT : read_events;
  ev.data.u64 = token;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev); // the fd is the caller's until it forgets it
}

void stream_poller::forget(uint64_t token, int fd) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (sessions_.erase(token) > 0)
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

size_t stream_poller::watched() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return sessions_.size();
}

void stream_poller::run() {
  std::vector<epoll_event> events(256);
  std::vector<std::pair<caf::actor, uint32_t>> ready;
  while (!stopping_) {
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    ready.clear();
    {
      std::lock_guard<std::mutex> guard(mutex_);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == wake_token)
          continue;
        auto it = sessions_.find(events[i].data.u64);
        if (it != sessions_.end()) // else: forgotten while we waited
          ready.emplace_back(it->second, uint32_t{events[i].events});
      }
    }
    // Sent outside the lock: a session that forgets its token must never wait for this thread.
    for (const auto& [session, what] : ready) {
      if (what & (EPOLLERR | EPOLLHUP))
        caf::anon_send(session, closed_atom::value);
      else if (what & (EPOLLIN | EPOLLRDHUP))
        caf::anon_send(session, readable_atom::value);
      if (what & EPOLLOUT)
        caf::anon_send(session, writable_atom::value);
    }
  }
}

} // namespace watercooler
