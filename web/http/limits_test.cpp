// Per-address limits: stream slots counted and given back, token buckets, address keys.
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "web/http/limits.hpp"

namespace watercooler {

using namespace std::chrono_literals;

TEST_CASE("client addresses are counted by IPv4 address or IPv6 /64") {
  CHECK(address_key("127.0.0.1") == "127.0.0.1");
  CHECK(address_key("::ffff:10.1.2.3") == "10.1.2.3");
  CHECK(address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
  CHECK(address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9"));
  CHECK(address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1"));
  CHECK(address_key("::1") == "::/64");
  CHECK(address_key("") == "");
}

TEST_CASE("stream slots limit the open streams of each address") {
  address_slots slots(2);
  auto a = slots.acquire("10.0.0.1");
  auto b = slots.acquire("10.0.0.1");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a);
  CHECK(slots.open("10.0.0.1") == 2);
  CHECK_FALSE(slots.acquire("10.0.0.1"));
  CHECK(slots.open("10.0.0.1") == 2); // a refusal takes nothing

  SUBCASE("other addresses have their own count") {
    auto c = slots.acquire("10.0.0.2");
    CHECK(c);
    CHECK(slots.open("10.0.0.2") == 1);
    CHECK(slots.acquire("::ffff:10.0.0.2")); // the same address, IPv4-mapped: a second slot
    CHECK(slots.open("10.0.0.2") == 1);      // ... given back at once, as it was not kept
  }
  SUBCASE("a slot is given back when its last copy ends") {
    auto copy = *a;
    a.reset();
    CHECK(slots.open("10.0.0.1") == 2);
    CHECK_FALSE(slots.acquire("10.0.0.1"));
    copy = address_slot();
    CHECK(slots.open("10.0.0.1") == 1);
    auto again = slots.acquire("10.0.0.1");
    CHECK(again);
    CHECK(slots.open("10.0.0.1") == 2);
  }
  SUBCASE("slots may outlive the counter") {
    auto owner = std::make_unique<address_slots>(1);
    auto held = owner->acquire("10.0.0.3");
    owner.reset();
    held.reset(); // gives back into the counts the slot shares; no use after free
    CHECK_FALSE(held);
  }
}

TEST_CASE("a stream limit of 0 counts streams but refuses none") {
  address_slots slots(0);
  std::vector<address_slot> held;
  for (int i = 0; i < 1000; ++i) {
    auto slot = slots.acquire("127.0.0.1");
    REQUIRE(slot);
    held.push_back(*slot);
  }
  CHECK(slots.open("127.0.0.1") == 1000);
  held.clear();
  CHECK(slots.open("127.0.0.1") == 0);
}

TEST_CASE("stream slots are counted right from many threads") {
  address_slots slots(50);
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      std::vector<address_slot> mine;
      for (int i = 0; i < 1000; ++i) {
        if (auto s = slots.acquire("10.9.9.9"))
          mine.push_back(*s);
        else
          ++refused;
        if (mine.size() > 10)
          mine.erase(mine.begin());
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(slots.open("10.9.9.9") == 0);
  CHECK(refused == 0); // at most 4 x 11 held at once, under the limit of 50
}

TEST_CASE("the publish rate is a token bucket per address") {
  using clock = rate_limiter::clock;
  auto t0 = clock::now();
  rate_limiter limiter(2, 3); // 2 a second, 3 at once

  SUBCASE("a burst passes, then the next waits for a token") {
    for (int i = 0; i < 3; ++i)
      CHECK_FALSE(limiter.take("10.0.0.1", t0));
    auto wait = limiter.take("10.0.0.1", t0);
    REQUIRE(wait);
    CHECK(*wait == 1s);
    CHECK(limiter.take("10.0.0.1", t0 + 200ms)); // 0.4 tokens: still none
    CHECK_FALSE(limiter.take("10.0.0.1", t0 + 500ms));
    CHECK(limiter.take("10.0.0.1", t0 + 500ms));
  }
  SUBCASE("addresses do not share a bucket") {
    for (int i = 0; i < 3; ++i)
      CHECK_FALSE(limiter.take("10.0.0.1", t0));
    CHECK(limiter.take("10.0.0.1", t0));
    CHECK_FALSE(limiter.take("10.0.0.2", t0));
  }
  SUBCASE("an idle address saves no more than the burst") {
    CHECK_FALSE(limiter.take("10.0.0.1", t0));
    auto later = t0 + 1h;
    for (int i = 0; i < 3; ++i)
      CHECK_FALSE(limiter.take("10.0.0.1", later));
    CHECK(limiter.take("10.0.0.1", later));
  }
  SUBCASE("the wait is given in whole seconds, rounded up") {
    rate_limiter slow(1, 1);
    CHECK_FALSE(slow.take("10.0.0.1", t0));
    CHECK(slow.take("10.0.0.1", t0) == std::optional<std::chrono::seconds>(1s));
    CHECK(slow.take("10.0.0.1", t0 + 100ms) == std::optional<std::chrono::seconds>(1s));
  }
}

TEST_CASE("a publish rate of 0 is no limit") {
  rate_limiter limiter(0, 0);
  auto now = rate_limiter::clock::now();
  for (int i = 0; i < 10000; ++i)
    REQUIRE_FALSE(limiter.take("127.0.0.1", now));
  CHECK(limiter.tracked() == 0);
}

TEST_CASE("the rate limiter forgets addresses whose bucket is full again") {
  rate_limiter limiter(10, 10);
  auto t0 = rate_limiter::clock::now();
  auto address = [](int group, int i) {
    return "10." + std::to_string(group) + "." + std::to_string(i / 256) + "."
           + std::to_string(i % 256);
  };
  for (int i = 0; i < 5000; ++i)
    limiter.take(address(1, i), t0);
  CHECK(limiter.tracked() == 5000); // each a token short: all kept
  auto later = t0 + 2s;             // every bucket full again
  for (int i = 0; i < 5000; ++i)
    limiter.take(address(2, i), later);
  CHECK(limiter.tracked() < 10000); // the first 5000 were swept when the map grew
  for (int i = 0; i < 10; ++i)      // ... and a forgotten address starts full
    CHECK_FALSE(limiter.take(address(1, 0), later));
  CHECK(limiter.take(address(1, 0), later));
}

} // namespace watercooler
