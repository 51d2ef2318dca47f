#include <doctest/doctest.h>

#include "web/origin.hpp"

using namespace watercooler;

TEST_CASE("a publish without Origin, or from the node's own page, is same-origin") {
  CHECK(same_origin("", "127.0.0.1:8081"));
  CHECK(same_origin("http://127.0.0.1:8081", "127.0.0.1:8081"));
  CHECK(same_origin("https://127.0.0.1:8441", "127.0.0.1:8441"));
  CHECK(same_origin("http://LocalHost:8081", "localhost:8081"));
}

TEST_CASE("other sites, other ports, null and malformed origins are foreign") {
  CHECK_FALSE(same_origin("http://evil.example", "127.0.0.1:8081"));
  CHECK_FALSE(same_origin("http://127.0.0.1:8082", "127.0.0.1:8081"));
  CHECK_FALSE(same_origin("http://127.0.0.1", "127.0.0.1:8081"));
  CHECK_FALSE(same_origin("null", "127.0.0.1:8081"));
  CHECK_FALSE(same_origin("ftp://127.0.0.1:8081", "127.0.0.1:8081"));
  CHECK_FALSE(same_origin("http://127.0.0.1:8081/path", "127.0.0.1:8081"));
  CHECK_FALSE(same_origin("http://127.0.0.1:8081", ""));
  CHECK_FALSE(same_origin("http://127.0.0.1:8081.evil.example", "127.0.0.1:8081"));
}

TEST_CASE("behind a proxy that names the scheme, the scheme must match and default ports drop") {
  CHECK(same_origin("https://chat.example", "chat.example:443", "https"));
  CHECK(same_origin("https://chat.example:443", "chat.example", "https"));
  CHECK(same_origin("http://chat.example", "chat.example:80", "http"));
  CHECK(same_origin("http://127.0.0.1:8000", "127.0.0.1:8000", "http"));
  CHECK_FALSE(same_origin("http://chat.example", "chat.example", "https"));
  CHECK_FALSE(same_origin("https://chat.example:8443", "chat.example", "https"));
  CHECK_FALSE(same_origin("https://evil.example", "chat.example", "https"));
}
