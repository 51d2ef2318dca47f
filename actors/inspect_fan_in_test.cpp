// Inspect fan-in: one report from many actors, without waiting for those that do not answer.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include "actors/inspect_fan_in.hpp"
#include "actors/protocol.hpp"

namespace watercooler {

namespace {

using namespace std::chrono_literals;

using reports = std::vector<actor_report>;

// Answers (actors) with its name, or never (a promise it does not keep).
caf::behavior inspected(caf::event_based_actor* self, std::string name, bool answers) {
  return {
    [=](actors_atom) -> caf::result<reports> {
      if (!answers)
        return self->make_response_promise<reports>();
      return reports{{name, "event-based", 0}};
    },
  };
}

// Asks every actor of `targets`, 200 ms each, and answers with "collector" and all it heard.
caf::behavior collector(caf::event_based_actor* self, std::vector<caf::actor> targets) {
  return {
    [=](actors_atom) -> caf::result<reports> {
      inspect_fan_in<reports> fan_in{self, {{"collector", "event-based", 0}}, 200ms};
      for (const auto& target : targets)
        fan_in.ask<reports>(target, actors_atom::value, [](reports& all, reports more) {
          all.insert(all.end(), more.begin(), more.end());
        });
      return fan_in.answer();
    },
  };
}

std::vector<std::string> names(caf::actor_system& sys, const caf::actor& c) {
  std::vector<std::string> out;
  caf::scoped_actor self{sys};
  self->request(c, 5s, actors_atom::value)
    .receive(
      [&](const reports& all) {
        for (const auto& r : all)
          out.push_back(r.name);
      },
      [](const caf::error&) { FAIL("no report"); });
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("inspect fan-in answers with every report, or at once when there is nobody to ask") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  SUBCASE("nobody to ask") {
    CHECK(names(sys, sys.spawn(collector, std::vector<caf::actor>{}))
          == std::vector<std::string>{"collector"});
  }
  SUBCASE("two that answer") {
    auto a = sys.spawn(inspected, "a", true);
    auto b = sys.spawn(inspected, "b", true);
    CHECK(names(sys, sys.spawn(collector, std::vector<caf::actor>{a, b}))
          == std::vector<std::string>{"a", "b", "collector"});
  }
  SUBCASE("one that does not answer in time is left out") {
    auto a = sys.spawn(inspected, "a", true);
    auto mute = sys.spawn(inspected, "mute", false);
    CHECK(names(sys, sys.spawn(collector, std::vector<caf::actor>{a, mute}))
          == std::vector<std::string>{"a", "collector"});
  }
}

} // namespace watercooler
