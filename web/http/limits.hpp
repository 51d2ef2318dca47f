// Per-client-address limits of the HTTP side: open connections and event streams, and the
// publish rate.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace watercooler {

// Defaults of the command-line limits: far above what a person at a keyboard reaches (or a
// browser sends), low enough to stop a script that floods.
inline constexpr std::size_t default_max_header = 32 * 1024; // request line and headers, bytes
inline constexpr std::size_t default_max_body = 64 * 1024;   // bytes of a request body
inline constexpr std::size_t default_max_message = 4000;     // characters of one message
inline constexpr std::size_t default_max_streams = 100;      // open streams per client address
inline constexpr unsigned default_publish_rate = 10;         // messages per second per address
inline constexpr unsigned default_publish_burst = 30;        // messages at once per address
inline constexpr unsigned default_read_timeout = 10;         // seconds for a whole request
inline constexpr unsigned default_keep_alive_timeout = 5;    // seconds an idle connection stays
inline constexpr std::size_t default_max_connections_per_address = 256; // open HTTP connections

// The key a client address is counted under: IPv4 as it is (also when IPv4-mapped), IPv6 by its
// /64, since one IPv6 client holds a whole /64 and could take a new address per connection.
std::string address_key(const std::string& ip);

// Holds one place (a connection's, a stream's) in its address's count; copies share it, the last
// one gives it back.
class address_slot {
public:
  address_slot() = default; // holds nothing
  explicit operator bool() const {
    return hold_ != nullptr;
  }

private:
  friend class address_slots;
  explicit address_slot(std::shared_ptr<void> hold) : hold_(std::move(hold)) {}
  std::shared_ptr<void> hold_;
};

// Open connections or event streams per client address, thread-safe; slots may outlive this
// object.
class address_slots {
public:
  // `per_address` 0: no limit (slots are still counted).
  explicit address_slots(std::size_t per_address);

  // A slot for one more from `ip`; nullopt when the address has its limit already.
  std::optional<address_slot> acquire(const std::string& ip);
  // Slots held now by `ip`.
  std::size_t open(const std::string& ip) const;
  std::size_t limit() const {
    return per_address_;
  }

private:
  struct counts {
    std::mutex mutex;
    std::unordered_map<std::string, std::size_t> by_key;
  };
  std::size_t per_address_;
  std::shared_ptr<counts> counts_; // shared with the slots, which may end after us
};

// A token bucket per client address, thread-safe: `rate` tokens a second, at most `burst` saved.
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  // `rate` 0: no limit.
  rate_limiter(unsigned rate, unsigned burst);

  // Takes a token for `ip`: nullopt if there was one, else how long to wait for the next one
  // (whole seconds, at least 1, for Retry-After).
  std::optional<std::chrono::seconds> take(const std::string& ip, clock::time_point now);
  std::optional<std::chrono::seconds> take(const std::string& ip) {
    return take(ip, clock::now());
  }
  unsigned rate() const {
    return rate_;
  }
  // Addresses tracked now (full buckets are forgotten now and then).
  std::size_t tracked() const;

private:
  struct bucket {
    double tokens;
    clock::time_point at;
  };
  void forget_full(clock::time_point now);

  unsigned rate_;
  unsigned burst_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
  std::size_t next_sweep_ = 1024; // forget full buckets when the map grows past this
};

} // namespace watercooler
