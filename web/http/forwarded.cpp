// Address ranges and the X-Forwarded-* headers of trusted proxies; anyone else's are ignored.
#include "web/http/forwarded.hpp"

#include <algorithm>
#include <cctype>

#include <arpa/inet.h>

namespace watercooler {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// An address's bytes; IPv4-mapped IPv6 as IPv4. Nullopt: not an address.
std::optional<address_range> parse_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN)
    return std::nullopt;
  std::string copy(text);
  address_range a;
  if (::inet_pton(AF_INET, copy.c_str(), a.bytes.data()) == 1) {
    a.bits = 32;
    return a;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, copy.c_str(), &v6) != 1)
    return std::nullopt;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::copy(v6.s6_addr + 12, v6.s6_addr + 16, a.bytes.begin());
    a.bits = 32;
    return a;
  }
  a.v6 = true;
  std::copy(std::begin(v6.s6_addr), std::end(v6.s6_addr), a.bytes.begin());
  a.bits = 128;
  return a;
}

bool in_range(const address_range& range, const address_range& address) {
  if (range.v6 != address.v6)
    return false;
  for (unsigned bit = 0; bit < range.bits; bit += 8) {
    unsigned take = std::min(8u, range.bits - bit);
    auto mask = static_cast<uint8_t>(0xff << (8 - take));
    if ((range.bytes[bit / 8] & mask) != (address.bytes[bit / 8] & mask))
      return false;
  }
  return true;
}

// Every value of `field`, in order, joined as one list.
std::string joined(const httplib::Request& req, const char* field) {
  std::string out;
  auto [first, last] = req.headers.equal_range(field);
  for (auto it = first; it != last; ++it)
    out += (out.empty() ? "" : ", ") + it->second;
  return out;
}

// Takes the last element off a comma-separated list and answers it, trimmed: the one the nearest
// proxy added.
std::string_view pop_last(std::string_view& list) {
  auto comma = list.rfind(',');
  auto last = trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
  list = comma == std::string_view::npos ? std::string_view{} : list.substr(0, comma);
  return last;
}

std::string_view last_element(std::string_view list) {
  return pop_last(list);
}

} // namespace

std::optional<address_range> parse_address_range(std::string_view text) {
  auto slash = text.find('/');
  auto range = parse_address(text.substr(0, slash));
  if (!range)
    return std::nullopt;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    unsigned max = range->v6 ? 128 : 32;
    if (digits.empty() || digits.size() > 3
        || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    unsigned bits = static_cast<unsigned>(std::stoul(std::string(digits)));
    // A mapped address ("::ffff:10.0.0.0/104") counts its bits over the whole IPv6 address.
    bool mapped = !range->v6 && text.find(':') != std::string_view::npos;
    if (mapped && bits < 96)
      return std::nullopt;
    if (mapped)
      bits -= 96;
    if (bits > max)
      return std::nullopt;
    address_range network = *range;
    network.bits = bits;
    address_range whole = *range;
    for (unsigned bit = bits; bit < max; ++bit)
      network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    if (network.bytes != whole.bytes)
      return std::nullopt; // host bits set: probably a typo for another range
    range = network;
  }
  return range;
}

bool trusted_proxies::contains(std::string_view ip) const {
  if (ranges_.empty())
    return false;
  auto address = parse_address(ip);
  if (!address)
    return false;
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const address_range& r) { return in_range(r, *address); });
}

std::string forwarded_client(const std::string& peer, std::string_view forwarded_for,
                             const trusted_proxies& proxies) {
  if (!proxies.contains(peer))
    return peer;
  std::string client = peer;
  while (!forwarded_for.empty()) {
    auto entry = pop_last(forwarded_for);
    if (entry.empty())
      continue;
    if (!parse_address(entry))
      return client;
    client = std::string(entry);
    if (!proxies.contains(client))
      return client;
  }
  return client;
}

client_view client_of(const httplib::Request& req, const trusted_proxies& proxies) {
  client_view view{req.remote_addr, req.get_header_value("Host"), ""};
  if (!proxies.contains(req.remote_addr))
    return view;
  view.address = forwarded_client(req.remote_addr, joined(req, "X-Forwarded-For"), proxies);
  // httplib answers copies: keep them while their last elements are looked at
  const auto forwarded_host = req.get_header_value("X-Forwarded-Host");
  const auto forwarded_proto = req.get_header_value("X-Forwarded-Proto");
  auto host = last_element(forwarded_host);
  bool printable = std::all_of(host.begin(), host.end(), [](char c) {
    return std::isgraph(static_cast<unsigned char>(c)) != 0;
  });
  if (!host.empty() && printable)
    view.host = std::string(host);
  std::string proto(last_element(forwarded_proto));
  std::transform(proto.begin(), proto.end(), proto.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (proto == "http" || proto == "https")
    view.scheme = proto;
  return view;
}

} // namespace watercooler
