// GET /listen : an event stream; a plain connection's socket moves to its session actor, a TLS
// connection keeps its thread and is fed through a queue.
#include <chrono>
#include <optional>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "actors/protocol.hpp"
#include "web/actions.hpp"
#include "web/http_server.hpp"
#include "web/sse_session.hpp"

namespace watercooler {

namespace {

std::string client_of(const httplib::Request& req) {
  return req.remote_addr + ":" + std::to_string(req.remote_port);
}

void stream_from_queue(const web_context& context, const httplib::Request& req,
                       httplib::Response& res, const stream_start& start, stream_slot slot) {
  auto queue = std::make_shared<sse_queue>();
  if (auto first = sse_stream_start(start); !first.empty())
    queue->events.push_back(std::move(first)); // before the session can write to the queue
  auto session = context.system->spawn(queued_session, queue, start, context.limits,
                                       context.metrics, client_of(req));
  join_room(context.room, session, start); // before the head goes out
  auto room = context.room;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
    "text/event-stream",
    [queue](size_t, httplib::DataSink& sink) {
      std::unique_lock<std::mutex> lock(queue->mutex);
      // Wake at least once a second: that is how a closed client or a stopping server is seen.
      queue->ready.wait_for(lock, std::chrono::seconds(1), [&] { return !queue->events.empty(); });
      std::string out;
      while (!queue->events.empty()) {
        out += queue->events.front();
        queue->events.pop_front();
      }
      queue->bytes = 0;
      bool last = queue->closed; // the node stops: this was the farewell
      lock.unlock();
      if (!sink.is_writable())
        return false;
      if (!out.empty() && !sink.write(out.data(), out.size()))
        return false;
      if (last)
        sink.done();
      return true;
    },
    [room, session, slot](bool) { // the slot is given back when httplib drops this
      caf::anon_send(room, leave_atom::value, session);
      caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
    });
}

} // namespace

void listen(const web_context& context, const httplib::Request& req, httplib::Response& res) {
  auto format = stream_format::text;
  if (req.has_param("format")) {
    auto parsed = parse_stream_format(req.get_param_value("format"));
    if (!parsed)
      return plain_error(res, 400, "unknown format: use format=json, or no format for text");
    format = *parsed;
  }
  // Browsers resume with the header; the parameter is for scripts and tests.
  std::optional<std::string> last_event_id;
  if (req.has_header("Last-Event-ID"))
    last_event_id = req.get_header_value("Last-Event-ID");
  else if (req.has_param("last_event_id"))
    last_event_id = req.get_param_value("last_event_id");
  auto start = stream_start_at(format, last_event_id);
  auto slot = context.streams->acquire(req.remote_addr);
  if (!slot) {
    // Closed at once: a refused client must not hold a pool thread for the keep-alive wait.
    res.set_header("Retry-After", "10");
    res.set_header("Connection", "close");
    http_server::close_after_response();
    return plain_error(res, 429,
                       "too many event streams from your address: at most "
                         + std::to_string(context.streams->limit()));
  }
  auto* system = context.system;
  plain_stream stream{-1, req.version != "HTTP/1.0", start, client_of(req), *slot};
  stream_wiring wiring{context.room, context.metrics, context.poller, context.limits};
  auto adopted = http_server::hand_off([system, stream, wiring](int fd) mutable {
    int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    stream.fd = fd;
    system->spawn(sse_session, std::move(stream), std::move(wiring));
  });
  if (adopted) {
    res.status = 200; // for the request log; the session writes the real head
    return;
  }
  stream_from_queue(context, req, res, start, *slot);
}

} // namespace watercooler
