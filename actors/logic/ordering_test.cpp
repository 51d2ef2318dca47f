// Cross-node ordering, driven by events with time as a value: no actors, no timers, no sleeps.
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include "actors/logic/ordering.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

const std::string node2 = "node2@127.0.0.1";
const std::string node3 = "node3@127.0.0.1";
const ordering_time t0{std::chrono::hours(1)};

chat_message from(const std::string& origin, uint64_t incarnation, uint64_t seq) {
  return {origin, incarnation, seq, 0, "", "m" + std::to_string(seq)};
}

chat_message from_node2(uint64_t seq) {
  return from(node2, 3, seq);
}

// What the sessions get, in order: "3" for message seq 3 ("3 past" if only for history), "gap
// 2-3" for a gap event.
std::vector<std::string> out(const ordering_decisions& d) {
  std::vector<std::string> result;
  for (const auto& step : d.out) {
    if (const auto* m = std::get_if<ordering_decisions::delivery>(&step))
      result.push_back(std::to_string(m->message.seq) + (m->past ? " past" : ""));
    else
      result.push_back("gap " + std::to_string(std::get<stream_gap>(step).from) + "-"
                       + std::to_string(std::get<stream_gap>(step).to));
  }
  return result;
}

using texts = std::vector<std::string>;

} // namespace

TEST_CASE("ordering delivers a peer's messages once, in order per origin") {
  ordering o;
  CHECK(out(o.receive(from_node2(1), t0)) == texts{"1"});
  auto again = o.receive(from_node2(1), t0);
  CHECK(out(again).empty());
  CHECK(again.dropped == 1);
  CHECK(out(o.receive(from_node2(2), t0)) == texts{"2"});
  CHECK(out(o.receive(from(node2, 4, 1), t0)) == texts{"1"}); // a restart counts anew
  CHECK(o.clock() == stream_clock{{node2, {4, 1}}});
}

TEST_CASE("ordering starts an origin it never heard of where its first message is") {
  ordering o;
  CHECK(out(o.receive(from_node2(5), t0)) == texts{"5"});
  CHECK(out(o.receive(from_node2(6), t0)) == texts{"6"});
}

TEST_CASE("ordering delivers a message published here at once and counts it in the clock") {
  ordering o;
  CHECK(out(o.publish(from("node1@127.0.0.1", 7, 1))) == texts{"1"});
  CHECK(o.clock() == stream_clock{{"node1@127.0.0.1", {7, 1}}});
  CHECK(o.seen().at({"node1@127.0.0.1", 7}) == 1);
}

TEST_CASE("ordering holds a message after a gap and asks its origin until the gap fills") {
  ordering o;
  o.receive(from_node2(1), t0);
  o.link_up(node2, true, true, t0);
  auto held = o.receive(from_node2(3), t0);
  CHECK(out(held).empty());
  CHECK(held.ask == texts{node2}); // asked anew, though the link's ask is unanswered
  CHECK(o.clock() == stream_clock{{node2, {3, 1}}});
  SUBCASE("the answer fills the gap; a duplicate in it changes nothing") {
    auto filled = o.backfill(node2, {from_node2(1), from_node2(2)}, {}, t0 + 100ms);
    CHECK(out(filled) == texts{"2", "3"});
    CHECK(filled.dropped == 1);
    CHECK(out(o.tick(t0 + 3s)).empty()); // nothing waits any more
  }
  SUBCASE("a live message fills it too") {
    CHECK(out(o.receive(from_node2(2), t0 + 100ms)) == texts{"2", "3"});
  }
}

TEST_CASE("ordering gives up on a gap nobody fills, then delivers what waited") {
  ordering o;
  o.receive(from_node2(1), t0);
  CHECK(out(o.receive(from_node2(4), t0)) == texts{});
  CHECK(out(o.tick(t0 + 2999ms)).empty());
  CHECK(out(o.tick(t0 + 3s)) == texts{"gap 2-3", "4"});
  CHECK(out(o.receive(from_node2(5), t0 + 3s)) == texts{"5"});
  SUBCASE("behind a later gap, the rest waits a hold timeout of its own") {
    o.receive(from_node2(7), t0 + 3s);
    o.receive(from_node2(9), t0 + 3s);
    CHECK(out(o.tick(t0 + 6s)) == texts{"gap 6-6", "7"});
    CHECK(out(o.tick(t0 + 8s)).empty());
    CHECK(out(o.tick(t0 + 9s)) == texts{"gap 8-8", "9"});
  }
}

TEST_CASE("ordering gives up at once on what the peer no longer holds") {
  ordering o;
  o.receive(from_node2(1), t0);
  o.receive(from_node2(3), t0);
  auto d = o.backfill(node2, {}, {{node2, 3, 2, 2}}, t0);
  CHECK(out(d) == texts{"gap 2-2", "3"});
  SUBCASE("but not on a range without an end or of an origin that is no node name") {
    o.receive(from_node2(5), t0);
    CHECK(out(o.backfill(node2, {}, {{node2, 3, 4, 0}, {"", 3, 4, 4}}, t0)).empty());
  }
}

TEST_CASE("ordering holds at most max_held messages behind a gap") {
  ordering_limits limits;
  limits.max_held = 3;
  ordering o(limits);
  o.receive(from_node2(1), t0);
  for (uint64_t seq : {3, 4, 5})
    CHECK(out(o.receive(from_node2(seq), t0)).empty());
  CHECK(out(o.receive(from_node2(6), t0)) == texts{"gap 2-2", "3", "4", "5", "6"});
}

TEST_CASE("ordering gives the past of an origin it never heard of only as history") {
  ordering o;
  auto d = o.backfill(node2, {from_node2(1), from_node2(2), from(node3, 1, 4)}, {}, t0);
  CHECK(out(d) == texts{"1 past", "2 past", "4 past"});
  CHECK(out(o.receive(from_node2(3), t0)) == texts{"3"}); // known now: live
  SUBCASE("an origin it knows gets its missed messages live") {
    o.receive(from_node2(5), t0);
    CHECK(out(o.backfill(node2, {from_node2(4)}, {}, t0)) == texts{"4", "5"});
  }
  SUBCASE("a message of an origin that is no node name is dropped") {
    auto bad = o.backfill(node2, {from("", 1, 1), from(node2, 3, 4)}, {}, t0);
    CHECK(out(bad) == texts{"4"});
    CHECK(bad.dropped == 1);
  }
}

TEST_CASE("ordering holds an origin it never heard of while a peer's answer may bring its past") {
  // A node that starts links up and asks; live messages can overtake the answer, which holds
  // what came before them: the history must keep both, in order, for streams resumed here.
  ordering o;
  o.link_up(node2, true, true, t0);
  CHECK(out(o.receive(from_node2(5), t0)).empty());
  CHECK(out(o.receive(from_node2(6), t0)).empty());
  SUBCASE("the answer brings its past, then what came live goes live") {
    auto d = o.backfill(node2, {from_node2(3), from_node2(4), from_node2(5)}, {}, t0 + 10ms);
    CHECK(out(d) == texts{"3 past", "4 past", "5", "6"});
    CHECK(d.dropped == 1); // 5 came twice: live, and in the answer
    CHECK(out(o.receive(from_node2(7), t0 + 20ms)) == texts{"7"});
  }
  SUBCASE("the answer has nothing of it: it starts where its first message is") {
    CHECK(out(o.backfill(node2, {}, {}, t0 + 10ms)) == texts{"5", "6"});
  }
  SUBCASE("the answer leaves a gap before it: that is a gap like any other") {
    CHECK(out(o.backfill(node2, {from_node2(3)}, {}, t0 + 10ms)) == texts{"3 past"});
    CHECK(out(o.tick(t0 + 3s)) == texts{"gap 4-4", "5", "6"});
  }
  SUBCASE("no answer in time: it starts where its first message is, no gap") {
    CHECK(out(o.tick(t0 + 1s)).empty());
    CHECK(out(o.tick(t0 + 2999ms)).empty());
    CHECK(out(o.tick(t0 + 3s)) == texts{"5", "6"});
  }
  SUBCASE("the peer is lost: its next message lets what waits go first") {
    o.link_down(node2);
    CHECK(out(o.receive(from_node2(7), t0 + 10ms)) == texts{"5", "6", "7"});
  }
  SUBCASE("once answered, an origin never heard of starts at once") {
    o.backfill(node2, {}, {}, t0 + 10ms);
    CHECK(out(o.receive(from(node3, 1, 9), t0 + 20ms)) == texts{"9"});
  }
}

TEST_CASE("ordering holds an origin it never heard of until a peer that dialled us is asked") {
  ordering o;
  o.link_up(node2, true, false, t0); // it asks first; our ask is due in 2 s
  CHECK(out(o.receive(from_node2(5), t0)).empty());
  CHECK(o.asked_by(node2, t0 + 10ms).ask == texts{node2});
  CHECK(out(o.backfill(node2, {from_node2(4), from_node2(5)}, {}, t0 + 20ms))
        == texts{"4 past", "5"});
}

TEST_CASE("ordering asks a peer each second until it answers, five times at most") {
  ordering o;
  auto linked = o.link_up(node2, true, true, t0);
  CHECK(linked.ask == texts{node2});
  REQUIRE(linked.wake);
  CHECK(*linked.wake == t0 + 1s);
  SUBCASE("unanswered") {
    int asks = 1;
    for (int s = 1; s <= 10; ++s)
      asks += static_cast<int>(o.tick(t0 + std::chrono::seconds(s)).ask.size());
    CHECK(asks == 5);
  }
  SUBCASE("answered") {
    o.backfill(node2, {}, {}, t0 + 500ms);
    CHECK(o.tick(t0 + 1s).ask.empty());
    CHECK(o.tick(t0 + 2s).ask.empty());
  }
  SUBCASE("lost") {
    o.link_down(node2);
    CHECK(o.tick(t0 + 1s).ask.empty());
  }
  SUBCASE("announced again: nothing new") {
    CHECK(o.link_up(node2, false, true, t0 + 100ms).ask.empty());
  }
  SUBCASE("linked up anew: asked anew") {
    CHECK(o.link_up(node2, true, true, t0 + 100ms).ask == texts{node2});
  }
}

TEST_CASE("ordering lets a peer that dialled us ask first, then asks back") {
  ordering o;
  auto linked = o.link_up(node2, true, false, t0);
  CHECK(linked.ask.empty());
  REQUIRE(linked.wake);
  CHECK(*linked.wake == t0 + 2s);
  SUBCASE("it asks") {
    CHECK(o.asked_by(node2, t0 + 500ms).ask == texts{node2});
    CHECK(o.asked_by(node2, t0 + 600ms).ask.empty()); // asked already
  }
  SUBCASE("it never asks: we do all the same, and again until answered") {
    CHECK(o.tick(t0 + 1s).ask.empty());
    CHECK(o.tick(t0 + 2s).ask == texts{node2});
    CHECK(o.tick(t0 + 3s).ask == texts{node2});
  }
  SUBCASE("we dialled it too: it trusts us, we ask now") {
    CHECK(o.link_up(node2, false, true, t0 + 100ms).ask == texts{node2});
  }
}

TEST_CASE("ordering asks nothing of a peer that is not linked") {
  ordering o;
  o.receive(from_node2(1), t0);
  auto held = o.receive(from_node2(3), t0);
  CHECK(held.ask.empty());
  CHECK(o.asked_by(node3, t0).ask.empty());
  CHECK(out(o.tick(t0 + 3s)) == texts{"gap 2-2", "3"}); // the hold still ends
}

TEST_CASE("ordering asks for a wake only when a deadline comes before the one asked for") {
  ordering o;
  o.receive(from_node2(1), t0);
  auto first = o.receive(from_node2(3), t0);
  REQUIRE(first.wake);
  CHECK(*first.wake == t0 + 3s);
  CHECK_FALSE(o.receive(from(node3, 1, 1), t0 + 1s).wake);
  auto earlier = o.link_up(node3, true, false, t0 + 500ms); // its deadline: t0 + 2.5 s
  REQUIRE(earlier.wake);
  CHECK(*earlier.wake == t0 + 2500ms);
  SUBCASE("a wake that comes early asks for the next one again") {
    auto early = o.tick(t0 + 2s);
    REQUIRE(early.wake);
    CHECK(*early.wake == t0 + 2500ms);
  }
}

} // namespace watercooler
