// Stream positions: the SSE id encoding, and what a stream resuming at one gets.
#include <deque>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "actors/logic/stream_clock.hpp"

namespace watercooler {

namespace {

chat_message msg(const std::string& origin, uint64_t inc, uint64_t seq) {
  return {origin, inc, seq, 0, "", origin + "/" + std::to_string(inc) + "/" + std::to_string(seq)};
}

std::vector<std::string> texts(const std::vector<chat_message>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages)
    out.push_back(m.text);
  return out;
}

using seen_map = std::map<std::pair<std::string, uint64_t>, uint64_t>;

// What the room's bookkeeping would hold after delivering `delivered` with `capacity` kept.
struct node_history {
  std::deque<chat_message> history;
  seen_map seen;
  node_history(const std::vector<chat_message>& delivered, std::size_t capacity) {
    for (const auto& m : delivered) {
      seen[{m.origin, m.incarnation}] = m.seq;
      history.push_back(m);
      if (history.size() > capacity)
        history.pop_front();
    }
  }
  resume_plan resume(const std::string& id) const {
    auto clock = parse_clock(id);
    REQUIRE(clock);
    return plan_resume(history, seen, *clock);
  }
};

} // namespace

TEST_CASE("a stream position is written as origin~incarnation~seq per origin") {
  SUBCASE("round trip") {
    stream_clock clock{{"node1@127.0.0.1", {8532290011, 3}}, {"node2@127.0.0.1", {42, 17}}};
    auto text = encode_clock(clock);
    CHECK(text == "node1@127.0.0.1~8532290011~3,node2@127.0.0.1~42~17");
    CHECK(parse_clock(text) == clock);
  }
  SUBCASE("the empty position is the empty text") {
    CHECK(encode_clock({}) == "");
    CHECK(parse_clock("") == stream_clock{});
  }
  SUBCASE("separators and odd bytes in an origin are escaped") {
    stream_clock clock{{"a~b,c%d e\xC3\xA9", {1, 2}}};
    auto text = encode_clock(clock);
    CHECK(text == "a%7Eb%2Cc%25d%20e%C3%A9~1~2");
    CHECK(parse_clock(text) == clock);
  }
  SUBCASE("the largest numbers survive") {
    stream_clock clock{{"n@h", {UINT64_MAX, UINT64_MAX}}};
    CHECK(parse_clock(encode_clock(clock)) == clock);
  }
  SUBCASE("sixty-four origins are allowed") {
    stream_clock clock;
    for (int i = 0; i < 64; ++i)
      clock["node" + std::to_string(i) + "@10.0.0.1"] = {1234567890123, 99999};
    auto text = encode_clock(clock);
    CHECK(text.size() <= max_clock_text);
    CHECK(parse_clock(text) == clock);
  }
}

TEST_CASE("a malformed or oversized position is refused") {
  for (const char* text :
       {"x", "n@h/1/2", "n@h~1", "n@h~1~", "n@h~~2", "~1~2", "n@h~1~2,", ",n@h~1~2", "n@h~01~2",
        "n@h~1~-2", "n@h~1~2x", "n@h~1~18446744073709551616", "n@h~1~2,n@h~3~4", "n%7e~1~2",
        "n%41~1~2", "n%4~1~2", "n%~1~2", "a b~1~2", "n@h~1~2~3"}) {
    CAPTURE(text);
    CHECK(parse_clock(text) == std::nullopt);
  }
  SUBCASE("more than sixty-four origins") {
    stream_clock clock;
    for (int i = 0; i < 65; ++i)
      clock["n" + std::to_string(i)] = {1, 1};
    CHECK(parse_clock(encode_clock(clock)) == std::nullopt);
  }
  SUBCASE("longer than 4 KiB") {
    CHECK(parse_clock(std::string(4100, 'n') + "~1~2") == std::nullopt);
  }
}

TEST_CASE("a resumed stream gets exactly the history its position does not cover") {
  node_history node(
    {msg("a", 1, 1), msg("b", 5, 1), msg("a", 1, 2), msg("b", 5, 2), msg("a", 1, 3)}, 100);
  SUBCASE("messages after the position, in history order") {
    auto plan = node.resume("a~1~1,b~5~1");
    CHECK(texts(plan.replay) == std::vector<std::string>{"a/1/2", "b/5/2", "a/1/3"});
    CHECK(plan.gaps.empty());
  }
  SUBCASE("an origin the position does not name is entirely new") {
    auto plan = node.resume("a~1~2");
    CHECK(texts(plan.replay) == std::vector<std::string>{"b/5/1", "b/5/2", "a/1/3"});
    CHECK(plan.gaps.empty());
  }
  SUBCASE("a position that has everything gets nothing") {
    auto plan = node.resume("a~1~3,b~5~2");
    CHECK(plan.replay.empty());
    CHECK(plan.gaps.empty());
  }
  SUBCASE("an origin this node never heard of is no gap") {
    auto plan = node.resume("a~1~3,b~5~2,c~9~4");
    CHECK(plan.replay.empty());
    CHECK(plan.gaps.empty());
  }
  SUBCASE("a position ahead of this node is no gap") {
    auto plan = node.resume("a~1~7,b~5~2");
    CHECK(plan.replay.empty());
    CHECK(plan.gaps.empty());
  }
}

TEST_CASE("a resumed stream gets a gap for messages that fell out of the history") {
  std::vector<chat_message> delivered;
  for (uint64_t seq = 1; seq <= 6; ++seq)
    delivered.push_back(msg("a", 1, seq));
  node_history node(delivered, 3); // keeps a/1/4..6
  SUBCASE("the next message is gone but later ones are kept") {
    auto plan = node.resume("a~1~1");
    CHECK(texts(plan.replay) == std::vector<std::string>{"a/1/4", "a/1/5", "a/1/6"});
    CHECK(plan.gaps == std::vector<stream_gap>{{"a", 1, 2, 3}});
  }
  SUBCASE("no gap when the next message is still kept") {
    auto plan = node.resume("a~1~3");
    CHECK(texts(plan.replay) == std::vector<std::string>{"a/1/4", "a/1/5", "a/1/6"});
    CHECK(plan.gaps.empty());
  }
  SUBCASE("everything of the origin fell out") {
    node_history crowded({msg("a", 1, 1), msg("a", 1, 2), msg("b", 5, 1), msg("b", 5, 2)}, 2);
    auto plan = crowded.resume("a~1~1,b~5~1");
    CHECK(texts(plan.replay) == std::vector<std::string>{"b/5/2"});
    CHECK(plan.gaps == std::vector<stream_gap>{{"a", 1, 2, 2}});
  }
  SUBCASE("no history at all") {
    node_history none(delivered, 0);
    auto plan = none.resume("a~1~4");
    CHECK(plan.replay.empty());
    CHECK(plan.gaps == std::vector<stream_gap>{{"a", 1, 5, 6}});
  }
}

TEST_CASE("a resumed stream gets a gap when its position names a restarted origin") {
  SUBCASE("the old incarnation is gone from the history: the new one is replayed") {
    node_history node({msg("a", 1, 1), msg("a", 1, 2), msg("a", 2, 1), msg("a", 2, 2)}, 2);
    node.seen.erase({"a", 1}); // a node that joined after the restart never saw incarnation 1
    auto plan = node.resume("a~1~1");
    CHECK(texts(plan.replay) == std::vector<std::string>{"a/2/1", "a/2/2"});
    CHECK(plan.gaps == std::vector<stream_gap>{{"a", 1, 2, 0}});
  }
  SUBCASE("both incarnations kept: the old one's rest and the new one") {
    node_history node({msg("a", 1, 1), msg("a", 1, 2), msg("a", 2, 1)}, 10);
    auto plan = node.resume("a~1~1");
    CHECK(texts(plan.replay) == std::vector<std::string>{"a/1/2", "a/2/1"});
    CHECK(plan.gaps.empty());
  }
  SUBCASE("a position in the new incarnation skips the old one") {
    node_history node({msg("a", 1, 1), msg("a", 1, 2), msg("a", 2, 1), msg("a", 2, 2)}, 10);
    auto plan = node.resume("a~2~1");
    CHECK(texts(plan.replay) == std::vector<std::string>{"a/2/2"});
    CHECK(plan.gaps.empty());
  }
}

} // namespace watercooler
