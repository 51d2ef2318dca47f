// --trust-proxy ranges and the client a trusted proxy names in X-Forwarded-For.
#include <string>

#include <doctest/doctest.h>

#include "web/http/forwarded.hpp"

using namespace watercooler;

namespace {

trusted_proxies trusting(std::initializer_list<const char*> ranges) {
  std::vector<address_range> parsed;
  for (const char* text : ranges) {
    auto range = parse_address_range(text);
    REQUIRE_MESSAGE(range, text);
    parsed.push_back(*range);
  }
  return trusted_proxies(std::move(parsed));
}

} // namespace

TEST_CASE("--trust-proxy takes an IPv4 or IPv6 address or ADDRESS/BITS range") {
  SUBCASE("addresses and ranges") {
    for (const char* good :
         {"127.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "192.168.1.128/25", "::1", "fd00::/8",
          "2001:db8::/32", "::/0", "::ffff:10.0.0.0/104", "10.1.2.3/32", "2001:db8::1/128"}) {
      CAPTURE(good);
      CHECK(parse_address_range(good));
    }
  }
  SUBCASE("anything else is refused") {
    for (const char* bad :
         {"", "localhost", "10.0.0", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.1/8",
          "fd00::1/8", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/x", "10.0.0.0/0008", " 10.0.0.1",
          "10.0.0.1 ", "::ffff:10.0.0.0/64", "1.2.3.4:80"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_address_range(bad));
    }
  }
}

TEST_CASE("trusted proxies hold the addresses of their ranges, IPv4-mapped ones included") {
  auto proxies = trusting({"10.0.0.0/8", "192.168.1.128/25", "fd00::/8", "::1"});
  CHECK(proxies.contains("10.255.0.1"));
  CHECK(proxies.contains("::ffff:10.1.1.1"));
  CHECK(proxies.contains("192.168.1.200"));
  CHECK_FALSE(proxies.contains("192.168.1.100"));
  CHECK(proxies.contains("fd12:3456::1"));
  CHECK(proxies.contains("::1"));
  CHECK_FALSE(proxies.contains("::2"));
  CHECK_FALSE(proxies.contains("11.0.0.1"));
  CHECK_FALSE(proxies.contains("fe80::1"));
  CHECK_FALSE(proxies.contains("not an address"));
  CHECK_FALSE(trusted_proxies().contains("127.0.0.1"));
}

TEST_CASE("the client is the right-most X-Forwarded-For address that is not a trusted proxy") {
  auto proxies = trusting({"127.0.0.1", "10.0.0.0/8"});
  SUBCASE("from a trusted proxy") {
    CHECK(forwarded_client("127.0.0.1", "203.0.113.7", proxies) == "203.0.113.7");
    CHECK(forwarded_client("127.0.0.1", " 203.0.113.7 ", proxies) == "203.0.113.7");
    CHECK(forwarded_client("127.0.0.1", "2001:db8::7", proxies) == "2001:db8::7");
  }
  SUBCASE("what the client wrote itself, left of the proxies, is not believed") {
    CHECK(forwarded_client("127.0.0.1", "198.51.100.1, 203.0.113.7", proxies) == "203.0.113.7");
    CHECK(forwarded_client("127.0.0.1", "198.51.100.1, 203.0.113.7, 10.1.1.1", proxies)
          == "203.0.113.7");
  }
  SUBCASE("a chain of trusted proxies only: the left-most") {
    CHECK(forwarded_client("127.0.0.1", "10.0.0.2, 10.0.0.1", proxies) == "10.0.0.2");
  }
  SUBCASE("no header, or an empty one: the proxy itself") {
    CHECK(forwarded_client("127.0.0.1", "", proxies) == "127.0.0.1");
    CHECK(forwarded_client("127.0.0.1", " , ", proxies) == "127.0.0.1");
  }
  SUBCASE("garbage stops the walk at the trusted hop right of it") {
    CHECK(forwarded_client("127.0.0.1", "unknown", proxies) == "127.0.0.1");
    CHECK(forwarded_client("127.0.0.1", "203.0.113.7, <script>, 10.0.0.3", proxies) == "10.0.0.3");
    CHECK(forwarded_client("127.0.0.1", "203.0.113.7:4711", proxies) == "127.0.0.1");
  }
  SUBCASE("from anyone else the header is ignored") {
    CHECK(forwarded_client("198.51.100.9", "203.0.113.7", proxies) == "198.51.100.9");
    CHECK(forwarded_client("198.51.100.9", "203.0.113.7", trusted_proxies()) == "198.51.100.9");
  }
}

TEST_CASE("X-Forwarded-Host and -Proto count only from a trusted proxy") {
  auto proxies = trusting({"127.0.0.1"});
  httplib::Request req;
  req.headers.emplace("Host", "127.0.0.1:8081");
  req.headers.emplace("X-Forwarded-For", "198.51.100.1");
  req.headers.emplace("X-Forwarded-For", "203.0.113.7"); // a second header line joins the list
  req.headers.emplace("X-Forwarded-Host", "chat.example");
  req.headers.emplace("X-Forwarded-Proto", "HTTPS");
  SUBCASE("trusted") {
    req.remote_addr = "127.0.0.1";
    auto client = client_of(req, proxies);
    CHECK(client.address == "203.0.113.7");
    CHECK(client.host == "chat.example");
    CHECK(client.scheme == "https");
  }
  SUBCASE("not trusted: the TCP peer and its Host") {
    req.remote_addr = "198.51.100.9";
    auto client = client_of(req, proxies);
    CHECK(client.address == "198.51.100.9");
    CHECK(client.host == "127.0.0.1:8081");
    CHECK(client.scheme == "");
  }
  SUBCASE("an unknown scheme or a host with blanks is left out") {
    req.remote_addr = "127.0.0.1";
    req.headers.erase("X-Forwarded-Host");
    req.headers.erase("X-Forwarded-Proto");
    req.headers.emplace("X-Forwarded-Host", "a b");
    req.headers.emplace("X-Forwarded-Proto", "gopher");
    auto client = client_of(req, proxies);
    CHECK(client.host == "127.0.0.1:8081");
    CHECK(client.scheme == "");
  }
}
