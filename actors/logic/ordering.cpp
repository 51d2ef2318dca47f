// Cross-node ordering: which messages of peers the room delivers when, what it asks peers for,
// and which gaps it gives up on.
#include "actors/logic/ordering.hpp"

#include <algorithm>

#include "actors/wire/node_name.hpp"

namespace watercooler {

ordering::ordering(ordering_limits limits) : limits_(limits) {}

ordering_decisions ordering::publish(const chat_message& message) {
  ordering_decisions d;
  deliver(message, false, d);
  return d;
}

ordering_decisions ordering::receive(chat_message message, ordering_time now) {
  ordering_decisions d;
  accept(std::move(message), false, false, now, d);
  return arm(d);
}

ordering_decisions ordering::backfill(const std::string& from,
                                      const std::vector<chat_message>& missed,
                                      const std::vector<stream_gap>& trimmed, ordering_time now) {
  ordering_decisions d;
  if (auto it = asks_.find(from); it != asks_.end())
    it->second.answered = true;
  for (const auto& gap : trimmed)
    if (gap.to != 0 && is_node_name(gap.origin))
      give_up({gap.origin, gap.incarnation}, gap.from, gap.to, d);
  // Known origins: these fill gaps of streams that were open meanwhile. Origins never heard of
  // are the cluster's past, except what came live meanwhile (held) and what follows it.
  std::set<std::string> past;
  for (const auto& m : missed)
    if (incarnations_.count(m.origin) == 0)
      past.insert(m.origin);
  auto is_past = [&](const chat_message& m) {
    if (past.count(m.origin) == 0)
      return false;
    auto held = held_.find({m.origin, m.incarnation});
    return held == held_.end() || held->second.waiting.empty()
           || m.seq < held->second.waiting.begin()->first;
  };
  for (const auto& m : missed) {
    if (is_node_name(m.origin)) // the origin goes into every stream's SSE id
      accept(m, true, is_past(m), now, d);
    else
      ++d.dropped;
  }
  release_unheard(d);
  return arm(d);
}

ordering_decisions ordering::link_up(const std::string& peer, bool fresh, bool trusted,
                                     ordering_time now) {
  ordering_decisions d;
  if (fresh) {
    linked_.insert(peer);
    asks_.erase(peer);
    first_ask_at_.erase(peer);
  }
  if (asks_.count(peer) != 0)
    return d;
  if (trusted)
    ask(peer, now, d);
  else
    first_ask_at_.emplace(peer, now + limits_.ask_unasked_after);
  return arm(d);
}

ordering_decisions ordering::asked_by(const std::string& peer, ordering_time now) {
  ordering_decisions d;
  if (asks_.count(peer) == 0)
    ask(peer, now, d);
  return arm(d);
}

void ordering::link_down(const std::string& peer) {
  linked_.erase(peer);
  asks_.erase(peer);
  first_ask_at_.erase(peer);
}

ordering_decisions ordering::tick(ordering_time now) {
  ordering_decisions d;
  armed_.reset(); // this is the wake; whatever is still ahead is asked for again below
  std::vector<origin_key> due;
  for (const auto& [key, held] : held_)
    if (held.give_up_at <= now)
      due.push_back(key);
  for (const auto& key : due) {
    if (held_.at(key).unheard)
      start_unheard(key, d);
    else
      give_up(key, 1, held_.at(key).waiting.begin()->first - 1, d);
    // What still waits, behind a later gap, gets a time of its own.
    if (auto it = held_.find(key); it != held_.end())
      it->second.give_up_at = now + limits_.hold_timeout;
  }
  for (auto& [peer, a] : asks_) {
    if (a.again_at && *a.again_at <= now) {
      a.again_at.reset();
      ask_again(peer, now, d);
    }
  }
  for (auto it = first_ask_at_.begin(); it != first_ask_at_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    auto peer = it->first;
    it = first_ask_at_.erase(it);
    ask_again(peer, now, d);
  }
  release_unheard(d); // the asks given up on above
  return arm(d);
}

stream_clock ordering::clock() const {
  stream_clock out;
  for (const auto& [origin, latest] : incarnations_) {
    auto it = seen_.find({origin, latest});
    out[origin] = {latest, it == seen_.end() ? 0 : it->second};
  }
  return out;
}

// A message from a peer, live or caught up: delivered once, in order per origin. After a gap it
// waits until the gap is filled or hold_timeout passes; a first message from an origin never
// heard of starts it where it is (a new node does not replay the cluster's past), but only once
// no peer's answer to our catchup is awaited: that answer may hold what came before it, which
// the history must keep in order for streams that resume here.
void ordering::accept(chat_message m, bool caught_up, bool past, ordering_time now,
                      ordering_decisions& d) {
  origin_key key{m.origin, m.incarnation};
  auto seen = seen_.find(key);
  if (seen != seen_.end() && m.seq <= seen->second) {
    ++d.dropped; // a duplicate: each session sees each message once
    return;
  }
  auto last = seen == seen_.end() ? 0 : seen->second;
  bool known_origin = incarnations_.count(m.origin) != 0;
  bool unheard = seen == seen_.end() && !known_origin && !caught_up;
  if (unheard) {
    auto held = held_.find(key);
    if (catching_up()) {
      if (held == held_.end())
        held = held_.emplace(key, held_messages{{}, now + limits_.hold_timeout, true}).first;
      if (held->second.unheard && held->second.waiting.size() < limits_.max_held) {
        held->second.waiting.emplace(m.seq, std::move(m));
        return;
      }
    }
    if (held != held_.end()) { // what waits goes first, where its first message is
      start_unheard(key, d);
      return accept(std::move(m), caught_up, past, now, d);
    }
  }
  if (m.seq == last + 1 || (seen == seen_.end() && (unheard || caught_up))) {
    deliver(std::move(m), past, d);
    drain(key, d);
    return;
  }
  auto [it, first_held] = held_.try_emplace(key);
  auto& waiting = it->second.waiting;
  waiting.emplace(m.seq, std::move(m));
  if (waiting.size() > limits_.max_held)
    return give_up(key, last + 1, waiting.begin()->first - 1, d);
  if (first_held) {
    it->second.give_up_at = now + limits_.hold_timeout;
    ask(key.first, now, d);
  }
}

void ordering::deliver(chat_message m, bool past, ordering_decisions& d) {
  seen_[{m.origin, m.incarnation}] = m.seq;
  incarnations_[m.origin] = m.incarnation;
  d.out.emplace_back(ordering_decisions::delivery{std::move(m), past});
}

// Delivers what was held back behind a gap that is now closed.
void ordering::drain(const origin_key& key, ordering_decisions& d) {
  auto it = held_.find(key);
  if (it == held_.end())
    return;
  it->second.unheard = false; // its origin starts here now: what still waits is behind a gap
  auto& waiting = it->second.waiting;
  while (!waiting.empty()) {
    auto first = waiting.begin();
    auto last = seen_[key];
    if (first->first > last + 1)
      break;
    auto m = std::move(first->second);
    waiting.erase(first);
    if (m.seq == last + 1)
      deliver(std::move(m), false, d);
  }
  if (waiting.empty())
    held_.erase(it);
}

// Messages [from, to] of `key` will not come: sessions get a gap event, and what waited after
// them goes out.
void ordering::give_up(const origin_key& key, uint64_t from, uint64_t to, ordering_decisions& d) {
  auto& last = seen_[key];
  from = std::max(from, last + 1);
  if (to >= from) {
    d.out.emplace_back(stream_gap{key.first, key.second, from, to});
    last = to;
    incarnations_[key.first] = key.second;
  }
  drain(key, d);
}

// Asks `peer` for what it has beyond our clock, and again until it answers (the peer's gate
// drops what comes before it trusts us, and its link may come up after ours).
void ordering::ask(const std::string& peer, ordering_time now, ordering_decisions& d) {
  if (linked_.count(peer) == 0)
    return;
  asks_[peer] = {1, false, now + limits_.ask_again_after};
  d.ask.push_back(peer);
}

// A reminder of the question asked, sent only while it is unanswered.
void ordering::ask_again(const std::string& peer, ordering_time now, ordering_decisions& d) {
  if (linked_.count(peer) == 0)
    return;
  auto& a = asks_[peer];
  if (a.answered || a.sent >= limits_.max_asks)
    return;
  ++a.sent;
  a.again_at = now + limits_.ask_again_after;
  d.ask.push_back(peer);
}

bool ordering::catching_up() const {
  for (const auto& peer : linked_) {
    if (first_ask_at_.count(peer) != 0)
      return true;
    auto a = asks_.find(peer);
    if (a != asks_.end() && !a->second.answered && a->second.again_at)
      return true;
  }
  return false;
}

void ordering::release_unheard(ordering_decisions& d) {
  if (catching_up())
    return;
  std::vector<origin_key> unheard;
  for (const auto& [key, held] : held_)
    if (held.unheard)
      unheard.push_back(key);
  for (const auto& key : unheard)
    start_unheard(key, d);
}

// The first message waiting of `key` starts its origin here; what follows it in order goes too.
void ordering::start_unheard(const origin_key& key, ordering_decisions& d) {
  auto it = held_.find(key);
  if (it == held_.end())
    return;
  if (seen_.count(key) == 0 && !it->second.waiting.empty()) {
    auto first = it->second.waiting.begin();
    auto m = std::move(first->second);
    it->second.waiting.erase(first);
    deliver(std::move(m), false, d);
  }
  drain(key, d);
}

ordering_decisions& ordering::arm(ordering_decisions& d) {
  std::optional<ordering_time> next;
  auto earliest = [&](ordering_time t) {
    if (!next || t < *next)
      next = t;
  };
  for (const auto& entry : held_)
    earliest(entry.second.give_up_at);
  for (const auto& entry : asks_)
    if (entry.second.again_at)
      earliest(*entry.second.again_at);
  for (const auto& entry : first_ask_at_)
    earliest(entry.second);
  if (next && (!armed_ || *next < *armed_)) {
    armed_ = next;
    d.wake = next;
  }
  return d;
}

} // namespace watercooler
