// The loop's mailbox: a locked list and an eventfd that wakes the loop.
#include "web/http/loop_mailbox.hpp"

#include <cstdint>

#include <unistd.h>

namespace watercooler {

bool loop_mailbox::post(std::function<void()> fn) {
  bool first;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (!open_)
      return false;
    first = posted_.empty();
    posted_.push_back(std::move(fn));
  }
  // Jobs behind the first are taken with it: the loop takes the whole list after its wake-up.
  if (first) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  }
  return true;
}

std::vector<std::function<void()>> loop_mailbox::take() {
  std::lock_guard<std::mutex> guard(mutex_);
  return std::move(posted_);
}

void loop_mailbox::close() {
  std::lock_guard<std::mutex> guard(mutex_);
  open_ = false;
}

} // namespace watercooler
