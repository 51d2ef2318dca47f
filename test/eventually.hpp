// Waiting in tests for a condition that settles on other threads (a node's counters, a socket
// the other side closes): the one place a test pauses, between two looks at the condition.
#pragma once

#include <chrono>
#include <thread>

namespace watercooler {

// True once `done()` holds; false if it still does not after `limit` (a bound for a broken
// build, not a measure).
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

} // namespace watercooler
