// The Prometheus exposition of a node's counters: names, types, labels and the histogram.
#include <doctest/doctest.h>

#include "web/actions.hpp"

namespace watercooler {

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("metrics are exposed with their types and current values") {
  node_metrics m;
  m.published = 4;
  m.received = 2;
  m.delivered = 18;
  m.sessions = 3;
  m.peer_connected("node2@127.0.0.1", "127.0.0.1:4370");
  m.peer_rtt("node2@127.0.0.1", 1500);
  m.forwarded_to("node2@127.0.0.1");
  m.request("/publish", 303);
  m.request("/publish", 303);
  auto text = render_metrics(m);
  CHECK(has_line(text, "# TYPE watercooler_sessions gauge"));
  CHECK(has_line(text, "watercooler_sessions 3"));
  CHECK(has_line(text, "# TYPE watercooler_messages_published_total counter"));
  CHECK(has_line(text, "watercooler_messages_published_total 4"));
  CHECK(has_line(text, "watercooler_messages_received_total 2"));
  CHECK(has_line(text, "watercooler_messages_delivered_total 18"));
  CHECK(has_line(text, "watercooler_peer_up{node=\"node2@127.0.0.1\"} 1"));
  CHECK(has_line(text, "watercooler_peer_forwarded_total{node=\"node2@127.0.0.1\"} 1"));
  CHECK(has_line(text, "watercooler_peer_rtt_seconds{node=\"node2@127.0.0.1\"} 0.0015"));
  CHECK(has_line(text, "watercooler_http_requests_total{route=\"/publish\",status=\"303\"} 2"));
}

TEST_CASE("the latency histogram is cumulative and ends with +Inf, sum and count") {
  node_metrics m;
  m.latency.observe(300);     // 0.3 ms
  m.latency.observe(20000);   // 20 ms
  m.latency.observe(9000000); // 9 s: above every bound
  auto text = render_metrics(m);
  CHECK(has_line(text, "# TYPE watercooler_delivery_latency_seconds histogram"));
  CHECK(has_line(text, "watercooler_delivery_latency_seconds_bucket{le=\"0.0005\"} 1"));
  CHECK(has_line(text, "watercooler_delivery_latency_seconds_bucket{le=\"0.025\"} 2"));
  CHECK(has_line(text, "watercooler_delivery_latency_seconds_bucket{le=\"2.5\"} 2"));
  CHECK(has_line(text, "watercooler_delivery_latency_seconds_bucket{le=\"+Inf\"} 3"));
  CHECK(has_line(text, "watercooler_delivery_latency_seconds_count 3"));
  CHECK(has_line(text, "watercooler_delivery_latency_seconds_sum 9.0203"));
}

TEST_CASE("label values escape backslash, quote and newline") {
  node_metrics m;
  m.peer_lost("a\"b\\c\nd", true);
  CHECK(has_line(render_metrics(m), "watercooler_peer_up{node=\"a\\\"b\\\\c\\nd\"} 0"));
}

} // namespace watercooler
