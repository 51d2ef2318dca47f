// Every message the actors exchange, in flow order; the tuple each carries is in the comment.
#pragma once

#include <caf/all.hpp>

#include "actors/report.hpp"

namespace watercooler {

// web -> room: a browser joins the room with its session actor, or leaves it.
using join_atom = caf::atom_constant<caf::atom("join")>;   // (join, actor session)
using leave_atom = caf::atom_constant<caf::atom("leave")>; // (leave, actor session)

// web -> room: a browser posts text; the room answers with the message's sequence number.
using publish_atom = caf::atom_constant<caf::atom("publish")>; // (publish, string text) -> uint64

// room -> peer room: a message published on `origin`, once per peer node; never re-forwarded.
// room -> session: the same tuple, once per local session.
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
// (deliver, string origin, uint64 incarnation, uint64 seq, int64 published_us, string text)

// cluster -> peer room: the handshake; the peer answers with its name and its own peers.
using hello_atom = caf::atom_constant<caf::atom("hello")>;
// (hello, string name, actor room) -> (string name, vector<string> peers)

// cluster -> room: adopt the room of a peer node the cluster dialled and greeted.
using peer_atom = caf::atom_constant<caf::atom("peer")>; // (peer, string name, actor room)

// app -> cluster: asked until done: are the sync_nodes of sys.config there, or is it too late?
using sync_atom = caf::atom_constant<caf::atom("sync")>;
// (sync) -> (bool done, vector<string> mandatory nodes missing)

// dialer thread -> cluster: which nodes to look up; then what the port mapper said of each.
using dial_atom = caf::atom_constant<caf::atom("dial")>;       // (dial) -> vector<string> names
using found_atom = caf::atom_constant<caf::atom("found")>;     // (found, string name, uint16 port)
using unknown_atom = caf::atom_constant<caf::atom("unknown")>; // (unknown, string name, string why)

// anyone -> room: counts for tests and operators.
using stats_atom = caf::atom_constant<caf::atom("stats")>;
// (stats) -> (uint64 sessions, uint64 peers, uint64 published, uint64 delivered)

// app -> room, once started: what the node is (ports, version) and its other actors.
using about_atom = caf::atom_constant<caf::atom("about")>;
// (about, node_report facts, vector<actor> others)

// --inspect -> room: everything about the node; room -> session, room -> other actors: each one.
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;
// room: (inspect) -> node_report; session: (inspect) -> session_report; (inspect) -> actor_report

// Registers the types above that cross the network; both ends of a connection need this.
inline void add_report_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<node_report>("node_report");
  cfg.add_message_type<session_report>("session_report");
  cfg.add_message_type<peer_report>("peer_report");
  cfg.add_message_type<actor_report>("actor_report");
  cfg.add_message_type<std::vector<peer_report>>("std::vector<peer_report>");
  cfg.add_message_type<std::vector<session_report>>("std::vector<session_report>");
  cfg.add_message_type<std::vector<actor_report>>("std::vector<actor_report>");
}

} // namespace watercooler
