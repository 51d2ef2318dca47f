// Fuzzes the X-Forwarded-For choice and --trust-proxy ranges: input is "<range>\n<peer>\n<header>".
// The client is the peer unless the peer is trusted, and otherwise an address the header names
// (or the peer, for a header of no address); never anything that is not an address.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>

#include "web/http/forwarded.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "forwarded_fuzz: %s\n", what);
  std::abort();
}

bool is_address(const std::string& text) {
  unsigned char bytes[16];
  return ::inet_pton(AF_INET, text.c_str(), bytes) == 1
         || ::inet_pton(AF_INET6, text.c_str(), bytes) == 1;
}

std::string_view line(std::string_view& input) {
  auto end = input.find('\n');
  auto first = input.substr(0, end);
  input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
  return first;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto range_text = line(input);
  std::string peer(line(input));
  std::string_view header = input;
  std::vector<watercooler::address_range> ranges;
  if (auto range = watercooler::parse_address_range(range_text)) {
    if (range->bits > (range->v6 ? 128u : 32u))
      fail("a range has at most 32 (IPv4) or 128 (IPv6) bits");
    ranges.push_back(*range);
  }
  watercooler::trusted_proxies proxies(ranges);
  if (proxies.contains(peer) && !is_address(peer))
    fail("only addresses can be trusted");
  auto client = watercooler::forwarded_client(peer, header, proxies);
  if (!proxies.contains(peer)) {
    if (client != peer)
      fail("an untrusted peer's header must be ignored");
    return 0;
  }
  if (client != peer && (!is_address(client) || header.find(client) == std::string_view::npos))
    fail("the client must be the peer or an address of the header");
  if (watercooler::forwarded_client(peer, header, watercooler::trusted_proxies()) != peer)
    fail("with no trusted proxies the peer is the client");
  return 0;
}
