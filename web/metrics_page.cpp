// GET /metrics : the node's counters in the Prometheus text exposition format (version 0.0.4).
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "web/actions.hpp"

namespace watercooler {

namespace {

// Label values are quoted; backslash, quote and newline are escaped (exposition format spec).
std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The shortest text that reads back as `x`: "0.0005", not "0.00050000000000000001".
std::string number(double x) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x)
      break;
  }
  return buf;
}

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

} // namespace

std::string render_metrics(const node_metrics& m) {
  std::ostringstream out;
  family(out, "watercooler_sessions", "gauge", "Event streams open now.");
  out << "watercooler_sessions " << m.sessions.load() << '\n';
  family(out, "watercooler_sessions_fell_behind_total", "counter",
         "Event streams ended because their client could not keep up (it resumes).");
  out << "watercooler_sessions_fell_behind_total " << m.fell_behind.load() << '\n';
  family(out, "watercooler_presence_people", "gauge",
         "People present in the cluster (browsers with a stream open on some node), as this node "
         "sees it.");
  out << "watercooler_presence_people " << m.present.load() << '\n';
  family(out, "watercooler_presence_local_people", "gauge",
         "Of them, people with a stream open on this node (or within the grace period).");
  out << "watercooler_presence_local_people " << m.present_here.load() << '\n';
  family(out, "watercooler_presence_listeners", "gauge",
         "Event streams in the cluster that count no person (anonymous listeners).");
  out << "watercooler_presence_listeners " << m.listeners.load() << '\n';
  family(out, "watercooler_presence_refused_total", "counter",
         "Clients served as anonymous listeners: over --max-present-per-address (address) or "
         "--max-present (total).");
  out << "watercooler_presence_refused_total{reason=\"address\"} "
      << m.presence_refused_per_address.load() << '\n';
  out << "watercooler_presence_refused_total{reason=\"total\"} " << m.presence_refused_in_all.load()
      << '\n';
  family(out, "watercooler_connections", "gauge",
         "HTTP and HTTPS connections open now, event streams not counted.");
  out << "watercooler_connections " << m.connections.load() << '\n';
  family(out, "watercooler_connections_refused_total", "counter",
         "Connections refused at accept: over --max-connections-per-address (address) or "
         "--max-connections (total).");
  out << "watercooler_connections_refused_total{reason=\"address\"} "
      << m.refused_per_address.load() << '\n';
  out << "watercooler_connections_refused_total{reason=\"total\"} " << m.refused_in_all.load()
      << '\n';
  family(out, "watercooler_h2_reset_floods_total", "counter",
         "HTTP/2 connections ended with GOAWAY for resetting streams faster than --h2-max-resets "
         "allows (rapid reset, CVE-2023-44487).");
  out << "watercooler_h2_reset_floods_total " << m.reset_floods.load() << '\n';
  family(out, "watercooler_messages_published_total", "counter",
         "Messages published on this node.");
  out << "watercooler_messages_published_total " << m.published.load() << '\n';
  family(out, "watercooler_messages_received_total", "counter",
         "Messages received from peer nodes.");
  out << "watercooler_messages_received_total " << m.received.load() << '\n';
  family(out, "watercooler_messages_delivered_total", "counter",
         "Events written to local streams, one per stream.");
  out << "watercooler_messages_delivered_total " << m.delivered.load() << '\n';
  family(out, "watercooler_messages_dropped_total", "counter",
         "Duplicate or malformed messages from peers, dropped.");
  out << "watercooler_messages_dropped_total " << m.dropped.load() << '\n';
  family(out, "watercooler_sent_bytes_total", "counter", "Bytes written to local streams.");
  out << "watercooler_sent_bytes_total " << m.bytes_sent.load() << '\n';

  auto peers = m.peers();
  family(out, "watercooler_peer_up", "gauge", "1 if the peer node is connected, else 0.");
  for (const auto& [peer, counts] : peers)
    out << "watercooler_peer_up{node=\"" << label_value(peer) << "\"} "
        << (counts.state == "connected" ? 1 : 0) << '\n';
  family(out, "watercooler_peer_forwarded_total", "counter",
         "Messages published here and forwarded to the peer node.");
  for (const auto& [peer, counts] : peers)
    out << "watercooler_peer_forwarded_total{node=\"" << label_value(peer) << "\"} "
        << counts.forwarded << '\n';
  family(out, "watercooler_peer_rtt_seconds", "gauge",
         "Last round trip to a connected peer node, in seconds.");
  for (const auto& [peer, counts] : peers)
    if (counts.rtt_us >= 0)
      out << "watercooler_peer_rtt_seconds{node=\"" << label_value(peer) << "\"} "
          << static_cast<double>(counts.rtt_us) / 1e6 << '\n';

  family(out, "watercooler_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, count] : m.requests())
    out << "watercooler_http_requests_total{route=\"" << label_value(key.first) << "\",status=\""
        << key.second << "\"} " << count << '\n';

  auto latency = m.latency.read();
  family(out, "watercooler_delivery_latency_seconds", "histogram",
         "From a message's publish on its origin node to its write to a stream here.");
  for (size_t i = 0; i < latency_histogram::bounds.size(); ++i)
    out << "watercooler_delivery_latency_seconds_bucket{le=\""
        << number(latency_histogram::bounds[i]) << "\"} " << latency.cumulative[i] << '\n';
  out << "watercooler_delivery_latency_seconds_bucket{le=\"+Inf\"} " << latency.count << '\n';
  out << "watercooler_delivery_latency_seconds_sum " << number(latency.sum_seconds) << '\n';
  out << "watercooler_delivery_latency_seconds_count " << latency.count << '\n';
  return out.str();
}

void metrics_page(const web_context& context, const httplib::Request&, httplib::Response& res) {
  res.set_content(render_metrics(*context.metrics), "text/plain; version=0.0.4; charset=utf-8");
}

} // namespace watercooler
