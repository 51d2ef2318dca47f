// SIGTERM and SIGINT: the node ends every stream with a reconnect hint and exits 0, without
// waiting for slow clients; a second signal exits at once.
#include <atomic>
#include <csignal>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

// Reads until the server ends the stream; true if it did before the deadline.
bool ends(sse_stream& stream, clock::time_point deadline) {
  while (stream.next_event(deadline)) {
  }
  return stream.ended();
}

} // namespace

TEST_CASE("a stopping node ends its streams cleanly and exits 0") {
  for (int signal : {SIGTERM, SIGINT}) {
    CAPTURE(signal);
    sandbox sb;
    auto& node = sb.start(sb.config(""));
    node.require_ready();
    INFO(describe({&node}));
    sse_stream text(node.port());
    sse_stream json(node.port(), false, 10s, "/listen?format=json");
    sse_stream tls(node.secure_port(), true);
    std::vector<sse_stream*> all{&text, &json, &tls};
    publish_everywhere(node.port(), "before the stop", {&text, &tls});
    REQUIRE(::kill(node.pid(), signal) == 0);
    for (auto* stream : all)
      CHECK(ends(*stream, in(20s))); // ended by the server, not cut by a timeout
    CHECK(node.wait_exit(in(20s)) == 0);
    CHECK(node.log().find("watercooler: stopping on") != std::string::npos);
  }
}

TEST_CASE("a stopping node does not wait for a client that sends its request byte by byte") {
  sandbox sb;
  auto& node = sb.start(sb.config(""));
  node.require_ready();
  INFO(describe({&node}));
  sse_stream stream(node.port());
  // A request that never ends: one more byte every 200 ms keeps each read of it waiting.
  auto slow = connection::open(node.port(), false, in(10s));
  REQUIRE(slow);
  REQUIRE(slow->write_all("GET / HTTP/1.1\r\nHost: x\r\n", in(10s)));
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    while (!done && slow->write_all("X", in(1s)))
      std::this_thread::sleep_for(200ms);
  });
  REQUIRE(::kill(node.pid(), SIGTERM) == 0);
  auto code = node.wait_exit(in(20s)); // the trickle goes on all that time
  done = true;
  trickle.join();
  CHECK(code == 0);
  CHECK(ends(stream, in(10s)));
  // Which ends the wait depends on timing: the --read-timeout loop or the 1.5 s stop watchdog
  // ("exiting without open requests"). Either way the node exits 0 while the client trickles.
}

TEST_CASE("a stopping node says goodbye: its peers show it stopped, not lost") {
  sandbox sb;
  temp_dir dir;
  auto [first, second] = start_two_nodes(sb);
  INFO(describe({&first, &second}));
  sse_stream watch(first.port());
  require_flow(second, watch, in(30s));
  REQUIRE(::kill(second.pid(), SIGTERM) == 0);
  CHECK(second.wait_exit(in(20s)) == 0);
  auto deadline = in(20s);
  while (first.log().find("node node2@127.0.0.1 is stopping") == std::string::npos
         && clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  CHECK(first.log().find("node node2@127.0.0.1 is stopping") != std::string::npos);
  CHECK(first.log().find("lost node node2@127.0.0.1") == std::string::npos);
  // If node2 served the port mapper, lookups fail until node1 has taken it over: retry.
  std::string state;
  std::string last_output;
  for (auto until = in(20s); state != "stopped" && clock::now() < until;) {
    auto run = run_process(
      {WATERCOOLER_BINARY, "--inspect", "node1@127.0.0.1", "--only", "--json"},
      {{"ERL_EPMD_PORT", std::to_string(sb.epmd_port())}, {"HOME", sb.dir().path()}}, dir, 30s);
    last_output = run.out + run.err;
    auto doc = nlohmann::json::parse(run.out, nullptr, false);
    if (run.exit_code != 0 || doc.is_discarded())
      continue;
    for (const auto& peer : doc["nodes"][0]["peers"])
      if (peer["name"] == "node2@127.0.0.1")
        state = peer["state"];
  }
  INFO("last --inspect: ", last_output);
  CHECK(state == "stopped");
  // It is still a member: started again, it is back and caught up.
  second.start();
  second.require_ready();
  sse_stream back(second.port());
  require_flow(first, back, in(30s));
}

TEST_CASE("a second stop signal exits at once") {
  sandbox sb;
  auto& node = sb.start(sb.config(""));
  node.require_ready();
  INFO(describe({&node}));
  // Two different signals stay pending apart: the first starts the stop, the second ends it.
  REQUIRE(::kill(node.pid(), SIGTERM) == 0);
  REQUIRE(::kill(node.pid(), SIGINT) == 0);
  auto code = node.wait_exit(in(20s));
  REQUIRE(code.has_value());
  CHECK((*code == 128 + SIGINT || *code == 128 + SIGTERM));
  CHECK(node.log().find("again: exiting at once") != std::string::npos);
}

} // namespace watercooler::integration
