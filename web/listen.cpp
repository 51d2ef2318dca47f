// GET /listen : an event stream; the connection, plain or TLS, moves to its session actor.
#include <optional>

#include "actors/wire/presence_roster.hpp"
#include "web/actions.hpp"
#include "web/form.hpp"
#include "web/http/forwarded.hpp"
#include "web/http/router.hpp"
#include "web/stream/sse_session.hpp"

namespace watercooler {

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
  // A person: the browser's own id, and the display name with the rules of POST /publish.
  std::string person;
  if (req.has_param("client")) {
    person = req.get_param_value("client");
    if (!is_client_id(person))
      return plain_error(res, 400, "bad client: 16 to 64 characters of A-Z, a-z, 0-9, _ and -");
  }
  display_name name;
  if (req.has_param("name")) {
    auto field = req.get_param_value("name");
    if (!is_valid_utf8(field))
      return plain_error(res, 400, "invalid UTF-8 in name");
    name = parse_display_name(field);
    if (!name.error.empty())
      return plain_error(res, 400, name.error);
  }
  // Behind a trusted proxy: the address it names, for the limit and as the stream's client.
  auto client = client_of(req, context.proxies).address;
  auto slot = context.streams->acquire(client);
  if (!slot) {
    // Closed at once: a script that opens streams in a loop gets no keep-alive.
    res.set_header("Retry-After", "10");
    res.set_header("Connection", "close");
    router::close_after_response();
    return plain_error(res, 429,
                       "too many event streams from your address: at most "
                         + std::to_string(context.streams->limit()));
  }
  auto* system = context.system;
  auto framing = std::string(router::protocol()) == "HTTP/2" ? stream_framing::frames
                 : req.version == "HTTP/1.0"                 ? stream_framing::until_close
                                                             : stream_framing::chunked;
  adopted_stream stream{
    nullptr, framing,           start,     client + ":" + std::to_string(req.remote_port),
    *slot,   std::move(person), name.name, client};
  stream_wiring wiring{context.room,   context.presence, context.metrics,
                       context.poller, context.limits,   context.frames};
  auto adopted = router::hand_off([system, stream, wiring](std::unique_ptr<transport> io) mutable {
    stream.connection = std::move(io);
    system->spawn(sse_session, std::move(stream), std::move(wiring));
  });
  if (!adopted) // a handler called outside the front (none in watercooler)
    return plain_error(res, 500, "this server cannot hold event streams");
  // For the request log, and the head an HTTP/2 connection sends; on HTTP/1 the session writes
  // its own.
  res.status = 200;
  for (const auto& [field, value] : stream_head_fields())
    res.set_header(field, value);
}

} // namespace watercooler
