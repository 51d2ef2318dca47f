// Renders --inspect reports: an aligned table for people, a stable JSON document for scripts.
#include "app/inspect_output.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <limits>

#include <nlohmann/json.hpp>

namespace watercooler {

namespace {

struct column {
  std::string header;
  bool right = false; // numbers are right-aligned
};

using row = std::vector<std::string>;

// The strings come from another process: keep its control characters off our terminal.
std::string printable(const std::string& text) {
  std::string out = text;
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = '?';
  return out;
}

std::string pad(const std::string& text, size_t width, bool right) {
  std::string fill(width > text.size() ? width - text.size() : 0, ' ');
  return right ? fill + text : text + fill;
}

// Indented by two, columns two apart, widths from the widest cell, no trailing spaces.
std::string render_rows(const std::vector<column>& columns, const std::vector<row>& rows) {
  if (rows.empty())
    return "  (none)\n";
  std::vector<size_t> widths;
  for (const auto& col : columns)
    widths.push_back(col.header.size());
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], r[i].size());
  auto line = [&](auto&& cell) {
    std::string out = " ";
    for (size_t i = 0; i < columns.size(); ++i)
      out += ' ' + pad(cell(i), widths[i], columns[i].right) + ' ';
    out.erase(out.find_last_not_of(' ') + 1);
    return out + '\n';
  };
  std::string out = line([&](size_t i) { return columns[i].header; });
  for (const auto& r : rows)
    out += line([&](size_t i) { return i < r.size() ? r[i] : std::string{}; });
  return out;
}

// `to - from`, or 0 if `to` is earlier; a peer's absurd clocks saturate rather than overflow.
int64_t elapsed_ms(int64_t from, int64_t to) {
  if (to <= from)
    return 0;
  auto ms = static_cast<uint64_t>(to) - static_cast<uint64_t>(from);
  return static_cast<int64_t>(std::min<uint64_t>(ms, std::numeric_limits<int64_t>::max()));
}

// "4.0s ago" under a minute, else "3m 10s ago"; "-" for a time the node never set.
std::string format_age(int64_t then_ms, int64_t now_ms) {
  if (then_ms == 0)
    return "-";
  auto ms = elapsed_ms(then_ms, now_ms);
  if (ms >= 60'000)
    return format_duration_ms(ms) + " ago";
  auto tenths = ms / 100;
  return std::to_string(tenths / 10) + '.' + std::to_string(tenths % 10) + "s ago";
}

// "0.42 ms", "12.3 ms", "1.20 s"; "-" when there was no answer (yet).
std::string format_rtt(int64_t us) {
  if (us < 0)
    return "-";
  char text[32];
  if (us < 10'000)
    std::snprintf(text, sizeof(text), "%.2f ms", static_cast<double>(us) / 1000.0);
  else if (us < 1'000'000)
    std::snprintf(text, sizeof(text), "%.1f ms", static_cast<double>(us) / 1000.0);
  else
    std::snprintf(text, sizeof(text), "%.2f s", static_cast<double>(us) / 1e6);
  return text;
}

int64_t uptime_ms(const node_report& node) {
  return elapsed_ms(node.started_ms, node.now_ms);
}

std::string port(uint16_t number) {
  return number == 0 ? "off" : std::to_string(number);
}

std::string render_node(const node_report& n) {
  std::string out = printable(n.name) + "  watercooler " + printable(n.version) + "  up "
                    + format_duration_ms(uptime_ms(n)) + "  http " + port(n.http_port) + "  https "
                    + port(n.https_port) + "  dist " + port(n.dist_port) + "  scheduler threads "
                    + std::to_string(n.scheduler_threads) + '\n';
  out += "room: " + std::to_string(n.members) + (n.members == 1 ? " member, " : " members, ")
         + std::to_string(n.published) + " published here, " + std::to_string(n.delivered)
         + " delivered here, " + std::to_string(n.received) + " received from peers\n";
  out += "presence: " + std::to_string(n.present) + (n.present == 1 ? " person" : " people")
         + " in the cluster, " + std::to_string(n.present_here) + " here, "
         + std::to_string(n.listeners) + (n.listeners == 1 ? " listener" : " listeners")
         + " without a name in the cluster\n";

  std::vector<row> peers;
  for (const auto& p : n.peers)
    peers.push_back({printable(p.name), p.address.empty() ? "-" : printable(p.address),
                     printable(p.state), format_age(p.since_ms, n.now_ms), format_rtt(p.rtt_us),
                     std::to_string(p.forwarded), std::to_string(p.received), printable(p.error)});
  out += "\npeers\n"
         + render_rows({{"NAME"},
                        {"ADDRESS"},
                        {"STATE"},
                        {"SINCE"},
                        {"RTT", true},
                        {"FORWARDED", true},
                        {"RECEIVED", true},
                        {"LAST ERROR"}},
                       peers);

  std::vector<row> sessions;
  for (const auto& s : n.sessions)
    sessions.push_back({printable(s.id), printable(s.client), format_age(s.since_ms, n.now_ms),
                        std::to_string(s.events), format_bytes(s.bytes), std::to_string(s.queued),
                        format_age(s.last_active_ms, n.now_ms)});
  out += "\nsessions\n"
         + render_rows({{"ID"},
                        {"CLIENT"},
                        {"CONNECTED"},
                        {"EVENTS", true},
                        {"BYTES", true},
                        {"QUEUED", true},
                        {"LAST ACTIVE"}},
                       sessions);

  std::vector<row> actors;
  for (const auto& a : n.actors)
    actors.push_back({printable(a.name), printable(a.kind), std::to_string(a.queued)});
  out += "\nactors\n" + render_rows({{"NAME"}, {"KIND"}, {"QUEUED", true}}, actors);
  return out;
}

// Keys in the order written here, so the document reads like the table.
nlohmann::ordered_json to_json(const node_report& n) {
  auto peers = nlohmann::ordered_json::array();
  for (const auto& p : n.peers)
    peers.push_back({{"name", p.name},
                     {"address", p.address},
                     {"state", p.state},
                     {"since_ms", p.since_ms},
                     {"rtt_us", p.rtt_us},
                     {"forwarded", p.forwarded},
                     {"received", p.received},
                     {"error", p.error}});
  auto sessions = nlohmann::ordered_json::array();
  for (const auto& s : n.sessions)
    sessions.push_back({{"id", s.id},
                        {"client", s.client},
                        {"since_ms", s.since_ms},
                        {"events", s.events},
                        {"bytes", s.bytes},
                        {"queued", s.queued},
                        {"last_active_ms", s.last_active_ms}});
  auto actors = nlohmann::ordered_json::array();
  for (const auto& a : n.actors)
    actors.push_back({{"name", a.name}, {"kind", a.kind}, {"queued", a.queued}});
  return {
    {"name", n.name},
    {"version", n.version},
    {"started_ms", n.started_ms},
    {"now_ms", n.now_ms},
    {"uptime_ms", uptime_ms(n)},
    {"http_port", n.http_port},
    {"https_port", n.https_port},
    {"dist_port", n.dist_port},
    {"scheduler_threads", n.scheduler_threads},
    {"room",
     {{"members", n.members},
      {"published", n.published},
      {"delivered", n.delivered},
      {"received", n.received}}},
    {"presence", {{"people", n.present}, {"here", n.present_here}, {"listeners", n.listeners}}},
    {"peers", std::move(peers)},
    {"sessions", std::move(sessions)},
    {"actors", std::move(actors)}};
}

} // namespace

std::string format_bytes(uint64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  size_t unit = 0;
  uint64_t divisor = 1024;
  while (unit + 1 < std::size(units) && bytes / divisor >= 1024) {
    divisor *= 1024;
    ++unit;
  }
  // Truncated, not rounded, so 1048575 B reads "1023.9 KiB", never "1024.0 KiB".
  auto tenths = bytes % divisor * 10 / divisor;
  return std::to_string(bytes / divisor) + '.' + std::to_string(tenths) + ' ' + units[unit];
}

std::string format_duration_ms(int64_t ms) {
  auto s = std::max<int64_t>(0, ms) / 1000;
  auto days = s / 86'400;
  auto hours = s / 3'600 % 24;
  auto minutes = s / 60 % 60;
  auto seconds = s % 60;
  auto pair = [](int64_t big, const char* big_unit, int64_t small, const char* small_unit) {
    return std::to_string(big) + big_unit + ' ' + std::to_string(small) + small_unit;
  };
  if (days > 0)
    return pair(days, "d", hours, "h");
  if (hours > 0)
    return pair(hours, "h", minutes, "m");
  if (minutes > 0)
    return pair(minutes, "m", seconds, "s");
  return std::to_string(seconds) + "s";
}

std::string render_inspect_table(const std::vector<node_report>& nodes) {
  std::string out;
  for (const auto& node : nodes)
    out += (out.empty() ? "" : "\n") + render_node(node);
  return out;
}

std::string render_inspect_json(const std::vector<node_report>& nodes) {
  nlohmann::ordered_json doc = {{"schema", "watercooler.inspect/1"},
                                {"nodes", nlohmann::ordered_json::array()}};
  for (const auto& node : nodes)
    doc["nodes"].push_back(to_json(node));
  // A peer's bytes are not ours to trust: bad UTF-8 becomes U+FFFD instead of an exception.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
}

const char* const inspect_json_schema_markdown =
  R"(| Field | Type | Meaning |
|---|---|---|
| `schema` | string | Always `watercooler.inspect/1`; a new version means a field changed meaning or went away. |
| `nodes` | array | One object per node: the inspected node first, then the peers it is connected to. |
| `nodes[].name` | string | Node name, `name@host`. |
| `nodes[].version` | string | watercooler version the node runs. |
| `nodes[].started_ms` | integer | When the node started, ms since the Unix epoch, by the node's clock. |
| `nodes[].now_ms` | integer | The node's clock when it answered, ms since the Unix epoch. Compare this node's other `_ms` times with it, not with your clock. |
| `nodes[].uptime_ms` | integer | `now_ms - started_ms`, never negative. |
| `nodes[].http_port` | integer | HTTP port; 0 if none. |
| `nodes[].https_port` | integer | HTTPS port; 0 if none. |
| `nodes[].dist_port` | integer | Port other nodes connect to; 0 if none. |
| `nodes[].scheduler_threads` | integer | Worker threads of the node's actor scheduler. |
| `nodes[].room` | object | The node's room. |
| `nodes[].room.members` | integer | Sessions in the room now. |
| `nodes[].room.published` | integer | Messages published on this node. |
| `nodes[].room.delivered` | integer | Messages delivered on this node, counted once per message. |
| `nodes[].room.received` | integer | Messages received from peer nodes. |
| `nodes[].presence` | object | Who is here, as the node sees it (`GET /presence`). |
| `nodes[].presence.people` | integer | People (browsers with a stream open on some node) present in the cluster. |
| `nodes[].presence.here` | integer | Of them, people with a stream open on this node, or closed within `--presence-grace`. |
| `nodes[].presence.listeners` | integer | Streams in the cluster that count no person (anonymous listeners). |
| `nodes[].peers` | array | Peer nodes as this node sees them; `[]` if none. |
| `nodes[].peers[].name` | string | Peer node name, `name@host`. |
| `nodes[].peers[].address` | string | `host:port` of the peer's distribution port; `""` until known. |
| `nodes[].peers[].state` | string | `connected`; `reconnecting` (lost, being redialled); `stopped` (it said goodbye when it stopped; being redialled); `down` (not reached yet, or lost and not redialled). |
| `nodes[].peers[].since_ms` | integer | In that state since, ms since the Unix epoch; 0 if unknown. |
| `nodes[].peers[].rtt_us` | integer | Last round trip to the peer (a ping every second), microseconds; `-1` if none answered. |
| `nodes[].peers[].forwarded` | integer | Messages published on this node and sent to the peer. |
| `nodes[].peers[].received` | integer | Messages received from the peer. |
| `nodes[].peers[].error` | string | While not connected: why the last attempt failed (e.g. `refused by node2@127.0.0.1: wrong cookie`); `""` otherwise. |
| `nodes[].sessions` | array | Open SSE streams (`/listen`) of the node; `[]` if none. |
| `nodes[].sessions[].id` | string | The session actor's id. |
| `nodes[].sessions[].client` | string | Client address, `ip:port`. |
| `nodes[].sessions[].since_ms` | integer | Connected at, ms since the Unix epoch. |
| `nodes[].sessions[].events` | integer | Events written to the stream. |
| `nodes[].sessions[].bytes` | integer | Bytes written to the stream. |
| `nodes[].sessions[].queued` | integer | Messages waiting in the session's mailbox now. |
| `nodes[].sessions[].last_active_ms` | integer | Last event written (or connect), ms since the Unix epoch. |
| `nodes[].actors` | array | Other actors of the node; `[]` if none. |
| `nodes[].actors[].name` | string | Actor name, e.g. `room`, `cluster`, `port_mapper`. |
| `nodes[].actors[].kind` | string | `event-based`, `broker`, ... |
| `nodes[].actors[].queued` | integer | Messages waiting in its mailbox now. |
)";

} // namespace watercooler
