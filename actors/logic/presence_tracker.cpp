// Presence as sets per node: ours from our streams, each peer's as it sent it; the streams are
// told what the union of them does.
#include "actors/logic/presence_tracker.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>

#include <openssl/sha.h>

namespace watercooler {

namespace {

// A peer's set is another program's: entries beyond this are not taken.
constexpr std::size_t max_remote_people = 100000;
constexpr std::size_t max_name_bytes = 256; // 64 characters of up to 4 bytes

bool acceptable(const presence_entry& entry) {
  return is_client_id(entry.client) && entry.name.size() <= max_name_bytes;
}

} // namespace

std::string person_tag(const std::string& client) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(client.data()), client.size(), digest.data());
  static const char* hex = "0123456789abcdef";
  std::string tag;
  for (std::size_t i = 0; i < 8; ++i) {
    tag += hex[digest[i] >> 4];
    tag += hex[digest[i] & 0xf];
  }
  return tag;
}

presence_tracker::presence_tracker(std::string node, presence_limits limits)
    : node_(std::move(node)), limits_(limits) {}

presence_tracker::admission presence_tracker::open(uint64_t stream, const std::string& client,
                                                   const std::string& name,
                                                   const std::string& address, int64_t now_us) {
  if (streams_.count(stream) != 0)
    return {}; // opened once only
  admission result;
  auto it = local_.find(client);
  if (!client.empty() && it == local_.end()) {
    if (limits_.per_address != 0 && per_address_[address] >= limits_.per_address)
      result.refused = "address";
    else if (limits_.total != 0 && local_.size() >= limits_.total)
      result.refused = "total";
    else {
      it = local_.emplace(client, local_person{}).first;
      it->second.address = address;
      ++per_address_[address];
    }
  }
  if (client.empty() || !result.refused.empty()) {
    streams_[stream] = "";
    ++anonymous_;
    delta_listeners_ = true;
    refresh({});
    return result;
  }
  auto& person = it->second;
  person.streams.emplace_back(stream, name);
  person.gone_at.reset();
  if (person.named_us == 0 || person.name != name) {
    person.name = name;
    person.named_us = now_us;
    changed_here(client);
  }
  streams_[stream] = client;
  refresh({client});
  result.person = person_tag(client);
  return result;
}

void presence_tracker::close(uint64_t stream, presence_time now) {
  auto s = streams_.find(stream);
  if (s == streams_.end())
    return;
  auto client = s->second;
  streams_.erase(s);
  if (client.empty()) {
    --anonymous_;
    delta_listeners_ = true;
    refresh({});
    return;
  }
  auto it = local_.find(client);
  if (it == local_.end())
    return;
  auto& person = it->second;
  person.streams.erase(std::remove_if(person.streams.begin(), person.streams.end(),
                                      [&](const auto& entry) { return entry.first == stream; }),
                       person.streams.end());
  if (person.streams.empty()) {
    person.gone_at = now;
    if (limits_.grace.count() == 0) {
      forget_local(client);
      refresh({client});
    }
    return;
  }
  // The newest stream left names the person.
  if (person.streams.back().second != person.name) {
    person.name = person.streams.back().second;
    ++person.named_us; // later than the name it replaces
    changed_here(client);
    refresh({client});
  }
}

void presence_tracker::tick(presence_time now) {
  std::set<std::string> affected;
  for (auto it = local_.begin(); it != local_.end();) {
    auto next = std::next(it);
    if (it->second.gone_at && *it->second.gone_at + limits_.grace <= now) {
      affected.insert(it->first);
      forget_local(it->first);
    }
    it = next;
  }
  for (auto it = remote_.begin(); it != remote_.end();) {
    auto next = std::next(it);
    if (it->second.expires && *it->second.expires <= now) {
      for (const auto& entry : it->second.people)
        affected.insert(entry.first);
      remote_.erase(it);
    }
    it = next;
  }
  refresh(affected);
}

std::optional<presence_time> presence_tracker::next_wake() const {
  std::optional<presence_time> wake;
  auto consider = [&](presence_time t) {
    if (!wake || t < *wake)
      wake = t;
  };
  for (const auto& [client, person] : local_)
    if (person.gone_at)
      consider(*person.gone_at + limits_.grace);
  for (const auto& [node, set] : remote_)
    if (set.expires)
      consider(*set.expires);
  return wake;
}

void presence_tracker::replace(const presence_roster& roster) {
  if (roster.node == node_ || roster.node.empty())
    return;
  std::set<std::string> affected;
  if (auto old = remote_.find(roster.node); old != remote_.end())
    for (const auto& entry : old->second.people)
      affected.insert(entry.first);
  remote_set set;
  set.version = roster.version;
  set.listeners = roster.listeners;
  for (const auto& entry : roster.people) {
    if (set.people.size() == max_remote_people)
      break;
    if (acceptable(entry)) {
      set.people[entry.client] = entry;
      affected.insert(entry.client);
    }
  }
  remote_[roster.node] = std::move(set);
  refresh(affected);
}

bool presence_tracker::apply(const presence_delta& delta) {
  auto it = remote_.find(delta.node);
  if (it == remote_.end() || delta.version != it->second.version + 1)
    return false;
  auto& set = it->second;
  std::set<std::string> affected;
  set.version = delta.version;
  set.listeners = delta.listeners;
  for (const auto& client : delta.gone)
    if (set.people.erase(client) != 0)
      affected.insert(client);
  for (const auto& entry : delta.changed) {
    if (!acceptable(entry)
        || (set.people.size() >= max_remote_people && set.people.count(entry.client) == 0))
      continue;
    set.people[entry.client] = entry;
    affected.insert(entry.client);
  }
  refresh(affected);
  return true;
}

void presence_tracker::node_lost(const std::string& node) {
  auto it = remote_.find(node);
  if (it == remote_.end() || it->second.expires)
    return; // a node that said goodbye keeps its people for the grace period
  erase_remote(node);
}

void presence_tracker::node_stopping(const std::string& node, presence_time now) {
  auto it = remote_.find(node);
  if (it == remote_.end())
    return;
  if (limits_.grace.count() == 0)
    return erase_remote(node);
  it->second.expires = now + limits_.grace;
}

presence_roster presence_tracker::roster() const {
  presence_roster roster{node_, version_, anonymous_, {}};
  roster.people.reserve(local_.size());
  for (const auto& [client, person] : local_)
    roster.people.push_back({client, person.name, person.named_us});
  return roster;
}

presence_view presence_tracker::view() const {
  presence_view view{shown_.size(), shown_listeners_, {}};
  view.people.reserve(shown_.size());
  for (const auto& entry : shown_)
    view.people.push_back(entry.second);
  std::sort(view.people.begin(), view.people.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.person) < std::tie(b.name, b.person);
  });
  return view;
}

std::vector<presence_change> presence_tracker::take_changes() {
  return std::exchange(changes_, {});
}

std::optional<presence_delta> presence_tracker::take_delta() {
  if (delta_changed_.empty() && delta_gone_.empty() && !delta_listeners_)
    return std::nullopt;
  presence_delta delta{node_, ++version_, anonymous_, {}, {}};
  for (const auto& client : delta_changed_) {
    const auto& person = local_.at(client);
    delta.changed.push_back({client, person.name, person.named_us});
  }
  delta.gone.assign(delta_gone_.begin(), delta_gone_.end());
  delta_changed_.clear();
  delta_gone_.clear();
  delta_listeners_ = false;
  return delta;
}

void presence_tracker::forget_local(const std::string& who) {
  std::string client = who; // `who` may be the key erased below
  auto it = local_.find(client);
  if (it == local_.end())
    return;
  auto count = per_address_.find(it->second.address);
  if (count != per_address_.end() && --count->second == 0)
    per_address_.erase(count);
  local_.erase(it);
  delta_changed_.erase(client);
  delta_gone_.insert(client);
}

void presence_tracker::erase_remote(const std::string& node) {
  auto it = remote_.find(node);
  if (it == remote_.end())
    return;
  std::set<std::string> affected;
  for (const auto& entry : it->second.people)
    affected.insert(entry.first);
  remote_.erase(it);
  refresh(affected);
}

std::optional<present_person> presence_tracker::merged(const std::string& client) const {
  std::optional<present_person> person;
  int64_t named_us = 0;
  auto add = [&](const std::string& node, const std::string& name, int64_t when) {
    if (!person) {
      person = present_person{person_tag(client), name, {}};
      named_us = when;
    } else if (when > named_us) {
      person->name = name;
      named_us = when;
    }
    person->nodes.push_back(node);
  };
  if (auto it = local_.find(client); it != local_.end())
    add(node_, it->second.name, it->second.named_us);
  for (const auto& [node, set] : remote_)
    if (auto it = set.people.find(client); it != set.people.end())
      add(node, it->second.name, it->second.named_us);
  if (person)
    std::sort(person->nodes.begin(), person->nodes.end());
  return person;
}

void presence_tracker::refresh(const std::set<std::string>& clients) {
  auto before = changes_.size();
  for (const auto& client : clients) {
    auto now = merged(client);
    auto shown = shown_.find(client);
    if (shown == shown_.end()) {
      if (!now)
        continue;
      shown_.emplace(client, *now);
      changes_.push_back(change(presence_change::kind::join, *now));
    } else if (!now) {
      auto gone = std::move(shown->second);
      shown_.erase(shown);
      gone.nodes.clear();
      changes_.push_back(change(presence_change::kind::leave, std::move(gone)));
    } else if (!(shown->second == *now)) {
      shown->second = *now;
      changes_.push_back(change(presence_change::kind::update, *now));
    }
  }
  auto total = listeners();
  if (total != shown_listeners_) {
    shown_listeners_ = total;
    if (changes_.size() == before) // else the changes carry the new number already
      changes_.push_back(change(presence_change::kind::listeners, {}));
  }
}

uint64_t presence_tracker::listeners() const {
  uint64_t total = anonymous_;
  for (const auto& entry : remote_)
    total += entry.second.listeners;
  return total;
}

void presence_tracker::changed_here(const std::string& client) {
  delta_changed_.insert(client);
  delta_gone_.erase(client);
}

presence_change presence_tracker::change(presence_change::kind what, present_person person) const {
  return {what, std::move(person), shown_.size(), listeners()};
}

} // namespace watercooler
