// SSE sessions: a broker per plain connection, a queue-fed actor per TLS connection.
#include "web/sse_session.hpp"

#include <cstdio>

#include "actors/protocol.hpp"
#include "web/sse.hpp"

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

std::string sse_response_head(bool chunked) {
  std::string head = "HTTP/1.1 200 OK\r\n"
                     "Content-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Accel-Buffering: no\r\n";
  head += chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n";
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
    caf::anon_send(room, join_atom::value, session, json_replay);
  else
    caf::anon_send(room, join_atom::value, session);
}

caf::behavior sse_session(caf::io::stateful_broker<sse_session_state>* self, int fd,
                          caf::actor room, bool chunked, stream_start start,
                          std::shared_ptr<node_metrics> metrics, std::string client,
                          stream_slot slot) {
  auto& st = self->state;
  st.slot = std::move(slot);
  st.counters.start(std::move(metrics), std::move(client));
  st.connection = self->add_scribe(fd);
  st.room = room;
  st.chunked = chunked;
  st.events = stream_events(start);
  // Join before the head goes out: whatever the client publishes after seeing it reaches us.
  join_room(room, caf::actor_cast<caf::actor>(self), start);
  auto head = sse_response_head(chunked);
  if (auto first = sse_stream_start(start); !first.empty())
    head += chunked ? chunk(first) : first;
  self->write(st.connection, head.size(), head.data());
  self->flush(st.connection);
  self->configure_read(st.connection, caf::io::receive_policy::at_most(1024));
  self->monitor(room);
  self->set_down_handler([=](const caf::down_msg&) { self->quit(); }); // the room is gone
  // Handled at once, never re-sent to ourselves: live messages may already be queued behind it.
  auto replayed = [=](const std::vector<chat_message>& replay,
                      const std::vector<stream_gap>& gaps) {
    auto& s = self->state;
    size_t count = 0;
    auto events = replay_events(s.events, replay, gaps, count);
    if (events.empty())
      return;
    auto out = s.chunked ? chunk(events) : events;
    self->write(s.connection, out.size(), out.data());
    self->flush(s.connection);
    s.counters.replayed(count, out.size());
  };
  return {
    // DELIVER <origin> <incarnation> <seq> <published_us> <author> <text>
    [=](deliver_atom, const std::string& origin, uint64_t inc, uint64_t seq, int64_t published_us,
        const std::string& author, const std::string& text) {
      auto& s = self->state;
      auto event = s.events.message(origin, inc, seq, published_us, author, text);
      if (event.empty())
        return; // the stream had it before it resumed
      auto out = s.chunked ? chunk(event) : event;
      self->write(s.connection, out.size(), out.data());
      self->flush(s.connection);
      s.counters.wrote(published_us, out.size());
    },
    // HISTORY <replay> [<gaps>]: the recent or missed messages, in one write, before any live
    // one.
    [=](history_atom, const std::vector<chat_message>& replay) { replayed(replay, {}); },
    [=](history_atom, const std::vector<chat_message>& replay,
        const std::vector<stream_gap>& gaps) { replayed(replay, gaps); },
    // HEARTBEAT: a comment keeps proxies from cutting the idle stream; a dead client fails it.
    [=](heartbeat_atom) {
      auto& s = self->state;
      std::string beat = heartbeat_comment;
      auto out = s.chunked ? chunk(beat) : beat;
      self->write(s.connection, out.size(), out.data());
      self->flush(s.connection);
    },
    // STOP: the node shuts down; the client comes back to this or another node and resumes.
    [=](stop_atom) {
      auto& s = self->state;
      std::string farewell = stream_farewell;
      auto out = s.chunked ? chunk(farewell) + "0\r\n\r\n" : farewell;
      self->write(s.connection, out.size(), out.data());
      self->flush(s.connection);
      self->close(s.connection);
      self->quit();
    },
    // INSPECT
    [=](inspect_atom) { return self->state.counters.report(self->id(), self->mailbox().size()); },
    [=](const caf::io::new_data_msg&) {
      // A client has nothing to say on an event stream; its bytes are ignored.
    },
    [=](const caf::io::connection_closed_msg&) {
      self->send(self->state.room, leave_atom::value, caf::actor_cast<caf::actor>(self));
      self->quit();
    },
  };
}

caf::behavior queued_session(caf::stateful_actor<queued_session_state>* self,
                             std::shared_ptr<sse_queue> queue, stream_start start,
                             std::shared_ptr<node_metrics> metrics, std::string client) {
  self->state.counters.start(std::move(metrics), std::move(client));
  self->state.events = stream_events(start);
  auto enqueue = [queue](std::string out) {
    std::lock_guard<std::mutex> guard(queue->mutex);
    queue->events.push_back(std::move(out));
    queue->ready.notify_one();
  };
  auto replayed = [=](const std::vector<chat_message>& replay,
                      const std::vector<stream_gap>& gaps) {
    size_t count = 0;
    auto events = replay_events(self->state.events, replay, gaps, count);
    if (events.empty())
      return;
    self->state.counters.replayed(count, events.size());
    enqueue(std::move(events));
  };
  return {
    [=](deliver_atom, const std::string& origin, uint64_t inc, uint64_t seq, int64_t published_us,
        const std::string& author, const std::string& text) {
      auto event = self->state.events.message(origin, inc, seq, published_us, author, text);
      if (event.empty())
        return;
      // Counted when queued: the stream's thread writes it within a second or ends the stream.
      self->state.counters.wrote(published_us, event.size());
      std::lock_guard<std::mutex> guard(queue->mutex);
      queue->events.push_back(std::move(event));
      queue->ready.notify_one();
    },
    // HISTORY <replay> [<gaps>]
    [=](history_atom, const std::vector<chat_message>& replay) { replayed(replay, {}); },
    [=](history_atom, const std::vector<chat_message>& replay,
        const std::vector<stream_gap>& gaps) { replayed(replay, gaps); },
    // HEARTBEAT: the stream's thread writes it; a failed write ends the stream.
    [=](heartbeat_atom) { enqueue(heartbeat_comment); },
    // STOP: the stream's thread writes the farewell and ends the response.
    [=](stop_atom) {
      {
        std::lock_guard<std::mutex> guard(queue->mutex);
        queue->events.push_back(stream_farewell);
        queue->closed = true;
        queue->ready.notify_one();
      }
      self->quit();
    },
    // INSPECT
    [=](inspect_atom) { return self->state.counters.report(self->id(), self->mailbox().size()); },
  };
}

} // namespace watercooler
