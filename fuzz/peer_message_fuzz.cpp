// Fuzzes what a node does with the bytes of a message from another node: CAF's deserializer
// with the node's types (a BASP payload: forwarding stack, then the message), then the code that
// reads the decoded values: the gate's checks of HELLO and INSPECT, the log line of a refused
// message or an error, a peer's DELIVER written to a session's stream, a peer's presence (ROSTER,
// CHANGES) applied and shown, and --inspect's rendering of a report.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/protocol.hpp"
#include "actors/wire/handshake.hpp"
#include "actors/wire/message_text.hpp"
#include "actors/wire/node_name.hpp"
#include "app/inspect_output.hpp"
#include "web/stream/chat_event.hpp"
#include "web/stream/presence_event.hpp"
#include "web/stream/sse.hpp"

namespace {

using namespace watercooler;

[[noreturn]] void fail(const char* what, const caf::message& msg) {
  std::fprintf(stderr, "peer_message_fuzz: %s\nmessage: %s\n", what,
               caf::to_string(msg).substr(0, 500).c_str());
  std::abort();
}

// The node's actor system as app/node.cpp configures it, minus the network. Never destroyed:
// CAF 0.17's ~actor_system crashes when it runs among the static destructors at exit.
caf::actor_system& node() {
  static caf::actor_system* system = [] {
    auto* cfg = new caf::actor_system_config;
    cfg->load<caf::io::middleman>();
    cfg->set("logger.console", caf::atom("none"));
    cfg->set("scheduler.max-threads", 1);
    add_report_types(*cfg);
    return new caf::actor_system(*cfg);
  }();
  return *system;
}

// HELLO <from> <dist port> <proof> <challenge> <gate>: what the gate reads before trusting.
void hello(const caf::message& msg) {
  const auto& from = msg.get_as<std::string>(1);
  const auto& proof = msg.get_as<std::string>(3);
  const auto& challenge = msg.get_as<std::string>(4);
  const auto name = parse_node_name(from);
  if (name) {
    const auto again = parse_node_name(name->to_string());
    if (!again || !(*again == *name))
      fail("a node name must print as one that parses back to it", msg);
    (void)(name->host + ":" + std::to_string(msg.get_as<uint16_t>(2)));
  }
  (void)from.substr(0, 80);
  const auto expected = prove("cookie", proof_role::dial, challenge, from, "node1@127.0.0.1");
  if (same_proof(expected, proof) != (expected == proof))
    fail("same_proof must say whether the proofs are equal", msg);
  (void)prove("cookie", proof_role::answer, challenge, "node1@127.0.0.1", from);
}

// DELIVER <message>: as the room passes it to a session (if its origin is a node name), which
// writes it to its stream in either format.
void deliver(const caf::message& msg) {
  const auto& m = msg.get_as<chat_message>(1);
  if (!is_node_name(m.origin))
    return; // the room drops it
  for (auto format : {stream_format::text, stream_format::json}) {
    stream_events events(stream_start_at(format, std::nullopt));
    const auto frame = events.message(m);
    auto parsed = sse_parser{}.feed(frame);
    if (parsed.size() != 1)
      fail("a delivered message must be one event", msg);
    // What a browser sends back as Last-Event-ID must resume the stream where it was.
    const auto resumed = stream_start_at(format, parsed.front().last_event_id);
    if (resumed.position_unknown || resumed.resume != events.clock())
      fail("a stream's id must parse back to its position", msg);
    if (format == stream_format::json
        && nlohmann::json::parse(parsed.front().data, nullptr, false).is_discarded())
      fail("a JSON event must hold JSON", msg);
  }
}

// What a tracker then shows: each change one event of JSON, GET /presence JSON, the count the
// people shown.
void check_shown(presence_tracker& tracker, const caf::message& msg) {
  tracker.node_lost("node2@127.0.0.1");
  for (const auto& change : tracker.take_changes()) {
    auto parsed = sse_parser{}.feed(presence_change_event(change));
    if (parsed.size() != 1 || nlohmann::json::parse(parsed[0].data, nullptr, false).is_discarded())
      fail("a presence change must be one event of JSON", msg);
  }
  auto view = tracker.view();
  if (view.count != view.people.size())
    fail("the count must be the people shown", msg);
  if (nlohmann::json::parse(presence_json(view), nullptr, false).is_discarded())
    fail("GET /presence must answer JSON", msg);
}

// ROSTER <roster> and CHANGES <delta>: a peer's set as the presence applies it, to a tracker
// that holds a roster of node2 (so a delta of node2 at version 2 applies, whatever it holds).
void presence(const caf::message& msg) {
  presence_tracker tracker{"node1@127.0.0.1", {}};
  tracker.open(1, "client-0123456789ab", "Bea", "127.0.0.1", 1);
  tracker.replace({"node2@127.0.0.1", 1, 2, {{"client-0123456789ab", "Ann", 2}}});
  if (msg.match_elements<caf::atom_value, presence_roster>()) {
    tracker.replace(msg.get_as<presence_roster>(1));
    return check_shown(tracker, msg);
  }
  auto delta = msg.get_as<presence_delta>(1);
  auto as_sent = tracker;
  as_sent.apply(delta);
  check_shown(as_sent, msg);
  delta.node = "node2@127.0.0.1";
  delta.version = 2;
  if (!tracker.apply(delta))
    fail("a delta that follows the version held must apply", msg);
  check_shown(tracker, msg);
}

// A node_report, as --inspect gets it from a node it inspects.
void report(const caf::message& msg) {
  const std::vector<node_report> nodes{msg.get_as<node_report>(0)};
  (void)render_inspect_table(nodes);
  const auto json = nlohmann::json::parse(render_inspect_json(nodes), nullptr, false);
  if (json.is_discarded())
    fail("--inspect --json must print JSON", msg);
}

// WATERCOOLER_FUZZ_WRITE_SEEDS=DIR writes the corpus: real messages as BASP payloads.
void write_seeds(const char* dir) {
  auto write = [&](const std::string& file, const caf::message& msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{node(), buf};
    std::vector<caf::strong_actor_ptr> stack;
    if (auto err = sink(stack, msg))
      std::abort();
    std::ofstream(std::string(dir) + "/" + file, std::ios::binary).write(buf.data(), buf.size());
  };
  write("deliver",
        caf::make_message(deliver_atom::value, chat_message{"node1@127.0.0.1", 8532290011, 3,
                                                            1764147939123000, "Ann", "hi\nthere"}));
  write(
    "deliver_anonymous",
    caf::make_message(deliver_atom::value, chat_message{"node2@127.0.0.1", 1764147000111, 12,
                                                        1764147939123000, "", "Ready player one"}));
  write("deliver_empty_origin",
        caf::make_message(deliver_atom::value, chat_message{"", 1, 1, 0, "", "from nowhere"}));
  write("hello", caf::make_message(hello_atom::value, "node2@127.0.0.1", uint16_t{40123},
                                   std::string(64, 'a'), std::string(64, 'b'), caf::actor{}));
  write("challenge", caf::make_message(challenge_atom::value));
  write("roster",
        caf::make_message(roster_atom::value,
                          presence_roster{"node3@127.0.0.1",
                                          4,
                                          1,
                                          {{"ann-0123456789abcdef", "Ann", 1764147939123000},
                                           {"bob-0123456789abcdef", "", 1764147939124000}}}));
  write("changes",
        caf::make_message(changes_atom::value,
                          presence_delta{"node2@127.0.0.1",
                                         2,
                                         3,
                                         {{"bob-0123456789abcdef", "Bob", 1764147939125000}},
                                         {"client-0123456789ab"}}));
  write("ping", caf::make_message(ping_atom::value));
  write("inspect", caf::make_message(inspect_atom::value, std::string(64, 'c')));
  node_report r;
  r.name = "node1@127.0.0.1";
  r.version = "0.1.0";
  r.started_ms = 1764147000111;
  r.now_ms = 1764147939123;
  r.http_port = 8081;
  r.peers.push_back(
    {"node2@127.0.0.1", "127.0.0.1:40123", "connected", 1764147000200, 310, 4, 5, ""});
  r.sessions.push_back({"42", "127.0.0.1:51234", 1764147900000, 7, 900, 0, 1764147939000});
  r.actors.push_back({"room", "event-based", 0});
  write("node_report", caf::make_message(r));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("WATERCOOLER_FUZZ_WRITE_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  caf::binary_deserializer source{node(), reinterpret_cast<const char*>(data), size};
  std::vector<caf::strong_actor_ptr> stack;
  caf::message msg;
  if (auto err = source(stack, msg))
    return 0;
  // The gate logs what it refuses, the room what it does not understand, a link or --inspect
  // the error a node answered with.
  (void)message_text(node(), msg);
  (void)error_text(node(),
                   caf::error(uint8_t{size > 0 ? data[0] : uint8_t{0}}, caf::atom("system"), msg));
  if (msg.match_elements<node_report>())
    return report(msg), 0;
  if (msg.empty() || !msg.match_element<caf::atom_value>(0))
    return 0;
  const auto atom = msg.get_as<caf::atom_value>(0);
  if (atom == hello_atom::value
      && msg.match_elements<caf::atom_value, std::string, uint16_t, std::string, std::string,
                            caf::actor>())
    hello(msg);
  else if (atom == deliver_atom::value && msg.match_elements<caf::atom_value, chat_message>())
    deliver(msg);
  else if ((atom == roster_atom::value && msg.match_elements<caf::atom_value, presence_roster>())
           || (atom == changes_atom::value
               && msg.match_elements<caf::atom_value, presence_delta>()))
    presence(msg);
  else if (atom == inspect_atom::value && msg.match_elements<caf::atom_value, std::string>())
    (void)same_proof(prove("cookie", proof_role::inspect, "challenge", "inspect", "node1"),
                     msg.get_as<std::string>(1));
  return 0;
}
