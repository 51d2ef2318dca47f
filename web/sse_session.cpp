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

} // namespace

void count_delivery(node_metrics& metrics, int64_t published_us, size_t bytes) {
  ++metrics.delivered;
  metrics.bytes_sent += bytes;
  metrics.latency.observe(now_us() - published_us);
}

sse_session_state::~sse_session_state() {
  if (metrics)
    --metrics->sessions;
}

queued_session_state::~queued_session_state() {
  if (metrics)
    --metrics->sessions;
}

std::string sse_response_head(bool chunked) {
  std::string head = "HTTP/1.1 200 OK\r\n"
                     "Content-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\n"
                     "X-Accel-Buffering: no\r\n";
  head += chunked ? "Transfer-Encoding: chunked\r\n" : "Connection: close\r\n";
  return head + "\r\n";
}

caf::behavior sse_session(caf::io::stateful_broker<sse_session_state>* self, int fd,
                          caf::actor room, bool chunked, std::shared_ptr<node_metrics> metrics,
                          std::string client) {
  auto& st = self->state;
  st.metrics = std::move(metrics);
  st.client = std::move(client);
  st.since_ms = st.last_active_ms = now_us() / 1000;
  ++st.metrics->sessions;
  st.connection = self->add_scribe(fd);
  st.room = room;
  st.chunked = chunked;
  // Join before the head goes out: whatever the client publishes after seeing it reaches us.
  self->send(room, join_atom::value, caf::actor_cast<caf::actor>(self));
  auto head = sse_response_head(chunked);
  self->write(st.connection, head.size(), head.data());
  self->flush(st.connection);
  self->configure_read(st.connection, caf::io::receive_policy::at_most(1024));
  self->monitor(room);
  self->set_down_handler([=](const caf::down_msg&) { self->quit(); }); // the room is gone
  return {
    // DELIVER <origin> <incarnation> <seq> <text>
    [=](deliver_atom, const std::string&, uint64_t, uint64_t, int64_t published_us,
        const std::string& text) {
      auto& s = self->state;
      auto event = sse_event(text);
      auto out = s.chunked ? chunk(event) : event;
      self->write(s.connection, out.size(), out.data());
      self->flush(s.connection);
      ++s.events;
      s.bytes += out.size();
      s.last_active_ms = now_us() / 1000;
      count_delivery(*s.metrics, published_us, out.size());
    },
    // INSPECT
    [=](inspect_atom) {
      const auto& s = self->state;
      return session_report{
        std::to_string(self->id()), s.client,        s.since_ms, s.events, s.bytes,
        self->mailbox().size(),     s.last_active_ms};
    },
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
                             std::shared_ptr<sse_queue> queue,
                             std::shared_ptr<node_metrics> metrics, std::string client) {
  self->state.metrics = std::move(metrics);
  self->state.client = std::move(client);
  self->state.since_ms = self->state.last_active_ms = now_us() / 1000;
  ++self->state.metrics->sessions;
  return {
    [=](deliver_atom, const std::string&, uint64_t, uint64_t, int64_t published_us,
        const std::string& text) {
      auto event = sse_event(text);
      // Counted when queued: the stream's thread writes it within a second or ends the stream.
      auto& st = self->state;
      count_delivery(*st.metrics, published_us, event.size());
      ++st.events;
      st.bytes += event.size();
      st.last_active_ms = now_us() / 1000;
      std::lock_guard<std::mutex> guard(queue->mutex);
      queue->events.push_back(std::move(event));
      queue->ready.notify_one();
    },
    // INSPECT
    [=](inspect_atom) {
      const auto& st = self->state;
      return session_report{
        std::to_string(self->id()), st.client,        st.since_ms, st.events, st.bytes,
        self->mailbox().size(),     st.last_active_ms};
    },
  };
}

} // namespace watercooler
