// Nodes against Erlang's own epmd on a private port: they register by name and find each other.
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <unistd.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const char* const epmd_binary = "/usr/bin/epmd";

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// NAMES_REQ: a 2-byte length (1), then 110; the answer is epmd's port (4 bytes, big endian)
// followed by "name <alive> at port <n>\n" lines.
std::string names_request(uint16_t epmd_port, uint32_t& answered_port) {
  auto response = raw_exchange(epmd_port, std::string("\x00\x01n", 3), in(10s));
  REQUIRE(response.size() >= 4);
  answered_port = 0;
  for (int i = 0; i < 4; ++i)
    answered_port = (answered_port << 8) | static_cast<unsigned char>(response[i]);
  return response.substr(4);
}

} // namespace

TEST_CASE("nodes register with a real epmd on ERL_EPMD_PORT and find each other through it") {
  if (::access(epmd_binary, X_OK) != 0) {
    MESSAGE("skipped: ", epmd_binary, " is absent");
    return;
  }
  sandbox sb;
  auto port = std::to_string(sb.epmd_port());
  child_process epmd; // foreground, never -daemon: killed by PID at scope exit
  epmd.spawn({epmd_binary, "-port", port}, {{"ERL_EPMD_PORT", port}}, sb.dir().file("epmd.log"));
  INFO("---- epmd log:\n", read_file(sb.dir().file("epmd.log")));
  auto deadline = in(10s);
  auto answers_names = [&] { // a real request, so epmd logs no half-open probe
    auto conn = connection::open(sb.epmd_port(), false, deadline);
    std::string response;
    if (conn == nullptr || !conn->write_all(std::string("\x00\x01n", 3), deadline))
      return false;
    while (conn->read_some(response, deadline) == connection::read_status::data) {
    }
    return response.size() >= 4;
  };
  while (!answers_names()) {
    REQUIRE(epmd.running());
    REQUIRE(clock::now() < deadline);
    std::this_thread::sleep_for(20ms);
  }

  auto config = sb.write_sys_config("sys.config", {"node1@127.0.0.1", "node2@127.0.0.1"}, 3000);
  auto& first = sb.start(sb.config("node1@127.0.0.1", config));
  auto& second = sb.start(sb.config("node2@127.0.0.1", config));
  INFO(describe({&first, &second}));
  first.require_ready();
  second.require_ready();

  SUBCASE("epmd -names lists both nodes") {
    std::string names;
    auto until = in(15s);
    do {
      auto result =
        run_process({epmd_binary, "-port", port, "-names"}, {{"ERL_EPMD_PORT", port}}, sb.dir());
      names = result.out;
      if (contains(names, "name node1 at port") && contains(names, "name node2 at port"))
        break;
      std::this_thread::sleep_for(100ms);
    } while (clock::now() < until);
    INFO("epmd -names: ", names);
    CHECK(contains(names, "name node1 at port "));
    CHECK(contains(names, "name node2 at port "));

    uint32_t answered_port = 0;
    auto lines = names_request(sb.epmd_port(), answered_port);
    INFO("NAMES_REQ: ", lines);
    CHECK(answered_port == sb.epmd_port());
    CHECK(contains(lines, "name node1 at port "));
    CHECK(contains(lines, "name node2 at port "));
  }

  SUBCASE("messages flow both ways") {
    sse_stream on1(first.port()), on2(second.port());
    require_flow(first, on2, in(20s));
    require_flow(second, on1, in(20s));
  }

  SUBCASE("a node killed with SIGKILL registers again when restarted") {
    second.kill(SIGKILL);
    second.start();
    second.require_ready();
    sse_stream on1(first.port()), on2(second.port());
    require_flow(first, on2, in(20s));
    require_flow(second, on1, in(20s));
    uint32_t answered_port = 0;
    auto lines = names_request(sb.epmd_port(), answered_port);
    INFO("NAMES_REQ: ", lines);
    CHECK(contains(lines, "name node2 at port "));
  }

  CHECK(first.stop() == 0);
  CHECK(second.stop() == 0);
  REQUIRE(epmd.running()); // epmd outlived the nodes
  epmd.kill();
}

} // namespace watercooler::integration
