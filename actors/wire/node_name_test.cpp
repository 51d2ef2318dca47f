// Node names: what parses, and the exact texts a user sees for what does not.
#include <doctest/doctest.h>

#include "actors/wire/node_name.hpp"

using watercooler::node_name;
using watercooler::parse_node_name;

TEST_CASE("node name parses alive@host") {
  SUBCASE("IPv4 host") {
    auto x = parse_node_name("node1@127.0.0.1");
    REQUIRE(x);
    CHECK(x->alive == "node1");
    CHECK(x->host == "127.0.0.1");
    CHECK(x->to_string() == "node1@127.0.0.1");
  }
  SUBCASE("host name and every allowed character") {
    auto x = parse_node_name("Node_2-b@my-host.example.org");
    REQUIRE(x);
    CHECK(*x == node_name{"Node_2-b", "my-host.example.org"});
  }
  SUBCASE("IPv6 host") {
    auto x = parse_node_name("n@::1");
    REQUIRE(x);
    CHECK(x->host == "::1");
  }
  SUBCASE("alive of exactly 255 characters") {
    auto alive = std::string(255, 'a');
    auto x = parse_node_name(alive + "@h");
    REQUIRE(x);
    CHECK(x->alive == alive);
  }
}

TEST_CASE("node name rejects malformed names with a clear text") {
  auto error_of = [](std::string_view text) {
    auto x = parse_node_name(text);
    CHECK_FALSE(x);
    return x.error;
  };
  SUBCASE("no '@'") {
    CHECK(error_of("x") == "node name 'x' must look like name@host");
    CHECK(error_of("") == "node name '' must look like name@host");
  }
  SUBCASE("two '@'") {
    CHECK(error_of("a@b@c") == "node name 'a@b@c' must look like name@host, with exactly one '@'");
  }
  SUBCASE("empty parts") {
    CHECK(error_of("@host") == "node name '@host': the name before '@' is empty");
    CHECK(error_of("node1@") == "node name 'node1@': the host after '@' is empty");
  }
  SUBCASE("bad characters") {
    CHECK(error_of("no de@h")
          == "node name 'no de@h': the name before '@' may only contain letters, digits, '_' and "
             "'-', not a space");
    CHECK(error_of("n.1@h")
          == "node name 'n.1@h': the name before '@' may only contain letters, digits, '_' and "
             "'-', not '.'");
    CHECK(error_of("n@a b")
          == "node name 'n@a b': the host after '@' may only contain letters, digits, '-', '.' "
             "and ':', not a space");
    CHECK(error_of(std::string_view{"n@a\x01", 4}).find("not byte 0x01") != std::string::npos);
    CHECK(error_of("n\xc3\xa9@h").find("not byte 0xc3") != std::string::npos);
  }
  SUBCASE("too long") {
    CHECK(error_of(std::string(256, 'a') + "@h").find("longer than 255 characters")
          != std::string::npos);
    CHECK(error_of("a@" + std::string(256, 'h')).find("longer than 255 characters")
          != std::string::npos);
  }
}

TEST_CASE("node name checks a bare alive name for the port mapper") {
  CHECK(watercooler::check_alive_name("node1"));
  CHECK(watercooler::check_alive_name("").error == "node name '': the name is empty");
  CHECK(watercooler::check_alive_name("a b").error
        == "node name 'a b': the name may only contain letters, digits, '_' and '-', not a space");
}
