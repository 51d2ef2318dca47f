// Per-address stream slots and publish token buckets.
#include "web/http/limits.hpp"

#include <algorithm>
#include <cmath>

#include <arpa/inet.h>

namespace watercooler {

std::string address_key(const std::string& ip) {
  in6_addr v6{};
  if (::inet_pton(AF_INET6, ip.c_str(), &v6) != 1)
    return ip; // IPv4, or whatever the socket layer gave us
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    char v4[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &v6.s6_addr[12], v4, sizeof(v4));
    return v4;
  }
  std::fill(std::begin(v6.s6_addr) + 8, std::end(v6.s6_addr), 0);
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, &v6, text, sizeof(text));
  return std::string(text) + "/64";
}

address_slots::address_slots(std::size_t per_address)
    : per_address_(per_address), counts_(std::make_shared<counts>()) {}

std::optional<address_slot> address_slots::acquire(const std::string& ip) {
  auto key = address_key(ip);
  {
    std::lock_guard<std::mutex> guard(counts_->mutex);
    auto& n = counts_->by_key[key];
    if (per_address_ != 0 && n >= per_address_)
      return std::nullopt; // the entry exists: a slot of this address is open
    ++n;
  }
  // The deleter gives the place back; it holds the counts, not this object.
  auto release = [counts = counts_](std::string* held) {
    {
      std::lock_guard<std::mutex> guard(counts->mutex);
      auto at = counts->by_key.find(*held);
      if (at != counts->by_key.end() && --at->second == 0)
        counts->by_key.erase(at);
    }
    delete held;
  };
  return address_slot(std::shared_ptr<std::string>(new std::string(std::move(key)), release));
}

std::size_t address_slots::open(const std::string& ip) const {
  std::lock_guard<std::mutex> guard(counts_->mutex);
  auto at = counts_->by_key.find(address_key(ip));
  return at == counts_->by_key.end() ? 0 : at->second;
}

rate_limiter::rate_limiter(unsigned rate, unsigned burst)
    : rate_(rate), burst_(std::max(burst, 1u)) {}

std::optional<std::chrono::seconds> rate_limiter::take(const std::string& ip,
                                                       clock::time_point now) {
  if (rate_ == 0)
    return std::nullopt;
  std::lock_guard<std::mutex> guard(mutex_);
  if (buckets_.size() >= next_sweep_)
    forget_full(now);
  auto [at, added] = buckets_.try_emplace(address_key(ip), bucket{double(burst_), now});
  auto& b = at->second;
  if (!added && now > b.at) {
    std::chrono::duration<double> elapsed = now - b.at;
    b.tokens = std::min(double(burst_), b.tokens + elapsed.count() * rate_);
    b.at = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  auto wait = std::ceil((1 - b.tokens) / rate_);
  return std::chrono::seconds(std::max(1L, static_cast<long>(wait)));
}

std::size_t rate_limiter::tracked() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return buckets_.size();
}

// A full bucket is the same as none: forgetting it bounds memory however many addresses come.
void rate_limiter::forget_full(clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    std::chrono::duration<double> elapsed = now - it->second.at;
    if (it->second.tokens + elapsed.count() * rate_ >= burst_)
      it = buckets_.erase(it);
    else
      ++it;
  }
  next_sweep_ = std::max<std::size_t>(1024, buckets_.size() * 2);
}

} // namespace watercooler
