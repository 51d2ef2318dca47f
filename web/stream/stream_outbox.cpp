// The outbox of an event stream: gathers waiting pieces into one write of its transport.
#include "web/stream/stream_outbox.hpp"

#include <sys/uio.h>

namespace watercooler {

namespace {

constexpr std::size_t max_pieces_per_write = 64;

} // namespace

void stream_outbox::push(piece p) {
  if (p.bytes().empty())
    return;
  events_ += p.events;
  bytes_ += p.bytes().size();
  pieces_.push_back(std::move(p));
}

stream_outbox::result stream_outbox::flush(const std::function<void(const piece&)>& written) {
  iovec iov[max_pieces_per_write];
  while (!pieces_.empty()) {
    std::size_t count = 0;
    for (auto it = pieces_.begin(); it != pieces_.end() && count < max_pieces_per_write;
         ++it, ++count) {
      auto skip = count == 0 ? offset_ : 0;
      auto bytes = it->bytes();
      iov[count].iov_base = const_cast<char*>(bytes.data() + skip);
      iov[count].iov_len = bytes.size() - skip;
    }
    auto n = transport_->write(iov, static_cast<int>(count));
    if (n < 0)
      return result::failed;
    if (n == 0)
      return result::blocked;
    auto left = static_cast<std::size_t>(n);
    bytes_ -= left;
    while (left > 0) {
      auto& front = pieces_.front();
      auto rest = front.bytes().size() - offset_;
      if (left < rest) {
        offset_ += left;
        break;
      }
      left -= rest;
      offset_ = 0;
      events_ -= front.events;
      written(front);
      pieces_.pop_front();
    }
  }
  switch (transport_->flush()) { // what the transport took but kept back
    case transport::status::done:
      return result::done;
    case transport::status::blocked:
      return result::blocked;
    case transport::status::failed:
      break;
  }
  return result::failed;
}

void stream_outbox::drop_unsent() {
  auto keep = offset_ > 0 ? 1u : 0u;
  while (pieces_.size() > keep) {
    events_ -= pieces_.back().events;
    bytes_ -= pieces_.back().bytes().size();
    pieces_.pop_back();
  }
}

} // namespace watercooler
