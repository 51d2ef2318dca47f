// Every message the actors exchange, in flow order; the tuple each carries is in the comment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actors/logic/presence_tracker.hpp"
#include "actors/logic/stream_clock.hpp"
#include "actors/wire/chat_message.hpp"
#include "actors/wire/report.hpp"

namespace watercooler {

// web -> room: a browser joins the room with its session actor, or leaves it. A plain join gets
// the messages delivered from now on.
using join_atom = caf::atom_constant<caf::atom("join")>;   // (join, actor session)
using leave_atom = caf::atom_constant<caf::atom("leave")>; // (leave, actor session)

// web -> room: a browser joins with the last `count` messages of the history first (a JSON
// page), sent as (history ...) in the same step, so nothing is missed or doubled between the
// history and the live messages.
using rewind_atom = caf::atom_constant<caf::atom("rewind")>;
// (rewind, actor session, uint64 count)

// web -> room: a reconnecting browser resumes at its stream's position (Last-Event-ID). In the
// same step as the join, the room sends the session, as (history ...), the history messages the
// clock does not cover and the ranges it may have missed.
using resume_atom = caf::atom_constant<caf::atom("resume")>;
// (resume, actor session, stream_clock clock)

// room -> session: past messages and gaps to write to the stream: on (rewind ...) and
// (resume ...) before any live message, and whenever messages of a peer are given up as lost
// (no messages, one gap).
using history_atom = caf::atom_constant<caf::atom("history")>;
// (history, vector<chat_message> messages, vector<stream_gap> gaps)

// web -> room: a browser posts text under a display name ("" is anonymous); the room answers
// with the message's identity on this node.
using publish_atom = caf::atom_constant<caf::atom("publish")>;
// (publish, string author, string text) -> (uint64 incarnation, uint64 seq)

// room -> peer gate (relayed by our gate) -> peer room: a message published here, once per peer
// node; never re-forwarded. room -> session: the same, once per local session.
using deliver_atom = caf::atom_constant<caf::atom("deliver")>; // (deliver, chat_message message)

// room -> our gate: send `msg` to a peer node's gate, as from our gate. Peers trust the gate and
// never learn of the room; the gate takes this from its room alone.
using relay_atom = caf::atom_constant<caf::atom("relay")>;
// (relay, actor peer_gate, message msg)

// room -> peer room (relayed by our gate, to its gate): what our history has that the peer's clock
// misses, asked for when a peer links up (after a partition or restart) and when a message
// arrives with a gap before it. `have` names the last message of each origin the asker has; of
// an origin it does not name it gets all we have, which it shows only to sessions that asked
// for history (a new node does not show old messages as new ones on live streams).
using catchup_atom = caf::atom_constant<caf::atom("catchup")>;
// (catchup, string asker, stream_clock have)
using backfill_atom = caf::atom_constant<caf::atom("backfill")>;
// (backfill, string from, vector<chat_message> missed, vector<stream_gap> trimmed): the answer,
// in history order; `trimmed` are ranges our history no longer holds. Asked again each second
// until answered.

// room -> peer room and presence (relayed by our gate), when this node stops: the peer shows it
// as stopped, not as lost, and keeps dialling it for when it comes back; its people stay for the
// grace period (they may reconnect elsewhere).
using goodbye_atom = caf::atom_constant<caf::atom("goodbye")>; // (goodbye, string node)

// room -> itself, at a deadline of its ordering: messages held back behind a gap are released,
// with a gap event, if the missing ones have not come by then; unanswered catchups asked again.
using release_atom = caf::atom_constant<caf::atom("release")>; // (release)

// app -> room, once: keep every stream alive with a comment line this often (0: never).
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>; // (heartbeat, uint64 seconds)
// room -> itself, every heartbeat interval: one timer for all of the node's streams.
using beat_atom = caf::atom_constant<caf::atom("beat")>; // (beat)
// room -> session, on each (beat): write the comment line.
using keepalive_atom = caf::atom_constant<caf::atom("keepalive")>; // (keepalive)

// session -> presence, as its stream opens: count it, as the person `client` (a browser's id,
// "" for none) named `name`, or as an anonymous listener; a JSON stream `watches` the changes.
// The presence monitors the session: its end is the stream's close.
using arrive_atom = caf::atom_constant<caf::atom("arrive")>;
// (arrive, actor session, string client, string name, string address, bool watches)
// presence -> watching session: first who is here (with the tag of the stream's own person, or
// "", and why a client was not counted, or ""), then each change.
using presence_atom = caf::atom_constant<caf::atom("presence")>;
// (presence, presence_view view, string you, string refused) | (presence, presence_change change)
// web -> presence: who is here, for GET /presence.
using people_atom = caf::atom_constant<caf::atom("people")>; // (people) -> presence_view
// presence -> peer presence (relayed by our gate, to its gate): our whole set, when the link
// comes up and when asked; then each change of it, which follows the version before it.
using roster_atom = caf::atom_constant<caf::atom("roster")>;   // (roster, presence_roster roster)
using changes_atom = caf::atom_constant<caf::atom("changes")>; // (changes, presence_delta delta)
// presence -> peer presence (relayed): send me your roster (a link came up, or a delta did not
// follow the version held).
using rollcall_atom = caf::atom_constant<caf::atom("rollcall")>; // (rollcall, string asker)
// presence -> itself, when the next grace period ends, or a peer that dialled us has not asked
// for our roster in time.
using lapse_atom = caf::atom_constant<caf::atom("lapse")>; // (lapse)

// The cookie handshake, by the dialling node's link actor at the dialled node's gate (the one
// actor a node publishes): ask for a challenge, then prove the cookie and challenge back.
using challenge_atom = caf::atom_constant<caf::atom("challenge")>; // (challenge) -> string
using hello_atom = caf::atom_constant<caf::atom("hello")>;
// (hello, string from, uint16 dist_port, string proof, string challenge, actor gate)
//   -> (bool accepted, string name or why not, string proof back, vector<string> its peers)

// link -> cluster: our link's handshake succeeded.
using up_atom = caf::atom_constant<caf::atom("up")>;
// (up, string name, string address, actor gate, vector<string> its peers)
// gate -> cluster: a node dialled us and passed the handshake; the cluster answers with its
// other peers.
using greeted_atom = caf::atom_constant<caf::atom("greeted")>;
// (greeted, string name, string address, actor gate) -> vector<string> peers
// cluster -> room: a node is linked; forward what is published here to its gate, relayed by ours.
using peer_atom = caf::atom_constant<caf::atom("peer")>;
// (peer, string name, actor gate, actor our gate, bool we_dialled)

// dialer thread -> cluster, every round: time to ping the peers, if a ping interval has passed.
using tick_atom = caf::atom_constant<caf::atom("tick")>; // (tick)
// cluster -> link, once per ping interval: measure the round trip to the peer, for --inspect.
using measure_atom = caf::atom_constant<caf::atom("measure")>; // (measure)
// link -> peer gate: the round trip itself.
using ping_atom = caf::atom_constant<caf::atom("ping")>; // (ping) -> ping

// app -> gate, once: the cluster to tell of nodes that greet us.
using cluster_atom = caf::atom_constant<caf::atom("cluster")>; // (cluster, actor)

// app -> cluster: asked until done: are the sync_nodes of sys.config there, or is it too late?
using sync_atom = caf::atom_constant<caf::atom("sync")>;
// (sync) -> (bool done, vector<string> mandatory nodes missing)

// dialer thread -> cluster: which nodes to look up; then what the port mapper said of each.
// link -> cluster: (unknown ...) too, when its handshake failed.
using dial_atom = caf::atom_constant<caf::atom("dial")>;       // (dial) -> vector<string> names
using found_atom = caf::atom_constant<caf::atom("found")>;     // (found, string name, uint16 port)
using unknown_atom = caf::atom_constant<caf::atom("unknown")>; // (unknown, string name, string why)

// app -> port mapper: wait until it has registered our node name (or failed to), then answer
// with its role, "serving" or "client", or the refusal.
using registered_atom = caf::atom_constant<caf::atom("registered")>; // (registered) -> string

// app -> room, on SIGTERM/SIGINT: end every stream with a hint to come back, then answer.
using stop_atom = caf::atom_constant<caf::atom("stop")>; // (stop) -> uint64 streams ended
// room -> session, on (stop): write the farewell, close the stream, quit.
using farewell_atom = caf::atom_constant<caf::atom("farewell")>; // (farewell)

// anyone -> room: counts for tests and operators.
using stats_atom = caf::atom_constant<caf::atom("stats")>;
// (stats) -> (uint64 sessions, uint64 peers, uint64 published, uint64 delivered)

// anyone -> room: the last `max` messages delivered on this node (any origin), oldest first.
using recent_atom = caf::atom_constant<caf::atom("recent")>;
// (recent, uint64 max) -> vector<chat_message>

// app -> room, once started: what the node is (ports, version) and its other actors.
using about_atom = caf::atom_constant<caf::atom("about")>;
// (about, node_report facts, vector<actor> others)

// --inspect -> gate: the node's report, for a proof of the cookie; the gate has the room answer.
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;
// (inspect, string proof) -> node_report
// gate -> room: the node's facts, room, peers, sessions and actors. --inspect's thread -> its
// handshake actor: the same, fetched from the node inspected.
using report_atom = caf::atom_constant<caf::atom("report")>; // (report) -> node_report
// room -> session: the stream's counters, for the node's report.
using describe_atom = caf::atom_constant<caf::atom("describe")>; // (describe) -> session_report
// room -> cluster, gate, port mapper; cluster -> links: each actor's own line of the report
// (the cluster's with its links').
using actors_atom = caf::atom_constant<caf::atom("actors")>;
// (actors) -> vector<actor_report>

// Port mapper broker -> itself: connect to the port mapper again after attempt `attempt` failed;
// give up waiting for its answer to attempt `attempt`; forget a client connection that has been
// idle since `serial`.
using retry_atom = caf::atom_constant<caf::atom("retry")>;     // (retry, uint64 attempt)
using timeout_atom = caf::atom_constant<caf::atom("timeout")>; // (timeout, uint64 attempt)
using expire_atom = caf::atom_constant<caf::atom("expire")>;
// (expire, connection_handle connection, uint64 serial)

// Stream poller (web/stream/) -> session, sent anonymously; duplicates are harmless: the
// client's socket has bytes (read and drop them), has room after a short write, or broke.
using readable_atom = caf::atom_constant<caf::atom("readable")>; // (readable)
using writable_atom = caf::atom_constant<caf::atom("writable")>; // (writable)
using closed_atom = caf::atom_constant<caf::atom("closed")>;     // (closed)
// session -> itself, after queueing: write everything queued since, in one system call.
using flush_atom = caf::atom_constant<caf::atom("flush")>; // (flush)

// Why an actor refuses a request, as the error it answers with (one shape for every actor, as in
// CAF's divider example): a code, the category `refused`, and the words for a person as the
// only context, which the asker shows as they are (refusal_text).
using refused_atom = caf::atom_constant<caf::atom("refused")>; // the category, no message
enum class refusal : uint8_t {
  not_trusted = 1, // the gate: no challenge asked for, a wrong cookie, a sender without proof
  name_in_use,     // the port mapper: the EPMD has our node name registered already
  invalid_name,    // the port mapper: not a node name an EPMD takes
  unreachable,     // --inspect's handshake client: the node could not be reached, or refused
};

inline caf::error make_error(refusal code, std::string why) {
  return caf::error{static_cast<uint8_t>(code), refused_atom::value,
                    caf::make_message(std::move(why))};
}

// The words of a refusal; nothing if `err` is another error (a timeout, CAF's own).
inline std::optional<std::string> refusal_text(const caf::error& err) {
  if (!err || err.category() != refused_atom::value || !err.context().match_elements<std::string>())
    return std::nullopt;
  return err.context().get_as<std::string>(0);
}

// The answer of an actor that peers reach to a message it does not take: an error to a request,
// nothing to a plain send. (An error sent back to a plain send reaches the sender's error
// handler, and CAF's default one ends the actor: a refused message would kill its sender.)
inline caf::result<caf::message> refuse_quietly(caf::scheduled_actor* self) {
  if (self->current_message_id().is_request())
    return caf::result<caf::message>{caf::sec::unexpected_message};
  return caf::result<caf::message>{caf::message{}};
}

// Registers the types above that cross the network; both ends of a connection need this.
inline void add_report_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<node_report>("node_report");
  cfg.add_message_type<session_report>("session_report");
  cfg.add_message_type<peer_report>("peer_report");
  cfg.add_message_type<actor_report>("actor_report");
  cfg.add_message_type<std::vector<peer_report>>("std::vector<peer_report>");
  cfg.add_message_type<std::vector<session_report>>("std::vector<session_report>");
  cfg.add_message_type<std::vector<actor_report>>("std::vector<actor_report>");
  cfg.add_message_type<chat_message>("chat_message");
  cfg.add_message_type<std::vector<chat_message>>("std::vector<chat_message>");
  cfg.add_message_type<stream_gap>("stream_gap");
  cfg.add_message_type<std::vector<stream_gap>>("std::vector<stream_gap>");
  cfg.add_message_type<clock_entry>("clock_entry");
  cfg.add_message_type<stream_clock>("stream_clock");
  cfg.add_message_type<presence_entry>("presence_entry");
  cfg.add_message_type<std::vector<presence_entry>>("std::vector<presence_entry>");
  cfg.add_message_type<presence_roster>("presence_roster");
  cfg.add_message_type<presence_delta>("presence_delta");
  cfg.add_message_type<present_person>("present_person");
  cfg.add_message_type<std::vector<present_person>>("std::vector<present_person>");
  cfg.add_message_type<presence_view>("presence_view");
  cfg.add_message_type<presence_change>("presence_change");
}

} // namespace watercooler
