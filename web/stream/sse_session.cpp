// SSE sessions: an actor per stream, writing its own non-blocking connection.
#include "web/stream/sse_session.hpp"

#include <cstdio>

#include "actors/protocol.hpp"
#include "web/actions.hpp"
#include "web/stream/presence_event.hpp"
#include "web/stream/sse.hpp"

namespace watercooler {

namespace {

std::string chunk(const std::string& payload) {
  char size[20];
  std::snprintf(size, sizeof(size), "%zx\r\n", payload.size());
  return size + payload + "\r\n";
}

// The events of a (history ...) answer: gaps first, then the messages the stream has not had.
std::string replay_events(stream_events& events, const std::vector<chat_message>& replay,
                          const std::vector<stream_gap>& gaps, size_t& count) {
  std::string out;
  for (const auto& gap : gaps)
    out += gap_event(gap);
  for (const auto& message : replay) {
    auto event = events.message(message);
    count += event.empty() ? 0 : 1;
    out += event;
  }
  return out;
}

} // namespace

session_counters::~session_counters() {
  if (metrics_)
    --metrics_->sessions;
}

void session_counters::start(std::shared_ptr<node_metrics> metrics, std::string client) {
  metrics_ = std::move(metrics);
  ++metrics_->sessions;
  client_ = std::move(client);
  since_ms_ = last_active_ms_ = now_us() / 1000;
}

void session_counters::wrote(int64_t published_us, size_t bytes) {
  auto now = now_us();
  ++events_;
  bytes_ += bytes;
  last_active_ms_ = now / 1000;
  ++metrics_->delivered;
  metrics_->bytes_sent += bytes;
  metrics_->latency.observe(now - published_us);
}

void session_counters::wrote_other(size_t bytes) {
  bytes_ += bytes;
  metrics_->bytes_sent += bytes;
}

void session_counters::fell_behind() {
  ++metrics_->fell_behind;
}

void session_counters::replayed(size_t events, size_t bytes) {
  events_ += events;
  bytes_ += bytes;
  last_active_ms_ = now_us() / 1000;
  metrics_->delivered += events;
  metrics_->bytes_sent += bytes;
}

session_report session_counters::report(caf::actor_id id, size_t queued) const {
  return {std::to_string(id), client_, since_ms_, events_, bytes_, queued, last_active_ms_};
}

const std::vector<std::pair<std::string, std::string>>& stream_head_fields() {
  static const std::vector<std::pair<std::string, std::string>> fields{
    {"Content-Type", "text/event-stream"},
    {"Cache-Control", "no-cache"},
    {"X-Accel-Buffering", "no"}, // nginx: pass each event on at once
  };
  return fields;
}

std::string sse_response_head(bool chunked) {
  std::string head = "HTTP/1.1 200 OK\r\n";
  for (const auto& [field, value] : stream_head_fields())
    head += field + ": " + value + "\r\n";
  head += chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n";
  for (const auto& [field, value] : security_headers()) // as on every other answer
    head += field + ": " + value + "\r\n";
  return head + "\r\n";
}

std::string sse_stream_start(const stream_start& start) {
  auto out = "retry: " + std::to_string(reconnect_ms) + "\n\n";
  if (start.position_unknown)
    out += unknown_position_event();
  return out;
}

void join_room(const caf::actor& room, const caf::actor& session, const stream_start& start) {
  if (start.resume)
    caf::anon_send(room, resume_atom::value, session, *start.resume);
  else if (start.format == stream_format::json)
    caf::anon_send(room, rewind_atom::value, session, json_replay);
  else
    caf::anon_send(room, join_atom::value, session);
}

caf::behavior sse_session(caf::stateful_actor<sse_session_state>* self, adopted_stream stream,
                          stream_wiring wiring) {
  auto& st = self->state;
  st.counters.start(wiring.metrics, std::move(stream.client));
  st.slot = std::move(stream.slot);
  st.wiring = std::move(wiring);
  st.connection = stream.connection;
  st.chunked = stream.framing == stream_framing::chunked;
  st.json = stream.start.format == stream_format::json;
  st.events = stream_events(stream.start);
  st.outbox = stream_outbox(stream.connection);
  auto poller = st.wiring.poller;
  auto fd = stream.connection->fd();
  if (fd >= 0) {
    st.token = poller->watch(fd, caf::actor_cast<caf::actor>(self));
  } else { // an HTTP/2 stream says itself when it has room again or is gone
    stream.connection->on_event([session = self->address()](transport::event e) {
      if (auto to = caf::actor_cast<caf::actor>(session); to && e == transport::event::writable)
        caf::anon_send(to, writable_atom::value);
      else if (to)
        caf::anon_send(to, closed_atom::value);
    });
  }
  // Whichever way the session ends, the connection is closed once, after the poller let go of
  // its socket, and the room forgets our monitor (it would keep this actor's memory for the
  // room's life).
  self->attach_functor([self, room = st.wiring.room, poller, fd, token = st.token,
                        connection = std::move(stream.connection)] {
    self->demonitor(room); // the state is gone by now
    if (token != 0)
      poller->forget(token, fd);
    connection->close();
  });
  if (fd >= 0 && st.token == 0) {
    self->quit();
    return {};
  }
  auto frame = [=](std::string payload) { return self->state.chunked ? chunk(payload) : payload; };
  // Leaves the room (unless it did when it fell behind) and quits; the attached functor closes
  // the socket.
  auto end = [=] {
    if (!self->state.ending)
      self->send(self->state.wiring.room, leave_atom::value, caf::actor_cast<caf::actor>(self));
    self->quit();
  };
  // Counts a piece once the socket took all of it.
  auto written = [=](const stream_outbox::piece& p) {
    auto& counters = self->state.counters;
    if (p.published_us != 0)
      counters.wrote(p.published_us, p.bytes().size());
    else if (p.events != 0)
      counters.replayed(p.events, p.bytes().size());
    else
      counters.wrote_other(p.bytes().size());
  };
  auto flush = [=] {
    auto& s = self->state;
    auto result = s.outbox.flush(written);
    if (result == stream_outbox::result::failed)
      return end();
    bool blocked = result == stream_outbox::result::blocked;
    if (blocked != s.blocked) {
      s.blocked = blocked;
      if (s.token != 0)
        s.wiring.poller->want_write(s.token, fd, blocked);
    }
    if (!blocked && s.ending)
      end();
  };
  // Queues one framed write: written at once when nothing else waits in the mailbox, else by a
  // (flush) behind what came meanwhile, which writes everything at once.
  auto queue = [=](stream_outbox::piece p) {
    auto& s = self->state;
    if (s.ending)
      return;
    s.outbox.push(std::move(p));
    // Behind is what the socket would not take, not what waits for this turn's (flush).
    if (over_limits(s.wiring.limits, s.outbox.events(), s.outbox.bytes()) && !s.blocked)
      flush();
    if (!s.ending && over_limits(s.wiring.limits, s.outbox.events(), s.outbox.bytes())) {
      // Fallen behind: what it has not started reading is dropped, the gap event says so, and
      // the stream ends once that is written (or the client goes away).
      s.counters.fell_behind();
      s.outbox.drop_unsent();
      auto last = frame(slow_client_event());
      if (s.chunked)
        last += "0\r\n\r\n";
      s.outbox.push({std::move(last)});
      s.ending = true;
      self->send(s.wiring.room, leave_atom::value, caf::actor_cast<caf::actor>(self));
      self->delayed_send(self, std::chrono::seconds(10), closed_atom::value); // if it never reads
    }
    if (s.flush_queued || s.blocked)
      return;
    if (self->mailbox().empty()) // nothing else to write with it: write it now
      return flush();
    s.flush_queued = true; // a (flush) behind what came meanwhile writes it all at once
    self->send(self, flush_atom::value);
  };
  // Join before the head goes out: whatever the client publishes after seeing it reaches us.
  join_room(st.wiring.room, caf::actor_cast<caf::actor>(self), stream.start);
  std::string head;
  if (stream.framing != stream_framing::frames)
    head = sse_response_head(stream.framing == stream_framing::chunked);
  if (auto first = sse_stream_start(stream.start); !first.empty())
    head += frame(first);
  st.outbox.push({std::move(head)});
  flush();
  if (st.wiring.presence)
    self->send(st.wiring.presence, arrive_atom::value, caf::actor_cast<caf::actor>(self),
               stream.person, stream.name, stream.address, st.json);
  self->monitor(st.wiring.room);
  self->set_down_handler([=](const caf::down_msg&) { self->quit(); }); // the room is gone
  // Handled at once, never re-sent to ourselves: live messages may already be queued behind it.
  auto replayed = [=](const std::vector<chat_message>& replay,
                      const std::vector<stream_gap>& gaps) {
    size_t count = 0;
    auto events = replay_events(self->state.events, replay, gaps, count);
    if (!events.empty())
      queue({frame(std::move(events)), static_cast<uint32_t>(count)});
  };
  return {
    // DELIVER <message>
    [=](deliver_atom, const chat_message& message) {
      auto& s = self->state;
      if (!s.events.advance(message)) // the stream had it before it resumed
        return;
      // The streams at the same position share one frame of it.
      auto shared = s.wiring.frames->get(message, {s.events.format(), s.chunked}, s.events.clock(),
                                         [&] { return frame(s.events.event(message)); });
      queue({std::move(shared), 1, message.published_us});
    },
    // HISTORY <messages> <gaps>: the recent or missed messages, in one write, before any live
    // one; or a gap among the live ones.
    [=](history_atom, const std::vector<chat_message>& replay,
        const std::vector<stream_gap>& gaps) { replayed(replay, gaps); },
    // PRESENCE <view> <you> <refused>: who is here as the stream opens; a JSON stream shows it.
    [=](presence_atom, const presence_view& view, const std::string& you,
        const std::string& refused) {
      if (self->state.json)
        queue({frame(presence_snapshot_event(view, you, refused))});
    },
    // PRESENCE <change>: someone joined or left the cluster, or was renamed.
    [=](presence_atom, const presence_change& change) {
      if (self->state.json)
        queue({frame(presence_change_event(change))});
    },
    // KEEPALIVE: a comment keeps proxies from cutting the idle stream; a dead client fails it.
    [=](keepalive_atom) { queue({frame(heartbeat_comment)}); },
    // FLUSH: everything queued since the last one, in one system call where it fits.
    [=](flush_atom) {
      self->state.flush_queued = false;
      if (!self->state.blocked)
        flush();
    },
    // WRITABLE: from the poller, after a short write.
    [=](writable_atom) {
      if (self->state.blocked)
        flush();
    },
    // READABLE: a client has nothing to say on an event stream; its bytes are read and dropped,
    // and its end of the connection ends the stream. (A TLS write may wait for a read, too.)
    [=](readable_atom) {
      if (!self->state.connection->discard_input())
        return end();
      if (self->state.blocked)
        flush();
    },
    // CLOSED: from the poller, the connection broke.
    [=](closed_atom) { end(); },
    // FAREWELL: the node shuts down; the client comes back to this or another node and resumes.
    [=](farewell_atom) {
      auto& s = self->state;
      auto farewell = frame(stream_farewell);
      if (s.chunked)
        farewell += "0\r\n\r\n";
      s.outbox.push({std::move(farewell)});
      s.outbox.flush(written);
      self->quit(); // the room has let us go already; what did not fit is not waited for
    },
    // DESCRIBE: for the node's report.
    [=](describe_atom) {
      auto& s = self->state;
      return s.counters.report(self->id(), s.outbox.events() + self->mailbox().size());
    },
  };
}

} // namespace watercooler
