// The room: local fan-out, forwarding to peers once, duplicates, and forgetting sessions.
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "actors/gate.hpp"
#include "actors/room.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

struct delivery {
  std::string origin;
  uint64_t seq = 0;
  std::string author;
  std::string text;
};

// The next DELIVER that `self` receives, or nothing within two seconds.
std::optional<delivery> next_delivery(caf::scoped_actor& self) {
  std::optional<delivery> got;
  self->receive(
    [&](deliver_atom, const chat_message& m) {
      got = delivery{m.origin, m.seq, m.author, m.text};
    },
    caf::after(2s) >> [] {});
  return got;
}

bool nothing_more(caf::scoped_actor& self) {
  bool quiet = true;
  self->receive([&](caf::message&) { quiet = false; }, caf::after(200ms) >> [] {});
  return quiet;
}

std::tuple<uint64_t, uint64_t, uint64_t, uint64_t> stats(caf::scoped_actor& self,
                                                         const caf::actor& room_actor) {
  std::tuple<uint64_t, uint64_t, uint64_t, uint64_t> result;
  self->request(room_actor, 2s, stats_atom::value)
    .receive(
      [&](uint64_t sessions, uint64_t peers, uint64_t published, uint64_t delivered) {
        result = {sessions, peers, published, delivered};
      },
      [&](const caf::error&) { FAIL("the room did not answer stats"); });
  return result;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  caf::actor room_actor = sys.spawn(room, "node1@127.0.0.1", 7, metrics, history_limits{5});
  // Ours, which relays what the room sends peers; counts of its own.
  caf::actor gate_actor =
    sys.spawn(gate, gate_config{"node1@127.0.0.1", "secret"}, room_actor, caf::actor{},
              std::make_shared<trusted_nodes>(), std::make_shared<node_metrics>());

  ~fixture() {
    caf::anon_send_exit(room_actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(gate_actor, caf::exit_reason::user_shutdown);
  }

  uint64_t publish(caf::scoped_actor& self, const std::string& text,
                   const std::string& author = "") {
    uint64_t seq = 0;
    self->request(room_actor, 2s, publish_atom::value, author, text)
      .receive(
        [&](uint64_t incarnation, uint64_t s) {
          CHECK(incarnation == 7);
          seq = s;
        },
        [&](const caf::error&) { FAIL("no answer"); });
    return seq;
  }

  std::vector<chat_message> history(caf::scoped_actor& self, uint64_t max) {
    std::vector<chat_message> result;
    self->request(room_actor, 2s, recent_atom::value, max)
      .receive([&](std::vector<chat_message>& h) { result = std::move(h); },
               [&](const caf::error&) { FAIL("no answer to history"); });
    return result;
  }
};

} // namespace

TEST_CASE("room delivers a published message to every local session") {
  fixture f;
  caf::scoped_actor alice{f.sys};
  caf::scoped_actor bob{f.sys};
  caf::scoped_actor poster{f.sys};
  for (auto* who : {&alice, &bob})
    (*who)->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(*who));
  CHECK(f.publish(poster, "hello") == 1);
  CHECK(f.publish(poster, "again") == 2);
  for (auto* who : {&alice, &bob}) {
    auto first = next_delivery(*who);
    REQUIRE(first);
    CHECK(first->origin == "node1@127.0.0.1");
    CHECK(first->seq == 1);
    CHECK(first->text == "hello");
    auto second = next_delivery(*who);
    REQUIRE(second);
    CHECK(second->text == "again");
  }
}

TEST_CASE("room forwards a local post once to each peer and never re-forwards a peer's") {
  fixture f;
  caf::scoped_actor peer{f.sys};
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  peer->send(f.room_actor, peer_atom::value, std::string("node2@127.0.0.1"),
             caf::actor_cast<caf::actor>(peer), f.gate_actor, true);

  SUBCASE("a local post reaches the peer once, with its author") {
    f.publish(session, "local", "alice");
    CHECK(f.metrics->published == 1);
    CHECK(f.metrics->peers().at("node2@127.0.0.1").forwarded == 1);
    auto forwarded = next_delivery(peer);
    REQUIRE(forwarded);
    CHECK(forwarded->origin == "node1@127.0.0.1");
    CHECK(forwarded->author == "alice");
    CHECK(forwarded->text == "local");
    CHECK(nothing_more(peer));
  }
  SUBCASE("a peer's message goes to local sessions only") {
    // The peer answers the link's catchup first: until then its origin's past may still come.
    peer->send(f.room_actor, backfill_atom::value, std::string("node2@127.0.0.1"),
               std::vector<chat_message>{}, std::vector<stream_gap>{});
    peer->send(f.room_actor, deliver_atom::value,
               chat_message{"node2@127.0.0.1", 3, 1, now_us(), "bob", "remote"});
    auto got = next_delivery(session);
    REQUIRE(got);
    CHECK(got->origin == "node2@127.0.0.1");
    CHECK(got->author == "bob");
    CHECK(got->text == "remote");
    CHECK(nothing_more(peer));
  }
}

TEST_CASE("room delivers each message once, in order per origin") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  auto from_peer = [&](uint64_t incarnation, uint64_t seq, const std::string& text) {
    caf::anon_send(f.room_actor, deliver_atom::value,
                   chat_message{"node2@127.0.0.1", incarnation, seq, now_us(), "", text});
  };
  from_peer(1, 1, "one");
  from_peer(1, 1, "one again");
  from_peer(1, 2, "two");
  from_peer(2, 1, "after a restart"); // a new incarnation starts counting anew
  std::vector<std::string> texts;
  while (auto got = next_delivery(session)) {
    texts.push_back(got->text);
    if (texts.size() == 3)
      break;
  }
  CHECK(texts == std::vector<std::string>{"one", "two", "after a restart"});
  CHECK(nothing_more(session));
  CHECK(f.metrics->received == 4);
  CHECK(f.metrics->dropped == 1);
}

TEST_CASE("room forgets sessions that leave or die") {
  fixture f;
  caf::scoped_actor self{f.sys};
  std::vector<caf::actor> sessions;
  for (int i = 0; i < 100; ++i) {
    // An argument of its own: CAF 0.17 binds a null reference for an empty argument tuple (UBSan).
    auto s = f.sys.spawn([](int) -> caf::behavior { return {[](int) {}}; }, i);
    self->send(f.room_actor, join_atom::value, s);
    sessions.push_back(s);
  }
  CHECK(std::get<0>(stats(self, f.room_actor)) == 100);
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (i % 2 == 0)
      self->send(f.room_actor, leave_atom::value, sessions[i]);
    else
      caf::anon_send_exit(sessions[i], caf::exit_reason::user_shutdown);
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  uint64_t left = 100;
  while (left > 0 && std::chrono::steady_clock::now() < deadline)
    left = std::get<0>(stats(self, f.room_actor));
  CHECK(left == 0);
}

TEST_CASE("room drops a peer message of the wrong shape and keeps working") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  caf::anon_send(f.room_actor, deliver_atom::value, 42, std::string("not a message"));
  SUBCASE("a deliver without author, as an older node sends it") {
    caf::anon_send(f.room_actor, deliver_atom::value, std::string("node2@127.0.0.1"), uint64_t{1},
                   uint64_t{1}, now_us(), std::string("no author"));
  }
  f.publish(session, "still here");
  auto got = next_delivery(session);
  REQUIRE(got);
  CHECK(got->text == "still here");
  CHECK(f.metrics->dropped >= 1);
  // Sent before the publish from this thread, so the room handled them before answering it.
  CHECK(f.history(session, 10).size() == 1); // nothing malformed got into the history
}

TEST_CASE("room drops a peer message whose origin is not a node name") {
  // Found by fuzz/peer_message_fuzz: origin "" gave every stream an SSE id that no longer parsed
  // as a position, so every browser that resumed lost its place.
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  std::string origin;
  SUBCASE("empty") {
    origin = "";
  }
  SUBCASE("without a host") {
    origin = "node2";
  }
  SUBCASE("with a position's separators") {
    origin = "node2@127.0.0.1~1~1,x";
  }
  caf::anon_send(f.room_actor, deliver_atom::value,
                 chat_message{origin, 1, 1, now_us(), "", "from nowhere"});
  caf::anon_send(f.room_actor, deliver_atom::value,
                 chat_message{"node2@127.0.0.1", 1, 1, now_us(), "", "from node2"});
  auto got = next_delivery(session);
  REQUIRE(got);
  CHECK(got->text == "from node2");
  CHECK(nothing_more(session));
  CHECK(f.metrics->dropped == 1);
  CHECK(f.metrics->peers().count(origin) == 0);
}

TEST_CASE("room delivers the author of a message to its sessions") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  f.publish(session, "hi", "Zoë \"the\" <admin>");
  f.publish(session, "anonymous");
  auto first = next_delivery(session);
  REQUIRE(first);
  CHECK(first->author == "Zoë \"the\" <admin>");
  auto second = next_delivery(session);
  REQUIRE(second);
  CHECK(second->author.empty());
}

TEST_CASE("room keeps a bounded history of every origin in delivery order") {
  fixture f; // history capacity 5
  caf::scoped_actor self{f.sys};
  CHECK(f.history(self, 50).empty());
  f.publish(self, "local 1", "alice");
  caf::anon_send(f.room_actor, deliver_atom::value,
                 chat_message{"node2@127.0.0.1", 9, 1, 1'700'000'000'000'000, "bob", "remote 1"});
  f.publish(self, "local 2");
  auto h = f.history(self, 50);
  REQUIRE(h.size() == 3);
  CHECK(h[0].text == "local 1");
  CHECK(h[0].author == "alice");
  CHECK(h[0].origin == "node1@127.0.0.1");
  CHECK(h[0].incarnation == 7);
  CHECK(h[0].seq == 1);
  CHECK(h[1] == chat_message{"node2@127.0.0.1", 9, 1, 1'700'000'000'000'000, "bob", "remote 1"});
  CHECK(h[2].text == "local 2");
  CHECK(h[2].seq == 2);

  SUBCASE("asking for fewer gives the latest ones") {
    auto last = f.history(self, 2);
    REQUIRE(last.size() == 2);
    CHECK(last[0].text == "remote 1");
    CHECK(last[1].text == "local 2");
    CHECK(f.history(self, 0).empty());
  }
  SUBCASE("beyond its capacity the oldest messages go") {
    for (int i = 3; i <= 6; ++i)
      f.publish(self, "local " + std::to_string(i));
    auto all = f.history(self, 100);
    std::vector<std::string> texts;
    for (const auto& m : all)
      texts.push_back(m.text);
    CHECK(texts == std::vector<std::string>{"local 2", "local 3", "local 4", "local 5", "local 6"});
  }
  SUBCASE("a duplicate from a peer is not kept twice") {
    caf::anon_send(f.room_actor, deliver_atom::value,
                   chat_message{"node2@127.0.0.1", 9, 1, 1'700'000'000'000'000, "bob", "remote 1"});
    f.publish(self, "local 3");
    CHECK(f.history(self, 50).size() == 4);
  }
}

TEST_CASE("room replays its history to a joining session before the live messages") {
  fixture f; // history capacity 5
  caf::scoped_actor poster{f.sys};
  for (int i = 1; i <= 7; ++i)
    f.publish(poster, "old " + std::to_string(i));
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, rewind_atom::value, caf::actor_cast<caf::actor>(session),
                uint64_t{3});
  f.publish(poster, "live");
  std::vector<std::string> replayed;
  session->receive(
    [&](history_atom, const std::vector<chat_message>& replay, const std::vector<stream_gap>&) {
      for (const auto& m : replay)
        replayed.push_back(m.text);
    },
    caf::after(2s) >> [] { FAIL("no history replayed"); });
  CHECK(replayed == std::vector<std::string>{"old 5", "old 6", "old 7"});
  auto got = next_delivery(session);
  REQUIRE(got);
  CHECK(got->text == "live");
  CHECK(nothing_more(session));

  SUBCASE("a plain join gets only live messages") {
    caf::scoped_actor plain{f.sys};
    plain->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(plain));
    f.publish(poster, "after");
    auto after = next_delivery(plain);
    REQUIRE(after);
    CHECK(after->text == "after");
  }
}

TEST_CASE("room resumes a session at its position in the same step as the join") {
  fixture f; // history capacity 5
  caf::scoped_actor poster{f.sys};
  for (int i = 1; i <= 7; ++i)
    f.publish(poster, "m" + std::to_string(i));
  caf::scoped_actor session{f.sys};
  SUBCASE("what the position misses, then live") {
    stream_clock clock{{"node1@127.0.0.1", {7, 4}}};
    session->send(f.room_actor, resume_atom::value, caf::actor_cast<caf::actor>(session), clock);
    f.publish(poster, "live");
    std::vector<std::string> replayed;
    session->receive(
      [&](history_atom, const std::vector<chat_message>& replay,
          const std::vector<stream_gap>& gaps) {
        for (const auto& m : replay)
          replayed.push_back(m.text);
        CHECK(gaps.empty());
      },
      caf::after(2s) >> [] { FAIL("nothing replayed"); });
    CHECK(replayed == std::vector<std::string>{"m5", "m6", "m7"});
    auto got = next_delivery(session);
    REQUIRE(got);
    CHECK(got->text == "live");
  }
  SUBCASE("a position older than the history gets a gap") {
    stream_clock clock{{"node1@127.0.0.1", {7, 1}}};
    session->send(f.room_actor, resume_atom::value, caf::actor_cast<caf::actor>(session), clock);
    session->receive(
      [&](history_atom, const std::vector<chat_message>& replay,
          const std::vector<stream_gap>& gaps) {
        CHECK(replay.size() == 5);
        CHECK(gaps == std::vector<stream_gap>{{"node1@127.0.0.1", 7, 2, 2}});
      },
      caf::after(2s) >> [] { FAIL("nothing replayed"); });
  }
}

TEST_CASE("room ticks its sessions with heartbeats when asked to") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  caf::anon_send(f.room_actor, heartbeat_atom::value, uint64_t{1});
  bool beat = false;
  session->receive([&](keepalive_atom) { beat = true; },
                   caf::after(10s) >> [] { FAIL("no heartbeat"); });
  CHECK(beat);
}

} // namespace watercooler

namespace watercooler {

namespace {

struct linked_peer {
  caf::scoped_actor gate; // the peer's gate, as this room sees it

  // `we_dialled`: the room's node dialled the peer (so the peer trusts it already).
  linked_peer(fixture& f, bool we_dialled = true) : gate(f.sys) {
    gate->send(f.room_actor, peer_atom::value, std::string("node2@127.0.0.1"),
               caf::actor_cast<caf::actor>(gate), f.gate_actor, we_dialled);
  }

  // The peer answers the link's catchup: it has nothing we miss.
  void answer(const caf::actor& room_actor) {
    gate->send(room_actor, backfill_atom::value, std::string("node2@127.0.0.1"),
               std::vector<chat_message>{}, std::vector<stream_gap>{});
  }

  void deliver(const caf::actor& room_actor, uint64_t seq) {
    gate->send(room_actor, deliver_atom::value,
               chat_message{"node2@127.0.0.1", 3, seq, now_us(), "", "m" + std::to_string(seq)});
  }

  // The next (catchup ...) the room sends the peer; its clock, or nothing within `wait`.
  std::optional<stream_clock> next_catchup(std::chrono::seconds wait = 2s) {
    std::optional<stream_clock> got;
    gate->receive([&](catchup_atom, const std::string& asker,
                      const stream_clock& have) { got = asker == "node1@127.0.0.1" ? have : got; },
                  caf::after(wait) >> [] {});
    return got;
  }
};

chat_message from_node2(uint64_t seq) {
  return {"node2@127.0.0.1", 3, seq, now_us(), "", "m" + std::to_string(seq)};
}

} // namespace

TEST_CASE("room holds back a message after a gap until the peer fills the gap") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  linked_peer peer(f);
  peer.answer(f.room_actor);
  peer.deliver(f.room_actor, 1);
  REQUIRE(next_delivery(session));
  peer.deliver(f.room_actor, 3);
  CHECK(nothing_more(session));
  // The room asks the origin for what it misses (after the ask of linking up)...
  auto have = peer.next_catchup();
  for (int i = 0; i < 10 && have && have->count("node2@127.0.0.1") == 0; ++i)
    have = peer.next_catchup();
  REQUIRE(have);
  CHECK(have->at("node2@127.0.0.1") == clock_entry{3, 1});
  // ... and delivers in order once it has it; a duplicate in the answer changes nothing.
  peer.gate->send(f.room_actor, backfill_atom::value, std::string("node2@127.0.0.1"),
                  std::vector<chat_message>{from_node2(1), from_node2(2)},
                  std::vector<stream_gap>{});
  std::vector<uint64_t> seqs;
  while (auto got = next_delivery(session)) {
    seqs.push_back(got->seq);
    if (seqs.size() == 2)
      break;
  }
  CHECK(seqs == std::vector<uint64_t>{2, 3});
  CHECK(nothing_more(session));
}

TEST_CASE("room gives up on a gap nobody fills with a gap event, then delivers the rest") {
  fixture f;
  caf::scoped_actor session{f.sys};
  session->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(session));
  linked_peer peer(f);
  peer.answer(f.room_actor);
  peer.deliver(f.room_actor, 1);
  REQUIRE(next_delivery(session));
  peer.deliver(f.room_actor, 4);
  std::vector<stream_gap> gaps;
  session->receive(
    [&](history_atom, const std::vector<chat_message>& replay, const std::vector<stream_gap>& g) {
      CHECK(replay.empty());
      gaps = g;
    },
    caf::after(20s) >> [] {});
  CHECK(gaps == std::vector<stream_gap>{{"node2@127.0.0.1", 3, 2, 3}});
  auto got = next_delivery(session);
  REQUIRE(got);
  CHECK(got->seq == 4);
  // The peer said it no longer holds them: a gap at once, no waiting.
  peer.deliver(f.room_actor, 6);
  peer.gate->send(f.room_actor, backfill_atom::value, std::string("node2@127.0.0.1"),
                  std::vector<chat_message>{},
                  std::vector<stream_gap>{{"node2@127.0.0.1", 3, 5, 5}});
  gaps.clear();
  session->receive([&](history_atom, const std::vector<chat_message>&,
                       const std::vector<stream_gap>& g) { gaps = g; },
                   caf::after(2s) >> [] {});
  CHECK(gaps == std::vector<stream_gap>{{"node2@127.0.0.1", 3, 5, 5}});
  got = next_delivery(session);
  REQUIRE(got);
  CHECK(got->seq == 6);
}

TEST_CASE("room answers a catchup with what its history has beyond the asker's clock") {
  fixture f;
  caf::scoped_actor self{f.sys};
  for (auto text : {"one", "two", "three"})
    f.publish(self, text);
  linked_peer peer(f);
  // Linking up, the room asks the peer for what it missed, and asks again until answered.
  auto have = peer.next_catchup();
  REQUIRE(have);
  CHECK(have->at("node1@127.0.0.1") == clock_entry{7, 3});
  CHECK(peer.next_catchup());
  auto answer = [&](const stream_clock& clock) {
    peer.gate->send(f.room_actor, catchup_atom::value, std::string("node2@127.0.0.1"), clock);
    std::optional<std::vector<chat_message>> missed;
    peer.gate->receive(
      [&](backfill_atom, const std::string& from, const std::vector<chat_message>& m,
          const std::vector<stream_gap>& gaps) {
        CHECK(from == "node1@127.0.0.1");
        CHECK(gaps.empty());
        missed = m;
      },
      [&](catchup_atom, const std::string&, const stream_clock&) { missed.reset(); },
      caf::after(2s) >> [] {});
    return missed;
  };
  std::optional<std::vector<chat_message>> missed;
  for (int i = 0; i < 5 && !missed; ++i) // our own asks may come in between
    missed = answer({{"node1@127.0.0.1", {7, 1}}});
  REQUIRE(missed);
  REQUIRE(missed->size() == 2);
  CHECK((*missed)[0].text == "two");
  CHECK((*missed)[1].text == "three");
  // A new node (knowing none of our origins) gets all we have of them.
  missed.reset();
  for (int i = 0; i < 5 && !missed; ++i)
    missed = answer({});
  REQUIRE(missed);
  CHECK(missed->size() == 3);
}

TEST_CASE("room gives the past of an origin it never heard of only to sessions that want history") {
  fixture f;
  caf::scoped_actor live{f.sys};    // the tutorial's plain stream: from now on
  caf::scoped_actor paged{f.sys};   // a JSON page: recent history, then live
  caf::scoped_actor resumed{f.sys}; // a stream resuming at a position
  live->send(f.room_actor, join_atom::value, caf::actor_cast<caf::actor>(live));
  paged->send(f.room_actor, rewind_atom::value, caf::actor_cast<caf::actor>(paged), uint64_t{50});
  resumed->send(f.room_actor, resume_atom::value, caf::actor_cast<caf::actor>(resumed),
                stream_clock{{"node2@127.0.0.1", {3, 1}}});
  paged->receive(
    [](history_atom, const std::vector<chat_message>&, const std::vector<stream_gap>&) {},
    caf::after(2s) >> [] {});
  resumed->receive(
    [](history_atom, const std::vector<chat_message>&, const std::vector<stream_gap>&) {},
    caf::after(2s) >> [] {});
  linked_peer peer(f);
  // This new node asks the peer for everything, as it knows nothing yet.
  auto have = peer.next_catchup();
  REQUIRE(have);
  CHECK(have->empty());
  peer.gate->send(f.room_actor, backfill_atom::value, std::string("node2@127.0.0.1"),
                  std::vector<chat_message>{from_node2(1), from_node2(2)},
                  std::vector<stream_gap>{});
  for (auto* session : {&paged, &resumed}) {
    std::vector<uint64_t> seqs;
    while (auto got = next_delivery(*session)) {
      seqs.push_back(got->seq);
      if (seqs.size() == 2)
        break;
    }
    CHECK(seqs == std::vector<uint64_t>{1, 2}); // the resumed one skips what it had itself
  }
  CHECK(nothing_more(live));
  // From then on the origin is known: its messages are live for everyone.
  peer.deliver(f.room_actor, 3);
  for (auto* session : {&live, &paged, &resumed}) {
    auto got = next_delivery(*session);
    REQUIRE(got);
    CHECK(got->seq == 3);
  }
}

} // namespace watercooler

namespace watercooler {

TEST_CASE("room forgets messages older than its history age") {
  SUBCASE("as time passes") {
    room_state st;
    st.history_capacity = 100;
    st.history_age = std::chrono::seconds(1);
    const int64_t t = 1'700'000'000'000'000;
    for (auto text : {"one", "two"})
      st.remember({"node1@127.0.0.1", 7, 1, t, "", text}, t);
    st.forget_old(t + 500'000);
    CHECK(st.recent(100).size() == 2);
    st.forget_old(t + 1'500'000); // older than the age
    CHECK(st.recent(100).empty());
  }
  SUBCASE("a peer's message older than the age on arrival is not kept") {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    auto metrics = std::make_shared<node_metrics>();
    auto room_actor =
      sys.spawn(room, "node1@127.0.0.1", 7, metrics, history_limits{100, std::chrono::seconds(1)});
    caf::scoped_actor self{sys};
    auto history_size = [&] {
      size_t n = 0;
      self->request(room_actor, 2s, recent_atom::value, uint64_t{100})
        .receive([&](const std::vector<chat_message>& h) { n = h.size(); },
                 [&](const caf::error&) { FAIL("no answer"); });
      return n;
    };
    for (uint64_t seq : {1, 2})
      self->send(room_actor, deliver_atom::value,
                 chat_message{"node2@127.0.0.1", 3, seq, now_us() - 2'000'000, "", "old"});
    CHECK(history_size() == 0);
    self->request(room_actor, 2s, publish_atom::value, std::string(), std::string("new"))
      .receive([](uint64_t, uint64_t) {}, [&](const caf::error&) { FAIL("no answer"); });
    CHECK(history_size() == 1);
    caf::anon_send_exit(room_actor, caf::exit_reason::user_shutdown);
  }
}

} // namespace watercooler

namespace watercooler {

TEST_CASE("room that was dialled lets the peer ask first, then asks back") {
  fixture f;
  linked_peer peer(f, false);
  // The peer may not trust us yet: the first thing it gets from us is the answer to its ask.
  peer.gate->send(f.room_actor, catchup_atom::value, std::string("node2@127.0.0.1"),
                  stream_clock{});
  bool answered = false, asked_first = false;
  peer.gate->receive(
    [&](backfill_atom, const std::string& from, const std::vector<chat_message>&,
        const std::vector<stream_gap>&) { answered = from == "node1@127.0.0.1"; },
    [&](catchup_atom, const std::string&, const stream_clock&) { asked_first = true; },
    caf::after(2s) >> [] {});
  CHECK(answered);
  CHECK_FALSE(asked_first);
  CHECK(peer.next_catchup());
}

TEST_CASE("room that was dialled asks by itself when the peer never asks") {
  // Both nodes dialled at once and each kept the connection the other dialled: each waits for
  // the other's ask. After a while the room asks all the same, and again until answered.
  fixture f;
  linked_peer peer(f, false);
  CHECK(peer.next_catchup(10s));
  CHECK(peer.next_catchup(10s));
}

} // namespace watercooler
