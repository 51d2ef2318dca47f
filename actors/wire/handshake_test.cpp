#include <set>

#include <doctest/doctest.h>

#include "actors/wire/handshake.hpp"

using namespace watercooler;

TEST_CASE("challenges are 64 hex digits and never repeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto c = new_challenge();
    CHECK(c.size() == 64);
    CHECK(c.find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(c);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("a proof holds only for the same cookie, role, challenge and names") {
  auto base = prove("cookie", proof_role::dial, "abc", "a@h", "b@h");
  CHECK(base.size() == 64);
  CHECK(base == prove("cookie", proof_role::dial, "abc", "a@h", "b@h"));
  CHECK(base != prove("cookie2", proof_role::dial, "abc", "a@h", "b@h"));
  CHECK(base != prove("cookie", proof_role::answer, "abc", "a@h", "b@h"));
  CHECK(base != prove("cookie", proof_role::inspect, "abc", "a@h", "b@h"));
  CHECK(base != prove("cookie", proof_role::dial, "abd", "a@h", "b@h"));
  CHECK(base != prove("cookie", proof_role::dial, "abc", "b@h", "a@h"));
  // Fields are length-prefixed: moving a character between them changes the proof.
  CHECK(prove("k", proof_role::dial, "ab", "c", "d")
        != prove("k", proof_role::dial, "a", "bc", "d"));
}

TEST_CASE("the proof is HMAC-SHA256 over the framed fields, as openssl computes it") {
  // printf 'watercooler-1|7:inspect|1:c|1:f|1:t' | openssl dgst -sha256 -hmac Jefe
  CHECK(prove("Jefe", proof_role::inspect, "c", "f", "t")
        == "c656356916ca32bb9ac1764af46c99baab0d3a87d61de2dd1e62ef5f1e96c3be");
}

TEST_CASE("same_proof compares whole strings and refuses empty ones") {
  CHECK(same_proof("abcd", "abcd"));
  CHECK_FALSE(same_proof("abcd", "abce"));
  CHECK_FALSE(same_proof("abcd", "abc"));
  CHECK_FALSE(same_proof("", ""));
}
