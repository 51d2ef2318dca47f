// Who a request is from when a reverse proxy stands in front: --trust-proxy ranges, and the
// client address and host they vouch for in X-Forwarded-For, -Host and -Proto.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

namespace watercooler {

// ADDRESS or ADDRESS/BITS, IPv4 or IPv6; an IPv4 range also holds the IPv4-mapped IPv6 addresses.
struct address_range {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{}; // IPv4 in the first 4
  unsigned bits = 0;               // leading bits that must match
};

// The range `text` names, or nullopt: not an address, bits over 32 (IPv4) or 128 (IPv6), or bits
// that leave host bits set ("10.0.0.1/8" is refused: write 10.0.0.0/8).
std::optional<address_range> parse_address_range(std::string_view text);

// The proxies whose X-Forwarded-* headers are believed; empty: nobody's.
class trusted_proxies {
public:
  trusted_proxies() = default;
  explicit trusted_proxies(std::vector<address_range> ranges) : ranges_(std::move(ranges)) {}

  bool empty() const {
    return ranges_.empty();
  }
  // False for anything that is not an address.
  bool contains(std::string_view ip) const;

private:
  std::vector<address_range> ranges_;
};

// The client address: `peer` (the TCP peer) unless a trusted proxy; then the right-most address
// of `forwarded_for` (X-Forwarded-For, every copy joined by ", ") that is not itself trusted.
// Each trusted hop vouches only for the address just left of its own, so the walk stops at the
// first entry that is not an address, answering with the trusted hop right of it; when every
// entry is trusted, the left-most.
std::string forwarded_client(const std::string& peer, std::string_view forwarded_for,
                             const trusted_proxies& proxies);

// A request as its client sent it: through a trusted proxy, what the proxy says.
struct client_view {
  std::string address; // for the per-address limits and the request log
  std::string host;    // the Host the browser used, for the Origin check
  std::string scheme;  // "http" or "https" as the browser used it; "" when unknown
};

// From the TCP peer in `req.remote_addr` and, only when it is trusted, X-Forwarded-For,
// X-Forwarded-Host and X-Forwarded-Proto.
client_view client_of(const httplib::Request& req, const trusted_proxies& proxies);

} // namespace watercooler
