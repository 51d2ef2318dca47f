// watercooler --inspect against real nodes: exact sessions, messages and peer states, and errors.
#include <csignal>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const std::string node1 = "node1@127.0.0.1";
const std::string node2 = "node2@127.0.0.1";

run_result inspect(const sandbox& sb, const temp_dir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), WATERCOOLER_BINARY);
  return run_process(
    args, {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}, {"HOME", sb.dir().path()}}, dir, 30s);
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

const nlohmann::json* find_peer(const nlohmann::json& node, const std::string& name) {
  for (const auto& peer : node["peers"])
    if (peer["name"] == name)
      return &peer;
  return nullptr;
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
  const auto* peer2 = find_peer(*n1, node2);
  REQUIRE(peer2);
  CHECK((*peer2)["state"] == "connected");
  CHECK((*peer2)["address"] == "127.0.0.1:" + std::to_string((*n2)["dist_port"].get<int>()));
  CHECK((*peer2)["error"] == "");
  // Round trips are measured every second; the first may not have been yet.
  int64_t rtt = (*peer2)["rtt_us"];
  for (auto deadline = in(20s); rtt < 0 && clock::now() < deadline;) {
    auto doc = inspect_json(sb, dir, {"--inspect", node1, "--only"});
    const auto* p = find_peer(doc["nodes"][0], node2);
    REQUIRE(p);
    rtt = (*p)["rtt_us"];
  }
  CHECK(rtt >= 0);
  int session_events = 0;
  for (const auto& s : (*n1)["sessions"])
    session_events += s["events"].get<int>();
  int before_events = 0;
  for (const auto& s : (*n1_before)["sessions"])
    before_events += s["events"].get<int>();
  CHECK(session_events - before_events == 3 * 2);
  std::set<std::string> actor_names;
  for (const auto& a : (*n1)["actors"])
    actor_names.insert(a["name"].get<std::string>());
  for (const auto* expected : {"room", "cluster", "gate", "port_mapper", "link node2@127.0.0.1"})
    CHECK(actor_names.count(expected) == 1);

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
  SUBCASE("a peer killed with SIGKILL is shown reconnecting, and inspecting it fails clearly") {
    second.kill(SIGKILL);
    auto deadline = in(15s);
    std::string state;
    std::string error;
    while (state != "reconnecting" && clock::now() < deadline) {
      // If node2 served the port mapper, lookups fail until node1 has taken it over: retry.
      auto run = inspect(sb, dir, {"--inspect", node1, "--json"});
      if (run.exit_code != 0)
        continue;
      auto doc = nlohmann::json::parse(run.out, nullptr, false);
      REQUIRE(!doc.is_discarded());
      if (const auto* peer = find_peer(doc["nodes"][0], node2)) {
        state = (*peer)["state"];
        error = (*peer)["error"];
      }
    }
    CHECK(state == "reconnecting"); // node2 is in sys.config: node1 keeps dialling it
    CHECK(!error.empty());
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
              {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}, {"HOME", sb.dir().path()}}, log);
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

TEST_CASE("nodes with different cookies refuse each other, and so do their inspectors") {
  sandbox sb;
  temp_dir dir;
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 1000);
  auto c1 = sb.config(node1, config);
  c1.extra_args = {"--cookie", "alpha"};
  auto c2 = sb.config(node2, config);
  c2.extra_args = {"--cookie", "beta"};
  auto& first = sb.start(c1);
  auto& second = sb.start(c2);
  INFO(describe({&first, &second}));
  first.require_ready();
  second.require_ready();

  // node1 keeps dialling node2 and is told why it cannot get in.
  std::string state;
  std::string error;
  for (auto deadline = in(20s); error.empty() && clock::now() < deadline;) {
    auto doc = inspect_json(sb, dir, {"--inspect", node1, "--only", "--cookie", "alpha"});
    if (const auto* peer = find_peer(doc["nodes"][0], node2)) {
      state = (*peer)["state"];
      error = (*peer)["error"];
    }
    if (error.find("wrong cookie") == std::string::npos)
      error.clear();
  }
  CHECK(state == "down");
  CHECK(error == "refused by node2@127.0.0.1: wrong cookie");
  CHECK(first.log().find("refused node node2@127.0.0.1: wrong cookie") != std::string::npos);
  CHECK(second.log().find("refused node node1@127.0.0.1: wrong cookie") != std::string::npos);
  CHECK(first.log().find("connected to node") == std::string::npos);

  // An inspector with the wrong cookie gets one clear line and exit code 1.
  auto wrong = inspect(sb, dir, {"--inspect", node1, "--cookie", "beta"});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err == "watercooler: cannot inspect node1@127.0.0.1: refused: wrong cookie\n");
  CHECK(first.log().find("refused an inspection") != std::string::npos);
  // Without --cookie it reads ~/.erlang.cookie, which the nodes made but do not use.
  auto from_file = inspect(sb, dir, {"--inspect", node2});
  CHECK(from_file.exit_code == 1);
  CHECK(from_file.err.find("wrong cookie") != std::string::npos);
}

TEST_CASE("nodes without --cookie share ~/.erlang.cookie, made owner-only on first start") {
  sandbox sb;
  start_two_nodes(sb); // both up and connected to each other
  struct stat st {};
  REQUIRE(::stat((sb.dir().path() + "/.erlang.cookie").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0400);
  CHECK(st.st_size == 20);
}

TEST_CASE("--inspect of a hung node ends with a clear error instead of hanging") {
  sandbox sb;
  temp_dir dir;
  // node1 first, so that it serves the port mapper: the stopped node2 must not hold it.
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 3000);
  auto& first = sb.start(sb.config(node1, config));
  first.require_ready();
  auto& second = sb.start(sb.config(node2, config));
  second.require_ready();
  INFO(describe({&first, &second}));
  REQUIRE(::kill(second.pid(), SIGSTOP) == 0);
  auto hung = inspect(sb, dir, {"--inspect", node2, "--only"});
  INFO("stderr: ", hung.err);
  CHECK(hung.exit_code == 1); // not nullopt: it ended by itself
  CHECK(hung.err.rfind("watercooler: cannot inspect node2@127.0.0.1: ", 0) == 0);
  // Its peer still answers and shows what it knows of node2.
  auto alive = inspect(sb, dir, {"--inspect", node1});
  INFO("stderr of the second: ", alive.err);
  CHECK(alive.exit_code == 0);
  CHECK(alive.out.find(node1) != std::string::npos);
  ::kill(second.pid(), SIGCONT);
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
