// One frame per message and position, shared by the streams that write the same bytes.
#include <string>

#include <doctest/doctest.h>

#include "web/stream/frame_cache.hpp"

namespace watercooler {

namespace {

chat_message message(uint64_t seq, std::string origin = "node1@127.0.0.1") {
  return {std::move(origin), 7, seq, 0, "ann", "hello " + std::to_string(seq)};
}

stream_clock at(uint64_t seq) {
  return {{"node1@127.0.0.1", {7, seq}}};
}

} // namespace

TEST_CASE("frame_cache makes a message's frame once for every stream at the same position") {
  frame_cache frames;
  int made = 0;
  auto make = [&] { return "frame " + std::to_string(++made); };
  frame_cache::shape text{stream_format::text, true};
  auto first = frames.get(message(1), text, at(1), make);
  auto second = frames.get(message(1), text, at(1), make);
  CHECK(first == second); // the same bytes, not a copy
  CHECK(*first == "frame 1");
  CHECK(made == 1);

  SUBCASE("another position, format, framing or message is another frame") {
    stream_clock two_origins = at(1);
    two_origins["node2@127.0.0.1"] = {3, 4};
    CHECK(*frames.get(message(1), text, two_origins, make) == "frame 2");
    CHECK(*frames.get(message(1), {stream_format::json, true}, at(1), make) == "frame 3");
    CHECK(*frames.get(message(1), {stream_format::text, false}, at(1), make) == "frame 4");
    CHECK(*frames.get(message(2), text, at(2), make) == "frame 5");
    CHECK(*frames.get(message(1, "node2@127.0.0.1"), text, at(1), make) == "frame 6");
    CHECK(frames.get(message(1), text, at(1), make) == first); // all kept side by side
    CHECK(made == 6);
  }
  SUBCASE("old frames make way for new ones; one still written stays whole") {
    for (uint64_t seq = 2; seq <= 40; ++seq)
      frames.get(message(seq), text, at(seq), make);
    CHECK(*first == "frame 1");
    CHECK(*frames.get(message(1), text, at(1), make) == "frame 41");
  }
}

} // namespace watercooler
