// Presence as JSON, for GET /presence and the presence events of JSON streams.
#include "web/stream/presence_event.hpp"

#include <iterator>

#include <nlohmann/json.hpp>

#include "web/stream/sse.hpp"

namespace watercooler {

namespace {

using json = nlohmann::ordered_json;

json person_json(const present_person& person) {
  return json{{"person", person.person}, {"name", person.name}, {"nodes", person.nodes}};
}

json view_json(const presence_view& view) {
  auto people = json::array();
  for (const auto& person : view.people)
    people.push_back(person_json(person));
  return json{{"count", view.count}, {"listeners", view.listeners}, {"people", std::move(people)}};
}

std::string text(const json& object) {
  // A name that is not valid UTF-8 (a peer's bug) is written with U+FFFD rather than failing.
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

// No id: presence is no position in the stream, so it leaves Last-Event-ID as it was.
std::string event(const json& object) {
  return sse_event(text(object), sse_fields{"presence", std::nullopt});
}

} // namespace

std::string presence_json(const presence_view& view) {
  return text(view_json(view));
}

std::string presence_snapshot_event(const presence_view& view, const std::string& you,
                                    const std::string& refused) {
  json object{{"type", "snapshot"}};
  object.update(view_json(view));
  object["you"] = you.empty() ? json(nullptr) : json(you);
  object["refused"] = refused.empty() ? json(nullptr) : json(refused);
  return event(object);
}

std::string presence_change_event(const presence_change& change) {
  static const char* kinds[] = {"", "join", "leave", "update", "listeners"};
  auto kind = static_cast<std::size_t>(change.what);
  json object{{"type", kind < std::size(kinds) ? kinds[kind] : ""}};
  if (change.what != presence_change::kind::listeners) {
    object["person"] = change.person.person;
    object["name"] = change.person.name;
    object["nodes"] = change.person.nodes;
  }
  object["count"] = change.count;
  object["listeners"] = change.listeners;
  return event(object);
}

} // namespace watercooler
