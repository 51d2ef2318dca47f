// Log text of other nodes' messages and errors: values where printing is safe, type names else.
#include <string>

#include <doctest/doctest.h>

#include "actors/protocol.hpp"
#include "actors/wire/message_text.hpp"

namespace watercooler {

namespace {

// What a peer's bytes can decode to: CAF 0.17 checks no enum it deserializes.
caf::duration duration_of_unknown_unit() {
  caf::duration bad{caf::time_unit::seconds, 5};
  bad.unit = static_cast<caf::time_unit>(0xdeadbeef);
  return bad;
}

} // namespace

TEST_CASE("message_text shows atoms, strings and integers, and other elements by type") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto msg = caf::make_message(publish_atom::value, std::string("hi \"you\"\n"), uint64_t{42},
                               int16_t{-3}, true);
  CHECK(message_text(sys, msg) == "('publish', \"hi ?you??\", 42, -3, bool)");
  CHECK(message_text(sys, caf::make_message(std::string(50, 'x')))
        == "(\"" + std::string(40, 'x') + "...\")");
  CHECK(message_text(sys, caf::message{}) == "()");
}

TEST_CASE("message_text and error_text survive a duration of unknown unit") {
  // Found by fuzz/peer_message_fuzz: caf::to_string of such a message reads past an array and
  // crashes; the gate logged every refused message, from any node, with it.
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto bad = duration_of_unknown_unit();
  CHECK(message_text(sys, caf::make_message(publish_atom::value, bad)) == "('publish', @duration)");
  CHECK(error_text(sys, caf::make_error(caf::sec::unexpected_message, bad))
        == "system_error(unexpected_message, @duration)");
  CHECK(error_text(sys, caf::error{}) == "none");
  CHECK(error_text(sys, caf::make_error(caf::sec::request_timeout))
        == "system_error(request_timeout)");
  CHECK(error_text(sys, caf::error(7, caf::atom("exit"), caf::make_message(bad)))
        == "error(exit, 7, @duration)");
}

} // namespace watercooler
