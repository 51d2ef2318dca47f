// How other threads give the front's loop work: a worker's answer, an event stream's bytes.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace watercooler {

// Work for the loop thread from any thread (a worker's answer, an event stream's bytes); it may
// outlive the loop, and then takes nothing more.
class loop_mailbox {
public:
  explicit loop_mailbox(int wake_fd) : wake_fd_(wake_fd) {}

  // False once the loop has stopped.
  bool post(std::function<void()> fn);
  std::vector<std::function<void()>> take();
  void close();

private:
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  int wake_fd_;
  bool open_ = true;
};

} // namespace watercooler
