// GET /metrics on two real nodes: exactly the streams and messages the test made, read back
// through the Prometheus reference parser.
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "test/integration/harness.hpp"

namespace watercooler::integration {

namespace {

const std::string node1 = "node1@127.0.0.1";
const std::string node2 = "node2@127.0.0.1";

// Every sample of the node's /metrics, validated by parse_metrics.py.
std::map<std::string, double> scrape(const node_process& node, const temp_dir& dir) {
  auto client = http_client(node.port());
  auto res = client->Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  auto path = dir.write("metrics.txt", res->body);
  auto parsed = run_process(
    {"/usr/bin/python3", WATERCOOLER_SOURCE_DIR "/test/integration/parse_metrics.py", path}, {},
    dir);
  INFO("exposition:\n", res->body, "\nparser: ", parsed.err);
  REQUIRE(parsed.exit_code == 0);
  std::map<std::string, double> samples;
  std::istringstream lines(parsed.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

double delta(std::map<std::string, double>& after, std::map<std::string, double>& before,
             const std::string& key) {
  return after[key] - before[key];
}

} // namespace

TEST_CASE("metrics count exactly the streams, messages and peers of two nodes") {
  sandbox sb;
  auto [first, second] = start_two_nodes(sb);
  INFO(describe({&first, &second}));
  temp_dir scratch;

  sse_stream a1(first.port()), a2(first.port()), a3(first.port());
  sse_stream b1(second.port()), b2(second.port());
  std::vector<sse_stream*> all{&a1, &a2, &a3, &b1, &b2};
  require_flow(first, b1, in(20s));
  require_flow(second, a1, in(20s));
  // Everything before these markers has reached every stream: the counts start from here.
  publish_everywhere(first.port(), "marker 1", all);
  publish_everywhere(second.port(), "marker 2", all);
  auto before1 = scrape(first, scratch);
  auto before2 = scrape(second, scratch);

  for (int i = 0; i < 4; ++i)
    publish_everywhere(first.port(), "one #" + std::to_string(i), all);
  for (int i = 0; i < 2; ++i)
    publish_everywhere(second.port(), "two #" + std::to_string(i), all);
  auto after1 = scrape(first, scratch);
  auto after2 = scrape(second, scratch);

  CHECK(after1["watercooler_sessions"] == 3);
  CHECK(after2["watercooler_sessions"] == 2);
  CHECK(delta(after1, before1, "watercooler_messages_published_total") == 4);
  CHECK(delta(after2, before2, "watercooler_messages_published_total") == 2);
  CHECK(delta(after1, before1, "watercooler_messages_received_total") == 2);
  CHECK(delta(after2, before2, "watercooler_messages_received_total") == 4);
  CHECK(delta(after1, before1, "watercooler_messages_delivered_total") == 6 * 3);
  CHECK(delta(after2, before2, "watercooler_messages_delivered_total") == 6 * 2);
  CHECK(delta(after1, before1, "watercooler_delivery_latency_seconds_count") == 6 * 3);
  CHECK(after1["watercooler_delivery_latency_seconds_bucket{le=\"+Inf\"}"]
        == after1["watercooler_delivery_latency_seconds_count"]);
  CHECK(delta(after1, before1, "watercooler_sent_bytes_total") > 0);
  CHECK(after1["watercooler_messages_dropped_total"] == 0);
  CHECK(after1["watercooler_peer_up{node=\"node2@127.0.0.1\"}"] == 1);
  CHECK(after2["watercooler_peer_up{node=\"node1@127.0.0.1\"}"] == 1);
  CHECK(delta(after1, before1, "watercooler_peer_forwarded_total{node=\"node2@127.0.0.1\"}") == 4);
  CHECK(delta(after1, before1, "watercooler_http_requests_total{route=\"/publish\",status=\"303\"}")
        == 4);
  CHECK(delta(after1, before1, "watercooler_http_requests_total{route=\"/metrics\",status=\"200\"}")
        == 1);

  SUBCASE("a peer killed with SIGKILL is reported down") {
    second.kill(SIGKILL);
    auto deadline = in(15s);
    double up = 1;
    while (up != 0 && clock::now() < deadline) {
      up = scrape(first, scratch)["watercooler_peer_up{node=\"node2@127.0.0.1\"}"];
      std::this_thread::sleep_for(100ms); // polling until the node notices
    }
    CHECK(up == 0);
  }
  SUBCASE("closed streams leave the sessions gauge") {
    // Closing is seen asynchronously: poll until the gauge drops.
    std::vector<std::unique_ptr<sse_stream>> extra;
    for (int i = 0; i < 4; ++i)
      extra.push_back(std::make_unique<sse_stream>(first.port()));
    auto deadline = in(15s);
    double open = 0;
    while (open != 7 && clock::now() < deadline) {
      open = scrape(first, scratch)["watercooler_sessions"];
      std::this_thread::sleep_for(50ms);
    }
    CHECK(open == 7);
    extra.clear();
    while (open != 3 && clock::now() < deadline) {
      open = scrape(first, scratch)["watercooler_sessions"];
      std::this_thread::sleep_for(50ms);
    }
    CHECK(open == 3);
  }
}

} // namespace watercooler::integration
