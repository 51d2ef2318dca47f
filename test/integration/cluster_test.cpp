// Several real nodes on 127.0.0.1 sharing a private port mapper: publish on one, listen on another.
#include <csignal>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const std::string node1 = "node1@127.0.0.1";
const std::string node2 = "node2@127.0.0.1";
const std::string node3 = "node3@127.0.0.1";

// Publishes `text` on `port` and REQUIREs that every listener hears it (probes aside).
void require_everywhere(uint16_t port, const std::string& text,
                        const std::vector<sse_stream*>& listeners) {
  REQUIRE(publish(port, text) == 303);
  for (auto* listener : listeners) {
    auto heard =
      listener->read_until([&](const std::string& data) { return data == text; }, in(15s));
    CAPTURE(text);
    REQUIRE_MESSAGE((!heard.empty() && heard.back() == text), "a listener missed the message");
  }
}

} // namespace

TEST_CASE("two nodes of one sys.config deliver every message to every listener once, in order") {
  sandbox sb;
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 3000);
  auto& first = sb.start(sb.config(node1, config));
  auto second_config = sb.config(node2, config);
  second_config.config_via_erl = false; // --config FILE
  auto& second = sb.start(second_config);
  INFO(describe({&first, &second}));
  first.require_ready();
  second.require_ready();

  sse_stream a1(first.port()), b1(first.port()), a2(second.port()), b2(second.port());
  require_flow(first, a2, in(20s));
  require_flow(second, a1, in(20s));

  const int per_node = 10;
  auto text = [](int node, int i) {
    return "from node" + std::to_string(node) + " #" + std::to_string(i);
  };
  for (int i = 0; i < per_node; ++i) {
    CHECK(publish(first.port(), text(1, i)) == 303);
    CHECK(publish(second.port(), text(2, i)) == 303);
  }
  // Per origin delivery is ordered, so a duplicate would show up before the end marker.
  CHECK(publish(first.port(), "end of node1") == 303);
  CHECK(publish(second.port(), "end of node2") == 303);

  std::map<std::string, sse_stream*> listeners{
    {"a on node1", &a1}, {"b on node1", &b1}, {"a on node2", &a2}, {"b on node2", &b2}};
  for (const auto& [label, listener] : listeners) {
    CAPTURE(label);
    int ends = 0;
    auto heard = listener->read_until(
      [&](const std::string& data) { return data.rfind("end of ", 0) == 0 && ++ends == 2; },
      in(20s));
    std::vector<std::string> from1, from2;
    for (const auto& data : heard) {
      if (data.rfind("from node1 ", 0) == 0)
        from1.push_back(data);
      else if (data.rfind("from node2 ", 0) == 0)
        from2.push_back(data);
    }
    std::vector<std::string> expected1, expected2;
    for (int i = 0; i < per_node; ++i) {
      expected1.push_back(text(1, i));
      expected2.push_back(text(2, i));
    }
    CHECK(ends == 2);
    CHECK(heard.size() == 2 * per_node + 2);
    CHECK(from1 == expected1);
    CHECK(from2 == expected2);
  }

  SUBCASE("each page names its own node") {
    for (const auto* node : {&first, &second}) {
      auto res = http_client(node->port())->Get("/");
      REQUIRE(res);
      CHECK(res->body.find("<h2>Node: " + node->name() + "</h2>") != std::string::npos);
    }
  }
  SUBCASE("a stream is registered cluster-wide once its head has arrived") {
    sse_stream late(second.port());
    require_everywhere(first.port(), "for the late listener", {&late});
  }
  SUBCASE("SIGTERM stops connected nodes with exit code 0") {
    CHECK(first.stop() == 0);
    CHECK(second.stop() == 0);
  }
}

TEST_CASE("a node started 3 s after the first still joins it") {
  sandbox sb;
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 3000);
  auto started = clock::now();
  auto& first = sb.start(sb.config(node1, config));
  std::this_thread::sleep_until(started + 3s); // set-up, not an assertion
  auto& second = sb.start(sb.config(node2, config));
  INFO(describe({&first, &second}));
  first.require_ready();
  second.require_ready();

  sse_stream on1(first.port()), on2(second.port());
  require_flow(first, on2, in(20s));
  require_flow(second, on1, in(20s));
  require_everywhere(first.port(), "hello from node1\nline two: caf\xc3\xa9", {&on1, &on2});
  require_everywhere(second.port(), "hello from node2", {&on1, &on2});
}

TEST_CASE("a node killed with SIGKILL leaves the other serving and rejoins when restarted") {
  sandbox sb;
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 3000);
  auto& first = sb.start(sb.config(node1, config)); // started first: serves the port mapper
  first.require_ready();
  auto& second = sb.start(sb.config(node2, config));
  INFO(describe({&first, &second}));
  second.require_ready();
  {
    sse_stream on1(first.port()), on2(second.port());
    require_flow(first, on2, in(20s));
    require_flow(second, on1, in(20s));
  }

  auto kill_and_restart = [](node_process& victim, node_process& survivor) {
    sse_stream survivor_listener(survivor.port());
    sse_stream victim_listener(victim.port());
    victim.kill(SIGKILL);
    // The victim's streams end; the survivor keeps serving its own listeners.
    CHECK_FALSE(victim_listener.next_event(10s).has_value());
    CHECK(victim_listener.ended());
    require_everywhere(survivor.port(), "alone on " + survivor.name(), {&survivor_listener});
    auto res = http_client(survivor.port())->Get("/");
    REQUIRE(res);
    CHECK(res->status == 200);

    victim.start(); // same name, ports and port mapper
    victim.require_ready();
    sse_stream restarted_listener(victim.port());
    require_flow(survivor, restarted_listener, in(20s));
    require_flow(victim, survivor_listener, in(20s));
    require_everywhere(survivor.port(), "welcome back " + victim.name(),
                       {&survivor_listener, &restarted_listener});
    require_everywhere(victim.port(), "hello again from " + victim.name(),
                       {&survivor_listener, &restarted_listener});
  };

  SUBCASE("the node started second") {
    kill_and_restart(second, first);
  }
  SUBCASE("the node started first, which served the port mapper") {
    kill_and_restart(first, second);
    SUBCASE("and then the other one") {
      kill_and_restart(second, first);
    }
  }
}

TEST_CASE("a node missing from the others' sys.config joins and is meshed with all of them") {
  sandbox sb;
  auto config = sb.write_sys_config("sys.config", {node1, node2}, 3000);
  auto only_node1 = sb.write_sys_config("node3.config", {node1}, 3000);
  auto& first = sb.start(sb.config(node1, config));
  auto& second = sb.start(sb.config(node2, config));
  INFO(describe({&first, &second}));
  first.require_ready();
  second.require_ready();
  auto& third = sb.start(sb.config(node3, only_node1));
  INFO(third.describe());
  third.require_ready();

  sse_stream on1(first.port()), on2(second.port()), on3(third.port());
  require_flow(second, on3, in(20s));
  require_flow(third, on2, in(20s));
  require_flow(first, on3, in(20s));
  require_flow(third, on1, in(20s));
  require_everywhere(second.port(), "from node2 to everyone", {&on1, &on2, &on3});
  require_everywhere(third.port(), "from node3 to everyone", {&on1, &on2, &on3});
}

} // namespace watercooler::integration
