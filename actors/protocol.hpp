// Every message the actors exchange, in flow order; the tuple each carries is in the comment.
#pragma once

#include <caf/all.hpp>

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

} // namespace watercooler
