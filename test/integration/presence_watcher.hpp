// Presence seen from outside, for integration tests: GET /presence, and a JSON stream that keeps
// who is here from its presence events.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "actors/logic/presence_tracker.hpp"
#include "test/integration/harness.hpp"

namespace watercooler::integration {

inline std::string person_path(const std::string& client, const std::string& name) {
  return "/listen?format=json&client=" + client + "&name=" + form_encode(name);
}

// GET /presence, or null if it failed.
inline nlohmann::json presence_of(uint16_t port) {
  auto res = http_client(port)->Get("/presence");
  if (!res || res->status != 200)
    return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

// "Ann [node1@127.0.0.1 node2@127.0.0.1], Bob [node2@127.0.0.1]": people of a view, sorted.
inline std::string people_text(const nlohmann::json& people) {
  std::vector<std::string> lines;
  for (const auto& p : people) {
    std::string line = p.value("name", "?") + " [";
    for (const auto& n : p["nodes"])
      line += (line.back() == '[' ? "" : " ") + n.get<std::string>();
    lines.push_back(line + "]");
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines)
    out += (out.empty() ? "" : ", ") + l;
  return out;
}

// Waits until GET /presence on `port` shows `expected` people (as people_text) and `listeners`;
// the last answer otherwise.
inline std::string wait_presence(uint16_t port, const std::string& expected, uint64_t listeners,
                                 clock::time_point deadline) {
  std::string got;
  do {
    auto view = presence_of(port);
    if (view.is_object()) {
      got = people_text(view["people"]) + " / " + view["listeners"].dump();
      if (got == expected + " / " + std::to_string(listeners)
          && view["count"] == view["people"].size())
        return got;
    }
    std::this_thread::sleep_for(100ms);
  } while (clock::now() < deadline);
  return got;
}

// A JSON stream that only watches: it keeps who is here from its presence events, and counts
// each person's joins and leaves.
class presence_watcher {
public:
  explicit presence_watcher(uint16_t port, const std::string& path = "/listen?format=json")
      : stream_(port, false, 10s, path) {
    REQUIRE(stream_.status() == 200);
    stream_.with_presence();
  }

  // Reads events until the snapshot came and the people shown are `expected` (as people_text);
  // false at the deadline.
  bool wait_people(const std::string& expected, clock::time_point deadline) {
    while (!snapshot_ || text() != expected) {
      auto event = stream_.next_event(deadline);
      if (!event)
        return false;
      if (event->type == "presence")
        take(nlohmann::json::parse(event->data));
    }
    return true;
  }
  // Reads whatever presence events come until the deadline.
  void drain(clock::time_point deadline) {
    while (auto event = stream_.next_event(deadline))
      if (event->type == "presence")
        take(nlohmann::json::parse(event->data));
  }

  std::string text() const {
    auto people = nlohmann::json::array();
    for (const auto& entry : people_)
      people.push_back(entry.second);
    return people_text(people);
  }
  int joins(const std::string& client) const {
    auto it = joins_.find(person_tag(client));
    return it == joins_.end() ? 0 : it->second;
  }
  int leaves(const std::string& client) const {
    auto it = leaves_.find(person_tag(client));
    return it == leaves_.end() ? 0 : it->second;
  }
  bool had_snapshot() const {
    return snapshot_;
  }
  const nlohmann::json& last() const {
    return last_;
  }
  // Every presence event read, a line each, for INFO on failure.
  const std::string& events() const {
    return events_;
  }

private:
  void take(const nlohmann::json& event) {
    last_ = event;
    events_ += event.dump() + "\n";
    auto type = event.value("type", "");
    if (type == "snapshot") {
      snapshot_ = true;
      people_.clear();
      for (const auto& p : event["people"])
        people_[p["person"].get<std::string>()] = p;
    } else if (type == "join" || type == "update") {
      if (type == "join")
        ++joins_[event["person"].get<std::string>()];
      people_[event["person"].get<std::string>()] = event;
    } else if (type == "leave") {
      ++leaves_[event["person"].get<std::string>()];
      people_.erase(event["person"].get<std::string>());
    }
    // Every change carries the counts after it; they must match what it says.
    if (type != "snapshot" && event.contains("count"))
      CHECK(event["count"].get<std::size_t>() == people_.size());
  }

  sse_stream stream_;
  std::map<std::string, nlohmann::json> people_; // by tag
  std::map<std::string, int> joins_, leaves_;
  nlohmann::json last_;
  std::string events_;
  bool snapshot_ = false;
};

} // namespace watercooler::integration
