// watercooler --inspect against real nodes: exact sessions, messages and peer states, and errors.
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const std::string node1 = "node1@127.0.0.1";
const std::string node2 = "node2@127.0.0.1";

run_result inspect(const sandbox& sb, const temp_dir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), WATERCOOLER_BINARY);
  return run_process(args, {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}}, dir, 30s);
}

nlohmann::json inspect_json(const sandbox& sb, const temp_dir& dir, std::vector<std::string> args) {
  args.push_back("--json");
  auto run = inspect(sb, dir, args);
  INFO("stdout: ", run.out, "\nstderr: ", run.err);
  REQUIRE(run.exit_code == 0);
  auto doc = nlohmann::json::parse(run.out, nullptr, false);
  REQUIRE(!doc.is_discarded());
  return doc;
}

const nlohmann::json* find_node(const nlohmann::json& doc, const std::string& name) {
  for (const auto& node : doc["nodes"])
    if (node["name"] == name)
      return &node;
  return nullptr;
}

} // namespace

TEST_CASE("--inspect reports the sessions, messages and peers of a node and its peers") {
  sandbox sb;
  temp_dir dir;
  auto [first, second] = start_two_nodes(sb);
  INFO(describe({&first, &second}));
  sse_stream a1(first.port()), a2(first.port()), b1(second.port());
  std::vector<sse_stream*> all{&a1, &a2, &b1};
  require_flow(first, b1, in(20s));
  require_flow(second, a1, in(20s));
  publish_everywhere(first.port(), "marker", all);

  auto before = inspect_json(sb, dir, {"--inspect", node1});
  for (int i = 0; i < 3; ++i)
    publish_everywhere(first.port(), "counted #" + std::to_string(i), all);
  auto after = inspect_json(sb, dir, {"--inspect", node1});

  REQUIRE(after["nodes"].size() == 2);
  CHECK(after["nodes"][0]["name"] == node1);
  const auto* n1 = find_node(after, node1);
  const auto* n2 = find_node(after, node2);
  const auto* n1_before = find_node(before, node1);
  REQUIRE(n1);
  REQUIRE(n2);
  REQUIRE(n1_before);
  CHECK((*n1)["room"]["members"] == 2);
  CHECK((*n1)["sessions"].size() == 2);
  CHECK((*n2)["room"]["members"] == 1);
  CHECK((*n2)["sessions"].size() == 1);
  CHECK((*n1)["room"]["published"].get<int>() - (*n1_before)["room"]["published"].get<int>() == 3);
  CHECK((*n1)["http_port"] == first.port());
  CHECK((*n1)["version"] == "0.1.0");
  bool node2_connected = false;
  for (const auto& peer : (*n1)["peers"])
    if (peer["name"] == node2)
      node2_connected = peer["state"] == "connected";
  CHECK(node2_connected);
  int session_events = 0;
  for (const auto& s : (*n1)["sessions"])
    session_events += s["events"].get<int>();
  int before_events = 0;
  for (const auto& s : (*n1_before)["sessions"])
    before_events += s["events"].get<int>();
  CHECK(session_events - before_events == 3 * 2);
  bool saw_actors = false;
  for (const auto& a : (*n1)["actors"])
    saw_actors = saw_actors || a["name"] == "cluster";
  CHECK(saw_actors);

  SUBCASE("the table shows the same, aligned for people") {
    auto run = inspect(sb, dir, {"--inspect", node1});
    INFO("stdout: ", run.out, "\nstderr: ", run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.out.find(node1) != std::string::npos);
    CHECK(run.out.find(node2) != std::string::npos);
    CHECK(run.out.find("connected") != std::string::npos);
    CHECK(run.out.find("sessions") != std::string::npos);
  }
  SUBCASE("--only leaves the peers out") {
    auto doc = inspect_json(sb, dir, {"--inspect", node1, "--only"});
    CHECK(doc["nodes"].size() == 1);
  }
  SUBCASE("a peer killed with SIGKILL is shown down, and inspecting it fails clearly") {
    second.kill(SIGKILL);
    auto deadline = in(15s);
    std::string state;
    while (state != "down" && clock::now() < deadline) {
      // If node2 served the port mapper, lookups fail until node1 has taken it over: retry.
      auto run = inspect(sb, dir, {"--inspect", node1, "--json"});
      if (run.exit_code != 0)
        continue;
      auto doc = nlohmann::json::parse(run.out, nullptr, false);
      REQUIRE(!doc.is_discarded());
      for (const auto& peer : doc["nodes"][0]["peers"])
        if (peer["name"] == node2)
          state = peer["state"];
    }
    CHECK(state == "down");
    auto run = inspect(sb, dir, {"--inspect", node2});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("cannot inspect node2@127.0.0.1") != std::string::npos);
  }
}

TEST_CASE("--inspect --watch refreshes with rates until interrupted") {
  sandbox sb;
  temp_dir dir;
  auto& node = sb.start(sb.config(node1));
  node.require_ready();
  sse_stream listener(node.port());
  child_process watch;
  auto log = dir.file("watch.log");
  watch.spawn({WATERCOOLER_BINARY, "--inspect", node1, "--watch", "1"},
              {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}}, log);
  // Publish while it watches until a refresh shows this session's rate.
  auto deadline = in(20s);
  bool rated = false;
  for (int i = 0; !rated && clock::now() < deadline; ++i) {
    REQUIRE(publish(node.port(), "tick " + std::to_string(i)) == 303);
    REQUIRE(listener.wait_for("tick " + std::to_string(i), in(10s)));
    auto text = read_file(log);
    rated = text.find("events/s") != std::string::npos;
    std::this_thread::sleep_for(200ms); // paces the publishing, not an assertion
  }
  INFO("watch output: ", read_file(log));
  CHECK(rated);
  CHECK(read_file(log).find("\033[H\033[2J") != std::string::npos);
  CHECK(watch.running());
  ::kill(watch.pid(), SIGINT);
  CHECK(watch.wait_exit(in(10s)) == 0);
}

TEST_CASE("--inspect fails with one clear line for unknown nodes and bad names") {
  sandbox sb;
  temp_dir dir;
  SUBCASE("no port mapper answers") {
    auto run = inspect(sb, dir, {"--inspect", "ghost@127.0.0.1"});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("no port mapper") != std::string::npos);
  }
  SUBCASE("the port mapper does not know the node") {
    auto& only = sb.start(sb.config(node1));
    only.require_ready();
    auto run = inspect(sb, dir, {"--inspect", "ghost@127.0.0.1"});
    CHECK(run.exit_code == 1);
    CHECK(run.err.find("not registered") != std::string::npos);
  }
  SUBCASE("a malformed name is a usage error") {
    auto run = inspect(sb, dir, {"--inspect", "no name"});
    CHECK(run.exit_code == 2);
  }
  SUBCASE("--json without --inspect is a usage error") {
    auto run = inspect(sb, dir, {"--json"});
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("--inspect") != std::string::npos);
  }
}

} // namespace watercooler::integration
